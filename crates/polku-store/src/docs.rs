//! Automerge documents: a sealed snapshot per document plus sealed
//! incremental change rows.
//!
//! Saving an edit appends one sealed change row (it never re-encrypts the
//! whole document); loading decrypts the snapshot and applies the change
//! rows in `seq` order; [`Store::compact`] folds the change rows into a new
//! snapshot in one transaction.
//!
//! Each document's *heads hash* (blake3 of its sorted heads) is plaintext
//! metadata for sync reconciliation, and is checked on every load: a missing
//! or extra change row shows up as [`StoreError::Corrupt`].

use std::cell::RefCell;
use std::fmt;
use std::thread;

use automerge::{AutoCommit, Automerge, ChangeHash};
use polku_core::{DocId, DocKind};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use uuid::Uuid;

use crate::Store;
use crate::anchor::{self, Anchor, DocState};
use crate::crypto::{RowRef, Slot, StoreKeys};
use crate::error::{Result, StoreError};

pub use polku_core::heads::{HeadsHash, heads_hash};

/// A stored document as bytes to send whole. See [`Store::export_doc`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedBytes {
    /// Its kind.
    pub kind: DocKind,
    /// Its snapshot followed by its change rows, decrypted.
    pub bytes: Vec<u8>,
    /// Its heads.
    pub heads: Vec<ChangeHash>,
}

/// The heads a saved Automerge document names in its header (the first
/// chunk's), without loading it; `None` if `bytes` do not start with a
/// document chunk whose header parses. The caller checks them against what
/// it knows (a wrong guess costs a load, never a wrong answer).
fn document_heads(bytes: &[u8]) -> Option<Vec<ChangeHash>> {
    const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
    const DOCUMENT_CHUNK: u8 = 0;
    let mut input = bytes;
    let magic = input.get(..4)?;
    if magic != MAGIC || *input.get(8)? != DOCUMENT_CHUNK {
        return None;
    }
    input = &input[9..];
    let _chunk_len = leb128::read::unsigned(&mut input).ok()?;
    let actors = leb128::read::unsigned(&mut input).ok()?;
    for _ in 0..actors {
        let len = usize::try_from(leb128::read::unsigned(&mut input).ok()?).ok()?;
        input = input.get(len..)?;
    }
    let count = usize::try_from(leb128::read::unsigned(&mut input).ok()?).ok()?;
    if count > input.len() / 32 {
        return None;
    }
    let mut heads = Vec::with_capacity(count);
    for _ in 0..count {
        let raw: [u8; 32] = input.get(..32)?.try_into().ok()?;
        heads.push(ChangeHash(raw));
        input = &input[32..];
    }
    Some(heads)
}

/// Plaintext metadata of one stored document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocInfo {
    /// Document id.
    pub id: DocId,
    /// Document kind.
    pub kind: DocKind,
    /// Heads hash of the stored state.
    pub heads_hash: HeadsHash,
    /// Number of compactions so far.
    pub generation: u64,
    /// Change rows waiting to be compacted.
    pub change_rows: u64,
    /// Bytes on disk (sealed snapshot and change rows).
    pub stored_bytes: u64,
}

pub(crate) fn doc_id_from(raw: &[u8]) -> Result<DocId> {
    Uuid::from_slice(raw)
        .map(DocId)
        .map_err(|_| StoreError::corrupt("document id"))
}

pub(crate) fn kind_from(code: i64) -> Result<DocKind> {
    u8::try_from(code)
        .ok()
        .and_then(DocKind::from_code)
        .ok_or(StoreError::corrupt("document kind"))
}

fn to_u64(v: i64, what: &'static str) -> Result<u64> {
    u64::try_from(v).map_err(|_| StoreError::corrupt(what))
}

/// A document's rows as read from SQLite, still sealed.
#[derive(Debug)]
pub(crate) struct SealedDoc {
    pub id: DocId,
    pub kind: DocKind,
    pub heads_hash: [u8; 32],
    pub generation: u64,
    pub snapshot: Vec<u8>,
    pub changes: Vec<(u64, Vec<u8>)>,
}

impl SealedDoc {
    fn snapshot_row<'a>(id: &'a [u8], generation: u64, kind: &'a [u8; 1]) -> RowRef<'a> {
        RowRef::new(Slot::DocSnapshot, id)
            .seq(generation)
            .extra(kind)
    }

