//! Exports: CSV (`;`, UTF-8 with BOM, for Finnish spreadsheet programs),
//! XLSX, plain text and JSON ([`Report::to_json`]). CSV and XLSX hold the
//! same grid ([`Report::sheet`]): the XLSX opened in a spreadsheet and saved
//! as CSV gives the CSV export back.

use std::fmt::Write as _;

use polku_core::codes::Lang;
use polku_core::model::Organisation;
use rust_xlsxwriter::{Format, FormatAlign, Workbook};

use crate::StatsError;
use crate::check::{CheckRow, missing_label};
use crate::labels::{Text, text};
use crate::period::DateRange;
use crate::report::{Cell, Report, Table};

/// One cell of the exported grid.
#[derive(Debug, Clone, PartialEq)]
pub enum SheetCell {
    /// Text.
    Text(String),
    /// A whole number.
    Int(u64),
    /// A decimal number (person-years).
    Dec(f64),
    /// A suppressed cell's mark (`<5`, `x`): text, aligned like a number.
    Mark(String),
}

/// How a grid row is styled in XLSX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowStyle {
    /// Ordinary.
    Plain,
    /// The report title.
    Title,
    /// A group heading.
    Group,
    /// A table title.
    TableTitle,
    /// Column headers.
    Header,
    /// A totals row.
    Total,
}

/// The exported grid: rows of cells with a style each.
pub type Sheet = Vec<(RowStyle, Vec<SheetCell>)>;

fn t(s: impl Into<String>) -> SheetCell {
    SheetCell::Text(s.into())
}

fn cell(c: Cell) -> SheetCell {
    match c {
        Cell::Count(n) => SheetCell::Int(n),
        other => SheetCell::Mark(other.text()),
    }
}

impl Report {
    /// Heading lines: organisation, period, unit, time, suppression, worker data.
    fn meta(&self) -> Vec<(String, SheetCell)> {
        let l = self.lang;
        let mut out = vec![
            (
                text(l, Text::Organisation).to_owned(),
                t(&self.organisation),
            ),
            (
                text(l, Text::Period).to_owned(),
                t(format!("{} ({})", self.range.label(), self.period)),
            ),
        ];
        if let Some(unit) = &self.unit {
            out.push((text(l, Text::Unit).to_owned(), t(unit)));
        }
        out.push((
            text(l, Text::Generated).to_owned(),
            t(self.generated_at.format("%-d.%-m.%Y %H:%M UTC").to_string()),
        ));
        let suppression = match self.suppression {
            Some(th) => text(l, Text::SuppressionNote)
                .replace("{t}", &th.to_string())
                .replace("{m}", &th.saturating_sub(1).to_string()),
            None => text(l, Text::NoSuppression).to_owned(),
        };
        out.push((text(l, Text::Suppression).to_owned(), t(suppression)));
        if let Some(w) = self.workforce {
            out.push((
                text(l, Text::Workers).to_owned(),
                SheetCell::Int(u64::from(w.workers)),
            ));
            out.push((
                text(l, Text::PersonYears).to_owned(),
                SheetCell::Dec(w.person_years),
            ));
        }
        out
    }

    /// The grid CSV and XLSX both hold.
    pub fn sheet(&self) -> Sheet {
        let mut rows: Sheet = vec![(RowStyle::Title, vec![t(&self.title)])];
        for (label, value) in self.meta() {
            rows.push((RowStyle::Plain, vec![t(label), value]));
        }
        for group in &self.groups {
            rows.push((RowStyle::Plain, vec![]));
            rows.push((RowStyle::Group, vec![t(&group.label)]));
            for table in &group.tables {
                rows.push((RowStyle::Plain, vec![]));
                table_rows(table, &mut rows);
            }
        }
        rows
    }

    /// The CSV export.
    pub fn to_csv(&self) -> Vec<u8> {
        sheet_to_csv(&self.sheet())
    }

    /// The XLSX export: one sheet holding [`Report::sheet`].
    pub fn to_xlsx(&self) -> Result<Vec<u8>, StatsError> {
        sheet_to_xlsx(&self.sheet(), sheet_name(self.lang))
    }

