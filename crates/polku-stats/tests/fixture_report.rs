//! The hand-made fixture against tables worked out by hand (see the client
//! list in `common/mod.rs`), for each PARKki period kind.
//!
//! Worked-out rules the expectations rely on:
//! - C02 (period 15.11.2025–31.3.2026) and C13 (1.6.2025–31.1.2026) span New
//!   Year: reached and *continuing* in 2026, and their periods ended in every
//!   2026 range;
//! - C03 turns 18 on 20.3.2026; his period started 15.1.2026, so he is in
//!   16–17 in every report (age at the period start);
//! - C09 is erased: only its anonymised record is counted, exactly as before;
//! - C10 has no gender: counted on the "missing" row and listed by the check;
//! - C15's period has no measure: reached but not a longer-term client;
//! - C04 and C14 have contacts only: "no period" rows, age at first contact;
//! - C05's only period ended in 2025: not reached in 2026;
//! - C18's earlier period (2024–2025) does not count; his 2026 one does.

mod common;

use common::*;
use polku_stats::{Cell, GroupKind, Inputs, Query, Report, ReportPeriod, TableKey, check, report};

fn make(period: &str) -> Report {
    let (clients, anonymised) = data();
    let memos = activity_memos();
    let org = organisation();
    let codes = polku_core::codes::CodeSet::for_organisation(&org);
    let query = Query::new(period.parse::<ReportPeriod>().expect("period"), now());
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

/// `expected`: one line per non-zero row, `key: v1 v2 …` with every column;
/// rows not listed must be all zeros.
fn assert_table(
    report: &Report,
    group: (GroupKind, Option<String>),
    key: TableKey,
    expected: &str,
) {
    let g = report
        .group(group.0, group.1.as_deref())
        .unwrap_or_else(|| panic!("group {group:?}"));
    let table = g.table(key).expect("table");
    let mut listed = Vec::new();
    for line in expected.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (row_key, values) = line.split_once(':').expect("key: values");
        let values: Vec<u64> = values
            .split_whitespace()
            .map(|v| v.parse().expect("number"))
            .collect();
        let row = table
            .row(row_key.trim())
            .unwrap_or_else(|| panic!("{key:?}: no row {row_key}"));
        let got: Vec<Cell> = row.cells.clone();
        let want: Vec<Cell> = values.into_iter().map(Cell::Count).collect();
        assert_eq!(got, want, "{key:?} row {row_key} in {}", g.label);
        listed.push(row_key.trim().to_owned());
    }
    for row in &table.rows {
        if !listed.contains(&row.key) {
            assert!(
                row.cells.iter().all(|c| *c == Cell::Count(0)),
                "{key:?} row {} should be zero in {}: {:?}",
                row.key,
                g.label,
                row.cells
            );
        }
    }
}

fn org() -> (GroupKind, Option<String>) {
    (GroupKind::Organisation, None)
}

const MET_COLUMNS_NOTE: &str = "0-15 16-17 18-20 21-24 25-29 30- missing unknown total";

