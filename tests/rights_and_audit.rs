//! Rights and the audit log end to end: deactivation, refusals across units,
//! view entries, audited failed logins.

use polku_api::{ApiError, AuditQuery, Workspace};
use polku_core::rights::MissingRight;
use polku_scenarios::{PASSWORD, add_worker, demo_workspace, login};

fn unit_id(session: &polku_api::Session, name: &str) -> polku_core::UnitId {
    session
        .organisation()
        .units
        .values()
        .find(|u| u.name == name)
        .map(|u| u.id)
        .expect("unit")
}

#[test]
fn a_deactivated_user_is_refused_clearly_and_the_refusal_is_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut admin = demo_workspace(dir.path(), 10);
    add_worker(&mut admin, dir.path(), "maija", "Itä", "maijan-salasana");
    let now = chrono::Utc::now();
    admin.set_active("maija", false, now).expect("deactivate");
    admin.close().expect("close");

    let err = Workspace::open(dir.path())
        .and_then(|w| w.login("maija", "maijan-salasana", chrono::Utc::now()))
        .expect_err("a deactivated user must not log in");
    assert!(matches!(err, ApiError::UserInactive), "{err:?}");
    assert!(err.to_string().contains("deactivated"));

    let mut admin = login(dir.path(), "admin", PASSWORD);
    let rows = admin
        .audit_list(
            &AuditQuery {
                user: Some("maija".into()),
                ..Default::default()
            },
            chrono::Utc::now(),
        )
        .expect("audit list");
    let refused: Vec<_> = rows.iter().filter(|r| r.action == "failed_login").collect();
    assert_eq!(refused.len(), 1, "{rows:#?}");
    assert_eq!(refused[0].detail, "user_inactive");
    // The deactivation itself is audited as a role or right change by the admin.
    let all = admin
        .audit_list(&AuditQuery::default(), chrono::Utc::now())
        .expect("list");
    assert!(all.iter().any(|r| r.action == "role_change"
        && r.detail == "deactivate"
        && r.user.as_deref() == Some("admin")));
}

#[test]
fn a_worker_of_another_unit_is_refused_and_the_refusal_is_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut admin = demo_workspace(dir.path(), 30);
    add_worker(&mut admin, dir.path(), "maija", "Itä", "maijan-salasana");
    let now = chrono::Utc::now();
    let keskusta = unit_id(&admin, "Keskusta");
    let ita = unit_id(&admin, "Itä");
    let list = admin.list_clients(now).expect("list");
    let foreign = list
        .iter()
        .find(|c| c.unit == Some(keskusta))
        .expect("a Keskusta client")
        .id;
    let own_unit = list
        .iter()
        .find(|c| c.unit == Some(ita))
        .expect("an Itä client")
        .id;
    admin.close().expect("close");

    let mut maija = login(dir.path(), "maija", "maijan-salasana");
    let err = maija.show_client(foreign, now).expect_err("other unit");
    match err {
        ApiError::Denied(d) => assert_eq!(d.missing, MissingRight::View),
        other => panic!("expected a denial, got {other:?}"),
    }
    // The unit's client is visible, and only the unit's clients are listed.
    maija.show_client(own_unit, now).expect("own unit");
    let visible = maija.list_clients(now).expect("list");
    assert!(visible.iter().all(|c| c.unit == Some(ita)));
    assert!(!visible.is_empty());
    // Writing a memo on a colleague's client needs the modify right for it.
    let err = maija
        .add_memo(own_unit, "Testimuistio", None, now)
        .expect_err("not own client");
    assert!(matches!(err, ApiError::Denied(d) if d.missing == MissingRight::Modify));
    maija.close().expect("close");

    let mut admin = login(dir.path(), "admin", PASSWORD);
    let rows = admin
        .audit_list(
            &AuditQuery {
                client: Some(foreign),
                ..Default::default()
            },
            now,
        )
        .expect("audit");
    assert!(
        rows.iter()
            .any(|r| r.action == "denied" && r.user.as_deref() == Some("maija")),
        "{rows:#?}"
    );
    assert!(
        !rows
            .iter()
            .any(|r| r.action == "view" && r.user.as_deref() == Some("maija"))
    );
    let rows = admin
        .audit_list(
            &AuditQuery {
                client: Some(own_unit),
                ..Default::default()
            },
            now,
        )
        .expect("audit");
    assert!(
        rows.iter()
            .any(|r| r.action == "view" && r.user.as_deref() == Some("maija"))
    );
    assert!(
        rows.iter()
            .any(|r| r.action == "denied" && r.user.as_deref() == Some("maija"))
    );
}

#[test]
fn failed_logins_are_audited_at_the_next_unlock() {
    let dir = tempfile::tempdir().expect("tempdir");
    demo_workspace(dir.path(), 3).close().expect("close");
    for _ in 0..3 {
        let err = Workspace::open(dir.path())
            .and_then(|w| w.login("admin", "wrong-password", chrono::Utc::now()))
            .expect_err("wrong password");
        assert!(err.is_auth_failure());
        assert!(err.to_string().contains("wrong password"));
    }
    let err = Workspace::open(dir.path())
        .and_then(|w| w.login("no-such-user", "x", chrono::Utc::now()))
        .expect_err("unknown user");
    assert!(err.is_auth_failure());
    let mut admin = login(dir.path(), "admin", PASSWORD);
    let rows = admin
        .audit_list(&AuditQuery::default(), chrono::Utc::now())
        .expect("list");
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| r.action == "failed_login")
        .map(|r| r.detail.as_str())
        .collect();
    assert_eq!(
        failed,
        vec![
            "wrong_password",
            "wrong_password",
            "wrong_password",
            "unknown_user"
        ]
    );
    // The signed chain holding them verifies.
    let summary = admin
        .audit_verify(chrono::Utc::now())
        .expect("verify")
        .expect("intact");
    assert!(summary.entries >= 8);
}

#[test]
fn a_worker_without_the_audit_right_cannot_read_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut admin = demo_workspace(dir.path(), 3);
    add_worker(&mut admin, dir.path(), "maija", "Itä", "maijan-salasana");
    admin.close().expect("close");
    let mut maija = login(dir.path(), "maija", "maijan-salasana");
    let err = maija
        .audit_list(&AuditQuery::default(), chrono::Utc::now())
        .expect_err("no right");
    assert!(matches!(err, ApiError::Denied(_)));
    let err = maija
        .add_demo(1, 1, chrono::Utc::now())
        .expect_err("no right");
    assert!(matches!(err, ApiError::Denied(_)));
}
