//! The report over a set of clients is the cell-wise sum of the reports over
//! any partition of them into units (before suppression), and the per-unit
//! tables of one report add up to its organisation tables.

use chrono::{NaiveDate, TimeZone, Utc};
use polku_core::anonymised::{AnonymisedRecord, anonymise};
use polku_core::codes::CodeSet;
use polku_core::model::{ActivityMemo, BriefContact, BriefContactLog, Client, Organisation, Unit};
use polku_core::{BriefContactId, OrgId, UnitId};
use polku_stats::{Cell, Group, GroupKind, Inputs, Query, Report, ReportPeriod, report};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

fn sum_into(acc: &mut Group, other: &Group) {
    for (t, o) in acc.tables.iter_mut().zip(&other.tables) {
        assert_eq!(t.key, o.key);
        for (row, orow) in t.rows.iter_mut().zip(&o.rows) {
            assert_eq!(row.key, orow.key);
            for (c, oc) in row.cells.iter_mut().zip(&orow.cells) {
                match (c, oc) {
                    (Cell::Count(a), Cell::Count(b)) => *a += b,
                    other => panic!("suppressed cell {other:?}"),
                }
            }
        }
    }
}

fn zero(group: &Group) -> Group {
    let mut g = group.clone();
    for t in &mut g.tables {
        for r in &mut t.rows {
            r.cells.iter_mut().for_each(|c| *c = Cell::Count(0));
        }
    }
    g
}

struct World {
    org: Organisation,
    units: Vec<UnitId>,
    clients: Vec<Client>,
    anonymised: Vec<AnonymisedRecord>,
    memos: Vec<ActivityMemo>,
    brief: Vec<BriefContactLog>,
}

fn world(seed: u64, n: usize, assign: &[usize], units: usize) -> World {
    let staff = polku_demo::staff(1);
    let data = polku_demo::generate(
        &polku_demo::DemoConfig {
            clients: n,
            seed,
            today: NaiveDate::from_ymd_opt(2026, 12, 31).expect("date"),
            memos_per_client: None,
        },
        &staff,
    );
    let mut org = Organisation::new(OrgId::from_parts(1, [0; 10]), "Demo");
    let ids: Vec<UnitId> = (0..units)
        .map(|i| UnitId::from_parts(1, [i as u8 + 1; 10]))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        org.insert_unit(Unit {
            id: *id,
            name: format!("Yksikkö {i}"),
            municipality: None,
            active: true,
        });
    }
    for w in &staff.workers {
        org.insert_user(w.clone());
    }
    let mut clients = Vec::new();
    let mut anonymised = Vec::new();
    for (i, mut c) in data.clients.into_iter().enumerate() {
        c.unit = Some(ids[assign[i % assign.len()] % units]);
        // Every fifth client has been erased.
        if i % 5 == 4 {
            anonymised.push(anonymise(&c, [i as u8; 16]));
        } else {
            clients.push(c);
        }
    }
    let memos = data
        .activity_memos
        .into_iter()
        .enumerate()
        .map(|(i, mut m)| {
            m.unit = ids[assign[(i * 7) % assign.len()] % units];
            m
        })
        .collect();
    // Brief contacts: each unit's logs of some months of 2025 and 2026, a
    // few contacts each (some deleted: never counted), from the seed.
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = |m: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % m
    };
    let genders = [None, Some("female"), Some("male"), Some("other")];
    let ages = [
        None,
        Some("0-15"),
        Some("16-17"),
        Some("18-20"),
        Some("21-24"),
    ];
    let author = staff.workers.first().map(|w| w.id).expect("a worker");
    let mut brief = Vec::new();
    for unit in &ids {
        for (year, month) in [(2025, 10), (2026, 1), (2026, 2), (2026, 7)] {
            let first = NaiveDate::from_ymd_opt(year, month, 1).expect("date");
            let mut log = BriefContactLog::empty(*unit, first);
            for k in 0..next(6) {
                let c = BriefContact {
                    id: BriefContactId::from_parts(k, [next(255) as u8; 10]),
                    date: NaiveDate::from_ymd_opt(year, month, 1 + next(28) as u32).expect("day"),
                    channel: "street".into(),
                    gender: genders[next(4) as usize].map(Into::into),
                    age_group: ages[next(5) as usize].map(Into::into),
                    topic: None,
                    author,
                    text: String::new(),
                    deleted: (next(7) == 0).then(|| {
                        Utc.with_ymd_and_hms(2026, 8, 1, 0, 0, 0)
                            .single()
                            .expect("t")
                    }),
                };
                log.contacts.insert(c.id, c);
            }
            brief.push(log);
        }
    }
    World {
        org,
        units: ids,
        clients,
        anonymised,
        memos,
        brief,
    }
}