#[test]
fn jan_apr_2026_matches_the_hand_count() {
    let r = make("2026-1");
    assert_eq!(r.range.label(), "1.1.2026–30.4.2026");
    assert_table(
        &r,
        org(),
        TableKey::Summary,
        "
        reached: 13
        new: 8
        continuing: 5
        longer_term: 12
        periods_active: 12
        periods_started: 9
        periods_ended: 4
        referrals: 2
        contacts: 13
        activity_memos: 4
        met: 18",
    );
    // Columns: new, continuing, reached, of whom longer-term.
    assert_table(
        &r,
        org(),
        TableKey::Gender,
        "
        male: 4 3 7 6 0
        female: 3 1 4 4 0
        other: 0 1 1 1 0
        _missing: 1 0 1 1 0
        _total: 8 5 13 12 0",
    );
    assert_table(
        &r,
        org(),
        TableKey::AgeGroup,
        "
        0-15: 1 0 1 1 0
        16-17: 2 0 2 2 0
        18-20: 5 2 7 7 0
        21-24: 0 3 3 2 0
        _total: 8 5 13 12 0",
    );
    assert_table(
        &r,
        org(),
        TableKey::MotherTongue,
        "
        fi: 6 5 11 10
        sv: 1 0 1 1
        se: 1 0 1 1
        _total: 8 5 13 12",
    );
    assert_table(
        &r,
        org(),
        TableKey::ArrivalRoute,
        "
        basic_education: 2 1 3 3
        education_provider: 3 0 3 3
        defence_forces: 1 0 1 1
        health_services: 0 1 1 1
        outreach_contact: 0 1 1 1
        young_person: 1 1 2 2
        family: 1 0 1 1
        _no_period: 0 1 1 0
        _total: 8 5 13 12",
    );
    assert_table(
        &r,
        org(),
        TableKey::MainActivityStart,
        "
        basic_education_pupil: 2 0 2 2
        unemployed: 1 2 3 3
        outside: 5 2 7 7
        _no_period: 0 1 1 0
        _total: 8 5 13 12",
    );
    assert_table(
        &r,
        org(),
        TableKey::LivelihoodStart,
        "
        unemployment_benefit: 1 2 3 3
        sickness_disability: 0 1 1 1
        parents: 6 1 7 7
        no_income: 1 0 1 1
        _no_period: 0 1 1 0
        _total: 8 5 13 12",
    );
    assert_table(
        &r,
        org(),
        TableKey::Outcome,
        "
        general_upper_secondary: 1
        vocational: 1
        rehabilitation: 1
        service: 1
        _total: 4",
    );
    assert_table(
        &r,
        org(),
        TableKey::MainActivityEnd,
        "
        student: 2
        rehabilitation: 1
        service: 1
        _total: 4",
    );
    assert_table(
        &r,
        org(),
        TableKey::LivelihoodEnd,
        "
        study_benefit: 1
        rehabilitation_allowance: 1
        parents: 1
        other: 1
        _total: 4",
    );
    assert_table(
        &r,
        org(),
        TableKey::Measures,
        "
        guidance: 5
        support_conversation: 2
        service_referral: 1
        education_application: 3
        job_search: 1
        health_wellbeing: 1
        everyday_life: 1",
    );
    assert_table(
        &r,
        org(),
        TableKey::Referrals,
        "
        basic_education: 1
        education_provider: 1
        _total: 2",
    );
    assert_table(
        &r,
        org(),
        TableKey::Contacts,
        "
        meeting: 10
        phone: 3
        _total: 13",
    );
    // Columns: activity memos, young people met.
    assert_table(
        &r,
        org(),
        TableKey::Activities,
        "
        street_work: 1 3
        online_work: 1 3
        group_meeting: 1 3
        school_visit: 1 9
        _total: 4 18",
    );
    let _ = MET_COLUMNS_NOTE;
    assert_table(
        &r,
        org(),
        TableKey::Met,
        "
        male: 0 7 2 1 0 0 0 0 10
        female: 0 5 3 0 0 0 0 0 8
        _total: 0 12 5 1 0 0 0 0 18",
    );
}

