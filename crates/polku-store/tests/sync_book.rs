//! Sync bookkeeping in its own tables (schema v6): a store of schema v5
//! with the bookkeeping in the sealed key/value area opens as v6 with the
//! same bookkeeping; the rows are sealed and bound into the rollback anchor.

mod common;

use std::path::Path;

use chrono::{DateTime, Utc};
use common::*;
use polku_core::DocKind;
use polku_store::{
    DB_FILE, LEGACY_PREFIX, ROLLED_BACK, SCHEMA_VERSION, Store, StoreError, SyncProblemRow,
};
use rusqlite::Connection;

fn raw(dir: &Path) -> Connection {
    Connection::open(dir.join(DB_FILE)).expect("open raw")
}

fn unlock(dir: &Path) -> Result<Store, StoreError> {
    Store::unlock(dir, LOGIN, PASSWORD)
}

const PEER: [u8; 32] = [0xab; 32];
const NODE: [u8; 32] = [0x17; 32];

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn legacy(parts: &[&str]) -> Vec<u8> {
    format!("{LEGACY_PREFIX}{}", parts.join("/")).into_bytes()
}

/// Turns a fresh store into what schema v5 left on disk: no sync tables
/// and nothing of later versions, user_version 5 (v6 to v9 only added
/// tables and an index).
fn make_v5(dir: &Path) {
    let conn = raw(dir);
    for t in [
        "sync_peers",
        "sync_states",
        "sync_problems",
        "sync_tombstones",
        "sync_audit_expect",
        "sync_peer_deltas",
        "attachment_refs",
    ] {
        conn.execute_batch(&format!("DROP TABLE {t}"))
            .expect("drop");
    }
    conn.execute_batch("DROP INDEX docs_heads; DROP INDEX docs_written")
        .expect("drop index");
    conn.pragma_update(None, "user_version", 5)
        .expect("version");
}

#[test]
fn a_v5_store_with_bookkeeping_in_meta_opens_as_v6_with_the_same_bookkeeping() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    let doc = doc_id();
    store
        .create_doc(doc, DocKind::Client, &sample_doc("Aino").save())
        .expect("doc");
    let other = doc_id();
    let (p, n) = (hex(&PEER), hex(&NODE));
    let d = doc.0.to_string();
    let o = other.0.to_string();
    // What the sync layer of v5 wrote (values are its own encodings).
    let rows: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (legacy(&["peer", &p, "record"]), b"record bytes".to_vec()),
        (legacy(&["peer", &p, "state", &d]), b"state of doc".to_vec()),
        (legacy(&["peers"]), b"derived".to_vec()),
        (legacy(&["tomb-next"]), 2u64.to_be_bytes().to_vec()),
        (legacy(&["tomb", &format!("{:020}", 0)]), b"tomb 0".to_vec()),
        (legacy(&["tomb", &format!("{:020}", 1)]), b"tomb 1".to_vec()),
        (legacy(&["refused", &p, &d]), vec![2]),
        (legacy(&["quarantine", &p, &o]), vec![4]),
        (legacy(&["audit-expect", &n]), b"expected".to_vec()),
        (legacy(&["audit-expect-pending", &n]), b"pending".to_vec()),
    ];
    store
        .batch(|b| {
            for (k, v) in &rows {
                b.put_meta(k, v)?;
            }
            // Not sync bookkeeping: stays where it is.
            b.put_meta(b"polku/role/v1", b"laptop")
        })
        .expect("legacy rows");
    store.close().expect("close");
    make_v5(dir.path());

    let before = Utc::now();
    let store = unlock(dir.path()).expect("unlock migrates");
    assert_eq!(store.schema_version().expect("v"), SCHEMA_VERSION);
    assert_eq!(
        store.peer_record(&PEER).expect("record"),
        Some(b"record bytes".to_vec())
    );
    assert_eq!(store.sync_peers().expect("peers"), vec![PEER]);
    assert_eq!(
        store.sync_states(&PEER, &[doc, other]).expect("states"),
        vec![(doc, b"state of doc".to_vec())]
    );
    assert_eq!(store.tombstone_count().expect("count"), 2);
    assert_eq!(
        store.tombstones_from(0).expect("log"),
        vec![b"tomb 0".to_vec(), b"tomb 1".to_vec()]
    );
    assert_eq!(
        store.tombstones_from(1).expect("log"),
        vec![b"tomb 1".to_vec()]
    );
    let problems = store.sync_problems().expect("problems");
    assert_eq!(problems.len(), 2, "{problems:?}");
    let refused = problems.iter().find(|p| !p.quarantined).expect("refusal");
    assert_eq!((refused.peer, refused.doc, refused.reason), (PEER, doc, 2));
    let quarantined = problems.iter().find(|p| p.quarantined).expect("quarantine");
    assert_eq!(
        (quarantined.peer, quarantined.doc, quarantined.reason),
        (PEER, other, 4)
    );
    // v5 kept no time: the time of the move.
    assert!(
        problems
            .iter()
            .all(|p| p.at >= before && p.at <= Utc::now())
    );
    assert_eq!(
        store.audit_expectations(false).expect("expect"),
        vec![(NODE, b"expected".to_vec())]
    );
    assert_eq!(
        store.audit_expectations(true).expect("pending"),
        vec![(NODE, b"pending".to_vec())]
    );
    // The rows left the key/value area; the rest stayed.
    let keys = store.list_meta_keys().expect("keys");
    assert!(
        !keys.iter().any(|k| k.starts_with(LEGACY_PREFIX.as_bytes())),
        "legacy rows left behind"
    );
    assert_eq!(
        store.get_meta(b"polku/role/v1").expect("role"),
        Some(b"laptop".to_vec())
    );
    store.verify().expect("verifies");
    store.close().expect("close");
    // And it opens again without migrating anything twice.
    let store = unlock(dir.path()).expect("reopen");
    assert_eq!(store.tombstone_count().expect("count"), 2);
    store.verify().expect("verifies");
}

