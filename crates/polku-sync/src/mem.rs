//! [`MemReplica`]: an in-memory [`Replica`] for tests, examples and the test
//! network. Documents are Automerge `AutoCommit`s in a `BTreeMap`; the hub's
//! access decisions come from a [`Policy`] (e.g. [`UnitPolicy`]).
//!
//! It follows the replica contract: saving merges, erased ids are refused
//! forever, per-peer bookkeeping is written by `commit` only.

use std::collections::{BTreeMap, BTreeSet};

use automerge::{AutoCommit, ChangeHash, ROOT, ReadDoc, ScalarValue, Value};
use chrono::{DateTime, Utc};
use polku_audit::{AuditLog, Entry, Head, NodeId, NodeKey};
use polku_core::{AttachmentId, DocId, DocKind, UserId};
use uuid::Uuid;

use crate::docset::{DocSet, HeadsHash, heads_hash};
use crate::protocol::{AuditHead, BlobChunk, Refusal, RefusedReason, Role, Tombstone};
use crate::replica::{
    AuditMerge, BlobPiece, BlobWritten, ChangeCheck, Denial, DocEntry, DocStatus, DocWrite,
    ExportedDoc, LoadedDoc, Peer, PeerCommit, PeerRecord, QuarantineReason, Replica, ReplicaError,
    TombstoneBatch, TombstoneOutcome,
};

/// Root key [`UnitPolicy`] reads a document's unit from (a string).
pub const UNIT_KEY: &str = "unit";

/// The unit of a document: the string at the root key [`UNIT_KEY`].
pub fn unit_of(doc: &AutoCommit) -> Option<String> {
    scalar_str(doc.get(ROOT, UNIT_KEY).ok().flatten().map(|(v, _)| v))
}

/// The unit of a document as it was at `heads`.
pub fn unit_at(doc: &AutoCommit, heads: &[ChangeHash]) -> Option<String> {
    scalar_str(
        doc.get_at(ROOT, UNIT_KEY, heads)
            .ok()
            .flatten()
            .map(|(v, _)| v),
    )
}