#[test]
fn jan_aug_2026_matches_the_hand_count() {
    let r = make("2026-2");
    assert_eq!(r.range.label(), "1.1.2026–31.8.2026");
    assert_table(
        &r,
        org(),
        TableKey::Summary,
        "
        reached: 17
        new: 12
        continuing: 5
        longer_term: 14
        periods_active: 15
        periods_started: 12
        periods_ended: 6
        referrals: 2
        contacts: 19
        activity_memos: 7
        met: 26",
    );
    assert_table(
        &r,
        org(),
        TableKey::Gender,
        "
        male: 4 3 7 6 0
        female: 7 1 8 6 0
        other: 0 1 1 1 0
        _missing: 1 0 1 1 0
        _total: 12 5 17 14 0",
    );
    assert_table(
        &r,
        org(),
        TableKey::AgeGroup,
        "
        0-15: 1 0 1 1 0
        16-17: 3 0 3 3 0
        18-20: 7 2 9 8 0
        21-24: 1 3 4 2 0
        _total: 12 5 17 14 0",
    );
    assert_table(
        &r,
        org(),
        TableKey::MotherTongue,
        "
        fi: 9 5 14 11
        sv: 1 0 1 1
        se: 1 0 1 1
        other: 1 0 1 1
        _total: 12 5 17 14",
    );
    assert_table(
        &r,
        org(),
        TableKey::ArrivalRoute,
        "
        basic_education: 2 1 3 3
        education_provider: 3 0 3 3
        defence_forces: 1 0 1 1
        social_services: 2 0 2 2
        health_services: 0 1 1 1
        youth_services: 1 0 1 0
        outreach_contact: 0 1 1 1
        young_person: 1 1 2 2
        family: 1 0 1 1
        _no_period: 1 1 2 0
        _total: 12 5 17 14",
    );
    assert_table(
        &r,
        org(),
        TableKey::MainActivityStart,
        "
        basic_education_pupil: 2 0 2 2
        student: 1 0 1 0
        unemployed: 2 2 4 4
        outside: 6 2 8 8
        _no_period: 1 1 2 0
        _total: 12 5 17 14",
    );
    assert_table(
        &r,
        org(),
        TableKey::LivelihoodStart,
        "
        study_benefit: 1 0 1 0
        unemployment_benefit: 1 2 3 3
        social_assistance: 2 0 2 2
        sickness_disability: 0 1 1 1
        parents: 6 1 7 7
        no_income: 1 0 1 1
        _no_period: 1 1 2 0
        _total: 12 5 17 14",
    );
    assert_table(
        &r,
        org(),
        TableKey::Outcome,
        "
        basic_education: 1
        general_upper_secondary: 1
        vocational: 1
        rehabilitation: 1
        service: 1
        declined: 1
        _total: 6",
    );
    assert_table(
        &r,
        org(),
        TableKey::MainActivityEnd,
        "
        basic_education_pupil: 1
        student: 2
        rehabilitation: 1
        service: 1
        outside: 1
        _total: 6",
    );
    assert_table(
        &r,
        org(),
        TableKey::LivelihoodEnd,
        "
        study_benefit: 1
        rehabilitation_allowance: 1
        parents: 3
        other: 1
        _total: 6",
    );
    assert_table(
        &r,
        org(),
        TableKey::Measures,
        "
        guidance: 6
        support_conversation: 2
        service_referral: 1
        education_application: 3
        job_search: 1
        benefits: 1
        housing_support: 2
        health_wellbeing: 1
        everyday_life: 1",
    );
    assert_table(
        &r,
        org(),
        TableKey::Referrals,
        "
        basic_education: 1
        education_provider: 1
        _total: 2",
    );
    assert_table(
        &r,
        org(),
        TableKey::Contacts,
        "
        meeting: 14
        phone: 4
        message: 1
        _total: 19",
    );
    assert_table(
        &r,
        org(),
        TableKey::Activities,
        "
        street_work: 3 8
        online_work: 1 3
        group_meeting: 1 3
        school_visit: 1 9
        event: 1 3
        _total: 7 26",
    );
    assert_table(
        &r,
        org(),
        TableKey::Met,
        "
        male: 0 7 5 3 0 0 0 0 15
        female: 0 5 5 0 0 0 0 0 10
        other: 0 0 1 0 0 0 0 0 1
        _total: 0 12 11 3 0 0 0 0 26",
    );
}

