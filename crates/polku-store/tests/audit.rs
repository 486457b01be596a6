//! The audit log's storage: append-only, idempotent merge, conflicts,
//! damage detection and (feature `tamper`) the attacker's helpers.

mod common;

use std::path::Path;

use common::*;
use polku_store::{DB_FILE, Store, StoreError};

const A: [u8; 32] = [0xa1; 32];
const B: [u8; 32] = [0x0b; 32];
const UNKNOWN: [u8; 32] = [0xff; 32];

fn entry(node: &[u8; 32], seq: u64) -> Vec<u8> {
    format!("entry {:02x} #{seq}", node[0]).into_bytes()
}

/// A store holding A#0..=2 and B#0..=1 (appended out of order).
fn store_with_chains(dir: &Path) -> Store {
    let (store, _) = new_store(dir);
    store
        .batch(|b| {
            b.append_audit(&B, 1, &entry(&B, 1))?;
            for seq in 0..3 {
                b.append_audit(&A, seq, &entry(&A, seq))?;
            }
            b.append_audit(&B, 0, &entry(&B, 0))
        })
        .expect("append");
    store
}

fn raw(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join(DB_FILE)).expect("raw")
}

#[test]
fn append_and_read_in_node_and_seq_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_with_chains(dir.path());
    let want: Vec<_> = [(B, 0), (B, 1), (A, 0), (A, 1), (A, 2)]
        .into_iter()
        .map(|(n, s)| (n, s, entry(&n, s)))
        .collect();
    assert_eq!(store.audit_entries().expect("entries"), want);
    assert_eq!(store.audit_len().expect("len"), 5);
    assert_eq!(store.audit_heads().expect("heads"), vec![(B, 1), (A, 2)]);

    assert_eq!(store.audit_last(&A).expect("last"), Some((2, entry(&A, 2))));
    assert_eq!(store.audit_last(&B).expect("last"), Some((1, entry(&B, 1))));
    assert_eq!(store.audit_last(&UNKNOWN).expect("last"), None);

    let all_a: Vec<_> = (0..3).map(|s| (s, entry(&A, s))).collect();
    assert_eq!(store.audit_entries_since(&A, None).expect("since"), all_a);
    assert_eq!(
        store.audit_entries_since(&A, Some(0)).expect("since"),
        all_a[1..]
    );
    assert!(
        store
            .audit_entries_since(&A, Some(2))
            .expect("since")
            .is_empty()
    );
    assert!(
        store
            .audit_entries_since(&A, Some(u64::MAX))
            .expect("since")
            .is_empty()
    );
    assert!(
        store
            .audit_entries_since(&UNKNOWN, None)
            .expect("since")
            .is_empty()
    );

    // Entries survive closing and unlocking again.
    store.close().expect("close");
    let store = Store::unlock(dir.path(), LOGIN, PASSWORD).expect("unlock");
    assert_eq!(store.audit_entries().expect("entries"), want);
    store.verify().expect("verify");
}

#[test]
fn re_appending_the_same_entry_is_a_no_op() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_with_chains(dir.path());
    let before = store.audit_entries().expect("entries");
    store
        .append_audit(&A, 1, &entry(&A, 1))
        .expect("same bytes");
    store
        .batch(|b| {
            for seq in 0..3 {
                b.append_audit(&A, seq, &entry(&A, seq))?;
            }
            Ok(())
        })
        .expect("merge a whole chain again");
    assert_eq!(store.audit_entries().expect("entries"), before);
    assert_eq!(count_rows(dir.path(), "audit_entries"), 5);
}

#[test]
fn a_different_entry_at_a_stored_position_is_a_conflict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_with_chains(dir.path());
    let before = store.audit_entries().expect("entries");
    let err = store
        .append_audit(&A, 1, b"forged entry")
        .expect_err("fork");
    assert!(
        matches!(err, StoreError::AuditConflict { seq: 1 }),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("forged"));
    assert_eq!(store.audit_entries().expect("entries"), before);

    // Inside a batch the conflict writes nothing, so a merge can note it
    // and go on with the rest of the chain.
    let conflicts = store
        .batch(|b| {
            let mut conflicts = Vec::new();
            for (seq, bytes) in [
                (2, entry(&A, 2)),
                (1, b"forged".to_vec()),
                (3, entry(&A, 3)),
            ] {
                match b.append_audit(&A, seq, &bytes) {
                    Ok(()) => {}
                    Err(StoreError::AuditConflict { seq }) => conflicts.push(seq),
                    Err(e) => return Err(e),
                }
            }
            Ok(conflicts)
        })
        .expect("batch");
    assert_eq!(conflicts, vec![1]);
    assert_eq!(store.audit_last(&A).expect("last"), Some((3, entry(&A, 3))));
    assert_eq!(
        store.audit_entries_since(&A, Some(0)).expect("since")[0].1,
        entry(&A, 1)
    );
}

#[test]
fn unusable_input_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    assert!(matches!(
        store.append_audit(&A, 0, b""),
        Err(StoreError::InvalidInput { .. })
    ));
    assert!(matches!(
        store.append_audit(&A, u64::MAX, b"x"),
        Err(StoreError::InvalidInput { .. })
    ));
    store
        .append_audit(&A, i64::MAX as u64, b"x")
        .expect("largest storable seq");
    assert_eq!(store.audit_len().expect("len"), 1);
}