fn scalar_str(v: Option<Value<'_>>) -> Option<String> {
    match v {
        Some(Value::Scalar(s)) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// What a [`Policy`] sees of a document when deciding visibility.
#[derive(Debug, Clone, Copy)]
pub struct DocMeta<'a> {
    /// The document.
    pub id: DocId,
    /// Its kind.
    pub kind: DocKind,
    /// Its unit, if it has one.
    pub unit: Option<&'a str>,
}

/// A hub's access decisions.
pub trait Policy: Send {
    /// Whether the peer's user may view the document.
    fn may_view(&self, peer: &NodeId, doc: &DocMeta<'_>) -> bool;
    /// Whether the peer's user may make this change.
    fn check_change(&self, peer: &NodeId, check: &ChangeCheck<'_>) -> Result<(), RefusedReason>;
    /// Whether the user of `node` (the node that erased and signed the
    /// tombstone, not necessarily the peer relaying it) may erase the document.
    fn may_erase(&self, node: &NodeId, doc: DocId) -> bool;
}

/// The rights of one peer under a [`UnitPolicy`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitRights {
    /// Units whose documents the user may view.
    pub view: BTreeSet<String>,
    /// Units whose documents the user may change (and create documents in).
    pub modify: BTreeSet<String>,
    /// Everything (an admin): view and change all documents, unit or not.
    pub all: bool,
    /// May erase documents.
    pub erase: bool,
}

impl UnitRights {
    /// A worker of one unit: views and changes its documents.
    pub fn worker(unit: &str) -> Self {
        Self {
            view: BTreeSet::from([unit.to_owned()]),
            modify: BTreeSet::from([unit.to_owned()]),
            ..Self::default()
        }
    }
    /// A reader of one unit: views its documents, changes nothing.
    pub fn reader(unit: &str) -> Self {
        Self {
            view: BTreeSet::from([unit.to_owned()]),
            ..Self::default()
        }
    }
    /// An admin: everything, including erasure.
    pub fn admin() -> Self {
        Self {
            all: true,
            erase: true,
            ..Self::default()
        }
    }
    fn may_view(&self, unit: Option<&str>) -> bool {
        self.all || unit.is_none_or(|u| self.view.contains(u))
    }
    fn may_modify(&self, unit: Option<&str>) -> bool {
        self.all || unit.is_some_and(|u| self.modify.contains(u))
    }
}

/// "A laptop's user may see (and change) the documents of these units":
/// rights per peer, documents placed by their `unit` field. Documents
/// without a unit (the organisation document) are visible to every peer and
/// changed only by admins. Peers without rights see nothing.
#[derive(Debug, Clone, Default)]
pub struct UnitPolicy {
    rights: BTreeMap<NodeId, UnitRights>,
}

impl UnitPolicy {
    /// No peer has rights.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets a peer's rights.
    pub fn grant(mut self, peer: NodeId, rights: UnitRights) -> Self {
        self.rights.insert(peer, rights);
        self
    }
    /// Sets a peer's rights in place.
    pub fn set(&mut self, peer: NodeId, rights: UnitRights) {
        self.rights.insert(peer, rights);
    }
}

impl Policy for UnitPolicy {
    fn may_view(&self, peer: &NodeId, doc: &DocMeta<'_>) -> bool {
        self.rights.get(peer).is_some_and(|r| r.may_view(doc.unit))
    }

    fn check_change(&self, peer: &NodeId, check: &ChangeCheck<'_>) -> Result<(), RefusedReason> {
        let Some(rights) = self.rights.get(peer) else {
            return Err(RefusedReason::OutOfScope);
        };
        let after = unit_of(check.after);
        if let Some(before) = check.before {
            let unit = unit_at(check.after, before);
            if !rights.may_view(unit.as_deref()) {
                return Err(RefusedReason::OutOfScope);
            }
            if !rights.may_modify(unit.as_deref()) {
                return Err(RefusedReason::NotPermitted);
            }
        }
        if rights.may_modify(after.as_deref()) {
            Ok(())
        } else {
            Err(RefusedReason::NotPermitted)
        }
    }

    fn may_erase(&self, node: &NodeId, _doc: DocId) -> bool {
        self.rights.get(node).is_some_and(|r| r.erase)
    }
}

/// Who a [`MemReplica`] talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// A hub: enrolled laptops that are neither revoked nor deactivated.
    Enrolled {
        /// Enrolled devices.
        enrolled: BTreeSet<NodeId>,
        /// Revoked devices.
        revoked: BTreeSet<NodeId>,
        /// Devices whose user is deactivated.
        deactivated: BTreeSet<NodeId>,
    },
    /// A laptop: only its pinned hub.
    Pinned(NodeId),
}

#[derive(Debug, Clone)]
struct MemDoc {
    kind: DocKind,
    /// The recorded heads hash (plaintext metadata in a real store).
    hash: HeadsHash,
    /// The recorded unit (scope metadata).
    unit: Option<String>,
    /// The document; `None` when its bytes no longer load.
    doc: Option<AutoCommit>,
    /// Its saved bytes, as a store keeps them (filled on demand, cleared on change).
    saved: Option<Vec<u8>>,
}

/// Per-peer bookkeeping of a [`MemReplica`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerBook {
    /// The agreed set.
    pub agreed: DocSet,
    /// Automerge sync states per document.
    pub states: BTreeMap<DocId, Vec<u8>>,
    /// Tombstone cursor.
    pub tombstone_cursor: u64,
    /// Completed sessions.
    pub commits: usize,
}

/// Counters of replica calls, to check that cost follows the change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemStats {
    /// Documents loaded.
    pub loads: usize,
    /// Documents saved.
    pub saves: usize,
    /// Sync states read.
    pub state_reads: usize,
    /// Documents exported to send whole.
    pub exports: usize,
}

