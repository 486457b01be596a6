//! Erasure of a client (asiakkaan tietojen hävittäminen): `client erase`,
//! the refusal of help, and the retention run (`retention apply`).
//!
//! [`Session::erase_client`] erases one client in **one store
//! transaction**:
//! 1. the client's **anonymised record** ([`polku_core::anonymised`]: codes,
//!    age groups and day-precision dates the statistics count, a fresh
//!    random id, nothing that names the young person) is written as a
//!    document of its own, kind [`DocKind::Anonymised`]
//!    ([`AnonymisedEntry`]). It syncs like any other document: a laptop
//!    offers it to the hub, which takes it from a user who may erase and
//!    never takes a change of one; the hub sends it to every device that
//!    would get the client's basic data (its unit and responsible workers),
//!    and puts it into the statistics extract. The statistics count it
//!    exactly as they counted the live client (the same projection,
//!    [`polku_core::anonymised::AnonymisedRecord::from_client`]), so a
//!    report made before and after the erasure is the same;
//! 2. a **tombstone** signed by this node's key, named by the client's
//!    random id, is appended to the tombstone log (it reaches every node at
//!    their next sync; each node deletes its copy, acknowledges it and
//!    refuses the id forever; [`Session::erasure_status`] shows the hub
//!    which devices have);
//! 3. the client's documents (basic data and record) are deleted with all
//!    their history, views, index entries and sync states;
//! 4. one `erase` audit entry names the client's random id only, with the
//!    reason as a code ([`ErasureReason`]).
//!
//! Then the client's attachment files are deleted and the write-ahead log is
//! checkpointed, so that no byte of the erased ciphertext stays in the
//! database file or the WAL.
//!
//! Rights: [`Action::EraseClient`] (modify right over all clients and the
//! user-management right); a refusal is audited (`denied`). A node that
//! holds only a client's basic data (not its record) cannot erase it: its
//! anonymised record would miss the periods the statistics count
//! ([`Rejection::ErasureNeedsRecord`]).
//!
//! What is not undone: two devices that erase the same client before either
//! has synced each write an anonymised record, and the client then counts
//! twice.

use chrono::{DateTime, NaiveDate, Utc};
use polku_audit::{Action as AuditAction, Code, Detail};
use polku_core::anonymised::{AnonymisedEntry, anonymise};
use polku_core::doc::AnonymisedDoc;
use polku_core::model::record_doc_id;
use polku_core::rights::{Action, ClientScope, Target};
use polku_core::{ClientId, DocId, DocKind};
use polku_store::StoreError;
use polku_sync::protocol::Tombstone;
use serde::Serialize;
use std::collections::BTreeSet;

use crate::audit_codes;
use crate::retention::RetentionRow;
use crate::{ApiError, Rejection, Result, Session};

/// Why a client is erased, recorded in the audit entry as a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureReason {
    /// The young person asked for it (GDPR art. 17) or it is otherwise due.
    Request,
    /// Past the organisation's retention (`retention apply`).
    Retention,
    /// The young person refused help: the Youth Act has the data destroyed
    /// once the need for services has been assessed.
    Refused,
}

impl ErasureReason {
    /// Every reason.
    pub const ALL: [ErasureReason; 3] = [
        ErasureReason::Request,
        ErasureReason::Retention,
        ErasureReason::Refused,
    ];

    /// Stable code (CLI, app). Do not change.
    pub fn code(self) -> &'static str {
        match self {
            ErasureReason::Request => "request",
            ErasureReason::Retention => "retention",
            ErasureReason::Refused => "refused",
        }
    }

    /// Inverse of [`ErasureReason::code`].
    pub fn from_code(code: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.code() == code)
            .ok_or(ApiError::Rejected(Rejection::UnknownErasureReason))
    }

    /// The audit detail code of an erasure for this reason.
    pub(crate) fn audit_code(self) -> Code {
        match self {
            ErasureReason::Request => audit_codes::ERASED_HERE,
            ErasureReason::Retention => audit_codes::ERASED_RETENTION,
            ErasureReason::Refused => audit_codes::ERASED_REFUSED,
        }
    }
}

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Erasure {
    /// The erased client's (random) id, which its tombstone carries.
    pub client: ClientId,
    /// Documents deleted here.
    pub documents: usize,
    /// Attachment files deleted here.
    pub attachments: usize,
}

/// A retention run's plan or result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionRun {
    /// `true`: nothing was erased.
    pub dry_run: bool,
    /// The clients erased (or, in a dry run, that would be), in the order of
    /// the retention list.
    pub clients: Vec<RetentionRow>,
}