    /// Decrypt the snapshot and every change row (no Automerge): returns the
    /// plaintext snapshot and the concatenated changes.
    pub fn decrypt(&self, keys: &StoreKeys) -> Result<(Vec<u8>, Vec<u8>)> {
        let id = self.id.0.as_bytes();
        let kind = [self.kind.code()];
        let snapshot = keys.seal.open(
            Self::snapshot_row(id, self.generation, &kind),
            &self.snapshot,
            "document snapshot",
        )?;
        let mut changes = Vec::new();
        for (seq, sealed) in &self.changes {
            keys.seal.open_into(
                RowRef::new(Slot::DocChange, id).seq(*seq),
                sealed,
                "document change",
                &mut changes,
            )?;
        }
        Ok((snapshot, changes))
    }

    /// Decrypt the snapshot and each change row into separate buffers
    /// (snapshot first), for benchmarks.
    #[cfg(feature = "bench-internals")]
    pub fn decrypt_each(&self, keys: &StoreKeys) -> Result<Vec<Vec<u8>>> {
        let id = self.id.0.as_bytes();
        let kind = [self.kind.code()];
        let mut out = Vec::with_capacity(1 + self.changes.len());
        out.push(keys.seal.open(
            Self::snapshot_row(id, self.generation, &kind),
            &self.snapshot,
            "document snapshot",
        )?);
        for (seq, sealed) in &self.changes {
            out.push(keys.seal.open(
                RowRef::new(Slot::DocChange, id).seq(*seq),
                sealed,
                "document change",
            )?);
        }
        Ok(out)
    }

    /// Decrypt and load into Automerge, checking the heads hash.
    pub fn decode(&self, keys: &StoreKeys) -> Result<AutoCommit> {
        let (snapshot, changes) = self.decrypt(keys)?;
        let mut doc =
            AutoCommit::load(&snapshot).map_err(|_| StoreError::corrupt("document snapshot"))?;
        if !changes.is_empty() {
            doc.load_incremental(&changes)
                .map_err(|_| StoreError::corrupt("document change"))?;
        }
        if heads_hash(&doc.get_heads()).0 != self.heads_hash {
            return Err(StoreError::corrupt("document heads"));
        }
        Ok(doc)
    }
}

/// What [`Store::doc_heads_since`] read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocHeadsSince {
    /// The documents written after the counter given (all, if none was),
    /// ascending by id: id, kind, heads hash.
    pub docs: Vec<(DocId, DocKind, HeadsHash)>,
    /// How many documents the store holds.
    pub count: u64,
    /// The highest write counter of any document (0 if there is none).
    pub max_ctr: u64,
}

/// Runs `f` on one consistent snapshot of the database: in a read
/// transaction of its own unless `conn` is already in a transaction. A
/// document is read in two statements (its row, then its change rows);
/// another connection committing between them would otherwise show a heads
/// hash that does not match the changes read.
pub(crate) fn in_snapshot<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T>,
) -> Result<T> {
    if !conn.is_autocommit() {
        return f(conn);
    }
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Deferred)?;
    // Dropping the transaction rolls it back: it only read.
    f(&tx)
}

/// Read one document's sealed rows (from one snapshot).
pub(crate) fn read_sealed(conn: &Connection, id: DocId) -> Result<SealedDoc> {
    in_snapshot(conn, |conn| read_sealed_in(conn, id))
}

fn read_sealed_in(conn: &Connection, id: DocId) -> Result<SealedDoc> {
    let raw_id = id.0.as_bytes().as_slice();
    let row = conn
        .prepare_cached("SELECT kind, heads_hash, generation, snapshot FROM docs WHERE id = ?1")?
        .query_row([raw_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, [u8; 32]>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Vec<u8>>(3)?,
            ))
        })
        .optional()?;
    let (kind, heads, generation, snapshot) = row.ok_or(StoreError::DocNotFound(id))?;
    let mut stmt =
        conn.prepare_cached("SELECT seq, change FROM doc_changes WHERE doc_id = ?1 ORDER BY seq")?;
    let mut rows = stmt.query([raw_id])?;
    let mut changes = Vec::new();
    while let Some(r) = rows.next()? {
        changes.push((to_u64(r.get(0)?, "change sequence")?, r.get(1)?));
    }
    Ok(SealedDoc {
        id,
        kind: kind_from(kind)?,
        heads_hash: heads,
        generation: to_u64(generation, "document generation")?,
        snapshot,
        changes,
    })
}

