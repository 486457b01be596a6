//! A hand-written year of one unit (issue 9), entered only through `polku`
//! verbs — no demo generator — and the PARKki tables it must produce,
//! worked out by hand below from the definitions in polku-stats' `compute`
//! module.
//!
//! Fifteen young people, report 1.1.–31.12.2026:
//!
//! | | gender | tongue | born | period | outcome | measures | arrival |
//! |---|---|---|---|---|---|---|---|
//! | A | male | fi | 2008-03-01 | 2025-10-01 – | | guidance | basic_education |
//! | B | female | fi | 2006-06-15 | 2025-11-15 – 2026-03-31 | vocational | education_application | young_person |
//! | C | male | sv | 2004-01-20 | 2026-02-01 – | | job_search | employment_services |
//! | D | female | fi | 2009-09-09 | 2026-03-10 – 2026-09-30 | general_upper_secondary | guidance | basic_education |
//! | E | other | fi | 2003-05-05 | 2026-04-01 – | | — | outreach_contact |
//! | F | female | other | 2007-12-01 | 2026-01-15 – 2026-06-15 | employment | job_search, benefits | social_services |
//! | G | male | fi | 2005-02-02 | 2024-05-01 – 2025-12-15 | workshop | guidance | young_person |
//! | H | male | fi | 2008-08-08 | 2026-05-05 – | | — | outreach_contact |
//! | I | female | fi | 2002-02-02 | 2026-06-01 – | | support_conversation | family |
//! | J | male | fi | 2010-10-10 | 2026-08-20 – | | guidance | basic_education |
//! | K | female | sv | 2006-01-01 | 2025-12-01 – 2026-01-31 | no_need | guidance | young_person |
//! | L | male | fi | 2001-07-07 | 2026-10-01 – | | guidance | police |
//! | M | female | fi | 2007-04-04 | 2026-05-01 – 2026-11-30 | lost_contact | guidance | outreach_contact |
//! | N | male | fi | 2009-01-01 | 2025-01-10 – 2025-06-30 | moved | guidance | family |
//! | O | female | fi | 2004-04-04 | 2026-07-01 – | | housing_support | health_services |
//!
//! G and N ended before 2026: not reached. Referrals received in 2026: D and
//! J (from basic education), and one for G received in 2024 (not counted).
//!
//! Brief contacts (no name) in 2026: 8 girls of 16–17 met on the street, 5
//! boys of 18–20 online, 4 boys of 21–24 at school, 3 with gender and age
//! unknown; two more on 30.12.2025 (not counted). Activity memos in 2026:
//! street work meeting 3 girls of 16–17 and 2 boys of 18–20; a group meeting
//! of 4 women of 21–24; one street work in 2025 (not counted).

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const PASSWORD: &str = "vuoden-salasana-1";

