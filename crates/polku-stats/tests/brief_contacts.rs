//! Brief contacts (lyhyet kontaktit) in the report, against counts worked
//! out by hand: a column of their own in the gender and age-group tables, a
//! row in the summary, per unit and per worker, and suppressed like the
//! other person counts.

mod common;

use common::*;
use polku_core::model::{BriefContact, BriefContactLog};
use polku_core::{BriefContactId, UnitId, UserId};
use polku_stats::{Cell, GroupKind, Inputs, Query, Report, ReportPeriod, TableKey, report};

fn contact(
    date: chrono::NaiveDate,
    gender: Option<&str>,
    age: Option<&str>,
    author: UserId,
) -> BriefContact {
    BriefContact {
        id: BriefContactId::new(),
        date,
        channel: "street".into(),
        gender: gender.map(Into::into),
        age_group: age.map(Into::into),
        topic: None,
        author,
        text: "Ei nimeä.".into(),
        deleted: None,
    }
}

fn log(unit: UnitId, contacts: Vec<BriefContact>) -> BriefContactLog {
    let mut l = BriefContactLog::empty(unit, contacts[0].date);
    for c in contacts {
        l.contacts.insert(c.id, c);
    }
    l
}

/// Unit 1, March 2026: w1 met a girl of 16–17 twice (two contacts), a boy
/// of 18–20 and someone whose gender and age were not told; w2 a boy of
/// 18–20. Unit 2, May 2026: w3 a girl of 21–24. December 2025 (unit 1): one
/// contact outside every 2026 range.
fn logs() -> Vec<BriefContactLog> {
    vec![
        log(
            unit1(),
            vec![
                contact(d(2026, 3, 2), Some("female"), Some("16-17"), w1()),
                contact(d(2026, 3, 9), Some("female"), Some("16-17"), w1()),
                contact(d(2026, 3, 9), Some("male"), Some("18-20"), w1()),
                contact(d(2026, 3, 20), None, None, w1()),
                contact(d(2026, 3, 31), Some("male"), Some("18-20"), w2()),
            ],
        ),
        log(
            unit2(),
            vec![contact(d(2026, 5, 4), Some("female"), Some("21-24"), w3())],
        ),
        log(
            unit1(),
            vec![contact(d(2025, 12, 30), Some("male"), Some("25-29"), w1())],
        ),
    ]
}

fn make(period: &str, suppress: Option<u32>, unit: Option<UnitId>) -> Report {
    let org = organisation();
    let codes = polku_core::codes::CodeSet::for_organisation(&org);
    let mut q = Query::new(period.parse::<ReportPeriod>().expect("period"), now());
    q.suppress = suppress;
    q.unit = unit;
    let logs = logs();
    report(
        &Inputs {
            clients: &[],
            anonymised: &[],
            activity_memos: &[],
            brief_contacts: &logs,
        },
        &q,
        &org,
        &codes,
    )
}

/// `(row, count)` of the non-zero cells of the brief-contact column.
fn column(r: &Report, group: (GroupKind, Option<String>), key: TableKey) -> Vec<(String, Cell)> {
    let t = r
        .group(group.0, group.1.as_deref())
        .expect("group")
        .table(key)
        .expect("table");
    t.rows
        .iter()
        .filter_map(|row| {
            let c = t.cell(&row.key, "brief_contacts").expect("brief column");
            (c != Cell::Count(0)).then(|| (row.key.clone(), c))
        })
        .collect()
}

fn counts(v: &[(&str, u64)]) -> Vec<(String, Cell)> {
    v.iter()
        .map(|(k, n)| ((*k).to_owned(), Cell::Count(*n)))
        .collect()
}

fn summary(r: &Report, group: (GroupKind, Option<String>)) -> Cell {
    r.group(group.0, group.1.as_deref())
        .expect("group")
        .table(TableKey::Summary)
        .expect("summary")
        .cell("brief_contacts", "count")
        .expect("row")
}

const ORG: (GroupKind, Option<String>) = (GroupKind::Organisation, None);

#[test]
fn brief_contacts_are_counted_by_gender_and_age_group() {
    let year = make("2026", None, None);
    assert_eq!(
        column(&year, ORG, TableKey::Gender),
        counts(&[("male", 2), ("female", 3), ("_missing", 1), ("_total", 6)])
    );
    assert_eq!(
        column(&year, ORG, TableKey::AgeGroup),
        counts(&[
            ("16-17", 2),
            ("18-20", 2),
            ("21-24", 1),
            ("_missing", 1),
            ("_total", 6)
        ])
    );
    assert_eq!(summary(&year, ORG), Cell::Count(6));
    // Named young people reached are not changed by them.
    let org = year.group(GroupKind::Organisation, None).expect("org");
    assert_eq!(
        org.table(TableKey::Summary)
            .expect("summary")
            .cell("reached", "count"),
        Some(Cell::Count(0))
    );
    // January–April: unit 2's May contact is not in it.
    let first = make("2026-1", None, None);
    assert_eq!(summary(&first, ORG), Cell::Count(5));
    // Per unit and per worker.
    let u1 = (GroupKind::Unit, Some(unit1().to_string()));
    assert_eq!(summary(&year, u1), Cell::Count(5));
    let worker1 = (GroupKind::Worker, Some(w1().to_string()));
    assert_eq!(
        column(&year, worker1, TableKey::Gender),
        counts(&[("male", 1), ("female", 2), ("_missing", 1), ("_total", 4)])
    );
    // A report limited to unit 2.
    let only2 = make("2026", None, Some(unit2()));
    assert_eq!(
        column(&only2, ORG, TableKey::Gender),
        counts(&[("female", 1), ("_total", 1)])
    );
}

#[test]
fn brief_contacts_are_suppressed_like_other_small_counts() {
    let r = make("2026", Some(3), None);
    let gender = column(&r, ORG, TableKey::Gender);
    // female 3 and the total 6 are shown; male 2 and missing 1 are under 3,
    // and neither can be recomputed from the total (both are suppressed).
    assert!(gender.contains(&("female".to_owned(), Cell::Count(3))));
    assert!(gender.contains(&("_total".to_owned(), Cell::Count(6))));
    for row in ["male", "_missing"] {
        assert!(
            gender.contains(&(row.to_owned(), Cell::Below(3))),
            "{row}: {gender:?}"
        );
    }
    // Zero cells are under the threshold too.
    let t = r
        .group(GroupKind::Organisation, None)
        .expect("org")
        .table(TableKey::Gender)
        .expect("t");
    assert_eq!(t.cell("other", "brief_contacts"), Some(Cell::Below(3)));
    // The summary row follows the tables' total.
    assert_eq!(summary(&r, ORG), Cell::Count(6));
}