    /// The plain-text export: aligned tables.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.title);
        for (label, value) in self.meta() {
            let _ = writeln!(out, "{label}: {}", plain(&value));
        }
        for group in &self.groups {
            let _ = writeln!(out, "\n=== {} ===", group.label);
            for table in &group.tables {
                out.push('\n');
                text_table(table, &mut out);
            }
        }
        out
    }
}

fn sheet_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Fi => "Tilasto",
        Lang::Sv => "Statistik",
        Lang::En => "Statistics",
    }
}

fn table_rows(table: &Table, rows: &mut Sheet) {
    rows.push((RowStyle::TableTitle, vec![t(&table.title)]));
    let mut header = vec![t(&table.row_header)];
    header.extend(table.columns.iter().map(|c| t(&c.label)));
    rows.push((RowStyle::Header, header));
    for row in &table.rows {
        let mut cells = vec![t(&row.label)];
        cells.extend(row.cells.iter().map(|c| cell(*c)));
        let style = if row.key == crate::report::TOTAL {
            RowStyle::Total
        } else {
            RowStyle::Plain
        };
        rows.push((style, cells));
    }
}

fn plain(c: &SheetCell) -> String {
    match c {
        SheetCell::Text(s) | SheetCell::Mark(s) => s.clone(),
        SheetCell::Int(n) => n.to_string(),
        SheetCell::Dec(x) => format!("{x}").replace('.', ","),
    }
}