fn polku(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polku"))
        .arg("--store")
        .arg(store)
        .arg("--user")
        .arg("admin")
        .args(args)
        .env_remove("POLKU_STORE")
        .env_remove("POLKU_USER")
        .env("POLKU_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .output()
        .expect("run polku")
}

fn run(store: &Path, args: &[&str]) -> String {
    let out = polku(store, args);
    assert!(
        out.status.success(),
        "polku {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

/// One young person of the table above.
struct Young {
    name: &'static str,
    gender: &'static str,
    tongue: &'static str,
    born: &'static str,
    start: &'static str,
    end: Option<(&'static str, &'static str)>,
    measures: &'static [&'static str],
    arrival: &'static str,
}

const YEAR: [Young; 15] = [
    Young {
        name: "A",
        gender: "male",
        tongue: "fi",
        born: "2008-03-01",
        start: "2025-10-01",
        end: None,
        measures: &["guidance"],
        arrival: "basic_education",
    },
    Young {
        name: "B",
        gender: "female",
        tongue: "fi",
        born: "2006-06-15",
        start: "2025-11-15",
        end: Some(("2026-03-31", "vocational")),
        measures: &["education_application"],
        arrival: "young_person",
    },
    Young {
        name: "C",
        gender: "male",
        tongue: "sv",
        born: "2004-01-20",
        start: "2026-02-01",
        end: None,
        measures: &["job_search"],
        arrival: "employment_services",
    },
    Young {
        name: "D",
        gender: "female",
        tongue: "fi",
        born: "2009-09-09",
        start: "2026-03-10",
        end: Some(("2026-09-30", "general_upper_secondary")),
        measures: &["guidance"],
        arrival: "basic_education",
    },
    Young {
        name: "E",
        gender: "other",
        tongue: "fi",
        born: "2003-05-05",
        start: "2026-04-01",
        end: None,
        measures: &[],
        arrival: "outreach_contact",
    },
    Young {
        name: "F",
        gender: "female",
        tongue: "other",
        born: "2007-12-01",
        start: "2026-01-15",
        end: Some(("2026-06-15", "employment")),
        measures: &["job_search", "benefits"],
        arrival: "social_services",
    },
    Young {
        name: "G",
        gender: "male",
        tongue: "fi",
        born: "2005-02-02",
        start: "2024-05-01",
        end: Some(("2025-12-15", "workshop")),
        measures: &["guidance"],
        arrival: "young_person",
    },
    Young {
        name: "H",
        gender: "male",
        tongue: "fi",
        born: "2008-08-08",
        start: "2026-05-05",
        end: None,
        measures: &[],
        arrival: "outreach_contact",
    },
    Young {
        name: "I",
        gender: "female",
        tongue: "fi",
        born: "2002-02-02",
        start: "2026-06-01",
        end: None,
        measures: &["support_conversation"],
        arrival: "family",
    },
    Young {
        name: "J",
        gender: "male",
        tongue: "fi",
        born: "2010-10-10",
        start: "2026-08-20",
        end: None,
        measures: &["guidance"],
        arrival: "basic_education",
    },
    Young {
        name: "K",
        gender: "female",
        tongue: "sv",
        born: "2006-01-01",
        start: "2025-12-01",
        end: Some(("2026-01-31", "no_need")),
        measures: &["guidance"],
        arrival: "young_person",
    },
    Young {
        name: "L",
        gender: "male",
        tongue: "fi",
        born: "2001-07-07",
        start: "2026-10-01",
        end: None,
        measures: &["guidance"],
        arrival: "police",
    },
    Young {
        name: "M",
        gender: "female",
        tongue: "fi",
        born: "2007-04-04",
        start: "2026-05-01",
        end: Some(("2026-11-30", "lost_contact")),
        measures: &["guidance"],
        arrival: "outreach_contact",
    },
    Young {
        name: "N",
        gender: "male",
        tongue: "fi",
        born: "2009-01-01",
        start: "2025-01-10",
        end: Some(("2025-06-30", "moved")),
        measures: &["guidance"],
        arrival: "family",
    },
    Young {
        name: "O",
        gender: "female",
        tongue: "fi",
        born: "2004-04-04",
        start: "2026-07-01",
        end: None,
        measures: &["housing_support"],
        arrival: "health_services",
    },
];

/// The cells of row `row` of table `table` in the organisation's group.
fn cells(report: &Value, table: &str, row: &str) -> Vec<u64> {
    let org = &report["groups"][0];
    let t = org["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["key"] == table)
        .unwrap_or_else(|| panic!("no table {table}"));
    let r = t["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["key"] == row)
        .unwrap_or_else(|| panic!("no row {row} in {table}"));
    r["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .map(|c| c.as_u64().unwrap_or_else(|| panic!("{table}/{row}: {c}")))
        .collect()
}

#[test]
fn a_hand_written_year_entered_through_the_cli_gives_the_tables_worked_out_by_hand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path();
    run(store, &["init", "--admin", "admin"]);
    let mut ids = std::collections::BTreeMap::new();
    for y in &YEAR {
        let c = run(
            store,
            &[
                "client",
                "add",
                "--first-name",
                y.name,
                "--last-name",
                "Vuosi",
                "--birth-date",
                y.born,
                "--gender",
                y.gender,
                "--mother-tongue",
                y.tongue,
            ],
        );
        let p = run(
            store,
            &[
                "period",
                "open",
                &c,
                "--start",
                y.start,
                "--arrival",
                y.arrival,
            ],
        );
        for m in y.measures {
            run(store, &["measure", "add", &c, &p, m, "--start", y.start]);
        }
        run(
            store,
            &[
                "situation",
                "add",
                &c,
                "--date",
                y.start,
                "--phase",
                "start",
                "--period",
                &p,
                "--education",
                "basic",
                "--education-status",
                "not_studying",
                "--activity",
                "outside",
                "--livelihood",
                "parents",
                "--housing",
                "with_parents",
            ],
        );
        if let Some((end, outcome)) = y.end {
            run(
                store,
                &[
                    "period",
                    "close",
                    &c,
                    &p,
                    "--end",
                    end,
                    "--outcome",
                    outcome,
                ],
            );
        }
        ids.insert(y.name, c);
    }
    for (who, date) in [
        ("D", "2026-03-01"),
        ("J", "2026-08-10"),
        ("G", "2024-04-20"),
    ] {
        run(
            store,
            &[
                "referral",
                "add",
                &ids[who],
                "--source",
                "basic_education",
                "--received",
                date,
            ],
        );
    }

    let contact = |date: &str, channel: &str, who: Option<(&str, &str)>| {
        let mut args = vec!["contact", "add", "--date", date, "--channel", channel];
        if let Some((gender, age)) = who {
            args.extend(["--gender", gender, "--age", age]);
        }
        run(store, &args);
    };
    for day in 1..=8 {
        contact(
            &format!("2026-04-{day:02}"),
            "street",
            Some(("female", "16-17")),
        );
    }
    for day in 1..=5 {
        contact(
            &format!("2026-05-{day:02}"),
            "online",
            Some(("male", "18-20")),
        );
    }
    for day in 1..=4 {
        contact(
            &format!("2026-09-{day:02}"),
            "school",
            Some(("male", "21-24")),
        );
    }
    for day in 1..=3 {
        contact(&format!("2026-10-{day:02}"), "event", None);
    }
    for _ in 0..2 {
        contact("2025-12-30", "street", Some(("female", "16-17")));
    }
    for (kind, date, met) in [
        (
            "street_work",
            "2026-06-12",
            vec!["female:16-17:3", "male:18-20:2"],
        ),
        ("group_meeting", "2026-10-20", vec!["female:21-24:4"]),
        ("street_work", "2025-11-11", vec!["male:16-17:6"]),
    ] {
        let mut args = vec![
            "activity",
            "add",
            "--kind",
            kind,
            "--date",
            date,
            "--minutes",
            "120",
        ];
        for m in &met {
            args.extend(["--met", m]);
        }
        run(store, &args);
    }

    let report: Value = serde_json::from_str(&run(
        store,
        &["stats", "--period", "2026", "--format", "json"],
    ))
    .expect("json");
    let one = |t: &str, r: &str| cells(&report, t, r)[0];
    // Summary.
    assert_eq!(one("summary", "reached"), 13);
    assert_eq!(one("summary", "new"), 10);
    assert_eq!(one("summary", "continuing"), 3);
    assert_eq!(one("summary", "longer_term"), 11);
    assert_eq!(one("summary", "periods_active"), 13);
    assert_eq!(one("summary", "periods_started"), 10);
    assert_eq!(one("summary", "periods_ended"), 5);
    assert_eq!(one("summary", "referrals"), 2);
    // Gender: new, continuing, reached, of whom longer-term.
    assert_eq!(cells(&report, "gender", "male")[..4], [4, 1, 5, 4]);
    assert_eq!(cells(&report, "gender", "female")[..4], [5, 2, 7, 7]);
    assert_eq!(cells(&report, "gender", "other")[..4], [1, 0, 1, 0]);
    assert_eq!(cells(&report, "gender", "_total")[..4], [10, 3, 13, 11]);
    // Age at the start of the reference period.
    assert_eq!(cells(&report, "age_group", "0-15")[2], 1);
    assert_eq!(cells(&report, "age_group", "16-17")[2], 3);
    assert_eq!(cells(&report, "age_group", "18-20")[2], 4);
    assert_eq!(cells(&report, "age_group", "21-24")[2], 4);
    assert_eq!(cells(&report, "age_group", "25-29")[2], 1);
    // Mother tongue.
    assert_eq!(cells(&report, "mother_tongue", "fi")[2], 10);
    assert_eq!(cells(&report, "mother_tongue", "sv")[2], 2);
    assert_eq!(cells(&report, "mother_tongue", "other")[2], 1);
    // Arrival route of the reference period.
    for (route, n) in [
        ("basic_education", 3),
        ("young_person", 2),
        ("employment_services", 1),
        ("outreach_contact", 3),
        ("social_services", 1),
        ("family", 1),
        ("police", 1),
        ("health_services", 1),
    ] {
        assert_eq!(cells(&report, "arrival_route", route)[2], n, "{route}");
    }
    // Outcomes of the periods that ended in 2026.
    for outcome in [
        "vocational",
        "general_upper_secondary",
        "employment",
        "no_need",
        "lost_contact",
    ] {
        assert_eq!(one("outcome", outcome), 1, "{outcome}");
    }
    assert_eq!(one("outcome", "workshop"), 0, "G ended in 2025");
    assert_eq!(one("outcome", "_total"), 5);
    // Young people per measure.
    for (measure, n) in [
        ("guidance", 6),
        ("education_application", 1),
        ("job_search", 2),
        ("benefits", 1),
        ("support_conversation", 1),
        ("housing_support", 1),
    ] {
        assert_eq!(one("measures", measure), n, "{measure}");
    }
    assert_eq!(one("referrals", "basic_education"), 2);
    // Brief contacts: their own column of the gender and age-group tables
    // and their own summary row, apart from the young people reached.
    assert_eq!(one("summary", "brief_contacts"), 20);
    assert_eq!(cells(&report, "gender", "female")[4], 8);
    assert_eq!(cells(&report, "gender", "male")[4], 9);
    assert_eq!(cells(&report, "gender", "_missing")[4], 3);
    assert_eq!(cells(&report, "gender", "_total")[4], 20);
    assert_eq!(cells(&report, "age_group", "16-17")[4], 8);
    assert_eq!(cells(&report, "age_group", "18-20")[4], 5);
    assert_eq!(cells(&report, "age_group", "21-24")[4], 4);
    assert_eq!(cells(&report, "age_group", "_missing")[4], 3);
    // Activity memos and the young people met in them.
    assert_eq!(one("summary", "activity_memos"), 2);
    assert_eq!(one("summary", "met"), 9);
    assert_eq!(cells(&report, "activities", "street_work"), [1, 5]);
    assert_eq!(cells(&report, "activities", "group_meeting"), [1, 4]);
    assert_eq!(cells(&report, "activities", "_total"), [2, 9]);
    // Everyone's situation at the start was recorded the same way.
    assert_eq!(cells(&report, "main_activity_start", "outside")[2], 13);
}
