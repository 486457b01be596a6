//! The [`Replica`] trait: what a session needs from the document store.
//!
//! The store layer implements it (over the encrypted SQLite store); tests use
//! [`crate::mem::MemReplica`]. Every method may fail with a
//! [`ReplicaError`]; except for [`ReplicaError::Unreadable`] (one document,
//! quarantined) a failure ends the session.
//!
//! Contract, relied on by the session:
//! - **Durability before acknowledgement.** [`Replica::save_docs`],
//!   [`Replica::apply_tombstone`], [`Replica::merge_audit`] and
//!   [`Replica::delete_revoked`] are durable when they return: the session
//!   sends nothing that implies receipt before they did.
//! - **Saving merges.** [`Replica::save_docs`] adds the changes of the given
//!   document after `base` to whatever the store holds now (the app may have
//!   edited the document meanwhile); it never overwrites.
//! - **Scope.** On a hub, [`Replica::doc_set`] lists only documents the peer's
//!   user may view, and [`Replica::accept_change`] decides whether the user
//!   may make a change. A laptop lists everything and accepts what the hub
//!   sends.
//! - **Erased ids are refused forever**: [`Replica::doc_status`] reports them
//!   and the session never stores them again.
//! - **Per-peer bookkeeping** ([`Replica::peer_record`], [`Replica::sync_states`],
//!   [`Replica::commit`]) is written once per completed session, in one
//!   transaction; an interrupted session writes none of it.

use std::collections::BTreeMap;
use std::sync::Arc;

use automerge::{AutoCommit, ChangeHash};
use polku_audit::{Entry, Head, NodeId};
use polku_core::{AttachmentId, DocId, DocKind};

use crate::docset::{DocSet, HeadsHash};
use crate::protocol::{AuditHead, BlobChunk, ErrorCode, Refusal, RefusedReason, Role, Tombstone};

/// The other side of a session, as authenticated by the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    /// Its node id (the transport's authenticated key).
    pub node: NodeId,
    /// Its role.
    pub role: Role,
}

/// Why a replica refuses to talk to a peer. Sent to the peer as an [`ErrorCode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Denial {
    /// The node is not enrolled with this hub.
    #[error("the device is not enrolled")]
    NotEnrolled,
    /// The device was revoked.
    #[error("the device was revoked")]
    DeviceRevoked,
    /// The device's user is deactivated.
    #[error("the user is deactivated")]
    UserDeactivated,
    /// A laptop met a hub other than its pinned one.
    #[error("the hub is not the pinned hub")]
    HubMismatch,
    /// The laptop's offline lease expired.
    #[error("online re-authentication required")]
    ReauthRequired,
}

impl Denial {
    /// The code sent to the peer.
    pub fn code(self) -> ErrorCode {
        match self {
            Denial::NotEnrolled => ErrorCode::NotEnrolled,
            Denial::DeviceRevoked => ErrorCode::DeviceRevoked,
            Denial::UserDeactivated => ErrorCode::UserDeactivated,
            Denial::HubMismatch => ErrorCode::HubMismatch,
            Denial::ReauthRequired => ErrorCode::ReauthRequired,
        }
    }
}

/// One entry of a replica's document set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocEntry {
    /// The document.
    pub id: DocId,
    /// Its kind.
    pub kind: DocKind,
    /// Its current heads hash.
    pub heads: HeadsHash,
}

/// The set a replica offers a peer, as the maps a session works on: heads
/// and kinds by id. Shared ([`Arc`]): a replica that keeps it between
/// sessions hands every session the same maps, and a session copies one only
/// when it changes it, so that an unchanged resync neither copies nor frees
/// the whole set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfferedSet {
    /// Heads hash by document.
    pub heads: Arc<DocSet>,
    /// Kind by document (the same ids as `heads`).
    pub kinds: Arc<BTreeMap<DocId, DocKind>>,
}

impl OfferedSet {
    /// The maps of `entries` (in any order; a later entry for an id wins).
    pub fn from_entries(entries: &[DocEntry]) -> Self {
        // Built in bulk: a replica's set comes in id order, so sorting it
        // first is one pass.
        Self {
            heads: Arc::new(entries.iter().map(|e| (e.id, e.heads)).collect()),
            kinds: Arc::new(entries.iter().map(|e| (e.id, e.kind)).collect()),
        }
    }

