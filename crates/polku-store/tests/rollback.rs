//! Rows overwritten in place (index entries, sealed values, views) and
//! documents cannot be rolled back one by one: an old ciphertext copied back
//! into its row does not open under the row's current write counter, and one
//! copied back with its old counter, a document set back to an earlier state,
//! a deleted row or a re-inserted one is caught by the rollback anchor at
//! unlock and in `verify` (`src/anchor.rs`). Tampering is done with raw SQL
//! on the closed store file.

mod common;

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::path::Path;

use common::*;
use polku_core::{DocId, DocKind};
use polku_store::{DB_FILE, HeadsHash, ROLLED_BACK, Store, StoreError};
use proptest::prelude::*;
use rusqlite::{Connection, params};

fn unlock(dir: &Path) -> Result<Store, StoreError> {
    Store::unlock(dir, LOGIN, PASSWORD)
}

fn raw(dir: &Path) -> Connection {
    Connection::open(dir.join(DB_FILE)).expect("open raw")
}

#[track_caller]
fn assert_rolled_back<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    match r {
        Err(StoreError::Corrupt { what }) if what == ROLLED_BACK => {}
        other => panic!("expected a rollback error, got {other:?}"),
    }
}

#[track_caller]
fn assert_corrupt<T: std::fmt::Debug>(r: Result<T, StoreError>, expected: &str) {
    match r {
        Err(StoreError::Corrupt { what }) if what == expected => {}
        other => panic!("expected Corrupt({expected}), got {other:?}"),
    }
}

/// (sealed entry, counter) of the index row of `id`.
fn index_row(dir: &Path, id: DocId) -> (Vec<u8>, i64) {
    raw(dir)
        .query_row(
            "SELECT entry, ctr FROM search_index WHERE doc_id = ?1",
            [id.0.as_bytes().as_slice()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("index row")
}

/// (key hash, sealed key, sealed value, counter) of the only sealed_kv row.
fn only_kv_row(dir: &Path) -> (Vec<u8>, Vec<u8>, Vec<u8>, i64) {
    raw(dir)
        .query_row("SELECT key_hash, key, value, ctr FROM sealed_kv", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .expect("exactly one kv row")
}

/// A closed store with one document whose index entry was written twice
/// ("first", then "second"); returns the document and the first write's
/// (ciphertext, counter).
fn index_written_twice(dir: &Path) -> (DocId, (Vec<u8>, i64)) {
    let (store, _) = new_store(dir);
    let id = doc_id();
    store
        .create_doc(id, DocKind::Client, &sample_doc("a").save())
        .expect("doc");
    store.put_index(id, b"first").expect("index");
    store.close().expect("close");
    let first = index_row(dir, id);
    let store = unlock(dir).expect("unlock");
    store.put_index(id, b"second").expect("index");
    store.close().expect("close");
    assert_ne!(index_row(dir, id).1, first.1, "the counter moved");
    (id, first)
}

#[test]
fn an_old_index_ciphertext_under_the_current_counter_does_not_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (id, (old, _)) = index_written_twice(dir.path());
    raw(dir.path())
        .execute(
            "UPDATE search_index SET entry = ?2 WHERE doc_id = ?1",
            params![id.0.as_bytes().as_slice(), old],
        )
        .expect("tamper");
    let store = unlock(dir.path()).expect("the counters still match the anchor");
    assert_corrupt(store.get_index(id), "search index entry");
    assert_corrupt(store.index_entries(), "search index entry");
    assert_corrupt(store.verify(), "search index entry");
}

#[test]
fn an_old_index_entry_with_its_old_counter_is_refused_at_unlock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (id, (old, old_ctr)) = index_written_twice(dir.path());
    raw(dir.path())
        .execute(
            "UPDATE search_index SET entry = ?2, ctr = ?3 WHERE doc_id = ?1",
            params![id.0.as_bytes().as_slice(), old, old_ctr],
        )
        .expect("tamper");
    assert_rolled_back(unlock(dir.path()));
}

/// A closed store whose only sealed value `tomb-next` was written twice
/// ("1", then "2"); returns the first write's row.
fn meta_written_twice(dir: &Path) -> (Vec<u8>, Vec<u8>, Vec<u8>, i64) {
    let (store, _) = new_store(dir);
    store.put_meta(b"tomb-next", b"1").expect("meta");
    store.close().expect("close");
    let first = only_kv_row(dir);
    let store = unlock(dir).expect("unlock");
    store.put_meta(b"tomb-next", b"2").expect("meta");
    assert_eq!(
        store.get_meta(b"tomb-next").expect("get"),
        Some(b"2".to_vec())
    );
    store.close().expect("close");
    first
}

#[test]
fn an_old_sealed_value_under_the_current_counter_does_not_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hash, _, old_value, _) = meta_written_twice(dir.path());
    raw(dir.path())
        .execute(
            "UPDATE sealed_kv SET value = ?2 WHERE key_hash = ?1",
            params![hash, old_value],
        )
        .expect("tamper");
    let store = unlock(dir.path()).expect("the counters still match the anchor");
    assert_corrupt(store.get_meta(b"tomb-next"), "sealed value");
    assert_corrupt(store.verify(), "sealed value");
}

