//! Documents: round trips, compaction, bulk load, deletion, index, key/value.

mod common;

use automerge::{Automerge, ROOT, transaction::Transactable};
use common::*;
use polku_core::DocKind;
use polku_store::{Store, StoreError, heads_hash};

#[test]
fn snapshot_plus_incremental_changes_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    let id = doc_id();
    let mut doc = sample_doc("Aino");
    let hh = store
        .create_doc(id, DocKind::Client, &doc.save())
        .expect("create");
    assert_eq!(hh, heads_hash(&doc.get_heads()));

    for i in 0..5 {
        add_memo(&mut doc, &format!("memo {i}"));
        let bytes = doc.save_incremental();
        let seq = store
            .append_change(id, &bytes, &doc.get_heads())
            .expect("append");
        assert_eq!(seq, i + 1);
    }
    let info = store.doc_info(id).expect("info");
    assert_eq!(info.change_rows, 5);
    assert_eq!(info.kind, DocKind::Client);
    assert_eq!(info.heads_hash, heads_hash(&doc.get_heads()));

    let mut loaded = store.load_doc(id).expect("load");
    assert_eq!(loaded.get_heads(), doc.get_heads());
    assert_eq!(name(&loaded), "Aino");
    assert_eq!(
        memos(&loaded),
        (0..5).map(|i| format!("memo {i}")).collect::<Vec<_>>()
    );

    // Survives closing and unlocking again.
    store.close().expect("close");
    let store = Store::unlock(dir.path(), LOGIN, PASSWORD).expect("unlock");
    let mut loaded = store.load_doc(id).expect("load");
    assert_eq!(loaded.get_heads(), doc.get_heads());
    assert_eq!(memos(&loaded).len(), 5);
}

#[test]
fn save_changes_appends_only_the_delta() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    let id = doc_id();
    let mut doc = Automerge::new();
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(ROOT, "n", 0_i64)?;
        Ok(())
    })
    .expect("tx");
    store
        .create_doc_from(id, DocKind::ActivityMemo, &doc)
        .expect("create");
    let before = store.doc_info(id).expect("info").stored_bytes;

    let since = doc.get_heads();
    assert_eq!(store.save_changes(id, &doc, &since).expect("noop"), None);
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(ROOT, "n", 1_i64)?;
        Ok(())
    })
    .expect("tx");
    assert_eq!(store.save_changes(id, &doc, &since).expect("save"), Some(1));
    let info = store.doc_info(id).expect("info");
    assert_eq!(info.change_rows, 1);
    // The snapshot was not rewritten: only a small change row was added.
    assert!(info.stored_bytes - before < 200, "{info:?}");
    assert_eq!(
        store.load_doc(id).expect("load").get_heads(),
        doc.get_heads()
    );
}

#[test]
fn compaction_preserves_content_and_removes_change_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    let ids: Vec<_> = (0..3).map(|_| doc_id()).collect();
    let mut docs = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let mut doc = sample_doc("Eero");
        store
            .create_doc(*id, DocKind::Client, &doc.save())
            .expect("create");
        // Doc 0 gets 1 change, doc 1 gets 4, doc 2 gets 8.
        for i in 0..[1, 4, 8][n] {
            add_memo(&mut doc, &format!("muistio {i}"));
            store
                .append_change(*id, &doc.save_incremental(), &doc.get_heads())
                .expect("append");
        }
        docs.push(doc);
    }
    assert_eq!(count_rows(dir.path(), "doc_changes"), 13);

    // Only documents with more than 3 change rows are compacted.
    assert_eq!(store.compact_all(3).expect("compact_all"), 2);
    assert_eq!(count_rows(dir.path(), "doc_changes"), 1);
    assert_eq!(store.doc_info(ids[1]).expect("info").change_rows, 0);
    assert_eq!(store.doc_info(ids[1]).expect("info").generation, 1);

    assert!(store.compact(ids[0]).expect("compact"));
    assert!(!store.compact(ids[0]).expect("nothing to do"));
    assert_eq!(count_rows(dir.path(), "doc_changes"), 0);

    for (id, doc) in ids.iter().zip(docs.iter_mut()) {
        let mut loaded = store.load_doc(*id).expect("load");
        assert_eq!(loaded.get_heads(), doc.get_heads());
        assert_eq!(memos(&loaded), memos(doc));
        assert_eq!(
            store.doc_info(*id).expect("info").heads_hash,
            heads_hash(&doc.get_heads())
        );
    }

    // Appending after compaction continues the sequence and still loads.
    add_memo(&mut docs[1], "after compaction");
    let seq = store
        .append_change(ids[1], &docs[1].save_incremental(), &docs[1].get_heads())
        .expect("append");
    assert_eq!(seq, 5);
    assert_eq!(memos(&store.load_doc(ids[1]).expect("load")).len(), 5);
}