    /// The entries, in id order.
    pub fn entries(&self) -> Vec<DocEntry> {
        self.heads
            .iter()
            .filter_map(|(id, heads)| {
                self.kinds.get(id).map(|kind| DocEntry {
                    id: *id,
                    kind: *kind,
                    heads: *heads,
                })
            })
            .collect()
    }
}

/// What a replica knows about a document outside the set it offers a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocStatus {
    /// Not held, never erased: a peer may create it.
    Absent,
    /// Held (on a hub: outside this peer's scope).
    Present,
    /// Erased: refused forever.
    Erased,
}

/// A document loaded for sync.
#[derive(Debug)]
pub struct LoadedDoc {
    /// Its kind.
    pub kind: DocKind,
    /// The document.
    pub doc: AutoCommit,
}

/// A document as saved bytes, to send whole to a peer that lacks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedDoc {
    /// Its kind.
    pub kind: DocKind,
    /// Bytes `AutoCommit::load` accepts: a saved document, optionally
    /// followed by saved changes (a store's snapshot and change log).
    pub bytes: Vec<u8>,
    /// Its heads, if known without loading it. With them the session keeps
    /// a sync state for the document once the peer holds it; without, the
    /// next Automerge sync of it starts from scratch (a Bloom filter of its
    /// whole history).
    pub heads: Option<Vec<ChangeHash>>,
}

/// A document to persist (see the merge contract above).
#[derive(Debug)]
pub struct DocWrite<'a> {
    /// The document.
    pub id: DocId,
    /// Its kind.
    pub kind: DocKind,
    /// The session's copy.
    pub doc: &'a mut AutoCommit,
    /// Heads of the copy when it was loaded or last saved; `None` if the
    /// store did not hold the document (it arrived in this session).
    pub base: Option<&'a [ChangeHash]>,
    /// With `base` `None`: the bytes the document arrived in whole, which
    /// load to exactly the copy's heads. A store may keep them as they are
    /// instead of saving the copy.
    pub saved: Option<&'a [u8]>,
}

/// A received change, for the store's access decision.
#[derive(Debug)]
pub struct ChangeCheck<'a> {
    /// The document.
    pub id: DocId,
    /// Its kind, as the sender declared it.
    pub kind: DocKind,
    /// Heads before the change; `None` when the document is new here. Read
    /// the earlier state with Automerge's `*_at` methods on `after`.
    pub before: Option<&'a [ChangeHash]>,
    /// The document with the change applied (not yet saved).
    pub after: &'a AutoCommit,
}

/// Why a document was quarantined. Carries no content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QuarantineReason {
    /// The local copy cannot be read.
    Unreadable,
    /// The peer's message for it could not be decoded.
    BadMessage,
    /// The peer's changes could not be applied.
    ApplyFailed,
    /// The document is too large to send.
    TooLarge,
    /// The peer declared another kind than the local copy has.
    KindMismatch,
}

impl QuarantineReason {
    /// What the peer is told.
    pub fn refused_reason(self) -> RefusedReason {
        match self {
            QuarantineReason::TooLarge => RefusedReason::TooLarge,
            QuarantineReason::KindMismatch => RefusedReason::Invalid,
            _ => RefusedReason::Corrupt,
        }
    }
}

/// Per-peer bookkeeping read at session start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerRecord {
    /// The set agreed with the peer at the end of the last completed session
    /// (shared, as [`OfferedSet`]'s maps are).
    pub agreed: Arc<DocSet>,
    /// Position in this replica's tombstone log up to which the peer has
    /// acknowledged tombstones.
    pub tombstone_cursor: u64,
}

/// Per-peer bookkeeping written at the end of a completed session, in one
/// transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerCommit {
    /// Changes to the agreed set (`None` removes the entry).
    pub agreed: Vec<(DocId, Option<HeadsHash>)>,
    /// Automerge sync states to keep (`automerge::sync::State::encode`),
    /// `None` to forget one.
    pub sync_states: Vec<(DocId, Option<Vec<u8>>)>,
    /// The new tombstone cursor.
    pub tombstone_cursor: u64,
}

/// Tombstones a peer has not acknowledged yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TombstoneBatch {
    /// The tombstones, oldest first.
    pub tombstones: Vec<Tombstone>,
    /// The cursor to commit once the peer has them.
    pub cursor: u64,
}