#[test]
fn a_damaged_entry_is_named_by_its_seq() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_with_chains(dir.path());
    let conn = raw(dir.path());
    let sealed: Vec<u8> = conn
        .query_row(
            "SELECT entry FROM audit_entries WHERE node = ?1 AND seq = 1",
            [A.as_slice()],
            |r| r.get(0),
        )
        .expect("row");
    let mut flipped = sealed.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 1;
    let set = |seq: i64, bytes: &[u8]| {
        conn.execute(
            "UPDATE audit_entries SET entry = ?3 WHERE node = ?1 AND seq = ?2",
            rusqlite::params![A.as_slice(), seq, bytes],
        )
        .expect("update");
    };
    set(1, &flipped);
    let damaged =
        |r: Result<_, StoreError>| matches!(r, Err(StoreError::AuditEntryDamaged { seq: 1 }));
    assert!(damaged(store.audit_entries().map(drop)));
    assert!(damaged(store.audit_entries_since(&A, None).map(drop)));
    assert!(damaged(store.append_audit(&A, 1, &entry(&A, 1))));
    assert!(damaged(store.verify()));
    // Other chains and later positions still read.
    assert_eq!(store.audit_entries_since(&B, None).expect("b").len(), 2);
    assert_eq!(store.audit_last(&A).expect("last"), Some((2, entry(&A, 2))));

    // A valid ciphertext moved to another position does not open either:
    // each entry is bound to its node and seq.
    set(1, &sealed);
    store.audit_entries().expect("restored");
    let seq0: Vec<u8> = conn
        .query_row(
            "SELECT entry FROM audit_entries WHERE node = ?1 AND seq = 0",
            [A.as_slice()],
            |r| r.get(0),
        )
        .expect("row");
    set(1, &seq0);
    assert!(damaged(store.audit_entries().map(drop)));
    conn.execute(
        "INSERT INTO audit_entries (node, seq, entry) VALUES (?1, 1, ?2)",
        rusqlite::params![UNKNOWN.as_slice(), sealed],
    )
    .expect("copy to another node");
    assert!(matches!(
        store.audit_entries_since(&UNKNOWN, None),
        Err(StoreError::AuditEntryDamaged { seq: 1 })
    ));
}

#[test]
fn the_table_refuses_updates_of_its_shape() {
    // The schema itself: 32-byte node ids, no negative seq, (node, seq) unique.
    let dir = tempfile::tempdir().expect("tempdir");
    drop(store_with_chains(dir.path()));
    let conn = raw(dir.path());
    for (node, seq) in [(vec![1u8; 31], 5i64), (A.to_vec(), -1), (A.to_vec(), 0)] {
        assert!(
            conn.execute(
                "INSERT INTO audit_entries (node, seq, entry) VALUES (?1, ?2, x'00')",
                rusqlite::params![node, seq],
            )
            .is_err()
        );
    }
}

#[cfg(feature = "tamper")]
mod tamper {
    use super::*;

    #[test]
    fn replace_delete_and_raw_ciphertext() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store_with_chains(dir.path());

        // Replace re-seals: the edit reads back as valid ciphertext.
        store
            .tamper_replace_audit(&A, 1, b"rewritten history")
            .expect("replace");
        assert_eq!(
            store.audit_entries_since(&A, Some(0)).expect("since")[0],
            (1, b"rewritten history".to_vec())
        );
        // ... or inserts where there was nothing.
        store
            .tamper_replace_audit(&A, 7, b"inserted")
            .expect("insert");
        assert_eq!(
            store.audit_last(&A).expect("last"),
            Some((7, b"inserted".to_vec()))
        );

        assert!(store.tamper_delete_audit(&A, 7).expect("delete"));
        assert!(!store.tamper_delete_audit(&A, 7).expect("gone"));
        assert!(store.tamper_delete_audit(&B, 0).expect("delete"));
        assert_eq!(store.audit_len().expect("len"), 4);

        // Raw ciphertext: moving a valid one to another position is detected.
        let raw0 = store.tamper_raw_audit_ciphertext(&A, 0).expect("raw");
        assert!(raw0.len() > entry(&A, 0).len());
        assert!(matches!(
            store.tamper_raw_audit_ciphertext(&A, 99),
            Err(StoreError::InvalidInput { .. })
        ));
        store
            .tamper_set_raw_audit_ciphertext(&A, 2, &raw0)
            .expect("set raw");
        assert!(matches!(
            store.audit_entries(),
            Err(StoreError::AuditEntryDamaged { seq: 2 })
        ));
        store
            .tamper_set_raw_audit_ciphertext(&A, 2, b"garbage")
            .expect("set raw");
        assert!(matches!(
            store.audit_last(&A),
            Err(StoreError::AuditEntryDamaged { seq: 2 })
        ));
        // Putting the original back restores it.
        store
            .tamper_set_raw_audit_ciphertext(&A, 2, &raw0)
            .expect("set raw");
        store
            .tamper_set_raw_audit_ciphertext(&A, 0, &raw0)
            .expect("same place");
        store
            .tamper_replace_audit(&A, 2, &entry(&A, 2))
            .expect("replace");
        store.verify().expect("verify");
    }
}