#[test]
fn load_all_returns_every_document_of_a_kind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    let mut expected = Vec::new();
    store
        .batch(|b| {
            for i in 0..40 {
                let id = doc_id();
                let mut doc = sample_doc(&format!("client {i}"));
                b.create_doc(id, DocKind::Client, &doc.save())?;
                for m in 0..(i % 4) {
                    add_memo(&mut doc, &format!("memo {m}"));
                    b.append_change(id, &doc.save_incremental(), &doc.get_heads())?;
                }
                expected.push((id, doc.get_heads()));
            }
            let mut other = sample_doc("activity");
            b.create_doc_from(doc_id(), DocKind::ActivityMemo, other.document())?;
            Ok(())
        })
        .expect("batch");
    expected.sort_by_key(|(id, _)| *id);

    let mut all = store.load_all(DocKind::Client).expect("load_all");
    assert_eq!(all.len(), 40);
    for ((id, doc), (eid, heads)) in all.iter_mut().zip(&expected) {
        assert_eq!(id, eid);
        assert_eq!(&doc.get_heads(), heads);
    }
    assert_eq!(store.list_docs(DocKind::Client).expect("list").len(), 40);
    assert_eq!(store.load_all(DocKind::ActivityMemo).expect("a").len(), 1);
    assert!(store.load_all(DocKind::Organisation).expect("o").is_empty());
    assert_eq!(store.list_doc_heads().expect("heads").len(), 41);

    let raw = store.bench_raw_decrypt(DocKind::Client).expect("raw");
    assert_eq!(raw.docs, 40);
    assert_eq!(raw.blobs, 40 + (0..40).map(|i| i % 4).sum::<usize>());
    let age = store.bench_age_per_blob(DocKind::Client).expect("age");
    assert_eq!(age.blobs, raw.blobs);
    assert_eq!(age.plaintext_bytes, raw.plaintext_bytes);
}

#[test]
fn failed_batch_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    let id = doc_id();
    let mut doc = sample_doc("x");
    let err = store
        .batch(|b| {
            b.create_doc(id, DocKind::Client, &doc.save())?;
            b.create_doc(id, DocKind::Client, &doc.save())
        })
        .expect_err("duplicate");
    assert!(matches!(err, StoreError::DocExists(e) if e == id));
    assert_eq!(count_rows(dir.path(), "docs"), 0);
}

#[test]
fn typed_errors_for_missing_and_invalid_documents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    let id = doc_id();
    assert!(matches!(store.load_doc(id), Err(StoreError::DocNotFound(e)) if e == id));
    assert!(matches!(
        store.append_change(id, b"x", &[]),
        Err(StoreError::DocNotFound(_))
    ));
    assert!(matches!(
        store.create_doc(id, DocKind::Client, b"not automerge"),
        Err(StoreError::InvalidDocument)
    ));
    assert!(matches!(
        store.put_index(id, b"entry"),
        Err(StoreError::DocNotFound(_))
    ));
}