impl Session {
    /// Erases a client on this node (see the module docs): writes its
    /// anonymised record, its signed tombstone and the audit entry with
    /// `reason`, deletes its documents and attachment files, checkpoints.
    pub fn erase_client(
        &mut self,
        id: ClientId,
        reason: ErasureReason,
        now: DateTime<Utc>,
    ) -> Result<Erasure> {
        let doc = DocId::from(id);
        let responsible = BTreeSet::new();
        let scope = ClientScope {
            unit: None,
            responsible: &responsible,
        };
        self.check(Action::EraseClient, Target::Client(&scope), Some(id.0), now)?;
        if crate::replica::erased_in(&self.store)?.contains(&doc) {
            return Err(ApiError::ClientNotFound(id));
        }
        match self.store.doc_info(doc) {
            Ok(info) if info.kind == DocKind::Client => {}
            Ok(_) | Err(StoreError::DocNotFound(_)) => return Err(ApiError::ClientNotFound(id)),
            Err(e) => return Err(e.into()),
        }
        match self.store.doc_info(record_doc_id(id)) {
            Ok(_) => {}
            Err(StoreError::DocNotFound(_)) => {
                return Err(ApiError::Rejected(Rejection::ErasureNeedsRecord));
            }
            Err(e) => return Err(e.into()),
        }
        let client = self.read_client(id)?;
        let record = anonymise(&client, rand::random());
        drop(client);
        let entry = AnonymisedEntry::of(&record);
        let mut adoc = AnonymisedDoc::new_with_message(&entry, Some(self.trail.change_message()))?;
        let anonymised = (entry.id, adoc.save());
        let key = polku_audit::NodeKey::from_bytes(&self.secret_key()?);
        let t = Tombstone::sign(&key, doc, DocKind::Client, self.user.id, now);
        let (documents, attachments) =
            self.erase_tx(&t, reason.audit_code(), Some(anonymised), now)?;
        Ok(Erasure {
            client: id,
            documents,
            attachments,
        })
    }

    /// Records tombstone `t` and erases what it names in one transaction
    /// (see the module docs), with `anonymised` (id, document bytes) written
    /// in it when given; then deletes the attachment files of the erased
    /// documents and checkpoints. Returns the documents and files deleted.
    pub(crate) fn erase_tx(
        &mut self,
        t: &Tombstone,
        detail: Code,
        anonymised: Option<(DocId, Vec<u8>)>,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize)> {
        let bytes = crate::replica::encode_tombstone(t);
        let erased = crate::replica::erased_ids(t);
        // The references go with the documents: read them first.
        let mut files = Vec::new();
        for doc in &erased {
            files.extend(self.store.attachments_of_doc(*doc)?);
        }
        let trail = &mut self.trail;
        let head = trail.head();
        let deleted = self
            .store
            .batch(|b| {
                if let Some((id, doc)) = &anonymised {
                    b.create_doc(*id, DocKind::Anonymised, doc)?;
                }
                b.append_tombstone(&bytes)?;
                crate::fault::point(crate::fault::TOMBSTONE_RECORDED);
                let mut deleted = 0;
                for doc in &erased {
                    // With its history, view and sync states.
                    deleted += usize::from(b.delete_doc(*doc)?);
                }
                trail.record_in(
                    b,
                    now,
                    Some(t.user),
                    AuditAction::Erase,
                    Some(t.doc.0),
                    Detail::Code(detail),
                )?;
                Ok(deleted)
            })
            .inspect_err(|_| trail.rewind(head))?;
        let client = ClientId::from(t.doc.0);
        self.index.remove(&client);
        self.dirty.remove(&client);
        let mut removed = 0;
        for f in &files {
            removed += usize::from(self.store.delete_attachment(*f)?);
        }
        if deleted > 0 || removed > 0 {
            // The erased ciphertext also leaves the write-ahead log.
            self.store.checkpoint()?;
        }
        Ok((deleted, removed))
    }

    /// The anonymised records of erased clients held here. Not audited:
    /// the caller audits the run.
    pub(crate) fn load_anonymised_records(
        &self,
    ) -> Result<Vec<polku_core::anonymised::AnonymisedRecord>> {
        let mut out = Vec::new();
        for (_, am) in self.store.load_all(DocKind::Anonymised)? {
            // An undecodable one is skipped (the hub refuses such documents).
            if let Some(r) = AnonymisedDoc::from_automerge(am)
                .ok()
                .and_then(|d| d.get().ok())
                .and_then(|e| e.decoded())
            {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// The retention run (`retention apply --ended-before DATE`): the
    /// clients on the retention list ([`Session::retention_due`]) whose last
    /// period ended before `ended_before` (a client who never had a period:
    /// added before it). A dry run lists them and changes nothing but its
    /// own audit entry (the list's `view`); a real run erases each
    /// ([`ErasureReason::Retention`]) and writes one `retention_run` entry
    /// with the count. Stops at the first failure (what was erased stays
    /// erased, and the next run lists the rest).
    pub fn retention_apply(
        &mut self,
        ended_before: NaiveDate,
        dry_run: bool,
        now: DateTime<Utc>,
    ) -> Result<RetentionRun> {
        if !dry_run {
            let responsible = BTreeSet::new();
            let scope = ClientScope {
                unit: None,
                responsible: &responsible,
            };
            self.check(Action::EraseClient, Target::Client(&scope), None, now)?;
        }
        let clients: Vec<RetentionRow> = self
            .retention_candidates(now)?
            .into_iter()
            .filter(|(_, from)| *from < ended_before)
            .map(|(row, _)| row)
            .collect();
        if !dry_run {
            for row in &clients {
                self.erase_client(row.client, ErasureReason::Retention, now)?;
            }
            let count = u32::try_from(clients.len()).unwrap_or(u32::MAX);
            self.record(now, AuditAction::RetentionRun, None, Detail::Count(count))?;
        }
        Ok(RetentionRun { dry_run, clients })
    }
}
