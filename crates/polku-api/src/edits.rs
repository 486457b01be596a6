//! Editing a client: basic data and memo text. Each edit checks the right, is
//! written as one incremental Automerge change (never a rewrite of the whole
//! document) and is audited in the same transaction.

use chrono::{DateTime, Utc};
use polku_audit::{Action as AuditAction, Detail};
use polku_core::model::BasicData;
use polku_core::rights::Action;
use polku_core::{ClientId, MemoId};

use crate::audit_codes::{BASIC as BASIC_EDIT, MEMO_EDIT};
use crate::session::Session;
use crate::{ApiError, Result};

impl Session {
    /// Change a client's basic data (perustiedot). Only the fields that differ
    /// are written, so an edit made elsewhere to another field merges, and the
    /// same field edited elsewhere becomes a visible conflict.
    pub fn update_basic(
        &mut self,
        client: ClientId,
        now: DateTime<Utc>,
        edit: impl FnOnce(&mut BasicData),
    ) -> Result<()> {
        self.check_client_for(Action::ModifyBasic, client, now)?;
        let mut doc = self.load_client_doc(client)?;
        doc.update(|c| edit(&mut c.basic))?;
        let summary = doc.client()?.summary();
        self.write_client_change(
            client,
            &mut doc,
            Some(&summary),
            now,
            Detail::Code(BASIC_EDIT),
        )
    }

    /// Replace a memo's text; the change is stored as a character-level splice,
    /// so concurrent edits of the same memo merge.
    pub fn edit_memo(
        &mut self,
        client: ClientId,
        memo: MemoId,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if text.trim().is_empty() {
            return Err(ApiError::Rejected(crate::Rejection::EmptyMemo));
        }
        self.check_client_for(Action::WriteMemo, client, now)?;
        let mut doc = self.load_client_doc(client)?;
        doc.set_memo_text(memo, text)?;
        self.write_client_change(client, &mut doc, None, now, Detail::Code(MEMO_EDIT))
    }

    /// Concurrent values of a client's fields (a conflict shown to a person to resolve).
    pub fn client_conflicts(
        &mut self,
        client: ClientId,
        now: DateTime<Utc>,
    ) -> Result<Vec<polku_core::doc::Conflict>> {
        self.check_client_for(Action::ViewRecord, client, now)?;
        let doc = self.load_client_doc(client)?;
        let conflicts = doc.conflicts()?;
        self.record(
            now,
            AuditAction::View,
            Some(client.0),
            Detail::Count(conflicts.len() as u32),
        )?;
        Ok(conflicts)
    }
}