#[test]
fn wrong_heads_are_detected_on_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    let id = doc_id();
    let mut doc = sample_doc("x");
    store
        .create_doc(id, DocKind::Client, &doc.save())
        .expect("create");
    add_memo(&mut doc, "m");
    let bytes = doc.save_incremental();
    store.append_change(id, &bytes, &[]).expect("append");
    assert!(matches!(
        store.load_doc(id),
        Err(StoreError::Corrupt {
            what: "document heads"
        })
    ));
}

#[test]
fn delete_doc_removes_every_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    let id = doc_id();
    let keep = doc_id();
    let mut doc = sample_doc("x");
    store
        .create_doc(id, DocKind::Client, &doc.save())
        .expect("create");
    store
        .create_doc(keep, DocKind::Client, &doc.save())
        .expect("create");
    add_memo(&mut doc, "m");
    store
        .append_change(id, &doc.save_incremental(), &doc.get_heads())
        .expect("append");
    store.put_index(id, b"entry").expect("index");
    store.put_index(keep, b"keep").expect("index");

    assert!(store.delete_doc(id).expect("delete"));
    assert!(!store.delete_doc(id).expect("again"));
    assert!(matches!(
        store.load_doc(id),
        Err(StoreError::DocNotFound(_))
    ));
    assert_eq!(count_rows(dir.path(), "docs"), 1);
    assert_eq!(count_rows(dir.path(), "doc_changes"), 0);
    assert_eq!(count_rows(dir.path(), "search_index"), 1);
    assert_eq!(store.get_index(id).expect("get"), None);
    assert_eq!(
        store.index_entries().expect("entries"),
        vec![(keep, b"keep".to_vec())]
    );
}

#[test]
fn search_index_and_sealed_kv_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    let a = doc_id();
    let b = doc_id();
    let mut doc = sample_doc("x");
    for id in [a, b] {
        store
            .create_doc(id, DocKind::Client, &doc.save())
            .expect("create");
    }
    store.put_index(a, b"a1").expect("put");
    store.put_index(b, b"b1").expect("put");
    store.put_index(a, b"a2").expect("replace");
    let mut expected = vec![(a, b"a2".to_vec()), (b, b"b1".to_vec())];
    expected.sort();
    assert_eq!(store.index_entries().expect("entries"), expected);
    assert!(store.delete_index(b).expect("delete"));
    assert_eq!(store.index_entries().expect("entries").len(), 1);

    store
        .put_meta(b"sync/peer-1/doc-1", b"state 1")
        .expect("put");
    store
        .put_meta(b"sync/peer-1/doc-2", b"state 2")
        .expect("put");
    store
        .put_meta(b"sync/peer-1/doc-1", b"state 1b")
        .expect("replace");
    assert_eq!(
        store.get_meta(b"sync/peer-1/doc-1").expect("get"),
        Some(b"state 1b".to_vec())
    );
    assert_eq!(store.get_meta(b"missing").expect("get"), None);
    let mut keys = store.list_meta_keys().expect("keys");
    keys.sort();
    assert_eq!(
        keys,
        vec![b"sync/peer-1/doc-1".to_vec(), b"sync/peer-1/doc-2".to_vec()]
    );
    assert!(store.delete_meta(b"sync/peer-1/doc-2").expect("delete"));
    assert!(!store.delete_meta(b"sync/peer-1/doc-2").expect("again"));
    store.verify().expect("verify");
}