/// What applying a received tombstone did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TombstoneOutcome {
    /// Recorded; `deleted` says whether a local copy was deleted.
    Applied {
        /// A local copy was deleted.
        deleted: bool,
    },
    /// Already known.
    Known,
    /// Not accepted from this peer (e.g. its user may not erase).
    Refused(RefusedReason),
}

/// What merging received audit entries did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditMerge {
    /// Entries added.
    pub added: usize,
    /// Entries already held.
    pub duplicates: usize,
    /// Entries refused (bad signature, fork, gap…), none stored.
    pub rejected: usize,
}

/// A replica failure. Messages name ids only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplicaError {
    /// One document cannot be read (corrupt): it is quarantined, the session goes on.
    #[error("document {0} cannot be read")]
    Unreadable(DocId),
    /// The store failed: the session ends.
    #[error("the store failed")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// The document store side of a session. See the module docs for the contract.
pub trait Replica {
    /// Whether to sync with this peer at all (hub: an enrolled, non-revoked
    /// device of an active user; laptop: its pinned hub).
    fn admit(&mut self, peer: &Peer) -> Result<(), Denial>;

    /// The documents to offer the peer (hub: those its user may view;
    /// laptop: all), with kinds and current heads hashes.
    fn doc_set(&mut self, peer: &Peer) -> Result<Vec<DocEntry>, ReplicaError>;

    /// [`Replica::doc_set`] as the maps a session starts from. A replica that
    /// keeps them while its store does not move returns the kept ones (the
    /// default builds them from [`Replica::doc_set`] every time).
    fn offered_set(&mut self, peer: &Peer) -> Result<OfferedSet, ReplicaError> {
        Ok(OfferedSet::from_entries(&self.doc_set(peer)?))
    }

    /// The status of a document outside [`Replica::doc_set`].
    fn doc_status(&mut self, id: DocId) -> Result<DocStatus, ReplicaError>;

    /// Hub: which of `ids`, held here but outside the set offered at the
    /// session's start, the peer is offered now (they appeared since, e.g.
    /// saved by another session of the hub meanwhile). The session syncs
    /// those instead of revoking them at the peer. Default: none.
    fn offered_now(&mut self, peer: &Peer, ids: &[DocId]) -> Result<Vec<DocEntry>, ReplicaError> {
        let _ = (peer, ids);
        Ok(Vec::new())
    }

    /// Loads a document; `Ok(None)` if not held, [`ReplicaError::Unreadable`] if corrupt.
    fn load_doc(&mut self, id: DocId) -> Result<Option<LoadedDoc>, ReplicaError>;

    /// The document as saved bytes, to send whole. A store returns its
    /// snapshot and change log without decoding them; the default loads the
    /// document and saves it.
    fn export_doc(&mut self, id: DocId) -> Result<Option<ExportedDoc>, ReplicaError> {
        Ok(self.load_doc(id)?.map(|mut loaded| ExportedDoc {
            kind: loaded.kind,
            heads: Some(loaded.doc.get_heads()),
            bytes: loaded.doc.save(),
        }))
    }

