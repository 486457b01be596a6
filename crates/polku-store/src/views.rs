//! Sealed materialised views of documents (schema v3).
//!
//! A view is the caller's decoded form of a document (the store does not know
//! the domain model), sealed and tagged with the heads hash it was made from.
//! It is only returned while that hash equals the document's current heads hash,
//! so a document changed since (a new change row, a sync) reads as "no view" and
//! the caller falls back to Automerge and writes a fresh view. Automerge stays the
//! source of truth; views make opening every document cheap.
//!
//! Views are overwritten in place, so each carries a write counter bound into
//! its sealed associated data and into the rollback anchor (`src/anchor.rs`).

use polku_core::{DocId, DocKind};
use rusqlite::params;

use crate::Store;
use crate::anchor::ctr_of;
use crate::crypto::{RowRef, Slot};
use crate::docs::{Batch, HeadsHash, doc_id_from};
use crate::error::{Result, StoreError};

impl Batch<'_> {
    /// Set the view of document `id`, made from the state whose heads hash is
    /// `heads`. The document must exist; the view is deleted with it.
    pub fn put_view(&self, id: DocId, heads: HeadsHash, view: &[u8]) -> Result<()> {
        let raw_id = id.0.as_bytes();
        let old = self.old_ctr("SELECT ctr FROM doc_views WHERE doc_id = ?1", raw_id)?;
        let ctr = self.with_anchor(|a, _| a.next())?;
        let sealed = self.keys.seal.seal(
            RowRef::new(Slot::DocView, raw_id).seq(ctr).extra(&heads.0),
            view,
        )?;
        let n = self
            .tx
            .prepare_cached(
                "INSERT INTO doc_views (doc_id, heads_hash, view, ctr)
                 SELECT id, ?2, ?3, ?4 FROM docs WHERE id = ?1
                 ON CONFLICT (doc_id) DO UPDATE SET heads_hash = excluded.heads_hash,
                                                    view = excluded.view, ctr = excluded.ctr",
            )?
            .execute(params![
                raw_id.as_slice(),
                heads.0.as_slice(),
                sealed,
                ctr as i64
            ])?;
        if n == 0 {
            return Err(StoreError::DocNotFound(id));
        }
        self.replaced(Slot::DocView, raw_id, old, Some(ctr))
    }
}

impl Store {
    /// Set the view of document `id`. See [`Batch::put_view`].
    pub fn put_view(&self, id: DocId, heads: HeadsHash, view: &[u8]) -> Result<()> {
        self.batch(|b| b.put_view(id, heads, view))
    }

    /// The current view of `id`, or `None` when it has none or it is stale.
    pub fn get_view(&self, id: DocId) -> Result<Option<Vec<u8>>> {
        // (current heads hash, view's heads hash, sealed view, counter)
        type Row = (Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>, Option<i64>);
        let row: Option<Row> = self
            .conn
            .prepare_cached(
                "SELECT d.heads_hash, v.heads_hash, v.view, v.ctr
                 FROM docs d LEFT JOIN doc_views v ON v.doc_id = d.id WHERE d.id = ?1",
            )?
            .query_row([id.0.as_bytes().as_slice()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })?;
        let Some((current, view_heads, sealed, ctr)) = row else {
            return Err(StoreError::DocNotFound(id));
        };
        match (view_heads, sealed, ctr) {
            (Some(vh), Some(sealed), Some(ctr)) if vh == current => {
                let plain = self.keys.seal.open(
                    RowRef::new(Slot::DocView, id.0.as_bytes())
                        .seq(ctr_of(ctr)?)
                        .extra(&vh),
                    &sealed,
                    "document view",
                )?;
                Ok(Some(plain))
            }
            _ => Ok(None),
        }
    }