#[test]
fn export_gives_the_stored_bytes_and_their_heads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());

    // Snapshot only: the heads come from the document header.
    let snap = doc_id();
    let mut doc = sample_doc("Aino");
    add_memo(&mut doc, "ensimmäinen");
    let saved = doc.save();
    store
        .create_doc(snap, DocKind::Client, &saved)
        .expect("create");
    let e = store.export_doc(snap).expect("export");
    assert_eq!(e.kind, DocKind::Client);
    assert_eq!(e.heads, doc.get_heads());
    assert_eq!(e.bytes, saved, "the stored snapshot, not a new save");

    // Stored again elsewhere in the bytes it came in: same document.
    let dir2 = tempfile::tempdir().expect("tempdir");
    let (other, _) = new_store(dir2.path());
    other
        .batch(|b| b.create_doc_saved(snap, e.kind, &e.bytes, &e.heads))
        .expect("store whole");
    let mut copy = other.load_doc(snap).expect("load copy");
    assert_eq!(copy.get_heads(), doc.get_heads());
    assert_eq!(memos(&copy), vec!["ensimmäinen".to_string()]);

    // Snapshot and change rows: the bytes load to the latest heads.
    for i in 0..3 {
        add_memo(&mut doc, &format!("memo {i}"));
        store
            .append_change(snap, &doc.save_incremental(), &doc.get_heads())
            .expect("append");
    }
    let e = store.export_doc(snap).expect("export with changes");
    assert_eq!(e.heads, doc.get_heads());
    let mut loaded = automerge::AutoCommit::load(&e.bytes).expect("load export");
    assert_eq!(loaded.get_heads(), doc.get_heads());
    assert_eq!(memos(&loaded).len(), 4);

    // Heads that do not match the stored heads hash are refused.
    let bad = doc_id();
    let mut doc = sample_doc("x");
    store
        .create_doc(bad, DocKind::Client, &doc.save())
        .expect("create");
    add_memo(&mut doc, "m");
    store
        .append_change(bad, &doc.save_incremental(), &[])
        .expect("append");
    assert!(matches!(
        store.export_doc(bad),
        Err(StoreError::Corrupt {
            what: "document heads"
        })
    ));
    assert!(matches!(
        store.export_doc(doc_id()),
        Err(StoreError::DocNotFound(_))
    ));
}

#[test]
fn documents_written_since_a_listing_are_found_by_its_counter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    let empty = store.doc_heads_since(None).expect("empty");
    assert_eq!((empty.docs.len(), empty.count, empty.max_ctr), (0, 0, 0));
    let mut docs = Vec::new();
    for i in 0..5 {
        let id = doc_id();
        let mut doc = sample_doc(&format!("client {i}"));
        store
            .create_doc(id, DocKind::Client, &doc.save())
            .expect("create");
        docs.push((id, doc));
    }
    let all = store.doc_heads_since(None).expect("all");
    assert_eq!(all.count, 5);
    assert_eq!(all.docs, store.list_doc_heads().expect("heads"));
    // Nothing written since: nothing listed, the same counter.
    let none = store.doc_heads_since(Some(all.max_ctr)).expect("since");
    assert!(none.docs.is_empty());
    assert_eq!((none.count, none.max_ctr), (5, all.max_ctr));

    // One changed, one created: exactly those, in id order, with their
    // new heads; the counter moved on.
    let (changed, doc) = &mut docs[2];
    add_memo(doc, "memo");
    store
        .append_change(*changed, &doc.save_incremental(), &doc.get_heads())
        .expect("append");
    let created = doc_id();
    store
        .create_doc(created, DocKind::Client, &sample_doc("new").save())
        .expect("create");
    let since = store.doc_heads_since(Some(all.max_ctr)).expect("since");
    let mut ids: Vec<_> = since.docs.iter().map(|d| d.0).collect();
    let mut want = vec![*changed, created];
    want.sort();
    assert_eq!(ids, want);
    assert_eq!(since.count, 6);
    assert!(since.max_ctr > all.max_ctr);
    let now = store.list_doc_heads().expect("heads");
    for d in &since.docs {
        assert!(now.contains(d));
    }
    // A deletion lists nothing but shows in the count.
    let gone = docs[0].0;
    assert!(store.delete_doc(gone).expect("delete"));
    let after = store.doc_heads_since(Some(since.max_ctr)).expect("since");
    ids = after.docs.iter().map(|d| d.0).collect();
    assert!(!ids.contains(&gone));
    assert_eq!(after.count, 5);
}
