//! Logins: unlock errors, password changes, KDF parameters, user management.

mod common;

use std::path::Path;

use common::*;
use polku_core::{DocKind, UserId};
use polku_store::{KdfParams, KdfTally, LockedStore, NewUser, Store, StoreError};

/// Everything unlock could conceivably touch, read with a raw connection:
/// every row of every table (the sealed bytes themselves) but the
/// failed-login records, and the schema version.
fn snapshot_state(dir: &Path) -> Vec<(String, Vec<String>)> {
    let conn = rusqlite::Connection::open(dir.join(polku_store::DB_FILE)).expect("open raw");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("tables")
        .collect::<Result<_, _>>()
        .expect("names");
    let mut out = Vec::new();
    for t in tables.into_iter().filter(|t| t != "auth_failures") {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{t}\""))
            .expect("select");
        let n = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                (0..n)
                    .map(|i| r.get::<_, rusqlite::types::Value>(i))
                    .collect::<Result<Vec<_>, _>>()
                    .map(|v| format!("{v:?}"))
            })
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("values");
        rows.sort();
        out.push((t, rows));
    }
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    out.push(("user_version".into(), vec![v.to_string()]));
    assert!(out.iter().any(|(t, rows)| t == "docs" && !rows.is_empty()));
    out
}

fn auth_failure_rows(dir: &Path) -> i64 {
    count_rows(dir, "auth_failures")
}

#[test]
fn wrong_password_and_unknown_user_are_typed_and_change_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    store
        .create_doc(doc_id(), DocKind::Client, &sample_doc("x").save())
        .expect("create");
    store.close().expect("close");
    let before = snapshot_state(dir.path());

    assert!(matches!(
        Store::unlock(dir.path(), LOGIN, "wrong password"),
        Err(StoreError::WrongPassword)
    ));
    assert!(matches!(
        Store::unlock(dir.path(), "nobody", PASSWORD),
        Err(StoreError::UnknownUser)
    ));
    assert!(matches!(
        Store::unlock(dir.path(), "", PASSWORD),
        Err(StoreError::InvalidInput { .. })
    ));
    assert_eq!(snapshot_state(dir.path()), before);
    // Only the two failed logins were recorded (not the unusable name).
    assert_eq!(auth_failure_rows(dir.path()), 2);

    // The login is matched case-insensitively with whitespace collapsed.
    let store = Store::unlock(dir.path(), "  maija   TESTAAJA ", PASSWORD).expect("unlock");
    drop(store);
    assert_eq!(snapshot_state(dir.path()), before);
    assert_eq!(auth_failure_rows(dir.path()), 2);
}

#[test]
fn error_messages_hold_no_personal_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    drop(store);
    for err in [
        Store::unlock(dir.path(), LOGIN, "Salasana-Virtanen").expect_err("wrong"),
        Store::unlock(dir.path(), "Ville Virtanen", PASSWORD).expect_err("unknown"),
    ] {
        let text = format!("{err} {err:?}");
        assert!(!text.to_lowercase().contains("virtanen"), "{text}");
        assert!(!text.contains(PASSWORD), "{text}");
    }
}

#[test]
fn unknown_user_still_runs_the_kdf() {
    let dir = tempfile::tempdir().expect("tempdir");
    let user_id = UserId::new();
    // Parameters distinct from every default, so that `last` names them.
    let kdf = KdfParams {
        m_cost_kib: 8 * 1024,
        t_cost: 2,
        p_cost: 1,
    };
    let store = Store::create(
        dir.path(),
        NewUser {
            user_id,
            login: LOGIN,
            password: PASSWORD,
            kdf,
        },
    )
    .expect("create");
    drop(store);
    let locked = LockedStore::open(dir.path()).expect("open");
    // Counted, not timed: each path runs exactly one argon2id derivation
    // with the stored user's parameters.
    let before = KdfTally::this_thread();
    assert!(matches!(
        locked.derive_key(LOGIN, "wrong"),
        Err(StoreError::WrongPassword)
    ));
    let known = KdfTally::this_thread();
    assert_eq!(known.count, before.count + 1);
    assert_eq!(known.last, Some(kdf));
    assert!(matches!(
        locked.derive_key("nobody", "wrong"),
        Err(StoreError::UnknownUser)
    ));
    let unknown = KdfTally::this_thread();
    assert_eq!(
        unknown.count,
        known.count + 1,
        "the unknown login ran argon2id"
    );
    assert_eq!(unknown.last, Some(kdf), "with the same parameters");
}

