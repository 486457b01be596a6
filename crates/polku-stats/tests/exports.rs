//! Exports of the fixture: no personal data in any format, the XLSX holds the
//! same grid as the CSV (read back with calamine, and converted by
//! LibreOffice when it is installed), and suppression in a whole report.

mod common;

use std::path::Path;
use std::process::Command;

use calamine::{Data, Reader, Xlsx};
use common::*;
use polku_core::codes::{CodeSet, Lang};
use polku_stats::{Cell, Inputs, Query, Report, ReportPeriod, SheetCell, TOTAL, Workforce, report};

fn make(period: &str, suppress: Option<u32>, lang: Lang) -> Report {
    let (clients, anonymised) = data();
    let memos = activity_memos();
    let org = organisation();
    let codes = CodeSet::for_organisation(&org);
    let mut query = Query::new(period.parse::<ReportPeriod>().expect("period"), now());
    query.suppress = suppress;
    query.lang = lang;
    query.workforce = Some(Workforce {
        workers: 3,
        person_years: 2.5,
    });
    report(
        &Inputs {
            clients: &clients,
            anonymised: &anonymised,
            activity_memos: &memos,
            brief_contacts: &[],
        },
        &query,
        &org,
        &codes,
    )
}

/// Every way a fixture client's identity or free text could be written.
fn forbidden() -> Vec<String> {
    let mut out: Vec<String> = SECRET_WORDS.iter().map(|s| (*s).to_owned()).collect();
    for c in clients() {
        let built = c.build();
        out.push(c.first.to_owned());
        out.push(c.last.to_owned());
        out.push(built.id.to_string());
        if let Some(h) = &built.basic.henkilotunnus {
            out.push(h.clone());
        }
        for fmt in ["%Y-%m-%d", "%-d.%-m.%Y", "%d.%m.%Y", "%d%m%y", "%Y%m%d"] {
            out.push(c.born.format(fmt).to_string());
        }
    }
    out
}

fn all_exports(r: &Report) -> Vec<(&'static str, String)> {
    let xlsx = r.to_xlsx().expect("xlsx");
    let mut cells = String::new();
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(xlsx.clone())).expect("open xlsx");
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).expect("sheet");
        for row in range.rows() {
            for c in row {
                cells.push_str(&c.to_string());
                cells.push('\n');
            }
        }
    }
    vec![
        ("csv", String::from_utf8(r.to_csv()).expect("utf-8")),
        (
            "json",
            String::from_utf8(r.to_json().expect("json")).expect("utf-8"),
        ),
        ("text", r.to_text()),
        ("xlsx cells", cells),
        // The raw zip (shared strings are compressed, so also the cells above).
        ("xlsx bytes", String::from_utf8_lossy(&xlsx).into_owned()),
    ]
}

