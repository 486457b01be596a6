//! Retention (issue 11): who is past the organisation's retention — the end
//! of the calendar year `retention_years` after the last period ended — per
//! responsible worker, as each user may see them.

use chrono::{NaiveDate, TimeZone, Utc};
use polku_api::{ClientInput, PeriodClose, PeriodInput};
use polku_core::ClientId;
use polku_core::model::SettingKey;
use polku_scenarios::{PASSWORD, add_worker, demo_workspace, login};

const MAIJA_PW: &str = "maijan-salasana-1";
const OLLI_PW: &str = "ollin-salasana-1";

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// A client of maija's with one period from `start` to `end` (open if `None`).
fn client_with_period(
    s: &mut polku_api::Session,
    last_name: &str,
    start: NaiveDate,
    end: Option<NaiveDate>,
) -> ClientId {
    let now = Utc::now();
    let id = s
        .add_client(
            ClientInput {
                first_name: "Säilytys".into(),
                last_name: last_name.into(),
                unit: Some("Keskusta".into()),
                ..ClientInput::default()
            },
            now,
        )
        .expect("client");
    let period = s
        .open_period(
            id,
            PeriodInput {
                start: Some(start),
                arrival_route: Some("young_person".into()),
                ..PeriodInput::default()
            },
            now,
        )
        .expect("period");
    if let Some(end) = end {
        s.close_period(
            id,
            period,
            PeriodClose {
                end: Some(end),
                outcome: Some("vocational".into()),
                final_assessment: None,
            },
            now,
        )
        .expect("close");
    }
    id
}

#[test]
fn clients_past_retention_are_listed_per_responsible_worker_within_the_users_rights() {
    let dir = tempfile::tempdir().expect("dir");
    let mut admin = demo_workspace(dir.path(), 0);
    add_worker(&mut admin, dir.path(), "maija", "Keskusta", MAIJA_PW);
    add_worker(&mut admin, dir.path(), "olli", "Itä", OLLI_PW);
    admin.close().expect("close");
    let today = Utc
        .with_ymd_and_hms(2026, 12, 2, 9, 0, 0)
        .single()
        .expect("t");

    let mut maija = login(dir.path(), "maija", MAIJA_PW);
    let old = client_with_period(
        &mut maija,
        "Vanha",
        date(2023, 9, 1),
        Some(date(2024, 6, 30)),
    );
    let recent = client_with_period(
        &mut maija,
        "Tuore",
        date(2025, 1, 1),
        Some(date(2025, 3, 31)),
    );
    // Worked with years ago, and again now: never due while a period is open.
    let again = client_with_period(
        &mut maija,
        "Avoin",
        date(2020, 1, 1),
        Some(date(2020, 6, 1)),
    );
    maija
        .open_period(
            again,
            PeriodInput {
                start: Some(date(2026, 10, 1)),
                arrival_route: Some("young_person".into()),
                ..PeriodInput::default()
            },
            Utc::now(),
        )
        .expect("open again");
    // Default retention 1 year: ended in 2024 → kept until 31.12.2025, past;
    // ended in 2025 → until 31.12.2026, not yet; an open period never.
    let due = maija.retention_due(today).expect("due");
    assert_eq!(due.iter().map(|r| r.client).collect::<Vec<_>>(), vec![old]);
    assert_eq!(due[0].keep_until, date(2025, 12, 31));
    assert_eq!(due[0].last_period_end, Some(date(2024, 6, 30)));
    assert_eq!(due[0].responsible, vec!["maija".to_owned()]);
    assert_eq!(due[0].unit.as_deref(), Some("Keskusta"));
    // On New Year's Day 2027 the 2025 one is due too.
    let next_year = Utc
        .with_ymd_and_hms(2027, 1, 1, 9, 0, 0)
        .single()
        .expect("t");
    let due = maija.retention_due(next_year).expect("due");
    assert_eq!(due.len(), 2);
    assert!(due.iter().any(|r| r.client == recent));
    maija.close().expect("close");

    // A worker of another unit sees none of them.
    let mut olli = login(dir.path(), "olli", OLLI_PW);
    assert!(olli.retention_due(next_year).expect("due").is_empty());
    olli.close().expect("close");

    // Retention 0 years: ended in 2025 → kept until 31.12.2025: past today.
    let mut admin = login(dir.path(), "admin", PASSWORD);
    admin
        .set_setting(SettingKey::RetentionYears, 0, Utc::now())
        .expect("setting");
    let due = admin.retention_due(today).expect("due");
    assert!(due.iter().any(|r| r.client == recent), "{due:?}");
    assert!(due.iter().any(|r| r.client == old));
    assert_eq!(due.len(), 2, "the open one is never due: {due:?}");
}

#[test]
fn the_privacy_notice_is_written_from_the_organisations_real_settings() {
    let dir = tempfile::tempdir().expect("dir");
    let mut admin = demo_workspace(dir.path(), 0);
    admin
        .set_setting(SettingKey::RetentionYears, 3, Utc::now())
        .expect("retention");
    admin
        .set_setting(SettingKey::IdleLockMinutes, 7, Utc::now())
        .expect("idle");
    let org = admin.organisation().name.clone();
    let fi = admin.privacy_notice(polku_api::ExportLang::Fi);
    assert!(fi.starts_with("# Tietosuojaseloste"));
    assert!(fi.contains(&org));
    assert!(fi.contains("vielä 3 kalenterivuoden ajan"), "{fi}");
    assert!(fi.contains("7 minuutin"));
    assert!(fi.contains("Keskusta") && fi.contains("Itä"), "the units");
    assert!(fi.contains("[Täydennä"), "places to complete are marked");
    let sv = admin.privacy_notice(polku_api::ExportLang::Sv);
    assert!(sv.starts_with("# Dataskyddsbeskrivning"));
    assert!(sv.contains("ytterligare 3 kalenderår"));
    // A changed setting changes the notice.
    admin
        .set_setting(SettingKey::RetentionYears, 1, Utc::now())
        .expect("retention");
    assert!(
        admin
            .privacy_notice(polku_api::ExportLang::Fi)
            .contains("vielä 1 kalenterivuoden ajan")
    );
}