    /// Every document of `kind` with its current view, or `None` where the view
    /// is missing or stale. One table scan; decryption on the calling thread.
    pub fn load_views(&self, kind: DocKind) -> Result<Vec<(DocId, Option<Vec<u8>>)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT d.id, d.heads_hash, v.heads_hash, v.view, v.ctr
             FROM docs d LEFT JOIN doc_views v ON v.doc_id = d.id
             WHERE d.kind = ?1 ORDER BY d.id",
        )?;
        let mut rows = stmt.query([i64::from(kind.code())])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let id = doc_id_from(&r.get::<_, Vec<u8>>(0)?)?;
            let current: Vec<u8> = r.get(1)?;
            let view_heads: Option<Vec<u8>> = r.get(2)?;
            let sealed: Option<Vec<u8>> = r.get(3)?;
            let ctr: Option<i64> = r.get(4)?;
            let view = match (view_heads, sealed, ctr) {
                (Some(vh), Some(sealed), Some(ctr)) if vh == current => Some(
                    self.keys.seal.open(
                        RowRef::new(Slot::DocView, id.0.as_bytes())
                            .seq(ctr_of(ctr)?)
                            .extra(&vh),
                        &sealed,
                        "document view",
                    )?,
                ),
                _ => None,
            };
            out.push((id, view));
        }
        Ok(out)
    }

    /// Authenticate every stored view, stale or not (for [`Store::verify`]).
    pub(crate) fn verify_views(&self) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare("SELECT doc_id, heads_hash, view, ctr FROM doc_views")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: Vec<u8> = r.get(0)?;
            let heads: Vec<u8> = r.get(1)?;
            let sealed: Vec<u8> = r.get(2)?;
            let ctr = ctr_of(r.get(3)?)?;
            self.keys.seal.open(
                RowRef::new(Slot::DocView, &id).seq(ctr).extra(&heads),
                &sealed,
                "document view",
            )?;
        }
        Ok(())
    }

    /// The stored heads hash of document `id`.
    pub fn heads_hash_of(&self, id: DocId) -> Result<HeadsHash> {
        self.doc_info(id).map(|i| i.heads_hash)
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};
    use polku_core::{DocId, DocKind, UserId};

    use crate::{KdfParams, NewUser, Store, heads_hash};

    fn store(dir: &std::path::Path) -> Store {
        Store::create(
            dir,
            NewUser {
                user_id: UserId::new(),
                login: "viewer",
                password: "pw",
                kdf: KdfParams::INSECURE_FOR_TESTS,
            },
        )
        .expect("create")
    }

    #[test]
    fn views_are_returned_only_while_fresh() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store(dir.path());
        let id = DocId(uuid::Uuid::now_v7());
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "n", 1).expect("put");
        let hh = store
            .create_doc(id, DocKind::Client, &doc.save())
            .expect("create");
        assert_eq!(store.get_view(id).expect("get"), None);
        store.put_view(id, hh, b"view-one").expect("put view");
        assert_eq!(store.get_view(id).expect("get"), Some(b"view-one".to_vec()));
        let views = store.load_views(DocKind::Client).expect("views");
        assert_eq!(views, vec![(id, Some(b"view-one".to_vec()))]);

        // A new change makes the view stale.
        let before = doc.get_heads();
        doc.put(ROOT, "n", 2).expect("put");
        let change = doc.save_after(&before);
        store
            .append_change(id, &change, &doc.get_heads())
            .expect("append");
        assert_eq!(store.get_view(id).expect("get"), None);
        assert_eq!(
            store.load_views(DocKind::Client).expect("views"),
            vec![(id, None)]
        );
        store
            .put_view(id, heads_hash(&doc.get_heads()), b"view-two")
            .expect("put view");
        assert_eq!(store.get_view(id).expect("get"), Some(b"view-two".to_vec()));

        // Deleting the document deletes its view; a view needs its document.
        assert!(store.delete_doc(id).expect("delete"));
        assert!(store.put_view(id, hh, b"x").is_err());
        assert!(store.load_views(DocKind::Client).expect("views").is_empty());
    }
}