#[test]
fn no_name_birth_date_identity_code_or_free_text_in_any_export() {
    let forbidden = forbidden();
    for period in ["2026-1", "2026-2", "2026"] {
        for suppress in [None, Some(5)] {
            for lang in [Lang::Fi, Lang::Sv, Lang::En] {
                let r = make(period, suppress, lang);
                for (format, text) in all_exports(&r) {
                    for word in &forbidden {
                        assert!(
                            !text.contains(word.as_str()),
                            "{word:?} appears in the {format} export of {period}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn labels_are_finnish_by_default_and_swedish_or_english_on_request() {
    let fi = make("2026", None, Lang::Fi).to_text();
    assert!(fi.contains("Tavoitetut nuoret sukupuolen mukaan"), "{fi}");
    assert!(fi.contains("Nainen"));
    assert!(fi.contains("Henkilötyövuosia: 2,5"));
    let sv = make("2026", None, Lang::Sv).to_text();
    assert!(sv.contains("Nådda unga efter kön") && sv.contains("Kvinna"));
    let en = make("2026", None, Lang::En).to_text();
    assert!(en.contains("Young people reached by gender") && en.contains("Female"));
}

/// CSV fields, split the way a spreadsheet reads them.
fn parse_csv(text: &str, sep: char) -> Vec<Vec<String>> {
    let text = text.trim_start_matches('\u{feff}');
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == sep && !quoted => row.push(std::mem::take(&mut field)),
            '\r' if !quoted => {}
            '\n' if !quoted => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            c => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    // Trailing empty fields and rows carry nothing.
    for r in &mut rows {
        while r.last().is_some_and(String::is_empty) {
            r.pop();
        }
    }
    while rows.last().is_some_and(Vec::is_empty) {
        rows.pop();
    }
    rows
}

/// A decimal comma and a decimal point mean the same number.
fn normalise(rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.into_iter()
        .map(|r| {
            r.into_iter()
                .map(|f| {
                    let numeric = f.contains([',', '.'])
                        && f.chars()
                            .all(|c| c.is_ascii_digit() || c == ',' || c == '.');
                    if numeric { f.replace(',', ".") } else { f }
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_xlsx_holds_the_csv_grid() {
    for suppress in [None, Some(5)] {
        let r = make("2026", suppress, Lang::Fi);
        let csv = normalise(parse_csv(
            &String::from_utf8(r.to_csv()).expect("utf-8"),
            ';',
        ));
        let mut book: Xlsx<_> =
            Xlsx::new(std::io::Cursor::new(r.to_xlsx().expect("xlsx"))).expect("open");
        let range = book.worksheet_range("Tilasto").expect("sheet");
        let mut grid: Vec<Vec<String>> = range
            .rows()
            .map(|row| {
                let mut v: Vec<String> = row
                    .iter()
                    .map(|c| match c {
                        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                        other => other.to_string(),
                    })
                    .collect();
                while v.last().is_some_and(String::is_empty) {
                    v.pop();
                }
                v
            })
            .collect();
        while grid.last().is_some_and(Vec::is_empty) {
            grid.pop();
        }
        assert_eq!(normalise(grid), csv);
        // Counts are numbers in the workbook, marks are text.
        let sheet = r.sheet();
        assert!(
            sheet
                .iter()
                .flat_map(|(_, r)| r)
                .any(|c| matches!(c, SheetCell::Int(_)))
        );
    }
}

fn soffice() -> Option<&'static str> {
    ["soffice", "libreoffice"].into_iter().find(|cmd| {
        Command::new(cmd)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Whether the environment variable `CI` (as CI services set it) says this
/// is a CI run, where a missing tool is a failure rather than a skip.
fn is_ci(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        let v = v.trim();
        v.eq_ignore_ascii_case("true") || v == "1"
    })
}

#[test]
fn ci_is_recognised_from_its_environment_variable() {
    assert!(is_ci(Some("true")));
    assert!(is_ci(Some("TRUE")));
    assert!(is_ci(Some("1")));
    assert!(!is_ci(None));
    assert!(!is_ci(Some("")));
    assert!(!is_ci(Some("false")));
    assert!(!is_ci(Some("0")));
}

/// LibreOffice opens the XLSX and saves it as CSV: the same grid as our CSV
/// export. Where LibreOffice is not installed this fails under CI
/// (`CI=true`; `scripts/test` installs it) and elsewhere skips with a note.
#[test]
fn libreoffice_opens_the_xlsx_and_saves_the_csv_export() {
    let Some(cmd) = soffice() else {
        let ci = std::env::var("CI").ok();
        assert!(
            !is_ci(ci.as_deref()),
            "LibreOffice (soffice) is not on PATH, and under CI (CI={ci:?}) the XLSX check must run"
        );
        eprintln!("LibreOffice (soffice) is not on PATH: conversion not checked (not CI)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let r = make("2026", Some(5), Lang::Fi);
    let xlsx = dir.path().join("tilasto.xlsx");
    std::fs::write(&xlsx, r.to_xlsx().expect("xlsx")).expect("write");
    let out_dir = dir.path().join("out");
    let profile = format!("file://{}", dir.path().join("profile").display());
    let status = Command::new(cmd)
        .arg(format!("-env:UserInstallation={profile}"))
        .args(["--headless", "--convert-to"])
        // ';' separator, '"' quotes, UTF-8 (76), from the first line.
        .arg("csv:Text - txt - csv (StarCalc):59,34,76,1")
        .arg("--outdir")
        .arg(&out_dir)
        .arg(&xlsx)
        .output()
        .expect("run soffice");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let converted = read(&out_dir.join("tilasto.csv"));
    let ours = String::from_utf8(r.to_csv()).expect("utf-8");
    assert_eq!(
        normalise(parse_csv(&converted, ';')),
        normalise(parse_csv(&ours, ';'))
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn suppression_marks_small_cells_and_keeps_shared_totals_consistent() {
    let r = make("2026-1", Some(5), Lang::Fi);
    let plain = make("2026-1", None, Lang::Fi);
    for (g, pg) in r.groups.iter().zip(&plain.groups) {
        // Every person table has the same totals row, marks included (its
        // first four columns: the gender and age-group tables add a column
        // of brief contacts, whose totals they share).
        let totals: Vec<Vec<Cell>> = g.tables[1..7]
            .iter()
            .map(|t| t.row(TOTAL).expect("total").cells[..4].to_vec())
            .collect();
        assert!(
            totals.windows(2).all(|w| w[0] == w[1]),
            "{}: {totals:?}",
            g.label
        );
        let brief = |t: &polku_stats::Table| t.cell(TOTAL, "brief_contacts").expect("brief");
        assert_eq!(brief(&g.tables[1]), brief(&g.tables[2]), "{}", g.label);
        for (t, pt) in g.tables.iter().zip(&pg.tables) {
            for (row, prow) in t.rows.iter().zip(&pt.rows) {
                for (c, pc) in row.cells.iter().zip(&prow.cells) {
                    match (c, pc) {
                        (Cell::Count(a), Cell::Count(b)) => assert_eq!(a, b),
                        (Cell::Below(5), Cell::Count(b)) => assert!(*b < 5),
                        (Cell::Hidden, Cell::Count(b)) => assert!(*b >= 5),
                        other => panic!("unexpected {other:?}"),
                    }
                }
            }
            // In a table with totals, no row or column has exactly one
            // suppressed cell (the simplest way to recompute one).
            let suppressed = |c: &Cell| !matches!(c, Cell::Count(_));
            if t.row(TOTAL).is_some() && t.key != polku_stats::TableKey::Summary {
                for col in 0..t.columns.len() {
                    let n = t.rows.iter().filter(|r| suppressed(&r.cells[col])).count();
                    assert_ne!(n, 1, "{} / {:?} column {col}", g.label, t.key);
                }
            }
        }
    }
    // Activity and contact counts are not about identifiable people.
    let org = r.organisation_group().expect("org");
    let contacts = org.table(polku_stats::TableKey::Contacts).expect("t");
    assert_eq!(contacts.cell("phone", "contacts"), Some(Cell::Count(3)));
    // The text export shows the marks.
    let text = r.to_text();
    assert!(text.contains("<5") && text.contains("x = piilotettu"));
}

#[test]
fn a_suppressed_report_publishes_no_unit_tables_whose_hidden_cells_subtraction_would_give_away() {
    use polku_stats::GroupKind;
    let plain = make("2026", None, Lang::Fi);
    let r = make("2026", Some(5), Lang::Fi);
    // The attack, on the unsuppressed tables: a unit's small cell equals the
    // organisation's cell minus the other units' cells. The fixture has
    // such cells where the suppressed organisation table shows its value,
    // so publishing unit tables beside it would give them away.
    let org = r.organisation_group().expect("org");
    let units: Vec<_> = plain
        .groups
        .iter()
        .filter(|g| g.kind == GroupKind::Unit)
        .collect();
    assert!(units.len() >= 2, "the fixture has several units");
    let mut recomputable = 0;
    for (ti, t) in org.tables.iter().enumerate() {
        for (ri, row) in t.rows.iter().enumerate() {
            for (ci, cell) in row.cells.iter().enumerate() {
                let Cell::Count(shown) = cell else { continue };
                let at = |g: &polku_stats::Group| g.tables[ti].rows[ri].cells[ci].count();
                for u in &units {
                    let Some(v) = at(u) else { continue };
                    let others: u64 = units
                        .iter()
                        .filter(|o| o.id != u.id)
                        .map(|o| at(o).expect("unsuppressed"))
                        .sum();
                    if (1..5).contains(&v) {
                        assert_eq!(shown - others, v);
                        recomputable += 1;
                    }
                }
            }
        }
    }
    assert!(recomputable > 0, "the fixture exercises the attack");
    // So a suppressed report holds the organisation's tables only.
    assert_eq!(
        r.groups.len(),
        1,
        "{:?}",
        r.groups.iter().map(|g| g.kind).collect::<Vec<_>>()
    );
    assert_eq!(r.groups[0].kind, GroupKind::Organisation);
    // Also when unit tables are asked for explicitly.
    let (clients, anonymised) = data();
    let memos = activity_memos();
    let orgn = organisation();
    let mut q = Query::new("2026".parse::<ReportPeriod>().expect("period"), now());
    q.per_unit = true;
    q.per_worker = true;
    q.suppress = Some(5);
    let asked = report(
        &Inputs {
            clients: &clients,
            anonymised: &anonymised,
            activity_memos: &memos,
            brief_contacts: &[],
        },
        &q,
        &orgn,
        &CodeSet::for_organisation(&orgn),
    );
    assert!(
        asked
            .groups
            .iter()
            .all(|g| g.kind == GroupKind::Organisation)
    );
    assert_eq!(asked.groups.len(), 1);
    // Every export of it names no unit group.
    for (format, text) in all_exports(&asked) {
        for u in &units {
            assert!(!text.contains(&u.label), "{format}: {}", u.label);
        }
    }
}