/// Read the sealed rows of every document of `kind` with two sequential
/// scans (documents by id, their changes by id and seq) merged in order,
/// from one snapshot.
pub(crate) fn read_all_sealed(conn: &Connection, kind: DocKind) -> Result<Vec<SealedDoc>> {
    in_snapshot(conn, |conn| read_all_sealed_in(conn, kind))
}

fn read_all_sealed_in(conn: &Connection, kind: DocKind) -> Result<Vec<SealedDoc>> {
    let code = i64::from(kind.code());
    let mut docs = Vec::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT id, heads_hash, generation, snapshot FROM docs WHERE kind = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([code])?;
        while let Some(r) = rows.next()? {
            docs.push(SealedDoc {
                id: doc_id_from(&r.get::<_, Vec<u8>>(0)?)?,
                kind,
                heads_hash: r.get(1)?,
                generation: to_u64(r.get(2)?, "document generation")?,
                snapshot: r.get(3)?,
                changes: Vec::new(),
            });
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT c.doc_id, c.seq, c.change FROM docs d JOIN doc_changes c ON c.doc_id = d.id
         WHERE d.kind = ?1 ORDER BY c.doc_id, c.seq",
    )?;
    let mut rows = stmt.query([code])?;
    let mut i = 0;
    while let Some(r) = rows.next()? {
        let id = doc_id_from(&r.get::<_, Vec<u8>>(0)?)?;
        // Both scans are in id order (BLOB order is byte order).
        while i < docs.len() && docs[i].id.0.as_bytes() < id.0.as_bytes() {
            i += 1;
        }
        let doc = docs
            .get_mut(i)
            .filter(|d| d.id == id)
            .ok_or(StoreError::corrupt("document change"))?;
        doc.changes
            .push((to_u64(r.get(1)?, "change sequence")?, r.get(2)?));
    }
    Ok(docs)
}

/// Decode many documents on all cores (plain scoped threads).
pub(crate) fn decode_parallel(
    keys: &StoreKeys,
    docs: &[SealedDoc],
) -> Result<Vec<(DocId, AutoCommit)>> {
    decode_map_parallel(keys, docs, &|_, doc| doc)
}

/// Decodes sealed documents on all cores and maps each one with `f` as soon
/// as it is decoded (so at most one decoded document per thread is held).
pub(crate) fn decode_map_parallel<T: Send>(
    keys: &StoreKeys,
    docs: &[SealedDoc],
    f: &(dyn Fn(DocId, AutoCommit) -> T + Sync),
) -> Result<Vec<(DocId, T)>> {
    let threads = thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    let one = |d: &SealedDoc| -> Result<(DocId, T)> { Ok((d.id, f(d.id, d.decode(keys)?))) };
    if threads <= 1 || docs.len() < 16 {
        return docs.iter().map(one).collect();
    }
    let chunk = docs.len().div_ceil(threads);
    thread::scope(|s| {
        let handles: Vec<_> = docs
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(one).collect::<Result<Vec<_>>>()))
            .collect();
        let mut out = Vec::with_capacity(docs.len());
        for h in handles {
            let part = h
                .join()
                .map_err(|_| StoreError::corrupt("document (decoder panicked)"))??;
            out.extend(part);
        }
        Ok(out)
    })
}

/// A row covered by the rollback anchor, as read before it is deleted.
#[derive(Debug)]
pub(crate) struct AnchoredRow {
    slot: Slot,
    id: Vec<u8>,
    ctr: u64,
    extra: Vec<u8>,
}

/// A write transaction: group many writes into one durable commit (one
/// fsync). Obtained from [`Store::batch`]; rolled back if the closure fails.
pub struct Batch<'s> {
    pub(crate) tx: Transaction<'s>,
    pub(crate) keys: &'s StoreKeys,
    /// The rollback anchor, read at the first mutable-row write and written
    /// back just before the commit (`src/anchor.rs`).
    anchor: RefCell<Option<Anchor>>,
}

impl fmt::Debug for Batch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Batch(..)")
    }
}