#[test]
fn an_old_sealed_value_with_its_old_counter_is_refused_at_unlock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hash, old_key, old_value, old_ctr) = meta_written_twice(dir.path());
    // Only the value and counter, then key, value and counter: the whole row.
    raw(dir.path())
        .execute(
            "UPDATE sealed_kv SET value = ?2, ctr = ?3 WHERE key_hash = ?1",
            params![hash, old_value, old_ctr],
        )
        .expect("tamper");
    assert_rolled_back(unlock(dir.path()));
    raw(dir.path())
        .execute(
            "UPDATE sealed_kv SET key = ?2 WHERE key_hash = ?1",
            params![hash, old_key],
        )
        .expect("tamper");
    assert_rolled_back(unlock(dir.path()));
}

#[test]
fn an_old_view_with_its_old_counter_is_refused_at_unlock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    let id = doc_id();
    let hh = store
        .create_doc(id, DocKind::Client, &sample_doc("a").save())
        .expect("doc");
    store.put_view(id, hh, b"view one").expect("view");
    let read = |c: &Connection| -> (Vec<u8>, i64) {
        c.query_row("SELECT view, ctr FROM doc_views", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("view row")
    };
    let (old, old_ctr) = read(&raw(dir.path()));
    store.put_view(id, hh, b"view two").expect("view");
    store.close().expect("close");

    let conn = raw(dir.path());
    conn.execute("UPDATE doc_views SET view = ?1", [&old])
        .expect("tamper");
    drop(conn);
    let store = unlock(dir.path()).expect("unlock");
    assert_corrupt(store.get_view(id), "document view");
    assert_corrupt(store.verify(), "document view");
    drop(store);

    raw(dir.path())
        .execute("UPDATE doc_views SET ctr = ?1", [old_ctr])
        .expect("tamper");
    assert_rolled_back(unlock(dir.path()));
}

#[test]
fn a_deleted_or_reinserted_mutable_row_is_refused_at_unlock() {
    // One index entry deleted.
    let dir = tempfile::tempdir().expect("tempdir");
    let (id, _) = index_written_twice(dir.path());
    raw(dir.path())
        .execute(
            "DELETE FROM search_index WHERE doc_id = ?1",
            [id.0.as_bytes().as_slice()],
        )
        .expect("tamper");
    assert_rolled_back(unlock(dir.path()));

    // One sealed value deleted.
    let dir = tempfile::tempdir().expect("tempdir");
    meta_written_twice(dir.path());
    raw(dir.path())
        .execute("DELETE FROM sealed_kv", [])
        .expect("tamper");
    assert_rolled_back(unlock(dir.path()));

    // A deleted value (e.g. a lease record) put back.
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    store.put_meta(b"lease", b"valid").expect("meta");
    store.close().expect("close");
    let (hash, key, value, ctr) = only_kv_row(dir.path());
    let store = unlock(dir.path()).expect("unlock");
    assert!(store.delete_meta(b"lease").expect("delete"));
    store.close().expect("close");
    raw(dir.path())
        .execute(
            "INSERT INTO sealed_kv (key_hash, key, value, ctr) VALUES (?1, ?2, ?3, ?4)",
            params![hash, key, value, ctr],
        )
        .expect("tamper");
    assert_rolled_back(unlock(dir.path()));
}

