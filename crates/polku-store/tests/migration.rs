//! Stores written by schema v1 and v4 (committed fixtures) open, migrate and
//! read.

mod common;

use std::path::Path;

use automerge::{ROOT, ReadDoc};
use common::*;
use polku_core::{AttachmentId, DocId, DocKind, UserId};
use polku_store::{KdfParams, LockedStore, ROLLED_BACK, SCHEMA_VERSION, Store, StoreError};

// Documented in tests/fixtures/README.md; written by examples/make_v1_fixture.rs.
const FIXTURE: &str = "tests/fixtures/v1";
const USER_ID: &str = "0190f5c4-0000-7000-8000-000000000001";
const FIXTURE_LOGIN: &str = "fixture-user";
const FIXTURE_PASSWORD: &str = "polku-fixture-v1";
const DOC_ID: &str = "0190f5c4-0000-7000-8000-0000000000d1";
const ATTACHMENT_ID: &str = "0190f5c4-0000-7000-8000-0000000000a1";
const ATTACHMENT: &[u8] = b"fixture attachment v1\n";

fn fixture_copy() -> tempfile::TempDir {
    copy_of(FIXTURE)
}

fn copy_of(fixture: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture),
        dir.path(),
    );
    dir
}

// Documented in tests/fixtures/README.md; written by examples/make_v4_fixture.rs.
const V4_FIXTURE: &str = "tests/fixtures/v4";
const V4_PASSWORD: &str = "polku-fixture-v4";
const V4_DOC_A: &str = "0190f5c4-0000-7000-8000-0000000004d1";
const V4_DOC_B: &str = "0190f5c4-0000-7000-8000-0000000004d2";

/// Every write counter of the mutable tables and the store counter.
fn counters(dir: &Path) -> (Vec<i64>, i64) {
    let conn = rusqlite::Connection::open(dir.join(polku_store::DB_FILE)).expect("raw");
    let mut all = Vec::new();
    for table in ["search_index", "sealed_kv", "doc_views", "docs"] {
        let mut stmt = conn
            .prepare(&format!("SELECT ctr FROM {table}"))
            .expect("prepare");
        let rows = stmt.query_map([], |r| r.get::<_, i64>(0)).expect("query");
        all.extend(rows.map(|r| r.expect("row")));
    }
    let counter = conn
        .query_row("SELECT counter FROM rollback_anchor", [], |r| r.get(0))
        .expect("anchor");
    (all, counter)
}

#[test]
fn v4_fixture_gets_write_counters_and_verifies() {
    let dir = copy_of(V4_FIXTURE);
    assert_eq!(
        LockedStore::open(dir.path())
            .expect("open")
            .schema_version(),
        4
    );
    let a: DocId = V4_DOC_A.parse().expect("id");
    let b: DocId = V4_DOC_B.parse().expect("id");
    // The pre-upgrade ciphertext of A's index entry, for the attack below.
    let legacy: Vec<u8> = rusqlite::Connection::open(dir.path().join(polku_store::DB_FILE))
        .expect("raw")
        .query_row(
            "SELECT entry FROM search_index WHERE doc_id = ?1",
            [a.0.as_bytes().as_slice()],
            |r| r.get(0),
        )
        .expect("legacy row");

    let store = Store::unlock(dir.path(), FIXTURE_LOGIN, V4_PASSWORD).expect("unlock");
    assert_eq!(store.schema_version().expect("version"), SCHEMA_VERSION);
    let check = |store: &Store| {
        assert_eq!(
            store.index_entries().expect("entries"),
            vec![
                (a, b"index Fixture A v4".to_vec()),
                (b, b"index Fixture B v4".to_vec())
            ]
        );
        assert_eq!(
            store.get_meta(b"tomb-next").expect("meta"),
            Some(b"2".to_vec())
        );
        assert_eq!(
            store.get_meta(b"last-contact").expect("meta"),
            Some(b"2026-11-30".to_vec())
        );
        assert_eq!(store.get_meta(b"gone").expect("meta"), None);
        let mut keys = store.list_meta_keys().expect("keys");
        keys.sort();
        assert_eq!(keys, vec![b"last-contact".to_vec(), b"tomb-next".to_vec()]);
        assert_eq!(
            store.get_view(a).expect("view"),
            Some(b"view A v4".to_vec())
        );
        assert_eq!(store.get_view(b).expect("view"), None);
        store.verify().expect("verify");
    };
    check(&store);
    store.close().expect("close");

    // Every row was re-sealed (documents: counted) once, under its own counter.
    let (ctrs, counter) = counters(dir.path());
    assert_eq!(ctrs.len(), 7);
    let mut sorted = ctrs.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 7, "counters are unique");
    assert!(sorted.iter().all(|&c| c > 0 && c <= counter), "{sorted:?}");
    let store = Store::unlock(dir.path(), FIXTURE_LOGIN, V4_PASSWORD).expect("reopen");
    check(&store);
    store.close().expect("close");
    assert_eq!(counters(dir.path()), (ctrs, counter), "no second re-seal");

    // The pre-upgrade ciphertext put back (counter 0, old associated data)
    // is refused; under the current counter it does not open.
    let conn = rusqlite::Connection::open(dir.path().join(polku_store::DB_FILE)).expect("raw");
    let current: i64 = conn
        .query_row(
            "SELECT ctr FROM search_index WHERE doc_id = ?1",
            [a.0.as_bytes().as_slice()],
            |r| r.get(0),
        )
        .expect("ctr");
    conn.execute(
        "UPDATE search_index SET entry = ?2, ctr = 0 WHERE doc_id = ?1",
        rusqlite::params![a.0.as_bytes().as_slice(), legacy],
    )
    .expect("tamper");
    assert!(matches!(
        Store::unlock(dir.path(), FIXTURE_LOGIN, V4_PASSWORD),
        Err(StoreError::Corrupt { what }) if what == ROLLED_BACK
    ));
    conn.execute(
        "UPDATE search_index SET ctr = ?2 WHERE doc_id = ?1",
        rusqlite::params![a.0.as_bytes().as_slice(), current],
    )
    .expect("tamper");
    drop(conn);
    let store = Store::unlock(dir.path(), FIXTURE_LOGIN, V4_PASSWORD).expect("unlock");
    assert!(matches!(
        store.get_index(a),
        Err(StoreError::Corrupt {
            what: "search index entry"
        })
    ));
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
    // And the v7 table.
    let attachment = polku_core::AttachmentId::new();
    store
        .set_attachment_refs(id, &[(attachment, 5)])
        .expect("refs");
    assert_eq!(
        store.wanted_attachments(10).expect("wanted"),
        vec![polku_store::WantedAttachment {
            id: attachment,
            doc: id,
            size: 5
        }]
    );
    store.verify().expect("verify");
    store.close().expect("close");

    // Reopening does not migrate again, and the schema equals a fresh store's.
    let locked = LockedStore::open(dir.path()).expect("reopen");
    assert_eq!(locked.schema_version(), SCHEMA_VERSION);
    assert_eq!(SCHEMA_VERSION, 9);
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