#[test]
fn bookkeeping_round_trips_and_goes_with_its_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    let doc = doc_id();
    store
        .create_doc(doc, DocKind::Client, &sample_doc("Aino").save())
        .expect("doc");
    let at = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
    let problem = SyncProblemRow {
        peer: PEER,
        doc,
        quarantined: false,
        reason: 7,
        kind: Some(DocKind::ClientRecord),
        at,
    };
    store
        .batch(|b| {
            b.put_sync_state(&PEER, doc, b"s1")?;
            b.put_sync_state(&NODE, doc, b"s2")?;
            b.put_sync_problem(&problem)?;
            assert_eq!(b.append_tombstone(b"t0")?, 0);
            assert_eq!(b.append_tombstone(b"t1")?, 1);
            Ok(())
        })
        .expect("write");
    assert_eq!(store.sync_problems().expect("problems"), vec![problem]);
    // Replaced in place.
    store
        .batch(|b| b.put_sync_state(&PEER, doc, b"s1'"))
        .expect("replace");
    assert_eq!(
        store.sync_states(&PEER, &[doc]).expect("s"),
        vec![(doc, b"s1'".to_vec())]
    );
    // Agreed again: the problem clears.
    assert_eq!(
        store
            .batch(|b| b.clear_sync_problems(&PEER, doc))
            .expect("clear"),
        1
    );
    assert!(store.sync_problems().expect("problems").is_empty());
    // Deleting the document takes every peer's sync state with it.
    assert!(store.delete_doc(doc).expect("delete"));
    assert!(store.sync_states(&PEER, &[doc]).expect("s").is_empty());
    assert!(store.sync_states(&NODE, &[doc]).expect("s").is_empty());
    store.verify().expect("verifies");
}

#[test]
fn no_value_is_plaintext_and_a_removed_tombstone_fails_the_unlock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    store
        .batch(|b| {
            b.append_tombstone(b"TOMBSTONE-PLAINTEXT-0")?;
            b.append_tombstone(b"TOMBSTONE-PLAINTEXT-1")?;
            b.put_peer_record(&PEER, b"RECORD-PLAINTEXT")
        })
        .expect("write");
    store.close().expect("close");
    let bytes = std::fs::read(dir.path().join(DB_FILE)).expect("read");
    let wal = std::fs::read(dir.path().join(format!("{DB_FILE}-wal"))).unwrap_or_default();
    for needle in [&b"TOMBSTONE-PLAINTEXT"[..], b"RECORD-PLAINTEXT"] {
        for file in [&bytes, &wal] {
            assert!(
                !file.windows(needle.len()).any(|w| w == needle),
                "plaintext on disk"
            );
        }
    }
    // Untouched, it opens and verifies.
    let store = unlock(dir.path()).expect("unlock");
    assert_eq!(store.tombstone_count().expect("count"), 2);
    store.verify().expect("verifies");
    store.close().expect("close");
    // Removing the last tombstone (an erased id would be taken again) is a
    // rollback.
    raw(dir.path())
        .execute("DELETE FROM sync_tombstones WHERE pos = 1", [])
        .expect("delete");
    match unlock(dir.path()) {
        Err(StoreError::Corrupt { what }) if what == ROLLED_BACK => {}
        other => panic!("expected a rollback, got {other:?}"),
    }
}

