//! A store written by schema v1 (committed fixture) opens, migrates and reads.

mod common;

use std::path::Path;

use automerge::{ROOT, ReadDoc};
use common::*;
use polku_core::{AttachmentId, DocId, DocKind, UserId};
use polku_store::{KdfParams, LockedStore, SCHEMA_VERSION, Store, StoreError};

// Documented in tests/fixtures/README.md; written by examples/make_v1_fixture.rs.
const FIXTURE: &str = "tests/fixtures/v1";
const USER_ID: &str = "0190f5c4-0000-7000-8000-000000000001";
const FIXTURE_LOGIN: &str = "fixture-user";
const FIXTURE_PASSWORD: &str = "polku-fixture-v1";
const DOC_ID: &str = "0190f5c4-0000-7000-8000-0000000000d1";
const ATTACHMENT_ID: &str = "0190f5c4-0000-7000-8000-0000000000a1";
const ATTACHMENT: &[u8] = b"fixture attachment v1\n";

fn fixture_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE),
        dir.path(),
    );
    dir
}

fn schema_sql(dir: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(dir.join(polku_store::DB_FILE)).expect("raw");
    conn.prepare("SELECT coalesce(sql, name) FROM sqlite_schema ORDER BY name")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn v1_fixture_migrates_and_reads() {
    let dir = fixture_copy();
    let locked = LockedStore::open(dir.path()).expect("open fixture");
    assert_eq!(locked.schema_version(), 1);
    drop(locked);

    let store = Store::unlock(dir.path(), FIXTURE_LOGIN, FIXTURE_PASSWORD).expect("unlock");
    assert_eq!(store.schema_version().expect("version"), SCHEMA_VERSION);
    assert_eq!(store.current_user(), USER_ID.parse::<UserId>().expect("id"));

    let id: DocId = DOC_ID.parse().expect("id");
    assert_eq!(store.list_docs(DocKind::Client).expect("list"), vec![id]);
    assert_eq!(store.doc_info(id).expect("info").change_rows, 1);
    let doc = store.load_doc(id).expect("load");
    let title = doc.get(ROOT, "title").expect("get").expect("title").0;
    assert_eq!(title.as_str(), Some("Fixture document v1"));
    let count = doc.get(ROOT, "count").expect("get").expect("count").0;
    assert_eq!(count.as_i64(), Some(2));

    let users = store.list_users().expect("users");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].login, FIXTURE_LOGIN);
    assert_eq!(users[0].kdf, KdfParams::INSECURE_FOR_TESTS);

    let mut att = Vec::new();
    store
        .read_attachment(ATTACHMENT_ID.parse::<AttachmentId>().expect("id"), &mut att)
        .expect("attachment");
    assert_eq!(att, ATTACHMENT);

    // The v2 tables work on the migrated store.
    store.put_index(id, b"entry").expect("index");
    store.put_meta(b"k", b"v").expect("meta");
    assert!(store.compact(id).expect("compact"));
    assert_eq!(store.index_entries().expect("entries").len(), 1);
    // So do the v3 and v4 tables.
    store
        .put_view(id, store.heads_hash_of(id).expect("hh"), b"view")
        .expect("view");
    store
        .append_audit(&[3u8; 32], 0, b"audit entry")
        .expect("audit");
    assert_eq!(store.audit_len().expect("audit"), 1);
    assert!(store.auth_failures().expect("failures").is_empty());
    store.verify().expect("verify");
    store.close().expect("close");

    // Reopening does not migrate again, and the schema equals a fresh store's.
    let locked = LockedStore::open(dir.path()).expect("reopen");
    assert_eq!(locked.schema_version(), SCHEMA_VERSION);
    assert_eq!(SCHEMA_VERSION, 4);
    // Failed logins are recorded now that the schema has the table.
    assert!(matches!(
        locked.derive_key(FIXTURE_LOGIN, "wrong"),
        Err(StoreError::WrongPassword)
    ));
    drop(locked);
    assert_eq!(count_rows(dir.path(), "auth_failures"), 1);
    let fresh = tempfile::tempdir().expect("tempdir");
    drop(new_store(fresh.path()));
    assert_eq!(schema_sql(dir.path()), schema_sql(fresh.path()));
}

#[test]
fn wrong_password_leaves_the_fixture_at_v1() {
    let dir = fixture_copy();
    let before = std::fs::read(dir.path().join(polku_store::DB_FILE)).expect("read");
    // Before v4 there is no table for failed logins: nothing is recorded
    // (and there is no backoff) until the first successful unlock migrates.
    for _ in 0..7 {
        assert!(matches!(
            Store::unlock(dir.path(), FIXTURE_LOGIN, "wrong"),
            Err(StoreError::WrongPassword)
        ));
    }
    assert!(matches!(
        Store::unlock(dir.path(), "nobody", FIXTURE_PASSWORD),
        Err(StoreError::UnknownUser)
    ));
    assert_eq!(
        LockedStore::open(dir.path())
            .expect("open")
            .schema_version(),
        1
    );
    assert_eq!(
        std::fs::read(dir.path().join(polku_store::DB_FILE)).expect("read"),
        before
    );
    drop(Store::unlock(dir.path(), FIXTURE_LOGIN, FIXTURE_PASSWORD).expect("unlock"));
}
