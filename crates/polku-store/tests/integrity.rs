//! Damaged, foreign, tampered and newer stores give typed errors, never panics.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use polku_core::DocKind;
use polku_store::{DB_FILE, LockedStore, SCHEMA_VERSION, Store, StoreError};

/// A closed store with a few documents (enough pages to cut in half).
fn populated_store(dir: &Path) -> polku_core::DocId {
    let (store, _) = new_store(dir);
    let mut last = doc_id();
    store
        .batch(|b| {
            for i in 0..50 {
                last = doc_id();
                let mut doc = sample_doc(&format!("client {i}"));
                for m in 0..10 {
                    add_memo(&mut doc, &format!("memo {m} {}", "x".repeat(200)));
                }
                b.create_doc(last, DocKind::Client, &doc.save())?;
                b.put_index(last, format!("entry {i}").as_bytes())?;
            }
            Ok(())
        })
        .expect("batch");
    store.close().expect("close");
    last
}

fn unlock(dir: &Path) -> Result<Store, StoreError> {
    Store::unlock(dir, LOGIN, PASSWORD)
}

#[test]
fn cut_in_half_is_corrupt_not_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    populated_store(dir.path());
    let db = dir.path().join(DB_FILE);
    let len = fs::metadata(&db).expect("meta").len();
    assert!(len > 64 * 1024, "store too small for the test: {len}");
    let f = fs::OpenOptions::new().write(true).open(&db).expect("open");
    f.set_len(len / 2).expect("truncate");
    drop(f);
    let err = unlock(dir.path()).expect_err("must fail");
    assert!(
        matches!(err, StoreError::Corrupt { .. } | StoreError::NotAStore),
        "{err:?}"
    );
    assert!(matches!(
        LockedStore::open(dir.path()),
        Err(StoreError::Corrupt { .. })
    ));
}

#[test]
fn cut_to_a_few_bytes_or_garbage_is_not_a_store() {
    for content in [
        Vec::new(),
        b"SQLite format 3\0".to_vec(),
        (0..100_000u32).map(|i| (i * 7919 % 251) as u8).collect(),
        b"hello, I am a text file and not a database at all\n".repeat(100),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join(DB_FILE), &content).expect("write");
        let err = unlock(dir.path()).expect_err("must fail");
        assert!(matches!(err, StoreError::NotAStore), "{err:?}");
    }
}

#[test]
fn garbage_pages_after_a_valid_header_are_typed_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    populated_store(dir.path());
    let db = dir.path().join(DB_FILE);
    let mut bytes = fs::read(&db).expect("read");
    // Keep the 100-byte header, overwrite the rest of page 1 and beyond.
    for (i, b) in bytes.iter_mut().enumerate().skip(100) {
        *b = (i * 31 % 256) as u8;
    }
    fs::write(&db, &bytes).expect("write");
    let err = unlock(dir.path()).expect_err("must fail");
    assert!(
        matches!(err, StoreError::Corrupt { .. } | StoreError::NotAStore),
        "{err:?}"
    );
}

#[test]
fn missing_store_and_foreign_database_are_not_a_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(matches!(unlock(dir.path()), Err(StoreError::NotAStore)));
    assert!(matches!(
        unlock(&dir.path().join("nope")),
        Err(StoreError::NotAStore)
    ));
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).expect("create");
    conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .expect("sql");
    drop(conn);
    assert!(matches!(unlock(dir.path()), Err(StoreError::NotAStore)));
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    populated_store(dir.path());
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).expect("raw");
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .expect("bump");
    drop(conn);
    let err = unlock(dir.path()).expect_err("newer");
    assert!(
        matches!(err, StoreError::NewerSchema { found, supported }
            if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
        "{err:?}"
    );
}

/// Flip one bit in the middle of a blob column of the rows matching `filter`.
fn flip_byte(dir: &Path, table: &str, column: &str, filter: &str) {
    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).expect("raw");
    let (rowid, mut blob): (i64, Vec<u8>) = conn
        .query_row(
            &format!("SELECT rowid, {column} FROM {table} WHERE {filter}"),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row");
    let mid = blob.len() / 2;
    blob[mid] ^= 0x01;
    conn.execute(
        &format!("UPDATE {table} SET {column} = ?1 WHERE rowid = ?2"),
        rusqlite::params![blob, rowid],
    )
    .expect("update");
}

fn tamper(dir: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).expect("raw");
    let n = conn.execute(sql, []).expect("tamper");
    assert!(n > 0, "tampering changed nothing: {sql}");
}

#[test]
fn tampered_rows_are_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = populated_store(dir.path());
    let hex = id.0.simple().to_string();
    let store = unlock(dir.path()).expect("unlock");
    let mut doc = sample_doc("x");
    // A second document with a change row.
    let id2 = doc_id();
    store
        .create_doc(id2, DocKind::Client, &doc.save())
        .expect("create");
    add_memo(&mut doc, "m");
    store
        .append_change(id2, &doc.save_incremental(), &doc.get_heads())
        .expect("append");
    drop(store);
    let hex2 = id2.0.simple().to_string();

    // Flip one byte in the middle of the sealed snapshot.
    flip_byte(dir.path(), "docs", "snapshot", &format!("id = x'{hex}'"));
    let store = unlock(dir.path()).expect("unlock still works");
    assert!(matches!(
        store.load_doc(id),
        Err(StoreError::Corrupt {
            what: "document snapshot"
        })
    ));
    assert!(matches!(
        store.load_all(DocKind::Client),
        Err(StoreError::Corrupt { .. })
    ));
    drop(store);

    // Swap a change row to another position: authenticated data differs.
    tamper(
        dir.path(),
        &format!("UPDATE doc_changes SET seq = 7 WHERE doc_id = x'{hex2}'"),
    );
    let store = unlock(dir.path()).expect("unlock");
    assert!(matches!(
        store.load_doc(id2),
        Err(StoreError::Corrupt {
            what: "document change"
        })
    ));
    drop(store);

    // Move an index entry to another document.
    tamper(
        dir.path(),
        &format!(
            "UPDATE search_index SET entry = (SELECT entry FROM search_index WHERE doc_id <> x'{hex}' LIMIT 1) WHERE doc_id = x'{hex}'"
        ),
    );
    let store = unlock(dir.path()).expect("unlock");
    assert!(matches!(
        store.get_index(id),
        Err(StoreError::Corrupt { .. })
    ));
    assert!(matches!(
        store.index_entries(),
        Err(StoreError::Corrupt { .. })
    ));
    assert!(store.verify().is_err());
    drop(store);

    // A damaged data key makes unlock fail with Corrupt, not a panic.
    tamper(
        dir.path(),
        "UPDATE store_meta SET value = substr(value, 1, length(value) - 1) WHERE key = 'data_key'",
    );
    assert!(matches!(
        unlock(dir.path()),
        Err(StoreError::Corrupt { what: "data key" })
    ));
}

#[test]
fn verify_accepts_a_healthy_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    populated_store(dir.path());
    unlock(dir.path())
        .expect("unlock")
        .verify()
        .expect("verify");
}