#[test]
fn an_old_peer_record_put_back_does_not_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    store
        .batch(|b| b.put_peer_record(&PEER, b"old"))
        .expect("old");
    let old: (Vec<u8>, i64) = raw(dir.path())
        .query_row("SELECT record, ctr FROM sync_peers", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("row");
    store
        .batch(|b| b.put_peer_record(&PEER, b"new"))
        .expect("new");
    store.close().expect("close");
    // The old ciphertext under the new counter does not authenticate ...
    raw(dir.path())
        .execute("UPDATE sync_peers SET record = ?1", [old.0.as_slice()])
        .expect("put back");
    let store = unlock(dir.path()).expect("anchor unchanged");
    assert!(matches!(
        store.peer_record(&PEER),
        Err(StoreError::Corrupt { .. })
    ));
    store.close().expect("close");
    // ... and with its old counter the anchor catches it.
    raw(dir.path())
        .execute("UPDATE sync_peers SET ctr = ?1", [old.1])
        .expect("put back");
    match unlock(dir.path()) {
        Err(StoreError::Corrupt { what }) if what == ROLLED_BACK => {}
        other => panic!("expected a rollback, got {other:?}"),
    }
}

#[test]
fn peer_deltas_append_in_order_and_a_removed_one_fails_the_unlock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    store
        .batch(|b| b.put_peer_record(&PEER, b"whole"))
        .expect("record");
    for d in [&b"first"[..], b"second", b"third"] {
        store
            .batch(|b| b.append_peer_delta(&PEER, d))
            .expect("delta");
    }
    // Another peer's changes are its own.
    store
        .batch(|b| b.append_peer_delta(&NODE, b"other"))
        .expect("delta");
    assert_eq!(
        store.peer_record_and_deltas(&PEER).expect("read"),
        (
            Some(b"whole".to_vec()),
            vec![b"first".to_vec(), b"second".to_vec(), b"third".to_vec()]
        )
    );
    let (n, bytes) = store.batch(|b| b.peer_delta_size(&PEER)).expect("size");
    assert_eq!(n, 3);
    assert!(bytes > 16, "sealed bytes: {bytes}");
    // No value is plaintext.
    let raw_deltas: Vec<Vec<u8>> = {
        let conn = raw(dir.path());
        let mut stmt = conn
            .prepare("SELECT delta FROM sync_peer_deltas")
            .expect("sql");
        stmt.query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    assert_eq!(raw_deltas.len(), 4);
    for v in &raw_deltas {
        assert!(!v.windows(5).any(|w| w == b"first" || w == b"other"));
    }
    // Written whole again: its changes go, the other peer's stay.
    store
        .batch(|b| {
            b.put_peer_record(&PEER, b"whole 2")?;
            b.delete_peer_deltas(&PEER)
        })
        .expect("compact");
    assert_eq!(
        store.peer_record_and_deltas(&PEER).expect("read"),
        (Some(b"whole 2".to_vec()), vec![])
    );
    store
        .batch(|b| b.append_peer_delta(&PEER, b"after"))
        .expect("delta");
    assert_eq!(
        store.peer_deltas(&PEER).expect("read"),
        vec![b"after".to_vec()]
    );
    store.verify().expect("verify");
    store.close().expect("close");
    // A change removed behind the store's back fails the unlock.
    raw(dir.path())
        .execute(
            "DELETE FROM sync_peer_deltas WHERE peer = ?1",
            [PEER.as_slice()],
        )
        .expect("delete");
    match unlock(dir.path()) {
        Err(StoreError::Corrupt { what }) if what == ROLLED_BACK => {}
        other => panic!("expected a rollback, got {other:?}"),
    }
}