#[test]
fn the_anchor_cannot_be_removed_edited_or_rolled_back_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    store.put_meta(b"a", b"1").expect("meta");
    store.close().expect("close");
    let (old_counter, old_anchor): (i64, Vec<u8>) = raw(dir.path())
        .query_row("SELECT counter, anchor FROM rollback_anchor", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("anchor");
    let store = unlock(dir.path()).expect("unlock");
    store.put_meta(b"b", b"2").expect("meta");
    store.close().expect("close");
    let backup = std::fs::read(dir.path().join(DB_FILE)).expect("read");
    let restore = || std::fs::write(dir.path().join(DB_FILE), &backup).expect("restore");

    // The old anchor row alone (the rows are newer).
    raw(dir.path())
        .execute(
            "UPDATE rollback_anchor SET counter = ?1, anchor = ?2",
            params![old_counter, old_anchor],
        )
        .expect("tamper");
    assert_rolled_back(unlock(dir.path()));
    restore();
    // A counter edited without the seal.
    raw(dir.path())
        .execute("UPDATE rollback_anchor SET counter = counter + 1", [])
        .expect("tamper");
    assert_rolled_back(unlock(dir.path()));
    restore();
    // No anchor row.
    raw(dir.path())
        .execute("DELETE FROM rollback_anchor", [])
        .expect("tamper");
    assert_rolled_back(unlock(dir.path()));
    restore();
    // A row whose counter is 0 (from before schema v5) or above the store's.
    raw(dir.path())
        .execute(
            "UPDATE sealed_kv SET ctr = (SELECT counter FROM rollback_anchor) + 1 \
             WHERE ctr = (SELECT max(ctr) FROM sealed_kv)",
            [],
        )
        .expect("tamper");
    assert_rolled_back(unlock(dir.path()));
    restore();
    unlock(dir.path())
        .expect("the untouched copy opens")
        .verify()
        .expect("verify");
}

/// Documents the limit (module docs of `src/anchor.rs`): the anchor and
/// every mutable row rolled back to the same earlier moment is an older
/// copy of the store, which nothing inside the file can tell apart.
#[test]
fn a_consistent_rollback_of_all_mutable_rows_is_out_of_scope() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    store.put_meta(b"tomb-next", b"1").expect("meta");
    store.close().expect("close");
    let backup = std::fs::read(dir.path().join(DB_FILE)).expect("read");
    let store = unlock(dir.path()).expect("unlock");
    store.put_meta(b"tomb-next", b"2").expect("meta");
    store.close().expect("close");
    std::fs::write(dir.path().join(DB_FILE), &backup).expect("restore");
    let store = unlock(dir.path()).expect("an older copy opens");
    assert_eq!(
        store.get_meta(b"tomb-next").expect("get"),
        Some(b"1".to_vec())
    );
}

#[test]
fn wiping_documents_keeps_the_anchor_right() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    let mut ids = Vec::new();
    for i in 0..5 {
        let id = doc_id();
        let hh = store
            .create_doc(id, DocKind::Client, &sample_doc(&format!("c{i}")).save())
            .expect("doc");
        store.put_index(id, b"entry").expect("index");
        store.put_view(id, hh, b"view").expect("view");
        ids.push(id);
    }
    let keep = doc_id();
    store
        .create_doc(keep, DocKind::Organisation, &sample_doc("org").save())
        .expect("doc");
    store.put_index(keep, b"org entry").expect("index");
    store.put_meta(b"k", b"v").expect("meta");
    assert_eq!(store.wipe_documents(&[DocKind::Client]).expect("wipe"), 5);
    store.close().expect("close");
    let store = unlock(dir.path()).expect("unlock");
    store.verify().expect("verify");
    assert_eq!(
        store.index_entries().expect("entries"),
        vec![(keep, b"org entry".to_vec())]
    );
}

// ---------------------------------------------------------------------------
// Normal use never looks like a rollback.