impl<'s> Batch<'s> {
    pub(crate) fn new(tx: Transaction<'s>, keys: &'s StoreKeys) -> Self {
        Batch {
            tx,
            keys,
            anchor: RefCell::new(None),
        }
    }

    /// Run `f` on this transaction's anchor (read on first use).
    pub(crate) fn with_anchor<T>(&self, f: impl FnOnce(&mut Anchor, &StoreKeys) -> T) -> Result<T> {
        let mut slot = self.anchor.borrow_mut();
        if slot.is_none() {
            *slot = Some(Anchor::load(&self.tx, self.keys)?);
        }
        let Some(anchor) = slot.as_mut() else {
            return Err(anchor::rolled_back());
        };
        Ok(f(anchor, self.keys))
    }

    /// Write the anchor (if a mutable row changed) and commit. Returns
    /// whether a mutable row changed (call [`Store::commit_batch`] on a
    /// store's own batches, which counts them in its write mark).
    pub(crate) fn commit(self) -> Result<bool> {
        let touched = match self.anchor.into_inner() {
            Some(mut a) => {
                a.store(&self.tx, self.keys)?;
                true
            }
            None => false,
        };
        self.tx.commit()?;
        Ok(touched)
    }

    /// The anchored rows of every document matched by `filter` (SQL over
    /// `docs d`, one parameter): the document rows, their index entries and
    /// views. Read before those documents are deleted (the rows go by
    /// cascade), then passed to [`Batch::forget`].
    pub(crate) fn mutable_rows_of_docs(
        &self,
        filter: &str,
        param: &dyn rusqlite::ToSql,
    ) -> Result<Vec<AnchoredRow>> {
        let mut gone: Vec<AnchoredRow> = Vec::new();
        {
            let mut stmt = self.tx.prepare_cached(&format!(
                "SELECT d.id, d.ctr, d.heads_hash, d.generation, d.next_seq FROM docs d
                 WHERE {filter}"
            ))?;
            let mut rows = stmt.query([param])?;
            while let Some(r) = rows.next()? {
                let state = DocState::from_row(r, 1)?;
                gone.push(AnchoredRow {
                    slot: Slot::DocSnapshot,
                    id: r.get(0)?,
                    ctr: state.ctr,
                    extra: state.extra().to_vec(),
                });
            }
        }
        for (slot, table) in [
            (Slot::IndexEntry, "search_index"),
            (Slot::DocView, "doc_views"),
        ] {
            let mut stmt = self.tx.prepare_cached(&format!(
                "SELECT t.doc_id, t.ctr FROM {table} t JOIN docs d ON d.id = t.doc_id WHERE {filter}"
            ))?;
            let mut rows = stmt.query([param])?;
            while let Some(r) = rows.next()? {
                gone.push(AnchoredRow {
                    slot,
                    id: r.get(0)?,
                    ctr: anchor::ctr_of(r.get(1)?)?,
                    extra: Vec::new(),
                });
            }
        }
        Ok(gone)
    }

    /// XOR the tags of deleted anchored rows out of the anchor.
    pub(crate) fn forget(&self, gone: &[AnchoredRow]) -> Result<()> {
        if !gone.is_empty() {
            self.with_anchor(|a, keys| {
                for g in gone {
                    a.toggle(keys, g.slot, &g.id, g.ctr, &g.extra);
                }
            })?;
        }
        Ok(())
    }

    /// The anchor-relevant state of document `id`'s row.
    pub(crate) fn doc_state(&self, id: DocId) -> Result<DocState> {
        self.tx
            .prepare_cached("SELECT ctr, heads_hash, generation, next_seq FROM docs WHERE id = ?1")?
            .query_row([id.0.as_bytes().as_slice()], |r| {
                Ok(DocState::from_row(r, 0))
            })
            .optional()?
            .ok_or(StoreError::DocNotFound(id))?
    }

    /// Update the anchor for document `id`'s row changing from `old` (none
    /// for a new document) to `new`.
    pub(crate) fn doc_replaced(
        &self,
        id: DocId,
        old: Option<&DocState>,
        new: &DocState,
    ) -> Result<()> {
        let raw = id.0.as_bytes();
        self.with_anchor(|a, keys| {
            if let Some(old) = old {
                a.toggle(keys, Slot::DocSnapshot, raw, old.ctr, &old.extra());
            }
            a.toggle(keys, Slot::DocSnapshot, raw, new.ctr, &new.extra());
        })
    }

