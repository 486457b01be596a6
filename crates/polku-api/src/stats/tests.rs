use chrono::Utc;
use polku_core::model::Role;
use polku_core::rights::{AdminRight, MissingRight};
use polku_stats::{GroupKind, ReportPeriod, TableKey};

use super::*;
use crate::{ApiError, AuditQuery, KdfParams, UserInput, Workspace};

const PASSWORD: &str = "stats-test-password";

fn login(dir: &std::path::Path, user: &str, password: &str) -> Session {
    Workspace::open(dir)
        .and_then(|w| w.login(user, password, Utc::now()))
        .unwrap_or_else(|e| panic!("login failed: {e}"))
}

/// A demo store with an admin, a worker and a coordinator.
fn store(dir: &std::path::Path) {
    let now = Utc::now();
    Workspace::init_with(dir, "admin", PASSWORD, now, KdfParams::INSECURE_FOR_TESTS).expect("init");
    let mut admin = login(dir, "admin", PASSWORD);
    admin.add_demo(40, 3, now).expect("demo");
    for (login_name, role) in [("maija", Role::Worker), ("kalle", Role::Coordinator)] {
        admin
            .add_user(
                UserInput {
                    login: login_name.to_owned(),
                    display_name: None,
                    role,
                    units: vec!["Itä".to_owned()],
                },
                "temporary-1",
                now,
            )
            .expect("add user");
        let mut s = login(dir, login_name, "temporary-1");
        s.change_password(PASSWORD, now).expect("change password");
        s.close().expect("close");
    }
    admin.close().expect("close");
}

fn year() -> StatsQuery {
    StatsQuery::new(ReportPeriod::Year(
        Utc::now()
            .date_naive()
            .format("%Y")
            .to_string()
            .parse()
            .expect("year"),
    ))
}

fn reached(report: &Report) -> Option<u64> {
    report
        .organisation_group()?
        .table(TableKey::Summary)?
        .cell("reached", "count")?
        .count()
}

#[test]
fn a_user_without_the_reporting_right_is_refused_and_the_refusal_is_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    store(dir.path());
    let now = Utc::now();
    let mut maija = login(dir.path(), "maija", PASSWORD);
    for result in [
        maija.stats(&year(), now).map(|_| ()),
        maija.stats_check(&year(), now).map(|_| ()),
    ] {
        match result {
            Err(ApiError::Denied(d)) => {
                assert_eq!(d.missing, MissingRight::Admin(AdminRight::Statistics))
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    maija.close().expect("close");
    let mut admin = login(dir.path(), "admin", PASSWORD);
    let rows = admin
        .audit_list(
            &AuditQuery {
                user: Some("maija".into()),
                ..Default::default()
            },
            now,
        )
        .expect("audit");
    assert_eq!(
        rows.iter().filter(|r| r.action == "denied").count(),
        2,
        "{rows:#?}"
    );
}

#[test]
fn a_report_counts_the_whole_organisation_and_is_audited_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    store(dir.path());
    let now = Utc::now();
    let mut admin = login(dir.path(), "admin", PASSWORD);
    let mut query = year();
    query.export = Some(StatsFormat::Xlsx);
    let full = admin.stats(&query, now).expect("stats");
    assert!(reached(&full).is_some_and(|n| n > 0));
    // The admin has supervisor reports: per-worker tables are there.
    assert!(full.groups.iter().any(|g| g.kind == GroupKind::Worker));
    let rows = admin
        .audit_list(&AuditQuery::default(), now)
        .expect("audit");
    let runs: Vec<_> = rows
        .iter()
        .filter(|r| r.detail.contains("stats_xlsx"))
        .collect();
    assert_eq!(runs.len(), 1, "{rows:#?}");
    assert_eq!(runs[0].action, "export");
    admin.close().expect("close");

    // A coordinator sees only basic data of their unit's clients, yet the
    // report (counts only) covers the whole organisation.
    let mut kalle = login(dir.path(), "kalle", PASSWORD);
    let report = kalle.stats(&year(), now).expect("stats");
    assert_eq!(reached(&report), reached(&full));
    let check = kalle.stats_check(&year(), now).expect("check");
    // Demo clients sometimes miss their mother tongue; only ids come back.
    for row in &check {
        assert!(!row.missing.is_empty());
    }
    // Limiting to a unit.
    let mut one = year();
    one.unit = Some("Itä".into());
    let ita = kalle.stats(&one, now).expect("stats");
    assert!(reached(&ita) < reached(&full));
    one.unit = Some("Ei ole".into());
    assert!(matches!(kalle.stats(&one, now), Err(ApiError::UnknownUnit)));
    kalle.close().expect("close");
}