#[test]
fn year_2026_matches_the_hand_count() {
    let r = make("2026");
    assert_eq!(r.range.label(), "1.1.2026–31.12.2026");
    assert_table(
        &r,
        org(),
        TableKey::Summary,
        "
        reached: 19
        new: 14
        continuing: 5
        longer_term: 16
        periods_active: 17
        periods_started: 14
        periods_ended: 8
        referrals: 3
        contacts: 24
        activity_memos: 9
        met: 27",
    );
    assert_table(
        &r,
        org(),
        TableKey::Gender,
        "
        male: 6 3 9 8 0
        female: 7 1 8 6 0
        other: 0 1 1 1 0
        _missing: 1 0 1 1 0
        _total: 14 5 19 16 0",
    );
    assert_table(
        &r,
        org(),
        TableKey::AgeGroup,
        "
        0-15: 1 0 1 1 0
        16-17: 3 0 3 3 0
        18-20: 7 2 9 8 0
        21-24: 1 3 4 2 0
        25-29: 2 0 2 2 0
        _total: 14 5 19 16 0",
    );
    assert_table(
        &r,
        org(),
        TableKey::MotherTongue,
        "
        fi: 11 5 16 13
        sv: 1 0 1 1
        se: 1 0 1 1
        other: 1 0 1 1
        _total: 14 5 19 16",
    );
    assert_table(
        &r,
        org(),
        TableKey::ArrivalRoute,
        "
        basic_education: 2 1 3 3
        education_provider: 3 0 3 3
        defence_forces: 1 0 1 1
        employment_services: 1 0 1 1
        social_services: 3 0 3 3
        health_services: 0 1 1 1
        youth_services: 1 0 1 0
        outreach_contact: 0 1 1 1
        young_person: 1 1 2 2
        family: 1 0 1 1
        _no_period: 1 1 2 0
        _total: 14 5 19 16",
    );
    assert_table(
        &r,
        org(),
        TableKey::MainActivityStart,
        "
        basic_education_pupil: 2 0 2 2
        student: 1 0 1 0
        unemployed: 4 2 6 6
        outside: 6 2 8 8
        _no_period: 1 1 2 0
        _total: 14 5 19 16",
    );
    assert_table(
        &r,
        org(),
        TableKey::LivelihoodStart,
        "
        study_benefit: 1 0 1 0
        unemployment_benefit: 2 2 4 4
        social_assistance: 3 0 3 3
        sickness_disability: 0 1 1 1
        parents: 6 1 7 7
        no_income: 1 0 1 1
        _no_period: 1 1 2 0
        _total: 14 5 19 16",
    );
    assert_table(
        &r,
        org(),
        TableKey::Outcome,
        "
        basic_education: 1
        general_upper_secondary: 1
        vocational: 2
        employment: 1
        rehabilitation: 1
        service: 1
        declined: 1
        _total: 8",
    );
    assert_table(
        &r,
        org(),
        TableKey::MainActivityEnd,
        "
        basic_education_pupil: 1
        student: 3
        employed: 1
        rehabilitation: 1
        service: 1
        outside: 1
        _total: 8",
    );
    assert_table(
        &r,
        org(),
        TableKey::LivelihoodEnd,
        "
        wage: 1
        study_benefit: 2
        rehabilitation_allowance: 1
        parents: 3
        other: 1
        _total: 8",
    );
    assert_table(
        &r,
        org(),
        TableKey::Measures,
        "
        guidance: 6
        support_conversation: 3
        service_referral: 1
        education_application: 3
        job_search: 2
        benefits: 2
        housing_support: 2
        health_wellbeing: 1
        everyday_life: 1",
    );
    assert_table(
        &r,
        org(),
        TableKey::Referrals,
        "
        basic_education: 1
        education_provider: 1
        social_services: 1
        _total: 3",
    );
    assert_table(
        &r,
        org(),
        TableKey::Contacts,
        "
        meeting: 17
        phone: 5
        message: 1
        home_visit: 1
        _total: 24",
    );
    assert_table(
        &r,
        org(),
        TableKey::Activities,
        "
        street_work: 3 8
        online_work: 2 4
        group_meeting: 1 3
        school_visit: 1 9
        event: 1 3
        training: 1 0
        _total: 9 27",
    );
    assert_table(
        &r,
        org(),
        TableKey::Met,
        "
        male: 0 7 5 3 0 0 0 0 15
        female: 0 5 5 1 0 0 0 0 11
        other: 0 0 1 0 0 0 0 0 1
        _total: 0 12 11 4 0 0 0 0 27",
    );
}

#[test]
fn year_2026_per_unit_and_per_worker() {
    let r = make("2026");
    let unit = |u: polku_core::UnitId| (GroupKind::Unit, Some(u.to_string()));
    let worker = |w: polku_core::UserId| (GroupKind::Worker, Some(w.to_string()));
    assert_table(
        &r,
        unit(unit1()),
        TableKey::Gender,
        "
        male: 3 1 4 4 0
        female: 4 1 5 3 0
        other: 0 1 1 1 0
        _missing: 1 0 1 1 0
        _total: 8 3 11 9 0",
    );
    assert_table(
        &r,
        unit(unit2()),
        TableKey::Gender,
        "
        male: 3 2 5 4 0
        female: 3 0 3 3 0
        _total: 6 2 8 7 0",
    );
    // Aila: C01, C02, C04, C10, C13, C18; her own contacts and activities.
    assert_table(
        &r,
        worker(w1()),
        TableKey::Summary,
        "
        reached: 6
        new: 3
        continuing: 3
        longer_term: 5
        periods_active: 5
        periods_started: 3
        periods_ended: 2
        contacts: 6
        activity_memos: 4
        met: 15",
    );
    // Bertta: C03, C08, C11, C15, C19 (two referrals: C03, C19).
    assert_table(
        &r,
        worker(w2()),
        TableKey::Summary,
        "
        reached: 5
        new: 5
        longer_term: 4
        periods_active: 5
        periods_started: 5
        periods_ended: 2
        referrals: 2
        contacts: 6
        activity_memos: 3
        met: 15",
    );
    // Cilla: C06, C07, C09 (erased), C12, C14, C16, C17, C20; C05 not reached.
    assert_table(
        &r,
        worker(w3()),
        TableKey::Summary,
        "
        reached: 8
        new: 6
        continuing: 2
        longer_term: 7
        periods_active: 7
        periods_started: 6
        periods_ended: 4
        referrals: 1
        contacts: 12
        activity_memos: 3
        met: 6",
    );
    // Groups: organisation, two units, three workers; labels from the organisation.
    let labels: Vec<&str> = r.groups.iter().map(|g| g.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "Koko organisaatio",
            "Yksikkö: Itä",
            "Yksikkö: Keskusta",
            "Työntekijä: Aila Esimerkki",
            "Työntekijä: Bertta Esimerkki",
            "Työntekijä: Cilla Esimerkki",
        ]
    );
}