#[derive(Debug, Clone)]
enum Op {
    CreateDoc(u8),
    DeleteDoc(u8),
    PutIndex(u8, u8),
    DeleteIndex(u8),
    PutView(u8, u8),
    PutMeta(u8, u8),
    DeleteMeta(u8),
    /// Several ops in one transaction; rolled back when `fail`. Errors of
    /// single ops (a missing document) are ignored inside the batch.
    Batch(Vec<Op>, bool),
    /// Append a change row (makes the document's view stale).
    Edit(u8),
    Compact(u8),
    WipeClients,
    /// Close and unlock again.
    Reopen,
    /// Copy the files while the store is open (after a commit), as if the
    /// process died, and carry on with the copy.
    Crash,
}

fn simple_op() -> impl Strategy<Value = Op> {
    let d = 0u8..4;
    let v = any::<u8>();
    prop_oneof![
        2 => d.clone().prop_map(Op::CreateDoc),
        1 => d.clone().prop_map(Op::DeleteDoc),
        2 => (d.clone(), v).prop_map(|(d, v)| Op::PutIndex(d, v)),
        1 => d.clone().prop_map(Op::DeleteIndex),
        2 => (d.clone(), v).prop_map(|(d, v)| Op::PutView(d, v)),
        2 => (0u8..4, v).prop_map(|(k, v)| Op::PutMeta(k, v)),
        1 => (0u8..4).prop_map(Op::DeleteMeta),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => simple_op(),
        2 => (prop::collection::vec(simple_op(), 1..6), prop::bool::weighted(0.3))
            .prop_map(|(ops, fail)| Op::Batch(ops, fail)),
        1 => (0u8..4).prop_map(Op::Edit),
        1 => (0u8..4).prop_map(Op::Compact),
        1 => Just(Op::WipeClients),
        1 => Just(Op::Reopen),
        1 => Just(Op::Crash),
    ]
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Model {
    /// Document slot → (id, current heads hash).
    docs: BTreeMap<u8, (DocId, HeadsHash)>,
    index: BTreeMap<u8, u8>,
    views: BTreeMap<u8, u8>,
    meta: BTreeMap<u8, u8>,
}

/// Apply one simple op to the store (inside `b`) and the model.
fn apply(b: &polku_store::Batch<'_>, m: &mut Model, op: &Op) -> Result<(), StoreError> {
    match *op {
        Op::CreateDoc(d) => {
            if let Entry::Vacant(slot) = m.docs.entry(d) {
                let id = doc_id();
                let mut doc = sample_doc(&format!("doc {d}"));
                add_memo(&mut doc, "memo");
                let hh = b.create_doc(id, DocKind::Client, &doc.save())?;
                slot.insert((id, hh));
            }
        }
        Op::DeleteDoc(d) => {
            if let Some((id, _)) = m.docs.remove(&d) {
                assert!(b.delete_doc(id)?);
                m.index.remove(&d);
                m.views.remove(&d);
            }
        }
        Op::PutIndex(d, v) => match m.docs.get(&d) {
            Some((id, _)) => {
                b.put_index(*id, &[v])?;
                m.index.insert(d, v);
            }
            None => {
                // A document that is not there: refused, nothing changes.
                let r = b.put_index(DocId(uuid::Uuid::now_v7()), &[v]);
                assert!(matches!(r, Err(StoreError::DocNotFound(_))), "{r:?}");
            }
        },
        Op::DeleteIndex(d) => {
            if let Some((id, _)) = m.docs.get(&d) {
                assert_eq!(b.delete_index(*id)?, m.index.remove(&d).is_some());
            }
        }
        Op::PutView(d, v) => match m.docs.get(&d) {
            Some((id, hh)) => {
                b.put_view(*id, *hh, &[v])?;
                m.views.insert(d, v);
            }
            None => {
                let r = b.put_view(DocId(uuid::Uuid::now_v7()), HeadsHash([0; 32]), &[v]);
                assert!(matches!(r, Err(StoreError::DocNotFound(_))), "{r:?}");
            }
        },
        Op::PutMeta(k, v) => {
            b.put_meta(&[k], &[v])?;
            m.meta.insert(k, v);
        }
        Op::DeleteMeta(k) => {
            assert_eq!(b.delete_meta(&[k])?, m.meta.remove(&k).is_some());
        }
        _ => unreachable!("not a simple op"),
    }
    Ok(())
}

fn check_contents(store: &Store, m: &Model) {
    let mut index = BTreeMap::new();
    let mut views = BTreeMap::new();
    for (d, (id, _)) in &m.docs {
        if let Some(e) = store.get_index(*id).expect("index") {
            index.insert(*d, e[0]);
        }
        if let Some(v) = store.get_view(*id).expect("view") {
            views.insert(*d, v[0]);
        }
    }
    assert_eq!(index, m.index);
    assert_eq!(views, m.views);
    let mut meta = BTreeMap::new();
    for k in store.list_meta_keys().expect("keys") {
        let v = store.get_meta(&k).expect("get").expect("value");
        meta.insert(k[0], v[0]);
    }
    assert_eq!(meta, m.meta);
    assert_eq!(store.index_entries().expect("entries").len(), m.index.len());
}

fn run(ops: &[Op]) {
    let mut dirs = vec![tempfile::tempdir().expect("tempdir")];
    let (mut store, _) = new_store(dirs[0].path());
    let mut m = Model::default();
    for op in ops {
        match op {
            Op::Batch(ops, fail) => {
                let mut next = m.clone();
                let r = store.batch(|b| {
                    for op in ops {
                        // A failed single op leaves the batch usable.
                        let _ = apply(b, &mut next, op);
                    }
                    if *fail {
                        Err(StoreError::InvalidInput { what: "test abort" })
                    } else {
                        Ok(())
                    }
                });
                assert_eq!(r.is_err(), *fail);
                if !fail {
                    m = next;
                }
            }
            Op::Edit(d) => {
                if let Some((id, hh)) = m.docs.get_mut(d) {
                    let mut doc = store.load_doc(*id).expect("load");
                    let heads = doc.get_heads();
                    add_memo(&mut doc, "another memo");
                    store
                        .save_changes(*id, doc.document(), &heads)
                        .expect("save");
                    *hh = polku_store::heads_hash(&doc.get_heads());
                    m.views.remove(d);
                }
            }
            Op::Compact(d) => {
                if let Some((id, _)) = m.docs.get(d) {
                    store.compact(*id).expect("compact");
                }
            }
            Op::WipeClients => {
                store.wipe_documents(&[DocKind::Client]).expect("wipe");
                m.docs.clear();
                m.index.clear();
                m.views.clear();
            }
            Op::Reopen => {
                let dir = dirs.last().expect("dir").path().to_path_buf();
                store.close().expect("close");
                store = unlock(&dir).expect("reopen is no rollback");
            }
            Op::Crash => {
                let from = dirs.last().expect("dir").path().to_path_buf();
                let to = tempfile::tempdir().expect("tempdir");
                copy_dir(&from, to.path());
                dirs.push(to);
                let dir = dirs.last().expect("dir").path().to_path_buf();
                let crashed = unlock(&dir).expect("crash copy is no rollback");
                drop(std::mem::replace(&mut store, crashed));
            }
            simple => {
                let mut next = m.clone();
                store
                    .batch(|b| apply(b, &mut next, simple))
                    .expect("single op");
                m = next;
            }
        }
    }
    check_contents(&store, &m);
    let dir = dirs.last().expect("dir").path().to_path_buf();
    store.close().expect("close");
    let store = unlock(&dir).expect("final unlock is no rollback");
    store.verify().expect("verify");
    check_contents(&store, &m);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn normal_use_never_reports_a_rollback(ops in prop::collection::vec(op(), 1..30)) {
        run(&ops);
    }
}

// ---------------------------------------------------------------------------
// Documents: the row's counter and tag bind heads hash, generation, next_seq.

/// A closed store with one document edited twice after creation (change
/// rows 1 and 2); returns it with the `docs` row after the first edit.
fn doc_edited_twice(dir: &Path) -> (DocId, (Vec<u8>, i64, i64)) {
    let (store, _) = new_store(dir);
    let id = doc_id();
    let mut doc = sample_doc("a");
    store
        .create_doc(id, DocKind::Client, &doc.save())
        .expect("doc");
    let mut state = None;
    for memo in ["first memo", "second memo"] {
        let heads = doc.get_heads();
        add_memo(&mut doc, memo);
        store
            .save_changes(id, doc.document(), &heads)
            .expect("save");
        if state.is_none() {
            state = Some(
                raw(dir)
                    .query_row(
                        "SELECT heads_hash, next_seq, ctr FROM docs WHERE id = ?1",
                        [id.0.as_bytes().as_slice()],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .expect("docs row"),
            );
        }
    }
    store.close().expect("close");
    (id, state.expect("state"))
}

/// Undo the last edit of `id` raw: remove change row 2 and set the heads
/// hash and next change number (and, if asked, the counter) back.
fn undo_last_edit(
    dir: &Path,
    id: DocId,
    (heads, next_seq, ctr): (Vec<u8>, i64, i64),
    with_ctr: bool,
) {
    let conn = raw(dir);
    let raw_id = id.0.as_bytes().as_slice();
    conn.execute(
        "DELETE FROM doc_changes WHERE doc_id = ?1 AND seq = 2",
        [raw_id],
    )
    .expect("tamper");
    conn.execute(
        "UPDATE docs SET heads_hash = ?2, next_seq = ?3 WHERE id = ?1",
        params![raw_id, heads, next_seq],
    )
    .expect("tamper");
    if with_ctr {
        conn.execute(
            "UPDATE docs SET ctr = ?2 WHERE id = ?1",
            params![raw_id, ctr],
        )
        .expect("tamper");
    }
}

#[test]
fn a_document_rolled_back_to_an_earlier_state_is_refused_at_unlock() {
    // The document would load consistently, as it was after the first edit.
    for with_ctr in [false, true] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (id, state) = doc_edited_twice(dir.path());
        undo_last_edit(dir.path(), id, state, with_ctr);
        assert_rolled_back(unlock(dir.path()));
    }
}

#[test]
fn a_deleted_or_resurrected_document_is_refused_at_unlock() {
    // A document deleted behind the store's back.
    let dir = tempfile::tempdir().expect("tempdir");
    let (id, _) = doc_edited_twice(dir.path());
    raw(dir.path())
        .execute(
            "DELETE FROM docs WHERE id = ?1",
            [id.0.as_bytes().as_slice()],
        )
        .expect("tamper");
    assert_rolled_back(unlock(dir.path()));

    // An erased document put back from an older copy of its rows.
    let dir = tempfile::tempdir().expect("tempdir");
    let (id, _) = doc_edited_twice(dir.path());
    let conn = raw(dir.path());
    conn.execute_batch(
        "CREATE TABLE saved_docs AS SELECT * FROM docs;
         CREATE TABLE saved_changes AS SELECT * FROM doc_changes;",
    )
    .expect("save");
    drop(conn);
    let store = unlock(dir.path()).expect("unlock");
    assert!(store.delete_doc(id).expect("erase"));
    store.close().expect("close");
    raw(dir.path())
        .execute_batch(
            "INSERT INTO docs SELECT * FROM saved_docs;
             INSERT INTO doc_changes SELECT * FROM saved_changes;",
        )
        .expect("tamper");
    assert_rolled_back(unlock(dir.path()));
}

#[test]
fn compaction_and_edits_keep_the_anchor_right() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (id, _) = doc_edited_twice(dir.path());
    let store = unlock(dir.path()).expect("unlock");
    assert!(store.compact(id).expect("compact"));
    let mut doc = store.load_doc(id).expect("load");
    let heads = doc.get_heads();
    add_memo(&mut doc, "third memo");
    store
        .save_changes(id, doc.document(), &heads)
        .expect("save");
    store.close().expect("close");
    let store = unlock(dir.path()).expect("unlock");
    store.verify().expect("verify");
    assert_eq!(memos(&store.load_doc(id).expect("load")).len(), 3);
}

#[test]
fn verify_inside_a_write_batch_is_refused_not_a_false_alarm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    // Mid-batch the anchor's new state is only in memory: the check would be
    // wrong, so it is refused (and the batch rolled back by the error).
    let r = store.batch(|b| {
        b.put_meta(b"k", b"v")?;
        store.verify()
    });
    assert!(matches!(r, Err(StoreError::InvalidInput { .. })), "{r:?}");
    assert_eq!(store.get_meta(b"k").expect("get"), None);
    store.verify().expect("verify");
    store.close().expect("close");
    unlock(dir.path())
        .expect("unlock")
        .verify()
        .expect("verify");
}
