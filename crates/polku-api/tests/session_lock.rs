//! A session the desktop app can hold for hours (issue 9): it moves to
//! another thread (Tauri's async commands), locks on demand or when idle —
//! closing the store, keeping only the directory and the login name — and
//! unlocks with the password like a login, audited.

use chrono::Utc;
use polku_api::{
    AuditQuery, ClientInput, KdfParams, LockedSession, Session, SyncReplica, Workspace,
};

const PW: &str = "lukitus-salasana-1";

fn assert_send<T: Send + 'static>() {}

#[test]
fn sessions_and_replicas_move_between_threads() {
    assert_send::<Session>();
    assert_send::<SyncReplica>();
    assert_send::<LockedSession>();
}

#[test]
fn a_locked_session_unlocks_with_the_password_and_both_are_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = Utc::now();
    Workspace::init_with(dir.path(), "admin", PW, now, KdfParams::INSECURE_FOR_TESTS)
        .expect("init");
    let mut s = Workspace::open(dir.path())
        .and_then(|w| w.login("admin", PW, now))
        .expect("login");
    let id = s
        .add_client(
            ClientInput {
                first_name: "Lukittu".into(),
                last_name: "Testinen".into(),
                ..ClientInput::default()
            },
            now,
        )
        .expect("client");
    // Used from another thread, as an async command would.
    let s = std::thread::spawn(move || {
        let mut s = s;
        s.show_client(id, Utc::now()).expect("show");
        s
    })
    .join()
    .expect("thread");
    let locked = s.lock(Utc::now()).expect("lock");
    assert_eq!(locked.login(), "admin");
    // Locked, the store is closed: another process may open it.
    let other = Workspace::open(dir.path()).and_then(|w| w.login("admin", PW, Utc::now()));
    other
        .expect("the store is free while locked")
        .close()
        .expect("close");

    let wrong = locked.unlock("not-the-password", Utc::now());
    assert!(wrong.expect_err("wrong password").is_auth_failure());
    let mut s = locked.unlock(PW, Utc::now()).expect("unlock");
    assert_eq!(
        s.show_client(id, Utc::now())
            .expect("show")
            .basic
            .first_name,
        "Lukittu"
    );
    let rows = s
        .audit_list(
            &AuditQuery {
                client: None,
                user: Some("admin".into()),
                since: None,
            },
            Utc::now(),
        )
        .expect("audit");
    assert!(
        rows.iter()
            .any(|r| r.action == "logout" && r.detail == "lock"),
        "{rows:?}"
    );
    assert!(rows.iter().any(|r| r.action == "failed_login"), "{rows:?}");
    s.close().expect("close");
}

/// Search by name prefix and by birth date in every form the app shows.
#[test]
fn search_finds_clients_by_name_and_birth_date() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = Utc::now();
    Workspace::init_with(dir.path(), "admin", PW, now, KdfParams::INSECURE_FOR_TESTS)
        .expect("init");
    let mut s = Workspace::open(dir.path())
        .and_then(|w| w.login("admin", PW, now))
        .expect("login");
    let born = chrono::NaiveDate::from_ymd_opt(2007, 3, 4).expect("date");
    let id = s
        .add_client(
            ClientInput {
                first_name: "Saana".into(),
                last_name: "Etsittävä".into(),
                birth_date: Some(born),
                ..ClientInput::default()
            },
            now,
        )
        .expect("client");
    s.add_client(
        ClientInput {
            first_name: "Muu".into(),
            last_name: "Nuori".into(),
            ..ClientInput::default()
        },
        now,
    )
    .expect("other");
    for query in [
        "saa",
        "etsi",
        "Saana etsittävä",
        "2007-03-04",
        "4.3.2007",
        "04.03.2007",
        "saana 4.3.2007",
    ] {
        let found: Vec<_> = s
            .search(query, now)
            .expect("search")
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(found, vec![id], "{query}");
    }
    assert!(s.search("5.3.2007", now).expect("search").is_empty());
    s.close().expect("close");
}