    /// Store a new document from its full save (`Automerge::save`). The
    /// bytes are loaded once to validate them and compute the heads hash.
    pub fn create_doc(&self, id: DocId, kind: DocKind, full_save: &[u8]) -> Result<HeadsHash> {
        let doc = Automerge::load(full_save).map_err(|_| StoreError::InvalidDocument)?;
        self.insert_doc(id, kind, full_save, &doc.get_heads())
    }

    /// Store a new document from bytes already loaded and checked (a whole
    /// document received from a peer), stored as they are: `heads` are the
    /// heads `AutoCommit::load` gave them.
    pub fn create_doc_saved(
        &self,
        id: DocId,
        kind: DocKind,
        full_save: &[u8],
        heads: &[ChangeHash],
    ) -> Result<HeadsHash> {
        self.insert_doc(id, kind, full_save, heads)
    }

    /// Store a new document from an in-memory Automerge document.
    pub fn create_doc_from(&self, id: DocId, kind: DocKind, doc: &Automerge) -> Result<HeadsHash> {
        self.insert_doc(id, kind, &doc.save(), &doc.get_heads())
    }

    fn insert_doc(
        &self,
        id: DocId,
        kind: DocKind,
        full_save: &[u8],
        heads: &[ChangeHash],
    ) -> Result<HeadsHash> {
        let hh = heads_hash(heads);
        let raw_id = id.0.as_bytes();
        let kind_code = [kind.code()];
        let sealed = self
            .keys
            .seal
            .seal(SealedDoc::snapshot_row(raw_id, 0, &kind_code), full_save)?;
        let ctr = self.with_anchor(|a, _| a.next())?;
        let n = self
            .tx
            .prepare_cached(
                "INSERT INTO docs (id, kind, heads_hash, generation, next_seq, snapshot, ctr)
             VALUES (?1, ?2, ?3, 0, 1, ?4, ?5) ON CONFLICT (id) DO NOTHING",
            )?
            .execute(params![
                raw_id.as_slice(),
                i64::from(kind.code()),
                hh.0.as_slice(),
                sealed,
                ctr as i64
            ])?;
        if n == 0 {
            return Err(StoreError::DocExists(id));
        }
        let state = DocState {
            ctr,
            heads: hh.0,
            generation: 0,
            next_seq: 1,
        };
        self.doc_replaced(id, None, &state)?;
        Ok(hh)
    }

    /// Append incremental Automerge bytes (`save_after`, `save_incremental`,
    /// or changes received by sync) as one sealed change row. `heads_after`
    /// are the document's heads once these changes are applied; they become
    /// the stored heads hash, which every load checks. Returns the row's
    /// sequence number.
    pub fn append_change(
        &self,
        id: DocId,
        incremental: &[u8],
        heads_after: &[ChangeHash],
    ) -> Result<u64> {
        if incremental.is_empty() {
            return Err(StoreError::InvalidInput {
                what: "empty change",
            });
        }
        #[cfg(feature = "tamper")]
        crate::write_hook::note_change_appended();
        let raw_id = id.0.as_bytes();
        let hh = heads_hash(heads_after);
        let old = self.doc_state(id)?;
        let seq = old.next_seq;
        let new = DocState {
            ctr: self.with_anchor(|a, _| a.next())?,
            heads: hh.0,
            next_seq: seq + 1,
            ..old
        };
        self.tx
            .prepare_cached(
                "UPDATE docs SET next_seq = ?3, heads_hash = ?2, ctr = ?4 WHERE id = ?1",
            )?
            .execute(params![
                raw_id.as_slice(),
                hh.0.as_slice(),
                new.next_seq as i64,
                new.ctr as i64
            ])?;
        self.doc_replaced(id, Some(&old), &new)?;
        let sealed = self
            .keys
            .seal
            .seal(RowRef::new(Slot::DocChange, raw_id).seq(seq), incremental)?;
        self.tx
            .prepare_cached("INSERT INTO doc_changes (doc_id, seq, change) VALUES (?1, ?2, ?3)")?
            .execute(params![raw_id.as_slice(), seq as i64, sealed])?;
        Ok(seq)
    }

