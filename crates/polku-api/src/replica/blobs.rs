//! Attachment files (liitteet) for the sync session (`polku_sync`'s blob
//! messages): which files this store lacks, reading files for a peer, and
//! storing received ones after checking them.
//!
//! - **References.** The store's `attachment_refs` table says which record
//!   document references which file (kept where record documents are
//!   written: [`crate::Session::add_attachment`] and its delete, and every
//!   record document saved from a sync). A store from before that table is
//!   filled once, when it first becomes a replica.
//! - **Scope.** A hub gives a laptop a file only if the laptop's user gets
//!   the referencing record document (the same rule as documents), and asks
//!   a laptop only for files of documents that laptop may hold. A laptop
//!   gives its hub any file it holds.
//! - **Checks.** A received file must be one this store references and does
//!   not hold, at most [`polku_core::limits::MAX_ATTACHMENT_BYTES`], and match
//!   the size and BLAKE3 digest of this store's own reference; it is
//!   encrypted into a temporary file as it arrives and only then moved into
//!   place ([`polku_store::Store::finish_attachment`]). What a cut session
//!   left unfinished is dropped with the replica.
//! - **Deletion.** A reference removed by a peer (an attachment deleted on
//!   another device) deletes the local file; so does a record document
//!   revoked from this laptop.

use std::io::{Read, Write};

use polku_core::doc::RecordDoc;
use polku_core::model::{AttachmentRef, ClientRecord};
use polku_core::{AttachmentId, DocId, DocKind};
use polku_store::{AttachmentReader, AttachmentWriter, StoreError};
use polku_sync::protocol::BlobChunk;
use polku_sync::{BlobPiece, BlobWritten, Peer, ReplicaError};

use super::scope::{DocScope, scope_of};
use super::{SyncReplica, storage};
use crate::meta_keys::ATTACHMENT_REFS_META;
use crate::views;

/// The references of a record document: (file, size).
pub(crate) fn refs_of(record: &ClientRecord) -> Vec<(AttachmentId, u64)> {
    record
        .attachments
        .values()
        .map(|a| (a.id, a.size))
        .collect()
}

/// A file being sent: where its reader is.
#[derive(Debug)]
pub(super) struct Outgoing {
    id: AttachmentId,
    pos: u64,
    reader: AttachmentReader,
}