/// An in-memory replica. See the module docs.
pub struct MemReplica {
    node: NodeId,
    role: Role,
    docs: BTreeMap<DocId, MemDoc>,
    erased: BTreeMap<DocId, Tombstone>,
    tomb_log: Vec<Tombstone>,
    peers: BTreeMap<NodeId, PeerBook>,
    audit: AuditLog,
    refusals: Vec<(NodeId, Refusal)>,
    quarantined: Vec<(NodeId, DocId, QuarantineReason)>,
    admission: Admission,
    policy: Option<Box<dyn Policy>>,
    /// Attachment files held.
    blobs: BTreeMap<AttachmentId, Vec<u8>>,
    /// Attachment files referenced (size, blake3), as documents would.
    blob_refs: BTreeMap<AttachmentId, (u64, [u8; 32])>,
    /// Files being received.
    blob_in: BTreeMap<AttachmentId, Vec<u8>>,
    /// Call counters.
    pub stats: MemStats,
}

impl std::fmt::Debug for MemReplica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemReplica")
            .field("node", &self.node)
            .field("role", &self.role)
            .field("docs", &self.docs.len())
            .field("erased", &self.erased.len())
            .finish_non_exhaustive()
    }
}

impl MemReplica {
    fn new(node: NodeId, role: Role, admission: Admission) -> Self {
        Self {
            node,
            role,
            docs: BTreeMap::new(),
            erased: BTreeMap::new(),
            tomb_log: Vec::new(),
            peers: BTreeMap::new(),
            audit: AuditLog::new(),
            refusals: Vec::new(),
            quarantined: Vec::new(),
            admission,
            policy: None,
            blobs: BTreeMap::new(),
            blob_refs: BTreeMap::new(),
            blob_in: BTreeMap::new(),
            stats: MemStats::default(),
        }
    }

    /// Records a reference to an attachment file (as a document would hold
    /// one): the file is wanted until it is held.
    pub fn reference_blob(&mut self, id: AttachmentId, size: u64, blake3: [u8; 32]) {
        self.blob_refs.insert(id, (size, blake3));
    }

    /// Holds an attachment file (and references it).
    pub fn put_blob(&mut self, id: AttachmentId, bytes: Vec<u8>) {
        self.reference_blob(id, bytes.len() as u64, *blake3::hash(&bytes).as_bytes());
        self.blobs.insert(id, bytes);
    }

    /// An attachment file held here.
    pub fn blob(&self, id: AttachmentId) -> Option<&[u8]> {
        self.blobs.get(&id).map(Vec::as_slice)
    }

    /// A hub with no enrolled devices and no policy (every enrolled peer sees everything).
    pub fn hub(node: NodeId) -> Self {
        Self::new(
            node,
            Role::Hub,
            Admission::Enrolled {
                enrolled: BTreeSet::new(),
                revoked: BTreeSet::new(),
                deactivated: BTreeSet::new(),
            },
        )
    }

    /// A laptop pinned to `hub`.
    pub fn laptop(node: NodeId, hub: NodeId) -> Self {
        Self::new(node, Role::Laptop, Admission::Pinned(hub))
    }

    /// This replica's node id.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// Sets the access policy (hub).
    pub fn set_policy(&mut self, policy: impl Policy + 'static) {
        self.policy = Some(Box::new(policy));
    }

    /// Enrols a device (hub).
    pub fn enrol(&mut self, node: NodeId) {
        if let Admission::Enrolled { enrolled, .. } = &mut self.admission {
            enrolled.insert(node);
        }
    }

    /// Removes a device's enrolment (hub).
    pub fn unenrol(&mut self, node: NodeId) {
        if let Admission::Enrolled { enrolled, .. } = &mut self.admission {
            enrolled.remove(&node);
        }
    }

    /// Revokes a device (hub).
    pub fn revoke(&mut self, node: NodeId) {
        if let Admission::Enrolled { revoked, .. } = &mut self.admission {
            revoked.insert(node);
        }
    }

    /// Deactivates the user of a device (hub).
    pub fn deactivate(&mut self, node: NodeId) {
        if let Admission::Enrolled { deactivated, .. } = &mut self.admission {
            deactivated.insert(node);
        }
    }