    /// Append the changes `doc` made since `since` (its heads when it was
    /// loaded or last saved). Returns `None` if there were none.
    pub fn save_changes(
        &self,
        id: DocId,
        doc: &Automerge,
        since: &[ChangeHash],
    ) -> Result<Option<u64>> {
        let bytes = doc.save_after(since);
        if bytes.is_empty() {
            return Ok(None);
        }
        self.append_change(id, &bytes, &doc.get_heads()).map(Some)
    }

    /// Delete a document with all its history, index entry and view inside
    /// this transaction (erasure: with the tombstone and its audit entry).
    /// Returns whether it existed. Call [`Store::checkpoint`] after the
    /// commit so the erased ciphertext also leaves the write-ahead log.
    pub fn delete_doc(&self, id: DocId) -> Result<bool> {
        let gone = self.mutable_rows_of_docs("d.id = ?1", &id.0.as_bytes().as_slice())?;
        let n = self
            .tx
            .prepare_cached("DELETE FROM docs WHERE id = ?1")?
            .execute([id.0.as_bytes().as_slice()])?;
        self.forget(&gone)?;
        // Every peer's sync state of it goes with it, and its attachment
        // references (the caller deletes the files: Store::attachments_of_doc).
        self.delete_sync_states_of(id)?;
        self.delete_attachment_refs_of(id)?;
        Ok(n > 0)
    }
}