/// CSV text of one field: quoted when needed; text that a spreadsheet would
/// take for a formula gets a leading apostrophe.
fn csv_field(c: &SheetCell) -> String {
    let s = plain(c);
    let s = match c {
        SheetCell::Text(x) if x.starts_with(['=', '+', '-', '@']) => format!("'{x}"),
        _ => s,
    };
    let needs_quotes = s.contains([';', '"', '\n', '\r'])
        || s.starts_with(char::is_whitespace)
        || s.ends_with(char::is_whitespace);
    if needs_quotes {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A grid as CSV: `;`-separated, CRLF, UTF-8 with a byte-order mark.
pub fn sheet_to_csv(sheet: &Sheet) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    for (_, row) in sheet {
        let fields: Vec<String> = row.iter().map(csv_field).collect();
        out.push_str(&fields.join(";"));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// A grid as an XLSX workbook of one sheet.
pub fn sheet_to_xlsx(sheet: &Sheet, name: &str) -> Result<Vec<u8>, StatsError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    let title = Format::new().set_bold().set_font_size(14);
    let group = Format::new().set_bold().set_font_size(12);
    let bold = Format::new().set_bold();
    let header = Format::new().set_bold().set_text_wrap();
    let mark = Format::new().set_align(FormatAlign::Right);
    let bold_mark = Format::new().set_bold().set_align(FormatAlign::Right);
    let mut width0 = 10usize;
    for (r, (style, row)) in sheet.iter().enumerate() {
        let r = u32::try_from(r).map_err(|_| StatsError::TooLarge)?;
        let fmt = match style {
            RowStyle::Title => Some(&title),
            RowStyle::Group => Some(&group),
            RowStyle::TableTitle | RowStyle::Total => Some(&bold),
            RowStyle::Header => Some(&header),
            RowStyle::Plain => None,
        };
        for (c, value) in row.iter().enumerate() {
            let c = u16::try_from(c).map_err(|_| StatsError::TooLarge)?;
            match (value, fmt) {
                (SheetCell::Text(s), Some(f)) => ws.write_string_with_format(r, c, s, f)?,
                (SheetCell::Text(s), None) => ws.write_string(r, c, s)?,
                (SheetCell::Int(n), Some(f)) => ws.write_number_with_format(r, c, *n as f64, f)?,
                (SheetCell::Int(n), None) => ws.write_number(r, c, *n as f64)?,
                (SheetCell::Dec(x), Some(f)) => ws.write_number_with_format(r, c, *x, f)?,
                (SheetCell::Dec(x), None) => ws.write_number(r, c, *x)?,
                (SheetCell::Mark(m), _) => {
                    let f = if *style == RowStyle::Total {
                        &bold_mark
                    } else {
                        &mark
                    };
                    ws.write_string_with_format(r, c, m, f)?
                }
            };
            if c == 0
                && matches!(style, RowStyle::Plain | RowStyle::Total)
                && let SheetCell::Text(s) = value
            {
                width0 = width0.max(s.chars().count());
            }
        }
    }
    ws.set_column_width(0, width0.min(60) as f64)?;
    // Printed (or rendered to PDF): A4 landscape, one page wide.
    ws.set_paper_size(9)
        .set_landscape()
        .set_print_fit_to_pages(1, 0);
    for c in 1..=12u16 {
        ws.set_column_width(c, 14)?;
    }
    Ok(wb.save_to_buffer()?)
}

fn text_table(table: &Table, out: &mut String) {
    let _ = writeln!(out, "{}", table.title);
    let mut widths: Vec<usize> = std::iter::once(table.row_header.chars().count())
        .chain(table.columns.iter().map(|c| c.label.chars().count()))
        .collect();
    let cells: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|r| {
            std::iter::once(r.label.clone())
                .chain(r.cells.iter().map(|c| c.text()))
                .collect()
        })
        .collect();
    for row in &cells {
        for (w, s) in widths.iter_mut().zip(row) {
            *w = (*w).max(s.chars().count());
        }
    }
    let line = |fields: Vec<&str>, out: &mut String| {
        let mut s = String::new();
        for (i, (f, w)) in fields.iter().zip(&widths).enumerate() {
            let pad = w.saturating_sub(f.chars().count());
            if i == 0 {
                s.push_str(f);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str("  ");
                s.push_str(&" ".repeat(pad));
                s.push_str(f);
            }
        }
        let _ = writeln!(out, "{}", s.trim_end());
    };
    let mut head = vec![table.row_header.as_str()];
    head.extend(table.columns.iter().map(|c| c.label.as_str()));
    line(head, out);
    for row in &cells {
        line(row.iter().map(String::as_str).collect(), out);
    }
}

/// The mandatory-field check as a grid: client id, responsible workers'
/// logins (ids when unknown), missing items.
pub fn check_sheet(rows: &[CheckRow], org: &Organisation, range: DateRange, lang: Lang) -> Sheet {
    let mut sheet: Sheet = vec![(
        RowStyle::Title,
        vec![t(format!(
            "{} – {}",
            text(lang, Text::CMissing),
            range.label()
        ))],
    )];
    sheet.push((
        RowStyle::Header,
        vec![
            t(text(lang, Text::CClient)),
            t(text(lang, Text::CResponsible)),
            t(text(lang, Text::CMissing)),
        ],
    ));
    for r in rows {
        let workers: Vec<String> = r
            .responsible
            .iter()
            .map(|id| {
                org.users
                    .get(id)
                    .map_or_else(|| id.to_string(), |u| u.login.clone())
            })
            .collect();
        let missing: Vec<&str> = r.missing.iter().map(|k| missing_label(k, lang)).collect();
        sheet.push((
            RowStyle::Plain,
            vec![
                t(r.client.to_string()),
                t(workers.join(", ")),
                t(missing.join(", ")),
            ],
        ));
    }
    sheet
}

/// The mandatory-field check as text.
pub fn check_text(rows: &[CheckRow], org: &Organisation, range: DateRange, lang: Lang) -> String {
    let sheet = check_sheet(rows, org, range, lang);
    let mut out = String::new();
    for (i, (_, row)) in sheet.iter().enumerate() {
        let fields: Vec<String> = row.iter().map(plain).collect();
        if i == 0 || fields.len() < 3 {
            let _ = writeln!(out, "{}", fields.join("  "));
        } else {
            let _ = writeln!(out, "{:<36}  {:<20}  {}", fields[0], fields[1], fields[2]);
        }
    }
    if rows.is_empty() {
        let _ = writeln!(out, "{}", text(lang, Text::CNone));
    }
    out
}