    /// Adds a document (as the app would create one). Refused for an erased id.
    pub fn insert(&mut self, id: DocId, kind: DocKind, mut doc: AutoCommit) -> bool {
        if self.erased.contains_key(&id) {
            return false;
        }
        let hash = heads_hash(&doc.get_heads());
        let unit = unit_of(&doc);
        self.docs.insert(
            id,
            MemDoc {
                kind,
                hash,
                unit,
                doc: Some(doc),
                saved: None,
            },
        );
        true
    }

    /// Adds a document from its saved bytes, as a store holding a snapshot
    /// would (they are kept, and sent as they are when the document goes
    /// whole to a peer).
    pub fn insert_saved(
        &mut self,
        id: DocId,
        kind: DocKind,
        bytes: Vec<u8>,
    ) -> Result<bool, automerge::AutomergeError> {
        let doc = AutoCommit::load(&bytes)?;
        let inserted = self.insert(id, kind, doc);
        if let Some(d) = self.docs.get_mut(&id) {
            d.saved = Some(bytes);
        }
        Ok(inserted)
    }

    /// Edits a document as the app would (one commit). `false` if not held or unreadable.
    pub fn edit(&mut self, id: DocId, f: impl FnOnce(&mut AutoCommit)) -> bool {
        let Some(MemDoc {
            hash,
            unit,
            doc: Some(doc),
            saved,
            ..
        }) = self.docs.get_mut(&id)
        else {
            return false;
        };
        *saved = None;
        f(doc);
        doc.commit();
        *hash = heads_hash(&doc.get_heads());
        *unit = unit_of(doc);
        true
    }

    /// Simulates damaged storage: the document no longer loads and its
    /// recorded heads hash no longer matches anything.
    pub fn corrupt(&mut self, id: DocId) {
        if let Some(d) = self.docs.get_mut(&id) {
            d.doc = None;
            d.saved = None;
            d.hash = HeadsHash(*blake3::hash(d.hash.0.as_slice()).as_bytes());
        }
    }

    /// Erases a document here: deletes it and records a tombstone signed by
    /// `key` (this node's key) to propagate. An organisation document is
    /// never erased (`false`); an id not held is erased as a client.
    pub fn erase(&mut self, key: &NodeKey, id: DocId, at: DateTime<Utc>) -> bool {
        let kind = self.docs.get(&id).map_or(DocKind::Client, |d| d.kind);
        if kind == DocKind::Organisation || self.erased.contains_key(&id) {
            return false;
        }
        let mut user = [0u8; 16];
        user.copy_from_slice(&key.node_id().as_bytes()[..16]);
        let t = Tombstone::sign(key, id, kind, UserId(Uuid::from_bytes(user)), at);
        self.record_erasure(t);
        true
    }

    /// Records an already signed tombstone as if this node had erased the
    /// document (tests: a forged or hostile tombstone to propagate).
    pub fn record_raw_tombstone(&mut self, t: Tombstone) {
        self.record_erasure(t);
    }

    fn record_erasure(&mut self, t: Tombstone) -> bool {
        let deleted = self.docs.remove(&t.doc).is_some();
        for book in self.peers.values_mut() {
            book.states.remove(&t.doc);
        }
        self.erased.insert(t.doc, t);
        self.tomb_log.push(t);
        deleted
    }

    /// A readable document.
    pub fn doc(&self, id: DocId) -> Option<&AutoCommit> {
        self.docs.get(&id).and_then(|d| d.doc.as_ref())
    }

    /// Whether the document is held (readable or not).
    pub fn contains(&self, id: DocId) -> bool {
        self.docs.contains_key(&id)
    }

    /// Held document ids.
    pub fn doc_ids(&self) -> BTreeSet<DocId> {
        self.docs.keys().copied().collect()
    }

    /// Number of held documents.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether no document is held.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Heads hash of every held document.
    pub fn heads_map(&self) -> DocSet {
        self.docs.iter().map(|(id, d)| (*id, d.hash)).collect()
    }

    /// Whether the id is erased here.
    pub fn is_erased(&self, id: DocId) -> bool {
        self.erased.contains_key(&id)
    }