fn run(
    w: &World,
    clients: &[Client],
    anonymised: &[AnonymisedRecord],
    memos: &[ActivityMemo],
    brief: &[BriefContactLog],
    period: ReportPeriod,
) -> Report {
    let mut q = Query::new(
        period,
        Utc.with_ymd_and_hms(2027, 1, 2, 3, 4, 5)
            .single()
            .expect("t"),
    );
    q.per_worker = false;
    report(
        &Inputs {
            clients,
            anonymised,
            activity_memos: memos,
            brief_contacts: brief,
        },
        &q,
        &w.org,
        &CodeSet::for_organisation(&w.org),
    )
}

/// Checks the partition property of `w` over `period`; returns how much the
/// whole report counted (the sum of its organisation cells).
fn check_partition(w: &World, period: ReportPeriod) -> Result<u64, TestCaseError> {
    let whole = run(w, &w.clients, &w.anonymised, &w.memos, &w.brief, period);
    let whole_org = whole.organisation_group().expect("org").clone();
    let counted: u64 = whole_org
        .tables
        .iter()
        .flat_map(|t| &t.rows)
        .flat_map(|r| &r.cells)
        .map(|c| c.count().expect("unsuppressed"))
        .sum();
    prop_assert!(
        whole
            .groups
            .iter()
            .filter(|g| g.kind == GroupKind::Unit)
            .count()
            >= 2
    );

    // Separate reports over each unit's clients, records and memos.
    let mut sum = zero(&whole_org);
    for unit in &w.units {
        let clients: Vec<Client> = w
            .clients
            .iter()
            .filter(|c| c.unit == Some(*unit))
            .cloned()
            .collect();
        let anonymised: Vec<AnonymisedRecord> = w
            .anonymised
            .iter()
            .filter(|r| r.unit == Some(*unit))
            .cloned()
            .collect();
        let memos: Vec<ActivityMemo> = w
            .memos
            .iter()
            .filter(|m| m.unit == *unit)
            .cloned()
            .collect();
        let brief: Vec<BriefContactLog> = w
            .brief
            .iter()
            .filter(|l| l.unit == *unit)
            .cloned()
            .collect();
        let part = run(w, &clients, &anonymised, &memos, &brief, period);
        sum_into(&mut sum, part.organisation_group().expect("org"));
    }
    prop_assert_eq!(&sum.tables, &whole_org.tables);

    // The unit groups of the whole report add up the same way.
    let mut by_units = zero(&whole_org);
    for g in whole.groups.iter().filter(|g| g.kind == GroupKind::Unit) {
        sum_into(&mut by_units, g);
    }
    prop_assert_eq!(&by_units.tables, &whole_org.tables);
    Ok(counted)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_report_is_the_sum_of_the_reports_of_a_partition_into_units(
        seed in 0u64..10_000,
        n in 5usize..60,
        units in 2usize..5,
        assign in proptest::collection::vec(0usize..8, 1..60),
        period in prop_oneof![
            Just("2026-1"), Just("2026-2"), Just("2026"), Just("2025"),
            Just("2025-10-01..2026-03-15"),
        ],
    ) {
        let w = world(seed, n, &assign, units);
        check_partition(&w, period.parse().expect("period"))?;
        // The chosen period may count nothing (2025 before the demo's
        // clients); the demo's own year always counts something, so no case
        // passes on 0 = 0 alone.
        let counted = check_partition(&w, "2026".parse().expect("period"))?;
        prop_assert!(counted > 0, "an empty report over the demo's year");
    }
}
