//! Per-peer bookkeeping in the store's sync tables (schema v6,
//! `polku_store`'s `sync_book`): the agreed set and tombstone cursor,
//! Automerge sync states, refusals and quarantines; and the app's view of
//! them ([`Session::sync_problems`], [`Session::waiting_changes`]).

use chrono::{DateTime, Utc};
use polku_audit::NodeId;
use polku_core::{DocId, DocKind};
use polku_store::{Store, StoreError, SyncProblemRow};
use polku_sync::docset::DocSet;
use polku_sync::protocol::RefusedReason;
use polku_sync::{HeadsHash, PeerRecord, QuarantineReason};
use uuid::Uuid;

use super::{to_sync_hash, tombstones};
use crate::{Result, Session};

/// Version byte of the encoded per-peer record. Do not change.
const RECORD_VERSION: u8 = 1;

/// Per-peer record as stored: `[version] ‖ postcard((agreed, cursor))`.
type StoredRecord = (Vec<([u8; 16], [u8; 32])>, u64);

/// Encodes a per-peer record (see [`StoredRecord`]).
fn encode_record(agreed: &DocSet, cursor: u64) -> Option<Vec<u8>> {
    let list: Vec<([u8; 16], [u8; 32])> = agreed
        .iter()
        .map(|(id, h)| (*id.0.as_bytes(), h.0))
        .collect();
    let mut out = vec![RECORD_VERSION];
    out.extend(postcard::to_allocvec(&(list, cursor)).ok()?);
    Some(out)
}

fn decode_record(bytes: &[u8]) -> Option<PeerRecord> {
    let (&RECORD_VERSION, rest) = bytes.split_first()? else {
        return None;
    };
    let (list, cursor): StoredRecord = postcard::from_bytes(rest).ok()?;
    Some(PeerRecord {
        agreed: std::sync::Arc::new(
            list.into_iter()
                .map(|(id, h)| (DocId(Uuid::from_bytes(id)), HeadsHash(h)))
                .collect(),
        ),
        tombstone_cursor: cursor,
    })
}

/// Version byte of an encoded change to a per-peer record. Do not change.
const DELTA_VERSION: u8 = 1;

/// A change to a per-peer record as stored: `[version] ‖ postcard((entries,
/// cursor))`, an entry `None` removing the document from the agreed set.
type StoredDelta = (Vec<([u8; 16], Option<[u8; 32]>)>, u64);

/// Changes appended to a record are at most this many …
const MAX_DELTAS: u64 = 64;
/// … and, in bytes, at most this fraction of the whole record: reading a
/// record with its changes costs at most 1.25 times reading it alone.
const DELTA_FRACTION: u64 = 4;

/// Encodes a change to a per-peer record (see [`StoredDelta`]).
fn encode_delta(agreed: &[(DocId, Option<HeadsHash>)], cursor: u64) -> Option<Vec<u8>> {
    let list: Vec<([u8; 16], Option<[u8; 32]>)> = agreed
        .iter()
        .map(|(id, h)| (*id.0.as_bytes(), h.map(|h| h.0)))
        .collect();
    let mut out = vec![DELTA_VERSION];
    out.extend(postcard::to_allocvec(&(list, cursor)).ok()?);
    Some(out)
}

fn apply_delta(record: &mut PeerRecord, bytes: &[u8]) -> Option<()> {
    let (&DELTA_VERSION, rest) = bytes.split_first()? else {
        return None;
    };
    let (list, cursor): StoredDelta = postcard::from_bytes(rest).ok()?;
    let agreed = std::sync::Arc::make_mut(&mut record.agreed);
    for (id, h) in list {
        let id = DocId(Uuid::from_bytes(id));
        match h {
            Some(h) => {
                agreed.insert(id, HeadsHash(h));
            }
            None => {
                agreed.remove(&id);
            }
        }
    }
    record.tombstone_cursor = cursor;
    Some(())
}