    /// Refusals recorded from peers.
    pub fn refusals(&self) -> &[(NodeId, Refusal)] {
        &self.refusals
    }

    /// Quarantined documents.
    pub fn quarantined(&self) -> &[(NodeId, DocId, QuarantineReason)] {
        &self.quarantined
    }

    /// Per-peer bookkeeping.
    pub fn peer_book(&self, peer: &NodeId) -> Option<&PeerBook> {
        self.peers.get(peer)
    }

    /// The audit log.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// The audit log, to append to.
    pub fn audit_mut(&mut self) -> &mut AuditLog {
        &mut self.audit
    }

    /// Total saved size of the readable documents (`AutoCommit::save`).
    pub fn saved_size(&self) -> usize {
        self.docs
            .values()
            .filter_map(|d| d.doc.as_ref().map(|doc| doc.clone().save().len()))
            .sum()
    }

    /// The chains shared with a peer: a hub shares each laptop's own chain
    /// only; a laptop shares everything it holds.
    fn shares(&self, peer: &Peer, node: &NodeId) -> bool {
        self.role == Role::Laptop || *node == peer.node
    }
}

impl Replica for MemReplica {
    fn admit(&mut self, peer: &Peer) -> Result<(), Denial> {
        match &self.admission {
            Admission::Pinned(hub) if *hub == peer.node => Ok(()),
            Admission::Pinned(_) => Err(Denial::HubMismatch),
            Admission::Enrolled {
                enrolled,
                revoked,
                deactivated,
            } => {
                if revoked.contains(&peer.node) {
                    Err(Denial::DeviceRevoked)
                } else if deactivated.contains(&peer.node) {
                    Err(Denial::UserDeactivated)
                } else if enrolled.contains(&peer.node) {
                    Ok(())
                } else {
                    Err(Denial::NotEnrolled)
                }
            }
        }
    }

    fn doc_set(&mut self, peer: &Peer) -> Result<Vec<DocEntry>, ReplicaError> {
        let policy = self.policy.as_deref();
        Ok(self
            .docs
            .iter()
            .filter(|(id, d)| {
                policy.is_none_or(|p| {
                    p.may_view(
                        &peer.node,
                        &DocMeta {
                            id: **id,
                            kind: d.kind,
                            unit: d.unit.as_deref(),
                        },
                    )
                })
            })
            .map(|(id, d)| DocEntry {
                id: *id,
                kind: d.kind,
                heads: d.hash,
            })
            .collect())
    }

    fn doc_status(&mut self, id: DocId) -> Result<DocStatus, ReplicaError> {
        Ok(if self.erased.contains_key(&id) {
            DocStatus::Erased
        } else if self.docs.contains_key(&id) {
            DocStatus::Present
        } else {
            DocStatus::Absent
        })
    }

    fn load_doc(&mut self, id: DocId) -> Result<Option<LoadedDoc>, ReplicaError> {
        self.stats.loads += 1;
        match self.docs.get(&id) {
            None => Ok(None),
            Some(MemDoc {
                kind,
                doc: Some(doc),
                ..
            }) => Ok(Some(LoadedDoc {
                kind: *kind,
                doc: doc.clone(),
            })),
            Some(_) => Err(ReplicaError::Unreadable(id)),
        }
    }

    fn export_doc(&mut self, id: DocId) -> Result<Option<ExportedDoc>, ReplicaError> {
        self.stats.exports += 1;
        match self.docs.get_mut(&id) {
            None => Ok(None),
            Some(MemDoc {
                kind,
                doc: Some(doc),
                saved,
                ..
            }) => {
                let bytes = saved.get_or_insert_with(|| doc.clone().save()).clone();
                Ok(Some(ExportedDoc {
                    kind: *kind,
                    bytes,
                    heads: Some(doc.get_heads()),
                }))
            }
            Some(_) => Err(ReplicaError::Unreadable(id)),
        }
    }

