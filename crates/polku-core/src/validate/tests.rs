use chrono::{DateTime, NaiveDate};

use super::*;
use crate::model::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

fn id<T: From<uuid::Uuid>>(n: u8) -> T {
    T::from(uuid::Uuid::from_bytes([n; 16]))
}

/// Hand-written: name and birth date known, gender and mother tongue and
/// unit not; an open period without measures or arrival route; an ended
/// period with an end date but no outcome; a closed period without an end
/// date; one snapshot with housing only.
fn fixture() -> Client {
    let mut c = Client::new(id(1), DateTime::from_timestamp_millis(0).expect("instant"));
    c.basic.first_name = "Eetu".into();
    c.basic.last_name = "  ".into();
    c.basic.birth_date = Some(d(2004, 8, 1));
    c.basic.gender = Some(String::new());

    let mut open = Period::new(id(10));
    open.start = Some(d(2024, 3, 1));
    c.insert_period(open);

    let mut ended = Period::new(id(11));
    ended.arrival_route = Some("defence_forces".into());
    ended.start = Some(d(2023, 1, 1));
    ended.end = Some(d(2023, 6, 30));
    ended.insert_measure(Measure {
        id: id(40),
        code: "guidance".into(),
        start: Some(d(2023, 1, 1)),
        status: MeasureStatus::Completed,
        end: Some(d(2023, 6, 30)),
    });
    c.insert_period(ended);

    let mut closed = Period::new(id(12));
    closed.arrival_route = Some("young_person".into());
    closed.closed = true;
    closed.outcome = Some("employment".into());
    closed.insert_measure(Measure {
        id: id(41),
        code: "job_search".into(),
        start: None,
        status: MeasureStatus::Completed,
        end: None,
    });
    c.insert_period(closed);

    let mut s = SituationSnapshot::new(id(20), d(2024, 3, 1), SnapshotPhase::Start);
    s.housing = Some("with_parents".into());
    c.insert_snapshot(s);
    c
}

#[test]
fn missing_items_of_the_fixture() {
    assert_eq!(
        missing(&fixture()),
        vec![
            Missing::LastName,
            Missing::Gender,
            Missing::MotherTongue,
            Missing::Unit,
            Missing::PeriodArrivalRoute(id(10)),
            Missing::PeriodMeasure(id(10)),
            Missing::PeriodOutcome(id(11)),
            Missing::PeriodStart(id(12)),
            Missing::PeriodEnd(id(12)),
            Missing::SnapshotHighestEducation(id(20)),
            Missing::SnapshotEducationStatus(id(20)),
            Missing::SnapshotMainActivity(id(20)),
            Missing::SnapshotLivelihood(id(20)),
        ]
    );
}

#[test]
fn a_complete_client_misses_nothing() {
    let mut c = fixture();
    c.basic.last_name = "Korhonen".into();
    c.basic.gender = Some("male".into());
    c.basic.mother_tongue = Some("sv".into());
    c.unit = Some(id(2));
    for p in c.periods.values_mut() {
        p.arrival_route.get_or_insert_with(|| "family".into());
        p.start.get_or_insert(d(2023, 1, 1));
        p.outcome.get_or_insert_with(|| "vocational".into());
        if p.closed {
            p.end = Some(d(2023, 12, 31));
        }
    }
    if let Some(p) = c.periods.get_mut(&id(10)) {
        p.insert_measure(Measure {
            id: id(42),
            code: "guidance".into(),
            start: None,
            status: MeasureStatus::Ongoing,
            end: None,
        });
    }
    for s in c.snapshots.values_mut() {
        s.highest_education = Some("basic".into());
        s.education_status = Some("applying".into());
        s.main_activity = Some("unemployed".into());
        s.livelihood = Some("unemployment_benefit".into());
    }
    assert_eq!(missing(&c), vec![]);
}

#[test]
fn an_empty_client_misses_basic_data_and_a_situation() {
    let c = Client::new(id(1), DateTime::from_timestamp_millis(0).expect("instant"));
    assert_eq!(
        missing(&c),
        vec![
            Missing::FirstName,
            Missing::LastName,
            Missing::BirthDate,
            Missing::Gender,
            Missing::MotherTongue,
            Missing::Unit,
            Missing::Situation,
        ]
    );
}

#[test]
fn missing_items_serialise_without_personal_data() {
    let json = serde_json::to_string(&missing(&fixture())).expect("json");
    assert!(!json.contains("Eetu"));
    assert!(json.contains(r#"{"item":"period_outcome","id":"0b0b0b0b-"#));
}

#[test]
fn unknown_codes_are_reported_by_place() {
    let mut c = fixture();
    c.basic.gender = Some("martian".into());
    if let Some(p) = c.periods.get_mut(&id(11)) {
        p.outcome = Some("to_the_moon".into());
    }
    let set = crate::codes::CodeSet::national();
    assert_eq!(
        unknown_codes(&c, &set),
        vec![
            UnknownCodeAt {
                list: CodeList::Gender,
                field: CodeField::Basic
            },
            UnknownCodeAt {
                list: CodeList::Outcome,
                field: CodeField::Period(id(11))
            },
        ]
    );
}