/// The bookkeeping record of `peer`: the one written whole with the
/// changes appended since applied in order (default if none; an unreadable
/// record or change costs a full set exchange, not correctness).
pub(super) fn peer_record(store: &Store, peer: &NodeId) -> Result<PeerRecord, StoreError> {
    let (whole, deltas) = store.peer_record_and_deltas(peer.as_bytes())?;
    let mut record = match whole {
        Some(b) => match decode_record(&b) {
            Some(r) => r,
            None => return Ok(PeerRecord::default()),
        },
        None => PeerRecord::default(),
    };
    for d in &deltas {
        if apply_delta(&mut record, d).is_none() {
            return Ok(PeerRecord::default());
        }
    }
    Ok(record)
}

/// Writes in `b` the record of `peer` after a session that changed
/// `changes` of it, with `record` the record as it is now: the change alone,
/// appended, while the changes appended so far stay small beside the whole
/// record; else the whole record, replacing them.
pub(super) fn write_record(
    b: &polku_store::Batch<'_>,
    peer: &NodeId,
    record: &PeerRecord,
    changes: &[(DocId, Option<HeadsHash>)],
) -> Result<(), StoreError> {
    let node = peer.as_bytes();
    let corrupt = || StoreError::Corrupt {
        what: "sync record",
    };
    let delta = encode_delta(changes, record.tombstone_cursor).ok_or_else(corrupt)?;
    let (count, bytes) = b.peer_delta_size(node)?;
    // What the whole record takes: 49 bytes an entry at most.
    let whole_len = 16 + 49 * record.agreed.len() as u64;
    if count < MAX_DELTAS && (bytes + delta.len() as u64) * DELTA_FRACTION <= whole_len {
        b.append_peer_delta(node, &delta)?;
    } else {
        let whole = encode_record(&record.agreed, record.tombstone_cursor).ok_or_else(corrupt)?;
        b.put_peer_record(node, &whole)?;
        b.delete_peer_deltas(node)?;
    }
    Ok(())
}

/// Stored code of a quarantine reason. Do not change.
pub(super) fn quarantine_code(r: QuarantineReason) -> u8 {
    match r {
        QuarantineReason::Unreadable => 1,
        QuarantineReason::BadMessage => 2,
        QuarantineReason::ApplyFailed => 3,
        QuarantineReason::TooLarge => 4,
        QuarantineReason::KindMismatch => 5,
        _ => 0,
    }
}

pub(super) fn quarantine_from_code(c: u8) -> QuarantineReason {
    match c {
        1 => QuarantineReason::Unreadable,
        2 => QuarantineReason::BadMessage,
        3 => QuarantineReason::ApplyFailed,
        4 => QuarantineReason::TooLarge,
        5 => QuarantineReason::KindMismatch,
        _ => QuarantineReason::ApplyFailed,
    }
}

/// Records a refusal (`quarantined` = false) or quarantine of `doc` with
/// `peer`, now, with the kind of the local copy if there is one.
pub(super) fn record_problem(
    store: &Store,
    peer: &NodeId,
    doc: DocId,
    quarantined: bool,
    reason: u8,
) -> Result<(), StoreError> {
    let kind = match store.doc_info(doc) {
        Ok(info) => Some(info.kind),
        Err(StoreError::DocNotFound(_)) => None,
        Err(e) => return Err(e),
    };
    store.batch(|b| {
        b.put_sync_problem(&SyncProblemRow {
            peer: *peer.as_bytes(),
            doc,
            quarantined,
            reason,
            kind,
            at: Utc::now(),
        })
    })
}

/// A document that did not sync, for the app's sync status. Holds no
/// personal data (no id, no content): what kind of document, why (a stable
/// code the UI translates) and since when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SyncProblem {
    /// `"client"` (basic data), `"record"`, `"activity"`, `"contacts"`,
    /// `"organisation"`, `"credential"`, `"extract"`, `"anonymised"` or
    /// `"unknown"`.
    pub doc_kind: String,
    /// `sync.refused.<reason>` (a peer did not take a change of ours) or
    /// `sync.quarantined.<reason>` (a peer's document could not be taken
    /// here); see [`SyncProblem::code_of_refusal`] and
    /// [`SyncProblem::code_of_quarantine`].
    pub code: String,
    /// When it was recorded (the latest time, if it recurred).
    pub at: DateTime<Utc>,
    /// Quarantined here (a peer's copy could not be taken) rather than
    /// refused by the peer.
    pub quarantined: bool,
}