    /// Persists documents changed by the session, in one transaction (merge semantics).
    fn save_docs(&mut self, docs: &mut [DocWrite<'_>]) -> Result<(), ReplicaError>;

    /// Whether the peer's user may make this change (hub). A laptop accepts
    /// what its hub sends.
    fn accept_change(&mut self, peer: &Peer, change: &ChangeCheck<'_>)
    -> Result<(), RefusedReason>;

    /// Hub told this laptop its user may no longer see the document: delete
    /// it (and any per-peer state for it).
    fn delete_revoked(&mut self, peer: &Peer, id: DocId) -> Result<(), ReplicaError>;

    /// Per-peer bookkeeping from the last completed session (default if none).
    fn peer_record(&mut self, peer: &Peer) -> Result<PeerRecord, ReplicaError>;

    /// Stored Automerge sync states for some documents (absent ones omitted).
    fn sync_states(
        &mut self,
        peer: &Peer,
        ids: &[DocId],
    ) -> Result<Vec<(DocId, Vec<u8>)>, ReplicaError>;

    /// Writes the per-peer bookkeeping of a completed session, in one transaction.
    fn commit(&mut self, peer: &Peer, commit: &PeerCommit) -> Result<(), ReplicaError>;

    /// The head of this node's own audit chain, announced in its hello.
    fn own_audit_head(&mut self) -> Result<Option<Head>, ReplicaError> {
        Ok(None)
    }

    /// The head of its own chain the peer announced in its hello (hub: kept
    /// to notice entries removed from the peer's store later).
    fn peer_audit_head(&mut self, _peer: &Peer, _head: Option<Head>) -> Result<(), ReplicaError> {
        Ok(())
    }

    /// Heads of the audit chains shared with this peer.
    fn audit_heads(&mut self, peer: &Peer) -> Result<Vec<AuditHead>, ReplicaError>;

    /// Encoded entries of shared chains the peer lacks, given its heads, by node then seq.
    fn audit_missing(
        &mut self,
        peer: &Peer,
        theirs: &[AuditHead],
    ) -> Result<Vec<Vec<u8>>, ReplicaError>;

    /// Merges received audit entries (verified by the replica's audit log).
    fn merge_audit(&mut self, peer: &Peer, entries: Vec<Entry>)
    -> Result<AuditMerge, ReplicaError>;

    /// Tombstones after `cursor` in this replica's tombstone log.
    fn tombstones_since(
        &mut self,
        peer: &Peer,
        cursor: u64,
    ) -> Result<TombstoneBatch, ReplicaError>;

    /// Applies a received tombstone: check it, then delete the local copy and
    /// refuse the id forever.
    ///
    /// A replica refuses ([`TombstoneOutcome::Refused`]) a tombstone whose
    /// signature does not verify against its erasing node, one for an
    /// organisation document (never erased) or naming another kind than the
    /// local copy has, and one whose erasing node is not this organisation's
    /// hub or an enrolled device of the tombstone's user, or whose user may
    /// not erase. The tombstone record, the deletion and the audit entry
    /// saying so are one transaction.
    fn apply_tombstone(
        &mut self,
        peer: &Peer,
        tombstone: &Tombstone,
    ) -> Result<TombstoneOutcome, ReplicaError>;

    /// The peer refused a document or change of ours: keep the record so the
    /// app can show it. The local document stays as it is.
    fn record_refusal(&mut self, peer: &Peer, refusal: &Refusal) -> Result<(), ReplicaError>;

    /// A document could not be synced with this peer: record it for the app.
    fn quarantine(
        &mut self,
        peer: &Peer,
        id: DocId,
        reason: QuarantineReason,
    ) -> Result<(), ReplicaError>;

    /// Attachment files (liitteet) that this replica's documents reference
    /// and it does not hold, which this peer may have: at most `limit`.
    /// The default holds no attachments.
    fn blob_wants(
        &mut self,
        _peer: &Peer,
        _limit: usize,
    ) -> Result<Vec<AttachmentId>, ReplicaError> {
        Ok(Vec::new())
    }

    /// At most `max` bytes of attachment `id` from `offset`, for this peer,
    /// with the file's size; `None` if it is not held here or the peer may
    /// not have it (hub: the referencing document is outside the peer's
    /// scope). Called with increasing offsets, file by file.
    fn blob_read(
        &mut self,
        _peer: &Peer,
        _id: AttachmentId,
        _offset: u64,
        _max: usize,
    ) -> Result<Option<BlobPiece>, ReplicaError> {
        Ok(None)
    }

    /// A piece of a wanted attachment file from this peer, in order (the
    /// session checked that it was asked for and that offsets follow each
    /// other). On the last piece the replica checks the whole file against
    /// the size and digest its own referencing document records and stores
    /// it, or drops it ([`BlobWritten::Rejected`]). A replica keeps what it
    /// has received of an unfinished file only for the session.
    fn blob_write(
        &mut self,
        _peer: &Peer,
        _chunk: &BlobChunk,
    ) -> Result<BlobWritten, ReplicaError> {
        Ok(BlobWritten::Rejected)
    }
}

/// A piece of an attachment file read for a peer.
#[derive(Clone, PartialEq, Eq)]
pub struct BlobPiece {
    /// The file's size.
    pub total: u64,
    /// The bytes from the requested offset.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for BlobPiece {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobPiece")
            .field("total", &self.total)
            .field("len", &self.data.len())
            .finish()
    }
}

/// What a received piece of an attachment file did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobWritten {
    /// Kept; more pieces follow.
    Partial,
    /// The whole file checked out and is stored.
    Stored,
    /// Not wanted any more, or the file does not match its reference (or
    /// is larger than a file may be): dropped, nothing stored.
    Rejected,
}