    fn save_docs(&mut self, docs: &mut [DocWrite<'_>]) -> Result<(), ReplicaError> {
        for w in docs.iter_mut() {
            if self.erased.contains_key(&w.id) {
                continue;
            }
            self.stats.saves += 1;
            match self.docs.get_mut(&w.id) {
                Some(MemDoc {
                    hash,
                    unit,
                    doc: Some(doc),
                    saved,
                    ..
                }) => {
                    *saved = None;
                    doc.merge(w.doc)
                        .map_err(|e| ReplicaError::Storage(Box::new(e)))?;
                    *hash = heads_hash(&doc.get_heads());
                    *unit = unit_of(doc);
                }
                _ => {
                    let doc = w.doc.clone();
                    self.insert(w.id, w.kind, doc);
                }
            }
        }
        Ok(())
    }

    fn accept_change(
        &mut self,
        peer: &Peer,
        change: &ChangeCheck<'_>,
    ) -> Result<(), RefusedReason> {
        match &self.policy {
            Some(p) => p.check_change(&peer.node, change),
            None => Ok(()),
        }
    }

    fn delete_revoked(&mut self, _peer: &Peer, id: DocId) -> Result<(), ReplicaError> {
        self.docs.remove(&id);
        for book in self.peers.values_mut() {
            book.states.remove(&id);
        }
        Ok(())
    }

    fn peer_record(&mut self, peer: &Peer) -> Result<PeerRecord, ReplicaError> {
        Ok(self
            .peers
            .get(&peer.node)
            .map(|b| PeerRecord {
                agreed: std::sync::Arc::new(b.agreed.clone()),
                tombstone_cursor: b.tombstone_cursor,
            })
            .unwrap_or_default())
    }

    fn sync_states(
        &mut self,
        peer: &Peer,
        ids: &[DocId],
    ) -> Result<Vec<(DocId, Vec<u8>)>, ReplicaError> {
        self.stats.state_reads += ids.len();
        let Some(book) = self.peers.get(&peer.node) else {
            return Ok(Vec::new());
        };
        Ok(ids
            .iter()
            .filter_map(|id| book.states.get(id).map(|s| (*id, s.clone())))
            .collect())
    }

    fn commit(&mut self, peer: &Peer, commit: &PeerCommit) -> Result<(), ReplicaError> {
        let book = self.peers.entry(peer.node).or_default();
        crate::docset::apply_in_place(&mut book.agreed, &commit.agreed);
        for (id, state) in &commit.sync_states {
            match state {
                Some(s) => {
                    book.states.insert(*id, s.clone());
                }
                None => {
                    book.states.remove(id);
                }
            }
        }
        book.tombstone_cursor = commit.tombstone_cursor;
        book.commits += 1;
        Ok(())
    }

    fn own_audit_head(&mut self) -> Result<Option<Head>, ReplicaError> {
        Ok(self.audit.chain(&self.node).and_then(|c| c.head()))
    }

    fn audit_heads(&mut self, peer: &Peer) -> Result<Vec<AuditHead>, ReplicaError> {
        Ok(self
            .audit
            .heads()
            .into_iter()
            .filter(|(node, _)| self.shares(peer, node))
            .map(|(node, h)| AuditHead {
                node,
                seq: h.seq,
                hash: h.hash,
            })
            .collect())
    }

    fn audit_missing(
        &mut self,
        peer: &Peer,
        theirs: &[AuditHead],
    ) -> Result<Vec<Vec<u8>>, ReplicaError> {
        let remote: BTreeMap<NodeId, Head> = theirs
            .iter()
            .map(|h| {
                (
                    h.node,
                    Head {
                        seq: h.seq,
                        hash: h.hash,
                    },
                )
            })
            .collect();
        Ok(self
            .audit
            .missing_from(&remote)
            .filter(|e| self.shares(peer, &e.node))
            .map(Entry::encode)
            .collect())
    }

    fn merge_audit(
        &mut self,
        _peer: &Peer,
        entries: Vec<Entry>,
    ) -> Result<AuditMerge, ReplicaError> {
        let report = self.audit.merge(entries);
        Ok(AuditMerge {
            added: report.added,
            duplicates: report.duplicates,
            rejected: report.rejected.len(),
        })
    }

    fn tombstones_since(
        &mut self,
        _peer: &Peer,
        cursor: u64,
    ) -> Result<TombstoneBatch, ReplicaError> {
        let from = usize::try_from(cursor)
            .unwrap_or(usize::MAX)
            .min(self.tomb_log.len());
        Ok(TombstoneBatch {
            tombstones: self.tomb_log[from..].to_vec(),
            cursor: self.tomb_log.len() as u64,
        })
    }

    fn apply_tombstone(
        &mut self,
        peer: &Peer,
        tombstone: &Tombstone,
    ) -> Result<TombstoneOutcome, ReplicaError> {
        let _ = peer;
        if self.erased.contains_key(&tombstone.doc) {
            return Ok(TombstoneOutcome::Known);
        }
        if !tombstone.verify() {
            return Ok(TombstoneOutcome::Refused(RefusedReason::Invalid));
        }
        if tombstone.kind == DocKind::Organisation {
            return Ok(TombstoneOutcome::Refused(RefusedReason::NotPermitted));
        }
        if self
            .docs
            .get(&tombstone.doc)
            .is_some_and(|d| d.kind != tombstone.kind)
        {
            return Ok(TombstoneOutcome::Refused(RefusedReason::Invalid));
        }
        if let Some(p) = &self.policy
            && !p.may_erase(&tombstone.node, tombstone.doc)
        {
            return Ok(TombstoneOutcome::Refused(RefusedReason::NotPermitted));
        }
        let deleted = self.record_erasure(*tombstone);
        Ok(TombstoneOutcome::Applied { deleted })
    }

    fn record_refusal(&mut self, peer: &Peer, refusal: &Refusal) -> Result<(), ReplicaError> {
        self.refusals.push((peer.node, *refusal));
        Ok(())
    }

    fn quarantine(
        &mut self,
        peer: &Peer,
        id: DocId,
        reason: QuarantineReason,
    ) -> Result<(), ReplicaError> {
        self.quarantined.push((peer.node, id, reason));
        Ok(())
    }

    fn blob_wants(
        &mut self,
        _peer: &Peer,
        limit: usize,
    ) -> Result<Vec<AttachmentId>, ReplicaError> {
        Ok(self
            .blob_refs
            .keys()
            .filter(|id| !self.blobs.contains_key(id))
            .take(limit)
            .copied()
            .collect())
    }

    fn blob_read(
        &mut self,
        _peer: &Peer,
        id: AttachmentId,
        offset: u64,
        max: usize,
    ) -> Result<Option<BlobPiece>, ReplicaError> {
        let Some(bytes) = self.blobs.get(&id) else {
            return Ok(None);
        };
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let end = start.saturating_add(max).min(bytes.len());
        Ok(Some(BlobPiece {
            total: bytes.len() as u64,
            data: bytes[start..end].to_vec(),
        }))
    }

    fn blob_write(&mut self, _peer: &Peer, chunk: &BlobChunk) -> Result<BlobWritten, ReplicaError> {
        let Some(&(size, digest)) = self.blob_refs.get(&chunk.id) else {
            return Ok(BlobWritten::Rejected);
        };
        if self.blobs.contains_key(&chunk.id) || chunk.total != size {
            self.blob_in.remove(&chunk.id);
            return Ok(BlobWritten::Rejected);
        }
        // A file starts over at offset 0 (what an earlier, cut session
        // left is dropped).
        let buf = self.blob_in.entry(chunk.id).or_default();
        if chunk.offset == 0 {
            buf.clear();
        }
        buf.extend_from_slice(&chunk.data);
        if !chunk.is_last() {
            return Ok(BlobWritten::Partial);
        }
        let bytes = self.blob_in.remove(&chunk.id).unwrap_or_default();
        if *blake3::hash(&bytes).as_bytes() != digest {
            return Ok(BlobWritten::Rejected);
        }
        self.blobs.insert(chunk.id, bytes);
        Ok(BlobWritten::Stored)
    }
}
