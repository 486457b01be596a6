//! Attachments (liitteet) of a client: files encrypted by the store
//! (`polku_store`'s streamed age files), referenced from the client's record
//! document by an [`AttachmentRef`].
//!
//! Rights: the record right of the client — `ViewRecord` to list and open,
//! `ModifyRecord` to add and delete; a refusal is audited.
//!
//! Audit: `update` of the client with `attachment_add` / `attachment_rm`, in
//! the same transaction as the change of the record document; `view` of the
//! client with `attachment_list` (and the count) or `attachment_open`.
//!
//! Adding: the file is streamed into the store first (encrypted, fsynced,
//! its row committed), then its reference and the audit entry are written in
//! one transaction; if that fails the file is deleted again. Deleting
//! removes the reference (with its audit entry) first, then the file.
//!
//! Sync: a reference reaches the other devices with the record document and
//! the file follows in the same session (`replica/blobs.rs`); until it has
//! arrived, opening it there says [`ApiError::AttachmentNotOnThisDevice`].
//! The store's attachment references (which record references which file)
//! are written in the same transaction as the change.

use std::io::Read;

use chrono::{DateTime, Utc};
use polku_audit::{Action as AuditAction, Detail};
use polku_core::model::{AttachmentRef, record_doc_id};
use polku_core::rights::Action;
use polku_core::{AttachmentId, ClientId};
use polku_store::{AttachmentReader, StoreError};

use crate::audit_codes::{ATTACHMENT_ADD, ATTACHMENT_LIST, ATTACHMENT_OPEN, ATTACHMENT_RM};
use crate::{ApiError, Result, Session};

/// Longest file name, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 255;

/// The media type for a file name's extension (`application/octet-stream`
/// when unknown).
pub fn media_type_for(file_name: &str) -> &'static str {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "odt" => "application/vnd.oasis.opendocument.text",
        _ => "application/octet-stream",
    }
}

/// The attachment references of a client's record document as it is now.
fn record_refs(doc: &mut polku_core::doc::ClientDoc) -> Vec<(AttachmentId, u64)> {
    doc.record_if_held()
        .and_then(|r| r.get().ok())
        .map(|r| crate::replica::refs_of(&r))
        .unwrap_or_default()
}

impl Session {
    /// Add an attachment to a client's record, streamed from `reader`
    /// (encrypted as it is read). Returns its id.
    pub fn add_attachment(
        &mut self,
        client: ClientId,
        reader: impl Read,
        file_name: &str,
        now: DateTime<Utc>,
    ) -> Result<AttachmentId> {
        let name = file_name.trim();
        if name.is_empty() {
            return Err(ApiError::Invalid("the attachment needs a file name"));
        }
        crate::activity::check_len(name, polku_core::limits::TextField::FileName)?;
        self.check_client_for(Action::ModifyRecord, client, now)?;
        let mut doc = self.load_client_doc(client)?;
        let info = self.store.put_attachment(reader)?;
        let reference = AttachmentRef {
            id: info.id,
            file_name: name.to_owned(),
            media_type: media_type_for(name).to_owned(),
            size: info.size,
            blake3_hex: info.blake3.iter().map(|b| format!("{b:02x}")).collect(),
            added_at: now,
            memo: None,
        };
        let written = doc
            .update(|c| {
                c.insert_attachment(reference);
            })
            .map_err(ApiError::from)
            .map(|()| record_refs(&mut doc))
            .and_then(|refs| {
                self.write_client_change_with(
                    client,
                    &mut doc,
                    None,
                    now,
                    Detail::Code(ATTACHMENT_ADD),
                    |b| {
                        b.set_attachment_refs(record_doc_id(client), &refs)
                            .map(drop)
                    },
                )
            });
        if let Err(e) = written {
            // No reference points at the file: remove it (best effort; a
            // sweep removes what is left).
            let _ = self.store.delete_attachment(info.id);
            return Err(e);
        }
        Ok(info.id)
    }

    /// The attachments of a client's record, by time added (audited as a
    /// view of the client).
    pub fn list_attachments(
        &mut self,
        client: ClientId,
        now: DateTime<Utc>,
    ) -> Result<Vec<AttachmentRef>> {
        self.check_client_for(Action::ViewRecord, client, now)?;
        let mut list: Vec<AttachmentRef> = self
            .read_client(client)?
            .attachments
            .into_values()
            .collect();
        list.sort_by_key(|a| (a.added_at, a.id));
        let count = u32::try_from(list.len()).unwrap_or(u32::MAX);
        self.record(
            now,
            AuditAction::View,
            Some(client.0),
            Detail::CodeCount {
                code: ATTACHMENT_LIST,
                count,
            },
        )?;
        Ok(list)
    }

    /// Open an attachment for reading (decrypted as it is read; the reader
    /// fails at the end if the file does not match its recorded digest).
    /// Audited as a view of the client before anything is returned.
    pub fn open_attachment(
        &mut self,
        client: ClientId,
        id: AttachmentId,
        now: DateTime<Utc>,
    ) -> Result<(AttachmentRef, AttachmentReader)> {
        self.check_client_for(Action::ViewRecord, client, now)?;
        let reference = self
            .read_client(client)?
            .attachments
            .remove(&id)
            .ok_or(ApiError::AttachmentNotFound(id))?;
        let reader = match self.store.open_attachment(id) {
            Ok(r) => r,
            Err(StoreError::AttachmentNotFound(_)) => {
                return Err(ApiError::AttachmentNotOnThisDevice(id));
            }
            Err(e) => return Err(e.into()),
        };
        self.record(
            now,
            AuditAction::View,
            Some(client.0),
            Detail::Code(ATTACHMENT_OPEN),
        )?;
        Ok((reference, reader))
    }

    /// Delete an attachment: its reference (audited) and then its file.
    pub fn delete_attachment(
        &mut self,
        client: ClientId,
        id: AttachmentId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.check_client_for(Action::ModifyRecord, client, now)?;
        let mut doc = self.load_client_doc(client)?;
        let found = doc.update(|c| c.attachments.remove(&id).is_some())?;
        if !found {
            return Err(ApiError::AttachmentNotFound(id));
        }
        let refs = record_refs(&mut doc);
        self.write_client_change_with(
            client,
            &mut doc,
            None,
            now,
            Detail::Code(ATTACHMENT_RM),
            |b| {
                b.set_attachment_refs(record_doc_id(client), &refs)
                    .map(drop)
            },
        )?;
        self.store.delete_attachment(id)?;
        Ok(())
    }
}
