//! Which document references which attachment (schema v7).
//!
//! The caller (polku-api) writes a record document's references whenever it
//! writes the record's view, from local edits and from sync alike, so that:
//! - a device knows which attachment files it still lacks
//!   ([`Store::wanted_attachments`]: a reference without a stored file) and
//!   fetches them from a peer at the next sync;
//! - the hub knows whose scope a requested file belongs to
//!   ([`Store::attachment_doc`]);
//! - a reference removed by a peer (an attachment deleted elsewhere) tells
//!   the caller which local file to delete ([`Batch::set_attachment_refs`]).
//!
//! Rows hold random ids and the plaintext size only; the digest the file is
//! checked against stays in the sealed document. They go with their document
//! ([`Batch::delete_doc`]).

use std::collections::BTreeSet;

use polku_core::{AttachmentId, DocId};
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use crate::Store;
use crate::docs::Batch;
use crate::error::{Result, StoreError};

/// An attachment a document references and this store does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WantedAttachment {
    /// The attachment.
    pub id: AttachmentId,
    /// The document that references it.
    pub doc: DocId,
    /// Its plaintext size, as the reference says.
    pub size: u64,
}

fn attachment_id(bytes: &[u8]) -> Result<AttachmentId> {
    Uuid::from_slice(bytes)
        .map(AttachmentId)
        .map_err(|_| StoreError::corrupt("attachment id"))
}

fn doc_id(bytes: &[u8]) -> Result<DocId> {
    Uuid::from_slice(bytes)
        .map(DocId)
        .map_err(|_| StoreError::corrupt("document id"))
}

fn size_of(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| StoreError::corrupt("attachment size"))
}

impl Batch<'_> {
    /// Replace the attachment references of document `doc` with `refs`
    /// (id, plaintext size). Returns the ids `doc` referenced before and no
    /// longer does: files the caller deletes after the commit. An id that
    /// another document already references is left with that document.
    pub fn set_attachment_refs(
        &self,
        doc: DocId,
        refs: &[(AttachmentId, u64)],
    ) -> Result<Vec<AttachmentId>> {
        let raw_doc = doc.0.as_bytes();
        let before: BTreeSet<AttachmentId> = {
            let mut stmt = self
                .tx
                .prepare_cached("SELECT attachment_id FROM attachment_refs WHERE doc_id = ?1")?;
            let rows = stmt.query_map([raw_doc.as_slice()], |r| r.get::<_, Vec<u8>>(0))?;
            rows.map(|r| attachment_id(&r?)).collect::<Result<_>>()?
        };
        let now: BTreeSet<AttachmentId> = refs.iter().map(|(id, _)| *id).collect();
        let mut delete = self.tx.prepare_cached(
            "DELETE FROM attachment_refs WHERE attachment_id = ?1 AND doc_id = ?2",
        )?;
        let removed: Vec<AttachmentId> = before.difference(&now).copied().collect();
        for id in &removed {
            delete.execute(params![id.as_bytes().as_slice(), raw_doc.as_slice()])?;
        }
        let mut insert = self.tx.prepare_cached(
            "INSERT INTO attachment_refs (attachment_id, doc_id, size) VALUES (?1, ?2, ?3)
             ON CONFLICT (attachment_id) DO UPDATE SET size = excluded.size
             WHERE attachment_refs.doc_id = excluded.doc_id",
        )?;
        for (id, size) in refs {
            let size = i64::try_from(*size).map_err(|_| StoreError::InvalidInput {
                what: "attachment size",
            })?;
            insert.execute(params![id.as_bytes().as_slice(), raw_doc.as_slice(), size])?;
        }
        Ok(removed)
    }

    /// Forget every attachment reference of `doc` (its files stay).
    pub(crate) fn delete_attachment_refs_of(&self, doc: DocId) -> Result<usize> {
        Ok(self
            .tx
            .prepare_cached("DELETE FROM attachment_refs WHERE doc_id = ?1")?
            .execute([doc.0.as_bytes().as_slice()])?)
    }
}

impl Store {
    /// See [`Batch::set_attachment_refs`].
    pub fn set_attachment_refs(
        &self,
        doc: DocId,
        refs: &[(AttachmentId, u64)],
    ) -> Result<Vec<AttachmentId>> {
        self.batch(|b| b.set_attachment_refs(doc, refs))
    }

    /// Referenced attachments whose file this store does not hold, at most
    /// `limit`, in id order.
    pub fn wanted_attachments(&self, limit: usize) -> Result<Vec<WantedAttachment>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.attachment_id, r.doc_id, r.size FROM attachment_refs r
             LEFT JOIN attachments a ON a.id = r.attachment_id
             WHERE a.id IS NULL ORDER BY r.attachment_id LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        rows.map(|r| {
            let (id, doc, size) = r?;
            Ok(WantedAttachment {
                id: attachment_id(&id)?,
                doc: doc_id(&doc)?,
                size: size_of(size)?,
            })
        })
        .collect()
    }

    /// The document that references attachment `id`, with the size it says.
    pub fn attachment_doc(&self, id: AttachmentId) -> Result<Option<(DocId, u64)>> {
        let row: Option<(Vec<u8>, i64)> = self
            .conn
            .prepare_cached("SELECT doc_id, size FROM attachment_refs WHERE attachment_id = ?1")?
            .query_row([id.as_bytes().as_slice()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(doc, size)| Ok((doc_id(&doc)?, size_of(size)?)))
            .transpose()
    }

    /// The attachments document `doc` references (held here or not).
    pub fn attachments_of_doc(&self, doc: DocId) -> Result<Vec<AttachmentId>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT attachment_id FROM attachment_refs WHERE doc_id = ?1 ORDER BY attachment_id",
        )?;
        let rows = stmt.query_map([doc.0.as_bytes().as_slice()], |r| r.get::<_, Vec<u8>>(0))?;
        rows.map(|r| attachment_id(&r?)).collect()
    }
}
