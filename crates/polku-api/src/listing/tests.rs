use chrono::Utc;
use polku_core::model::Role;

use super::*;
use crate::{ClientInput, KdfParams, PeriodClose, PeriodInput, UserInput, Workspace};

const PASSWORD: &str = "listing-test-password";

fn login(dir: &std::path::Path, user: &str) -> Session {
    Workspace::open(dir)
        .and_then(|w| w.login(user, PASSWORD, Utc::now()))
        .unwrap_or_else(|e| panic!("login failed: {e}"))
}

/// A standalone store with the demo units, and workers maija (Itä) and
/// liisa (Keskusta) with the test password.
pub(crate) fn store(dir: &std::path::Path) {
    let now = Utc::now();
    Workspace::init_with(dir, "admin", PASSWORD, now, KdfParams::INSECURE_FOR_TESTS).expect("init");
    let mut admin = login(dir, "admin");
    admin.add_demo(0, 3, now).expect("demo units");
    for (name, unit) in [("maija", "Itä"), ("liisa", "Keskusta")] {
        admin
            .add_user(
                UserInput {
                    login: name.to_owned(),
                    display_name: None,
                    role: Role::Worker,
                    units: vec![unit.to_owned()],
                },
                "temporary-1",
                now,
            )
            .expect("add user");
    }
    admin.close().expect("close");
    for name in ["maija", "liisa"] {
        let mut s = Workspace::open(dir)
            .and_then(|w| w.login(name, "temporary-1", now))
            .expect("login");
        s.change_password(PASSWORD, now).expect("change password");
        s.close().expect("close");
    }
}

fn add(s: &mut Session, first: &str, last: &str) -> ClientId {
    s.add_client(
        ClientInput {
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            ..Default::default()
        },
        Utc::now(),
    )
    .expect("add client")
}

fn names(rows: &[ClientRow]) -> Vec<&str> {
    rows.iter().map(|r| r.last_name.as_str()).collect()
}

#[test]
fn the_list_filters_by_scope_status_query_and_missing_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    store(dir.path());
    let now = Utc::now();
    let mut maija = login(dir.path(), "maija");
    let a = add(&mut maija, "Aino", "Virtanen");
    let b = add(&mut maija, "Eino", "Aaltonen");
    let p = maija
        .open_period(b, PeriodInput::default(), now)
        .expect("open period");
    maija
        .close_period(b, p, PeriodClose::default(), now)
        .expect("close period");
    maija.close().expect("close");
    let mut liisa = login(dir.path(), "liisa");
    add(&mut liisa, "Kalle", "Keskinen");
    liisa.close().expect("close");

    let mut maija = login(dir.path(), "maija");
    let q = |scope, status, query: &str| ClientListQuery {
        query: query.to_owned(),
        scope,
        status,
        missing_only: false,
    };
    let all = maija
        .client_rows(&q(ListScope::All, ListStatus::Any, ""), now)
        .expect("list");
    // Sorted by last name; liisa's client in another unit is not listed.
    assert_eq!(names(&all), ["Aaltonen", "Virtanen"]);
    assert_eq!(all[1].responsible, ["maija"]);
    assert_eq!(all[1].unit.as_deref(), Some("Itä"));
    assert_eq!(all[1].record, Part::Shown);
    assert!(all[1].missing > 0, "no birth date, gender…");
    let active = maija
        .client_rows(&q(ListScope::Own, ListStatus::Active, ""), now)
        .expect("list");
    assert_eq!(names(&active), ["Virtanen"]);
    assert_eq!(active[0].id, a);
    let ended = maija
        .client_rows(&q(ListScope::Unit, ListStatus::Ended, ""), now)
        .expect("list");
    assert_eq!(names(&ended), ["Aaltonen"]);
    assert!(!ended[0].active);
    let found = maija
        .client_rows(&q(ListScope::All, ListStatus::Any, "ai"), now)
        .expect("list");
    assert_eq!(names(&found), ["Virtanen"]);
    let missing = maija
        .client_rows(
            &ClientListQuery {
                missing_only: true,
                ..Default::default()
            },
            now,
        )
        .expect("list");
    assert_eq!(missing.len(), 2);
    let items = maija.missing_items(b, now).expect("missing");
    assert!(
        items
            .iter()
            .any(|m| m.what == "period.outcome" && m.period == Some(p)),
        "{items:?}"
    );
    maija.close().expect("close");

    // The admin (all clients) sees every client; own scope is nobody's.
    let mut admin = login(dir.path(), "admin");
    let rows = admin
        .client_rows(&ClientListQuery::default(), now)
        .expect("list");
    assert_eq!(names(&rows), ["Aaltonen", "Keskinen", "Virtanen"]);
    let own = admin
        .client_rows(&q(ListScope::Own, ListStatus::Any, ""), now)
        .expect("list");
    assert!(own.is_empty());
    admin.close().expect("close");
}

#[test]
fn the_query_shape_is_snake_case_with_defaults() {
    let q: ClientListQuery = serde_json::from_str(
        r#"{"query":"ai","scope":"own","status":"ended","missing_only":true}"#,
    )
    .expect("query");
    assert_eq!(q.scope, ListScope::Own);
    assert_eq!(q.status, ListStatus::Ended);
    let d: ClientListQuery = serde_json::from_str("{}").expect("defaults");
    assert_eq!(d, ClientListQuery::default());
}