#[test]
fn a_unit_filter_counts_only_that_unit() {
    let (clients, anonymised) = data();
    let memos = activity_memos();
    let org = organisation();
    let codes = polku_core::codes::CodeSet::for_organisation(&org);
    let mut query = Query::new(ReportPeriod::Year(2026), now());
    query.unit = Some(unit2());
    let r = report(
        &Inputs {
            clients: &clients,
            anonymised: &anonymised,
            activity_memos: &memos,
            brief_contacts: &[],
        },
        &query,
        &org,
        &codes,
    );
    assert_eq!(r.unit.as_deref(), Some("Itä"));
    assert!(r.groups.iter().all(|g| g.kind != GroupKind::Unit));
    assert_table(
        &r,
        org_group(),
        TableKey::Gender,
        "
        male: 3 2 5 4 0
        female: 3 0 3 3 0
        _total: 6 2 8 7 0",
    );
    // A3, A5, A8 (A10 is from 2025).
    assert_table(
        &r,
        org_group(),
        TableKey::Activities,
        "
        street_work: 1 2
        online_work: 1 1
        group_meeting: 1 3
        _total: 3 6",
    );
}

fn org_group() -> (GroupKind, Option<String>) {
    org()
}

#[test]
fn the_erased_client_counts_exactly_as_before_for_every_client_and_period() {
    let org = organisation();
    let codes = polku_core::codes::CodeSet::for_organisation(&org);
    let memos = activity_memos();
    let all = all_clients();
    for period in ["2026-1", "2026-2", "2026", "2025", "2025-06-01..2026-02-15"] {
        let mut query = Query::new(period.parse().expect("period"), now());
        query.suppress = None;
        let before = report(
            &Inputs {
                clients: &all,
                anonymised: &[],
                activity_memos: &memos,
                brief_contacts: &[],
            },
            &query,
            &org,
            &codes,
        );
        for erased in 0..all.len() {
            let mut live = all.clone();
            let gone = live.remove(erased);
            let record = polku_core::anonymised::anonymise(&gone, [erased as u8; 16]);
            let after = report(
                &Inputs {
                    clients: &live,
                    anonymised: &[record],
                    activity_memos: &memos,
                    brief_contacts: &[],
                },
                &query,
                &org,
                &codes,
            );
            assert_eq!(
                before,
                after,
                "erasing client {} changed the {period} report",
                erased + 1
            );
        }
    }
}

#[test]
fn the_check_lists_clients_whose_missing_fields_matter_in_the_range() {
    let (clients, _) = data();
    let ids = |period: &str| -> Vec<(polku_core::ClientId, Vec<&'static str>)> {
        let range = period.parse::<ReportPeriod>().expect("period").range();
        check(&clients, range, None)
            .into_iter()
            .map(|r| {
                assert!(!r.responsible.is_empty());
                (r.client, r.missing)
            })
            .collect()
    };
    // C10 has no gender; C15's period (from May) has no measure.
    assert_eq!(ids("2026-1"), vec![(client_id(10), vec!["gender"])]);
    // The check lists clients in id order (ids are random, not creation order).
    let mut both = vec![
        (client_id(10), vec!["gender"]),
        (client_id(15), vec!["period_measure"]),
    ];
    both.sort_by_key(|(id, _)| *id);
    assert_eq!(ids("2026-2"), both);
    assert_eq!(ids("2026"), both);
    // Nobody in 2024 misses anything that matters.
    assert_eq!(ids("2024"), vec![]);
}