impl Store {
    /// Run `f` in one write transaction (one fsync for all its writes).
    /// Nothing is written if `f` fails.
    pub fn batch<T>(&self, f: impl FnOnce(&Batch<'_>) -> Result<T>) -> Result<T> {
        let batch = Batch::new(self.write_tx()?, &self.keys);
        #[cfg(feature = "tamper")]
        let appended_before = crate::write_hook::changes_appended();
        let out = f(&batch)?;
        #[cfg(feature = "tamper")]
        let changed = crate::write_hook::changes_appended() != appended_before;
        #[cfg(feature = "tamper")]
        if changed {
            crate::write_hook::at(crate::write_hook::WritePoint::BeforeCommit);
        }
        self.commit_batch(batch)?;
        #[cfg(feature = "tamper")]
        if changed {
            crate::write_hook::at(crate::write_hook::WritePoint::AfterCommit);
        }
        Ok(out)
    }

    /// Store a new document from its full save. See [`Batch::create_doc`].
    pub fn create_doc(&self, id: DocId, kind: DocKind, full_save: &[u8]) -> Result<HeadsHash> {
        self.batch(|b| b.create_doc(id, kind, full_save))
    }

    /// Store a new in-memory document. See [`Batch::create_doc_from`].
    pub fn create_doc_from(&self, id: DocId, kind: DocKind, doc: &Automerge) -> Result<HeadsHash> {
        self.batch(|b| b.create_doc_from(id, kind, doc))
    }

    /// Append one sealed change row. See [`Batch::append_change`].
    pub fn append_change(
        &self,
        id: DocId,
        incremental: &[u8],
        heads_after: &[ChangeHash],
    ) -> Result<u64> {
        self.batch(|b| b.append_change(id, incremental, heads_after))
    }

    /// Append `doc`'s changes since `since`. See [`Batch::save_changes`].
    pub fn save_changes(
        &self,
        id: DocId,
        doc: &Automerge,
        since: &[ChangeHash],
    ) -> Result<Option<u64>> {
        self.batch(|b| b.save_changes(id, doc, since))
    }

    /// A document as bytes `AutoCommit::load` accepts, to send whole to a
    /// peer: its decrypted snapshot followed by its change rows, with no
    /// Automerge load or save. Its heads come from the snapshot's header
    /// when it has no change rows and they match the stored heads hash;
    /// otherwise the document is loaded once to learn (and check) them.
    pub fn export_doc(&self, id: DocId) -> Result<ExportedBytes> {
        let sealed = read_sealed(&self.conn, id)?;
        let (mut bytes, changes) = sealed.decrypt(&self.keys)?;
        let header_heads = if changes.is_empty() {
            document_heads(&bytes).filter(|h| heads_hash(h).0 == sealed.heads_hash)
        } else {
            None
        };
        let heads = match header_heads {
            Some(h) => h,
            None => {
                bytes.extend_from_slice(&changes);
                let doc = Automerge::load(&bytes)
                    .map_err(|_| StoreError::corrupt("document snapshot"))?;
                let heads = doc.get_heads();
                if heads_hash(&heads).0 != sealed.heads_hash {
                    return Err(StoreError::corrupt("document heads"));
                }
                heads
            }
        };
        Ok(ExportedBytes {
            kind: sealed.kind,
            bytes,
            heads,
        })
    }

    /// Load a document: decrypt its snapshot, apply its change rows in
    /// order, check its heads hash.
    pub fn load_doc(&self, id: DocId) -> Result<AutoCommit> {
        read_sealed(&self.conn, id)?.decode(&self.keys)
    }

    /// Load every document of `kind`, ordered by id: two table scans, then
    /// decryption (cached data key) and Automerge decoding on all cores.
    pub fn load_all(&self, kind: DocKind) -> Result<Vec<(DocId, AutoCommit)>> {
        let sealed = read_all_sealed(&self.conn, kind)?;
        decode_parallel(&self.keys, &sealed)
    }

    /// [`Store::load_all`] mapped: each document of `kind` is handed to `f`
    /// as soon as it is decoded and dropped after, so what is held at once
    /// is the sealed rows and the results, not every loaded document.
    pub fn map_all<T: Send>(
        &self,
        kind: DocKind,
        f: impl Fn(DocId, AutoCommit) -> T + Sync,
    ) -> Result<Vec<(DocId, T)>> {
        let sealed = read_all_sealed(&self.conn, kind)?;
        decode_map_parallel(&self.keys, &sealed, &f)
    }

    /// Replace the snapshot of `id` with a fresh full save and delete its
    /// change rows, in one transaction. Returns `false` if there was nothing
    /// to fold.
    pub fn compact(&self, id: DocId) -> Result<bool> {
        let batch = Batch::new(self.write_tx()?, &self.keys);
        let tx = &batch.tx;
        let sealed = read_sealed(tx, id)?;
        if sealed.changes.is_empty() {
            return Ok(false);
        }
        let mut doc = sealed.decode(&self.keys)?;
        let generation = sealed.generation + 1;
        let raw_id = id.0.as_bytes();
        let kind = [sealed.kind.code()];
        let snapshot = self.keys.seal.seal(
            SealedDoc::snapshot_row(raw_id, generation, &kind),
            &doc.save(),
        )?;
        let old = batch.doc_state(id)?;
        let new = DocState {
            ctr: batch.with_anchor(|a, _| a.next())?,
            generation,
            ..old
        };
        tx.execute(
            "UPDATE docs SET snapshot = ?2, generation = ?3, ctr = ?4 WHERE id = ?1",
            params![
                raw_id.as_slice(),
                snapshot,
                generation as i64,
                new.ctr as i64
            ],
        )?;
        batch.doc_replaced(id, Some(&old), &new)?;
        tx.execute(
            "DELETE FROM doc_changes WHERE doc_id = ?1",
            [raw_id.as_slice()],
        )?;
        self.commit_batch(batch)?;
        Ok(true)
    }

    /// Compact every document with more than `max_change_rows` change rows
    /// (each in its own transaction). Call on close or in the background.
    /// Returns how many documents were compacted.
    pub fn compact_all(&self, max_change_rows: u64) -> Result<usize> {
        let ids: Vec<DocId> = {
            let mut stmt = self
                .conn
                .prepare("SELECT doc_id FROM doc_changes GROUP BY doc_id HAVING count(*) > ?1")?;
            let rows = stmt.query_map([max_change_rows as i64], |r| r.get::<_, Vec<u8>>(0))?;
            rows.map(|r| doc_id_from(&r?)).collect::<Result<_>>()?
        };
        let mut n = 0;
        for id in ids {
            if self.compact(id)? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Delete a document with all its history and its index entry, then
    /// checkpoint so the erased ciphertext also leaves the write-ahead log
    /// (`secure_delete` zeroes the freed pages). Returns whether it existed.
    pub fn delete_doc(&self, id: DocId) -> Result<bool> {
        let deleted = self.batch(|b| b.delete_doc(id))?;
        if deleted {
            self.checkpoint()?;
        }
        Ok(deleted)
    }

    /// Ids of all documents of `kind`, ascending.
    pub fn list_docs(&self, kind: DocKind) -> Result<Vec<DocId>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM docs WHERE kind = ?1 ORDER BY id")?;
        let rows = stmt.query_map([i64::from(kind.code())], |r| r.get::<_, Vec<u8>>(0))?;
        rows.map(|r| doc_id_from(&r?)).collect()
    }

    /// Every document's id and kind, ascending by id.
    pub fn list_all_docs(&self) -> Result<Vec<(DocId, DocKind)>> {
        self.list_doc_heads()
            .map(|v| v.into_iter().map(|(id, kind, _)| (id, kind)).collect())
    }

    /// The documents written (created, changed or compacted) after write
    /// counter `after` (every document for `None`), ascending by id, with
    /// the number of documents and the highest write counter of any, all
    /// read from one snapshot: a list of every document's heads kept from
    /// an earlier call follows the store with the documents written since,
    /// and the count tells whether any was deleted meanwhile.
    pub fn doc_heads_since(&self, after: Option<u64>) -> Result<DocHeadsSince> {
        in_snapshot(&self.conn, |conn| {
            // Two statements: each is answered from an index alone (a
            // count of its entries, the last entry of the counter's).
            let count: i64 = conn
                .prepare_cached("SELECT count(*) FROM docs")?
                .query_row([], |r| r.get(0))?;
            let max_ctr: i64 = conn
                .prepare_cached("SELECT COALESCE(MAX(ctr), 0) FROM docs")?
                .query_row([], |r| r.get(0))?;
            let mut docs = Vec::new();
            let mut push = |r: &rusqlite::Row<'_>| -> Result<()> {
                docs.push((
                    doc_id_from(&r.get::<_, Vec<u8>>(0)?)?,
                    kind_from(r.get(1)?)?,
                    HeadsHash(r.get(2)?),
                ));
                Ok(())
            };
            match after {
                None => {
                    let mut stmt =
                        conn.prepare_cached("SELECT id, kind, heads_hash FROM docs ORDER BY id")?;
                    let mut rows = stmt.query([])?;
                    while let Some(r) = rows.next()? {
                        push(r)?;
                    }
                }
                Some(after) => {
                    let after = i64::try_from(after).unwrap_or(i64::MAX);
                    // By the counter's index (a range of it), not by id
                    // (every row), then in id order here.
                    let mut stmt = conn.prepare_cached(
                        "SELECT id, kind, heads_hash FROM docs INDEXED BY docs_written
                         WHERE ctr > ?1",
                    )?;
                    let mut rows = stmt.query([after])?;
                    while let Some(r) = rows.next()? {
                        push(r)?;
                    }
                    drop(rows);
                    drop(stmt);
                    docs.sort_by_key(|d| d.0);
                }
            }
            Ok(DocHeadsSince {
                docs,
                count: to_u64(count, "document count")?,
                max_ctr: to_u64(max_ctr, "write counter")?,
            })
        })
    }

    /// Every document's id, kind and heads hash (for sync reconciliation).
    pub fn list_doc_heads(&self) -> Result<Vec<(DocId, DocKind, HeadsHash)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, kind, heads_hash FROM docs ORDER BY id")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push((
                doc_id_from(&r.get::<_, Vec<u8>>(0)?)?,
                kind_from(r.get(1)?)?,
                HeadsHash(r.get(2)?),
            ));
        }
        Ok(out)
    }

    /// Plaintext metadata of one document.
    pub fn doc_info(&self, id: DocId) -> Result<DocInfo> {
        self.conn
            .prepare_cached(
                "SELECT kind, heads_hash, generation, length(snapshot),
                        (SELECT count(*) FROM doc_changes WHERE doc_id = d.id),
                        (SELECT coalesce(sum(length(change)), 0) FROM doc_changes
                         WHERE doc_id = d.id)
                 FROM docs d WHERE id = ?1",
            )?
            .query_row([id.0.as_bytes().as_slice()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, [u8; 32]>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })
            .optional()?
            .ok_or(StoreError::DocNotFound(id))
            .and_then(|(kind, hh, generation, snap, rows, bytes)| {
                Ok(DocInfo {
                    id,
                    kind: kind_from(kind)?,
                    heads_hash: HeadsHash(hh),
                    generation: to_u64(generation, "document generation")?,
                    change_rows: to_u64(rows, "change count")?,
                    stored_bytes: to_u64(snap + bytes, "document size")?,
                })
            })
    }
}