#[test]
fn password_change_and_kdf_params_are_stored_and_honoured() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, me) = new_store(dir.path());
    let users = store.list_users().expect("list");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].login, LOGIN);
    assert_eq!(users[0].kdf, KdfParams::INSECURE_FOR_TESTS);

    let raised = KdfParams {
        m_cost_kib: 256,
        t_cost: 3,
        p_cost: 2,
    };
    store
        .change_password(me, "new password", raised)
        .expect("change");
    assert_eq!(store.list_users().expect("list")[0].kdf, raised);
    drop(store);

    // The row holds the new parameters and a 16-byte salt, in the format that
    // age-encrypts the store key to a password-derived recipient (2).
    let conn = rusqlite::Connection::open(dir.path().join(polku_store::DB_FILE)).expect("raw");
    let row: (i64, i64, i64, i64, Vec<u8>) = conn
        .query_row(
            "SELECT kdf_alg, kdf_m_kib, kdf_t, kdf_p, kdf_salt FROM users",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .expect("row");
    assert_eq!(
        (row.0, row.1, row.2, row.3, row.4.len()),
        (2, 256, 3, 2, 16)
    );

    assert!(matches!(
        Store::unlock(dir.path(), LOGIN, PASSWORD),
        Err(StoreError::WrongPassword)
    ));
    let store = Store::unlock(dir.path(), LOGIN, "new password").expect("unlock new");
    assert_eq!(store.current_user(), me);
    drop(store);

    // The stored parameters are what unlock uses: altering them on disk
    // breaks the unwrap instead of silently using other parameters.
    conn.execute("UPDATE users SET kdf_t = 2", [])
        .expect("tamper");
    assert!(matches!(
        Store::unlock(dir.path(), LOGIN, "new password"),
        Err(StoreError::WrongPassword)
    ));
    // Absurd parameters are refused before any work is done.
    conn.execute("UPDATE users SET kdf_m_kib = 1099511627776", [])
        .expect("tamper");
    assert!(matches!(
        Store::unlock(dir.path(), LOGIN, "new password"),
        Err(StoreError::Corrupt { .. })
    ));
}

#[test]
fn add_list_and_remove_users() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, me) = new_store(dir.path());
    let other = UserId::new();
    store
        .add_user(NewUser {
            user_id: other,
            login: "Ville",
            password: "ville's password",
            kdf: KdfParams::INSECURE_FOR_TESTS,
        })
        .expect("add");
    assert!(matches!(
        store.add_user(NewUser {
            user_id: UserId::new(),
            login: "VILLE",
            password: "x",
            kdf: KdfParams::INSECURE_FOR_TESTS,
        }),
        Err(StoreError::LoginTaken)
    ));
    assert!(matches!(
        store.add_user(NewUser {
            user_id: other,
            login: "someone else",
            password: "x",
            kdf: KdfParams::INSECURE_FOR_TESTS,
        }),
        Err(StoreError::UserExists(u)) if u == other
    ));
    let mut logins: Vec<_> = store
        .list_users()
        .expect("list")
        .into_iter()
        .map(|u| u.login)
        .collect();
    logins.sort();
    assert_eq!(logins, vec![LOGIN.to_string(), "Ville".to_string()]);
    let id = doc_id();
    store
        .create_doc(id, DocKind::Client, &sample_doc("shared").save())
        .expect("create");
    drop(store);

    // Both users open the same data.
    let store = Store::unlock(dir.path(), "ville", "ville's password").expect("ville");
    assert_eq!(store.current_user(), other);
    assert_eq!(name(&store.load_doc(id).expect("load")), "shared");

    store.remove_user(me).expect("remove");
    assert!(matches!(
        store.remove_user(me),
        Err(StoreError::UserNotFound(_))
    ));
    assert!(matches!(
        store.remove_user(other),
        Err(StoreError::LastUser)
    ));
    drop(store);
    assert!(matches!(
        Store::unlock(dir.path(), LOGIN, PASSWORD),
        Err(StoreError::UnknownUser)
    ));
}

#[test]
fn unlock_in_steps_and_timed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, me) = new_store(dir.path());
    drop(store);
    let locked = LockedStore::open(dir.path()).expect("open");
    assert_eq!(locked.schema_version(), polku_store::SCHEMA_VERSION);
    let key = locked.derive_key(LOGIN, PASSWORD).expect("derive");
    let store = locked.unlock(key).expect("unlock");
    assert_eq!(store.current_user(), me);
    drop(store);

    // The password is checked by `derive_key` (so that a failure can be
    // recorded there).
    let locked = LockedStore::open(dir.path()).expect("open");
    assert!(matches!(
        locked.derive_key(LOGIN, "wrong"),
        Err(StoreError::WrongPassword)
    ));

    let (_store, t) = Store::unlock_timed(dir.path(), LOGIN, PASSWORD).expect("timed");
    assert!(t.kdf > std::time::Duration::ZERO);
    assert!(t.unwrap > std::time::Duration::ZERO);
}

#[test]
fn create_refuses_an_existing_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    drop(store);
    let err = Store::create(
        dir.path(),
        NewUser {
            user_id: UserId::new(),
            login: "x",
            password: "y",
            kdf: KdfParams::INSECURE_FOR_TESTS,
        },
    )
    .expect_err("exists");
    assert!(matches!(err, StoreError::AlreadyExists));
}

#[test]
fn failed_create_leaves_no_store_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Store::create(
        dir.path(),
        NewUser {
            user_id: UserId::new(),
            login: "x",
            password: "",
            kdf: KdfParams::INSECURE_FOR_TESTS,
        },
    )
    .expect_err("empty password");
    assert!(matches!(err, StoreError::InvalidInput { .. }));
    assert!(!dir.path().join(polku_store::DB_FILE).exists());
    let (_store, _) = new_store(dir.path());
}