impl SyncProblem {
    /// The stable code of a refusal. Do not change (the UI keys on it).
    pub fn code_of_refusal(reason: RefusedReason) -> &'static str {
        match reason {
            RefusedReason::OutOfScope => "sync.refused.scope",
            RefusedReason::NotPermitted => "sync.refused.rights",
            RefusedReason::Erased => "sync.refused.erased",
            RefusedReason::Corrupt => "sync.refused.corrupt",
            RefusedReason::TooLarge => "sync.refused.too_large",
            RefusedReason::RoundLimit => "sync.refused.round_limit",
            RefusedReason::Invalid => "sync.refused.invalid",
            _ => "sync.refused.other",
        }
    }

    /// The stable code of a quarantine. Do not change (the UI keys on it).
    pub fn code_of_quarantine(reason: QuarantineReason) -> &'static str {
        match reason {
            QuarantineReason::Unreadable => "sync.quarantined.unreadable",
            QuarantineReason::BadMessage => "sync.quarantined.bad_message",
            QuarantineReason::ApplyFailed => "sync.quarantined.apply_failed",
            QuarantineReason::TooLarge => "sync.quarantined.too_large",
            QuarantineReason::KindMismatch => "sync.quarantined.kind_mismatch",
            _ => "sync.quarantined.other",
        }
    }

    /// The name of a document kind in [`SyncProblem::doc_kind`]. Do not change.
    pub fn kind_name(kind: Option<DocKind>) -> &'static str {
        match kind {
            Some(DocKind::Client) => "client",
            Some(DocKind::ClientRecord) => "record",
            Some(DocKind::ActivityMemo) => "activity",
            Some(DocKind::BriefContacts) => "contacts",
            Some(DocKind::Organisation) => "organisation",
            Some(DocKind::Credential) => "credential",
            Some(DocKind::StatsExtract) => "extract",
            Some(DocKind::Anonymised) => "anonymised",
            None => "unknown",
        }
    }

    fn of(row: &SyncProblemRow) -> SyncProblem {
        let code = if row.quarantined {
            SyncProblem::code_of_quarantine(quarantine_from_code(row.reason))
        } else {
            SyncProblem::code_of_refusal(RefusedReason::from_code(row.reason))
        };
        SyncProblem {
            doc_kind: SyncProblem::kind_name(row.kind).to_owned(),
            code: code.to_owned(),
            at: row.at,
            quarantined: row.quarantined,
        }
    }
}

impl Session {
    /// What did not sync, for the app's sync status: changes of ours a peer
    /// refused (the local copy is kept) and peers' documents quarantined
    /// here, oldest first. A problem clears when the document is next agreed
    /// with that peer. No personal data; no right needed, nothing audited.
    pub fn sync_problems(&self) -> Result<Vec<SyncProblem>> {
        Ok(self
            .store
            .sync_problems()?
            .iter()
            .map(SyncProblem::of)
            .collect())
    }

    /// Local changes the hub has not acknowledged yet: documents whose
    /// heads differ from those last agreed with the pinned hub (new ones
    /// included, and changes the hub refused: see [`Session::sync_problems`])
    /// plus erasures it has not acknowledged. 0 on a hub or a store never
    /// enrolled.
    pub fn waiting_changes(&self) -> Result<usize> {
        let Some(pin) = self.hub_pin()? else {
            return Ok(0);
        };
        let record = peer_record(&self.store, &NodeId::from_bytes(pin.node))?;
        let erased = tombstones::erased_in(&self.store)?;
        let docs = self
            .store
            .list_doc_heads()?
            .into_iter()
            .filter(|(id, _, hh)| {
                !erased.contains(id) && record.agreed.get(id) != Some(&to_sync_hash(*hh))
            })
            .count();
        let tombs = self
            .store
            .tombstone_count()?
            .saturating_sub(record.tombstone_cursor);
        Ok(docs.saturating_add(usize::try_from(tombs).unwrap_or(usize::MAX)))
    }
}