fn digest_of(reference: &AttachmentRef) -> Option<[u8; 32]> {
    let hex = reference.blake3_hex.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

impl SyncReplica {
    /// Fills the store's attachment references from the record documents
    /// once (stores from before schema v7).
    pub(super) fn ensure_attachment_refs(&mut self) -> Result<(), ReplicaError> {
        if self.refs_ready {
            return Ok(());
        }
        let store = &self.session.store;
        if store
            .get_meta(ATTACHMENT_REFS_META)
            .map_err(storage)?
            .is_some()
        {
            self.refs_ready = true;
            return Ok(());
        }
        let mut all = Vec::new();
        for (id, _, _) in store
            .list_doc_heads()
            .map_err(storage)?
            .into_iter()
            .filter(|(_, kind, _)| *kind == DocKind::ClientRecord)
        {
            if let Some(record) = self.record_now(id)? {
                all.push((id, refs_of(&record)));
            }
        }
        let store = &self.session.store;
        store
            .batch(|b| {
                for (id, refs) in &all {
                    b.set_attachment_refs(*id, refs)?;
                }
                b.put_meta(ATTACHMENT_REFS_META, b"1")
            })
            .map_err(storage)?;
        self.refs_ready = true;
        Ok(())
    }

    /// A record document as stored now (its view, else the document);
    /// `None` if it is not held or cannot be read.
    fn record_now(&self, id: DocId) -> Result<Option<ClientRecord>, ReplicaError> {
        let store = &self.session.store;
        match store.get_view(id) {
            Ok(Some(bytes)) => {
                if let Some(record) = views::decode::<ClientRecord>(&bytes) {
                    return Ok(Some(record));
                }
            }
            Ok(None) => {}
            Err(StoreError::DocNotFound(_)) => return Ok(None),
            Err(StoreError::Corrupt { .. }) => {}
            Err(e) => return Err(storage(e)),
        }
        match store.load_doc(id) {
            Ok(doc) => Ok(RecordDoc::from_automerge(doc)
                .ok()
                .and_then(|d| d.get().ok())),
            Err(StoreError::DocNotFound(_) | StoreError::Corrupt { .. }) => Ok(None),
            Err(e) => Err(storage(e)),
        }
    }

    /// Whether the peer may have the files of record document `doc`: any
    /// on a laptop (its peer is its hub); on a hub, if the peer's user gets
    /// the document.
    fn peer_may_have(&mut self, peer: &Peer, doc: DocId) -> Result<bool, ReplicaError> {
        if !self.hub {
            return Ok(true);
        }
        let Some((user, rights)) = self.peer_user(peer) else {
            return Ok(false);
        };
        let Some(scope) = self.fresh_scope(doc)? else {
            return Ok(false);
        };
        Ok(Self::may_view(
            &user,
            &rights,
            DocKind::ClientRecord,
            &scope,
        ))
    }

    pub(super) fn wants(
        &mut self,
        peer: &Peer,
        limit: usize,
    ) -> Result<Vec<AttachmentId>, ReplicaError> {
        self.ensure_attachment_refs()?;
        let wanted = self
            .session
            .store
            .wanted_attachments(if self.hub { usize::MAX } else { limit })
            .map_err(storage)?;
        let mut out = Vec::new();
        for w in wanted {
            if out.len() >= limit {
                break;
            }
            if w.size <= polku_core::limits::MAX_ATTACHMENT_BYTES
                && self.peer_may_have(peer, w.doc)?
            {
                out.push(w.id);
            }
        }
        Ok(out)
    }

    pub(super) fn read_piece(
        &mut self,
        peer: &Peer,
        id: AttachmentId,
        offset: u64,
        max: usize,
    ) -> Result<Option<BlobPiece>, ReplicaError> {
        self.ensure_attachment_refs()?;
        let store = &self.session.store;
        let Some((doc, _)) = store.attachment_doc(id).map_err(storage)? else {
            return Ok(None);
        };
        if !self.peer_may_have(peer, doc)? {
            return Ok(None);
        }
        let reusable = self
            .outgoing
            .as_ref()
            .is_some_and(|o| o.id == id && o.pos == offset);
        if !reusable {
            self.outgoing = None;
            let mut reader = match self.session.store.open_attachment(id) {
                Ok(r) => r,
                Err(StoreError::AttachmentNotFound(_) | StoreError::Corrupt { .. }) => {
                    return Ok(None);
                }
                Err(e) => return Err(storage(e)),
            };
            // Pieces come in order; a restart from elsewhere skips ahead.
            if offset > 0
                && std::io::copy(&mut (&mut reader).take(offset), &mut std::io::sink()).ok()
                    != Some(offset)
            {
                return Ok(None);
            }
            self.outgoing = Some(Outgoing {
                id,
                pos: offset,
                reader,
            });
        }
        let Some(out) = self.outgoing.as_mut() else {
            return Ok(None);
        };
        let total = out.reader.info().size;
        let want = usize::try_from(total.saturating_sub(offset))
            .unwrap_or(usize::MAX)
            .min(max);
        let mut data = vec![0u8; want];
        let mut filled = 0;
        while filled < want {
            match out.reader.read(&mut data[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // Damaged on disk (or not what was recorded): not offered.
                Err(_) => {
                    self.outgoing = None;
                    return Ok(None);
                }
            }
        }
        if filled < want {
            self.outgoing = None;
            return Ok(None);
        }
        out.pos += filled as u64;
        if out.pos == total {
            // Read to the end once more so the reader checks the digest.
            let mut end = [0u8; 1];
            if !matches!(out.reader.read(&mut end), Ok(0)) {
                self.outgoing = None;
                return Ok(None);
            }
            self.outgoing = None;
        }
        Ok(Some(BlobPiece { total, data }))
    }

    pub(super) fn write_piece(
        &mut self,
        _peer: &Peer,
        chunk: &BlobChunk,
    ) -> Result<BlobWritten, ReplicaError> {
        let store = &self.session.store;
        if chunk.offset == 0 {
            self.incoming.remove(&chunk.id);
            let Some((doc, size)) = store.attachment_doc(chunk.id).map_err(storage)? else {
                return Ok(BlobWritten::Rejected);
            };
            if size != chunk.total || size > polku_core::limits::MAX_ATTACHMENT_BYTES {
                return Ok(BlobWritten::Rejected);
            }
            let Some(expected) = self
                .record_now(doc)?
                .and_then(|r| r.attachments.get(&chunk.id).and_then(digest_of))
            else {
                return Ok(BlobWritten::Rejected);
            };
            let writer = match store.begin_attachment(chunk.id) {
                Ok(w) => w,
                Err(StoreError::AttachmentExists(_)) => return Ok(BlobWritten::Rejected),
                Err(e) => return Err(storage(e)),
            };
            self.incoming.insert(chunk.id, (writer, expected));
        }
        let Some((writer, _)) = self.incoming.get_mut(&chunk.id) else {
            return Ok(BlobWritten::Rejected);
        };
        if writer.written() != chunk.offset {
            self.incoming.remove(&chunk.id);
            return Ok(BlobWritten::Rejected);
        }
        writer.write_all(&chunk.data).map_err(storage)?;
        if !chunk.is_last() {
            return Ok(BlobWritten::Partial);
        }
        let Some((writer, digest)) = self.incoming.remove(&chunk.id) else {
            return Ok(BlobWritten::Rejected);
        };
        let writer: AttachmentWriter = writer;
        match self
            .session
            .store
            .finish_attachment(writer, Some((chunk.total, digest)))
        {
            Ok(_) => Ok(BlobWritten::Stored),
            Err(StoreError::AttachmentMismatch(_) | StoreError::AttachmentExists(_)) => {
                Ok(BlobWritten::Rejected)
            }
            Err(e) => Err(storage(e)),
        }
    }

    /// The scope facts of a document as stored now (the cache refreshed for
    /// it and, for a record document, its client's), resolved.
    fn fresh_scope(&mut self, doc: DocId) -> Result<Option<DocScope>, ReplicaError> {
        self.cache_scope(doc)?;
        if let Some(of) = self
            .scopes
            .get(&doc)
            .and_then(|(_, s)| s.as_ref())
            .and_then(|s| s.of)
        {
            self.cache_scope(of)?;
        }
        Ok(self.resolved_scope(doc).cloned())
    }

    fn cache_scope(&mut self, id: DocId) -> Result<(), ReplicaError> {
        let store = &self.session.store;
        let info = match store.doc_info(id) {
            Ok(info) => info,
            Err(StoreError::DocNotFound(_)) => {
                self.scopes.remove(&id);
                return Ok(());
            }
            Err(e) => return Err(storage(e)),
        };
        if self
            .scopes
            .get(&id)
            .is_some_and(|(hh, _)| *hh == info.heads_hash)
        {
            return Ok(());
        }
        let scope = match store.load_doc(id) {
            Ok(doc) => scope_of(info.kind, doc),
            Err(StoreError::Corrupt { .. }) => None,
            Err(e) => return Err(storage(e)),
        };
        self.scopes.insert(id, (info.heads_hash, scope));
        Ok(())
    }

    /// Deletes the files of references that are gone (after their commit).
    pub(super) fn delete_files(&mut self, ids: &[AttachmentId]) -> Result<(), ReplicaError> {
        for id in ids {
            self.session.store.delete_attachment(*id).map_err(storage)?;
        }
        Ok(())
    }
}
