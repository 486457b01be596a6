//! [`SyncReplica`]: the encrypted store as a [`polku_sync::Replica`].
//!
//! A logged-in [`Session`] becomes a replica with [`Session::into_replica`]
//! and comes back with [`SyncReplica::into_session`]. The replica mirrors the
//! in-memory reference (`polku_sync::mem::MemReplica`) over the store:
//!
//! - **Admission.** A hub re-reads the organisation document on every
//!   contact (a revocation made by another process counts) and admits only
//!   an enrolled, non-revoked device of an active user; a laptop admits only
//!   its pinned hub.
//! - **Scope.** A hub offers a laptop the organisation document, the clients
//!   its user may view (PAR's rights, [`polku_core::rights::can`] with
//!   `ViewBasic`) and the activity memos and brief-contact logs of its
//!   units ([`polku_core::rights::may_view_unit_work`]); the unit and
//!   responsible workers are read from the documents themselves (cached by
//!   heads hash), so edits by other processes count. A laptop offers
//!   everything it holds.
//! - **Changes from a laptop** need the user's modify right on the client
//!   before and after the change (plus the memo or record right for what the
//!   change touches); the organisation document is changed only on the hub;
//!   an activity memo or a brief-contact log needs its unit among the
//!   user's units, before and after the change
//!   ([`polku_core::rights::may_record_unit_work`], the rule the API applies
//!   to local writes), and a log must keep the id its unit and month derive.
//!   Every change is held to the API's length limits, and may not bring in
//!   a code or unit a new record could not choose (unknown or retired; uses
//!   already there stay valid). The rules are pure functions in
//!   [`polku_core::rights::delivery`] and [`polku_core::validate`]
//!   (`checks.rs`).
//! - **Saving** appends, in one store transaction for all documents, the
//!   changes each document got since it was loaded, and refreshes the sealed
//!   search-index entry and view of client documents.
//! - **Bookkeeping** (agreed sets, per-document Automerge sync states,
//!   tombstone cursors, the tombstone log, refusals, quarantine, audit
//!   expectations) lives in the store's sync tables (schema v6, values
//!   sealed; `bookkeeping.rs`). [`Session::sync_problems`] and
//!   [`Session::waiting_changes`] show the app what did not sync.
//! - **Audit chains** come from the store's audit entries and are merged
//!   with the API's append-only merge (fork evidence kept, at most
//!   [`crate::MAX_FORKS_PER_NODE`] per node). A hub accepts a node's entries
//!   only if the node is an enrolled device (the peer, or one whose chain the
//!   peer relays) and each names no user or that device's enrolled user; it
//!   shares its own chain with administrators' devices. A laptop accepts its
//!   hub's chain only.
//! - **Audit gaps.** Each hello carries the sender's chain head and every
//!   document change's commit message records its author's node and audit
//!   seq; the hub keeps the highest of these per node, and
//!   [`Session::audit_gaps`] reports chains that do not reach it (entries
//!   deleted on a device before a sync).
//! - **Erasure** (`SyncReplica::erase_doc`, [`Replica::apply_tombstone`]):
//!   tombstones are signed by the erasing node; a receiver verifies the
//!   signature, refuses the organisation document, a kind other than the
//!   local copy's, and an erasing node that is neither the hub nor a device
//!   enrolled for the tombstone's user, or whose user may not erase. The
//!   tombstone, the deletion and the audit entry are one transaction. A
//!   laptop whose document the hub refuses as erased (a stale copy of the
//!   store) deletes its copy.

mod audit_sync;
mod blobs;
pub(crate) use blobs::refs_of;
mod bookkeeping;
mod cache;
mod checks;
mod scope;
mod tombstones;
pub use tombstones::ErasureStatus;
pub(crate) use tombstones::{encode_tombstone, erased_ids, erased_in};

use std::collections::{BTreeMap, BTreeSet};

use automerge::AutoCommit;
use chrono::{DateTime, Utc};
use polku_audit::{Action as AuditAction, Detail, Entry, NodeId};
use polku_core::doc::{BasicDoc, RecordDoc, credential};
use polku_core::model::{ClientSummary, User};
use polku_core::rights::{Rights, delivery};
use polku_core::{ClientId, DocId, DocKind};
use polku_store::{StoreError, WriteMark, heads_hash as store_heads_hash};
use polku_sync::docset::apply_in_place;
use polku_sync::protocol::{AuditHead, Refusal, RefusedReason, Role, Tombstone};
use polku_sync::{
    AuditMerge, ChangeCheck, Denial, DocEntry, DocStatus, DocWrite, ExportedDoc, HeadsHash,
    LoadedDoc, OfferedSet, Peer, PeerCommit, PeerRecord, QuarantineReason, Replica, ReplicaError,
    SessionConfig, SyncReport, TombstoneBatch, TombstoneOutcome,
};

use crate::session::{Session, index_bytes};
use crate::{ApiError, Result, audit_codes, views};

pub use audit_sync::AuditGap;
pub use bookkeeping::SyncProblem;

use scope::DocScope;

fn node_hex(node: &NodeId) -> String {
    node.to_string()
}

fn storage<E: std::error::Error + Send + Sync + 'static>(e: E) -> ReplicaError {
    ReplicaError::Storage(Box::new(e))
}

fn corrupt(what: &'static str) -> ReplicaError {
    storage(StoreError::Corrupt { what })
}

/// The store's heads hash as the sync crate's (both are BLAKE3 over the
/// sorted heads: the same bytes).
fn to_sync_hash(h: polku_store::HeadsHash) -> HeadsHash {
    HeadsHash(h.0)
}

fn replica_to_api(e: ReplicaError) -> ApiError {
    match e {
        ReplicaError::Storage(inner) => match inner.downcast::<StoreError>() {
            Ok(s) => ApiError::Store(*s),
            Err(_) => ApiError::Store(StoreError::Corrupt {
                what: "sync bookkeeping",
            }),
        },
        _ => ApiError::Store(StoreError::Corrupt {
            what: "sync bookkeeping",
        }),
    }
}

fn api_storage(e: ApiError) -> ReplicaError {
    match e {
        ApiError::Store(s) => storage(s),
        other => storage(other),
    }
}

/// The encrypted store as a sync [`Replica`]; owns the logged-in [`Session`].
/// See the module docs.
#[derive(Debug)]
pub struct SyncReplica {
    session: Session,
    hub: bool,
    node: NodeId,
    /// Scope facts of documents, by the heads hash they were read at (hub).
    scopes: BTreeMap<DocId, (polku_store::HeadsHash, Option<DocScope>)>,
    /// Whether `scopes` was filled in bulk once.
    scopes_filled: bool,
    /// Scopes of basic-data documents accepted this turn, not saved yet
    /// (hub): their record documents are judged on them.
    turn_scopes: BTreeMap<DocId, DocScope>,
    /// Documents were deleted this session (checkpoint at its end).
    deleted_here: bool,
    /// Erased ids (the tombstone log), with the log position read to.
    erased: Option<(u64, BTreeSet<DocId>)>,
    /// The attachment file being read for the peer.
    outgoing: Option<blobs::Outgoing>,
    /// The store's attachment references are known to be filled.
    refs_ready: bool,
    /// Attachment files being received, with the digest each must have.
    incoming: BTreeMap<polku_core::AttachmentId, (polku_store::AttachmentWriter, [u8; 32])>,
    /// Reads kept while the store is unchanged (`cache.rs`).
    cache: cache::Cached,
    /// Every document's heads as last listed, followed by write counter.
    listing: cache::Listing,
}

impl Session {
    /// This session as a sync replica (hub or laptop, by the store's role).
    pub fn into_replica(self) -> Result<SyncReplica> {
        SyncReplica::new(self)
    }
}

impl SyncReplica {
    /// A replica over a logged-in session.
    pub fn new(session: Session) -> Result<SyncReplica> {
        let hub = session.is_hub()?;
        let node = session.node_id()?;
        Ok(SyncReplica {
            session,
            hub,
            node,
            scopes: BTreeMap::new(),
            scopes_filled: false,
            turn_scopes: BTreeMap::new(),
            deleted_here: false,
            erased: None,
            outgoing: None,
            refs_ready: false,
            incoming: BTreeMap::new(),
            cache: cache::Cached::default(),
            listing: cache::Listing::default(),
        })
    }

    /// Fills what a hub's sessions read from its caches (every document's
    /// scope, the erased ids, the attachment references) before it serves
    /// anyone, so that the first laptop does not wait for it. Nothing on a
    /// laptop.
    pub fn warm(&mut self) -> Result<()> {
        if !self.hub {
            return Ok(());
        }
        let heads = self.live_heads().map_err(replica_to_api)?;
        self.refresh_scopes(&heads).map_err(replica_to_api)?;
        self.ensure_attachment_refs().map_err(replica_to_api)?;
        Ok(())
    }

    /// Another replica over the same store and login, on a connection of
    /// its own ([`Session::another_connection`]), warmed as this one is
    /// before it serves anyone: a hub serves laptops on several of them at
    /// once. Each keeps its own caches, which follow the other's writes by
    /// the store's write mark.
    pub fn another(&self) -> Result<SyncReplica> {
        let mut r = SyncReplica::new(self.session.another_connection()?)?;
        r.warm()?;
        Ok(r)
    }

    /// Every stored document but the erased ones, with kind and heads hash.
    /// Read from the store once while it is unchanged.
    fn live_heads(
        &mut self,
    ) -> std::result::Result<Vec<(DocId, DocKind, polku_store::HeadsHash)>, ReplicaError> {
        self.live_heads_at().map(|(live, _)| live)
    }

    /// [`SyncReplica::live_heads`] and the write mark they are valid from
    /// (what is worked out from them may be kept while the store is still
    /// there: [`cache::Cached::still`]).
    fn live_heads_at(
        &mut self,
    ) -> std::result::Result<(Vec<cache::Heads>, WriteMark), ReplicaError> {
        let at = self.cache.at(&self.session.store)?;
        if let Some(live) = &self.cache.fresh(&self.session.store)?.live {
            return Ok((live.clone(), at));
        }
        let heads = self.listing.list(&self.session.store)?;
        let erased = self.erased_set()?;
        let live: Vec<_> = heads
            .into_iter()
            .filter(|(id, _, _)| !erased.contains(id))
            .collect();
        if let Some(c) = self.cache.still(&self.session.store, at)? {
            c.live = Some(live.clone());
        }
        Ok((live, at))
    }

    /// The session back.
    pub fn into_session(self) -> Session {
        self.session
    }

    /// The session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The session, mutable (the app's own edits between syncs).
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// This side's role in a sync session.
    pub fn role(&self) -> Role {
        if self.hub { Role::Hub } else { Role::Laptop }
    }

    /// This device's node id.
    pub fn node_id(&self) -> NodeId {
        self.node
    }

    /// The configuration of a sync session with `peer` (default limits).
    pub fn session_config(&self, peer: NodeId) -> SessionConfig {
        SessionConfig::new(self.role(), self.session.org_id(), self.node, peer)
    }

    /// Refusals recorded from peers (documents or changes of ours a peer did
    /// not accept), for the app to show. The local documents are unchanged.
    pub fn refusals(&self) -> Result<Vec<(NodeId, Refusal)>> {
        Ok(self
            .session
            .store
            .sync_problems()?
            .into_iter()
            .filter(|p| !p.quarantined)
            .map(|p| {
                (
                    NodeId::from_bytes(p.peer),
                    Refusal {
                        doc: p.doc,
                        reason: RefusedReason::from_code(p.reason),
                    },
                )
            })
            .collect())
    }

    /// Documents that could not be synced with a peer, for the app to show.
    pub fn quarantined(&self) -> Result<Vec<(NodeId, DocId, QuarantineReason)>> {
        Ok(self
            .session
            .store
            .sync_problems()?
            .into_iter()
            .filter(|p| p.quarantined)
            .map(|p| {
                (
                    NodeId::from_bytes(p.peer),
                    p.doc,
                    bookkeeping::quarantine_from_code(p.reason),
                )
            })
            .collect())
    }

    /// Whether `id` was erased (its id is refused forever).
    pub fn is_erased(&mut self, id: DocId) -> Result<bool> {
        Ok(self.erased_set().map_err(replica_to_api)?.contains(&id))
    }

    /// Writes one audit entry for a completed sync session (action `sync`,
    /// the documents sent and received, the peer-independent target `None`).
    ///
    /// Both writes (and the laptop's last hub contact) are bookkeeping: what
    /// the replica keeps of its store for the next session stays valid.
    pub fn record_sync(&mut self, report: &SyncReport, now: DateTime<Utc>) -> Result<()> {
        let before = self
            .cache
            .before_bookkeeping(&self.session.store)
            .map_err(replica_to_api)?;
        let written = self.write_sync_record(report, now);
        self.cache
            .after_bookkeeping(&self.session.store, before)
            .map_err(replica_to_api)?;
        written
    }

    fn write_sync_record(&mut self, report: &SyncReport, now: DateTime<Utc>) -> Result<()> {
        if report.completed && self.role() == Role::Laptop {
            self.session.set_last_hub_contact(now)?;
        }
        let sent = u32::try_from(report.docs_sent).unwrap_or(u32::MAX);
        let received = u32::try_from(report.docs_received).unwrap_or(u32::MAX);
        self.session.record(
            now,
            AuditAction::Sync,
            None,
            Detail::PeerTransfer {
                peer: report.peer,
                sent,
                received,
            },
        )
    }

    /// Credential documents changed by a peer: re-wrap the local login of
    /// their user to the new password (a laptop's own user; on the hub an
    /// active administrator), so that the old password stops opening this
    /// node.
    fn follow_credentials(&mut self, ids: &[DocId]) -> Result<()> {
        for id in ids {
            let doc = match self.session.store.load_doc(*id) {
                Ok(d) => d,
                Err(StoreError::DocNotFound(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            let Some(owner) = credential::credential_user(&doc) else {
                continue;
            };
            let Some(user) = self.session.org.users.get(&owner).cloned() else {
                continue;
            };
            let keep = if self.hub {
                user.active && user.role == polku_core::model::Role::Admin
            } else {
                user.active
            };
            crate::credentials::follow(&self.session.store, &user, keep)?;
            if owner == self.session.user.id {
                let must = crate::credentials::must_change(&self.session.store, owner)?;
                self.session.set_must_change_password(must.is_some());
            }
        }
        Ok(())
    }

    /// Re-reads the organisation document (hub: another process may have
    /// revoked a device or changed a user since).
    fn reload_org(&mut self) -> Result<()> {
        self.session.reload_org()
    }

    /// The organisation document as stored now: read again unless nothing
    /// moved the store since it was last read (a revocation by another
    /// process moves the store's write mark too, and so does the
    /// organisation document arriving in this session).
    pub(super) fn fresh_org(&mut self) -> std::result::Result<(), ReplicaError> {
        let store = &self.session.store;
        let at = self.cache.at(store)?;
        if !self.cache.fresh(store)?.org_read {
            self.reload_org().map_err(api_storage)?;
            // Read once more next time if anything moved while it was read.
            if let Some(c) = self.cache.still(&self.session.store, at)? {
                c.org_read = true;
            }
        }
        Ok(())
    }

    /// The user of a peer device and their rights, if the device is allowed
    /// ([`delivery::admitted_user`]).
    fn peer_user(&self, peer: &Peer) -> Option<(User, Rights)> {
        let user = delivery::admitted_user(&self.session.org, &node_hex(&peer.node))
            .ok()?
            .clone();
        let rights = Rights::for_user(&user);
        Some((user, rights))
    }

    /// Deletes a document, its index entry and view (with it) and every
    /// peer's sync state for it in one transaction, and forgets it in memory.
    /// The WAL is checkpointed once at the end of the session (see
    /// [`Replica::commit`]), not after each of possibly thousands of
    /// documents.
    /// What left the scope this session also leaves the write-ahead log.
    fn checkpoint_if_deleted(&mut self) -> Result<(), ReplicaError> {
        if std::mem::take(&mut self.deleted_here) {
            self.session.store.checkpoint().map_err(storage)?;
        }
        Ok(())
    }

    fn delete_local(&mut self, id: DocId) -> Result<bool, ReplicaError> {
        // Its attachment files go with a record document.
        let files = self.session.store.attachments_of_doc(id).map_err(storage)?;
        let deleted = self
            .session
            .store
            .batch(|b| b.delete_doc(id))
            .map_err(storage)?;
        self.delete_files(&files)?;
        let client = ClientId::from(id.0);
        self.session.index.remove(&client);
        self.session.dirty.remove(&client);
        self.scopes.remove(&id);
        Ok(deleted)
    }
}

impl Replica for SyncReplica {
    fn admit(&mut self, peer: &Peer) -> std::result::Result<(), Denial> {
        if !self.hub {
            return match self.session.hub_pin() {
                Ok(Some(pin)) if pin.node == *peer.node.as_bytes() => Ok(()),
                _ => Err(Denial::HubMismatch),
            };
        }
        // Fail closed: without a fresh organisation document, admit nobody.
        self.fresh_org().map_err(|_| Denial::NotEnrolled)?;
        match delivery::admitted_user(&self.session.org, &node_hex(&peer.node)) {
            Ok(_) => Ok(()),
            Err(delivery::NotAdmitted::NotEnrolled) => Err(Denial::NotEnrolled),
            Err(delivery::NotAdmitted::DeviceRevoked) => Err(Denial::DeviceRevoked),
            Err(delivery::NotAdmitted::UserDeactivated) => Err(Denial::UserDeactivated),
        }
    }

    fn doc_set(&mut self, peer: &Peer) -> std::result::Result<Vec<DocEntry>, ReplicaError> {
        let (heads, at) = self.live_heads_at()?;
        if !self.hub {
            return Ok(heads
                .into_iter()
                .map(|(id, kind, hh)| DocEntry {
                    id,
                    kind,
                    heads: to_sync_hash(hh),
                })
                .collect());
        }
        let Some((user, rights)) = self.peer_user(peer) else {
            return Ok(Vec::new());
        };
        let (heads, at) = if crate::extract::gets_extract(&user, &rights)
            && !self.cache.fresh(&self.session.store)?.extract_current
        {
            let refreshed = self.session.refresh_extract().map_err(api_storage)?;
            // Current if what it was computed from has not moved since (but
            // for its own write, after which the heads are read again).
            let after = self.cache.at(&self.session.store)?;
            if at == after || at.one_own_write_before(&after) {
                self.cache.fresh(&self.session.store)?.extract_current = true;
            }
            if refreshed {
                self.live_heads_at()?
            } else {
                (heads, at)
            }
        } else {
            (heads, at)
        };
        if let Some(set) = &self.cache.fresh(&self.session.store)?.peer(&peer.node).set {
            return Ok(set.clone());
        }
        let set = match self.incremental_set(&user, &rights, &peer.node, &heads)? {
            Some(set) => set,
            None => {
                self.refresh_scopes(&heads)?;
                heads
                    .into_iter()
                    .filter(|(id, kind, _)| self.offered(&user, &rights, *id, *kind))
                    .map(|(id, kind, hh)| DocEntry {
                        id,
                        kind,
                        heads: to_sync_hash(hh),
                    })
                    .collect()
            }
        };
        // Kept only if nothing moved while it was worked out (another
        // connection's commit meanwhile would make it a set of the past).
        if let Some(c) = self.cache.still(&self.session.store, at)? {
            c.peer(&peer.node).set = Some(set.clone());
        }
        Ok(set)
    }

    fn offered_set(&mut self, peer: &Peer) -> std::result::Result<OfferedSet, ReplicaError> {
        // Kept as the maps themselves: every session while the store does
        // not move shares them instead of building and freeing its own.
        let store = &self.session.store;
        let at = self.cache.at(store)?;
        if let Some(set) = &self.cache.fresh(store)?.peer(&peer.node).offered {
            return Ok(set.clone());
        }
        let set = OfferedSet::from_entries(&self.doc_set(peer)?);
        if let Some(c) = self.cache.still(&self.session.store, at)? {
            c.peer(&peer.node).offered = Some(set.clone());
        }
        Ok(set)
    }

    fn offered_now(
        &mut self,
        peer: &Peer,
        ids: &[DocId],
    ) -> std::result::Result<Vec<DocEntry>, ReplicaError> {
        if !self.hub {
            return Ok(Vec::new());
        }
        let wanted: BTreeSet<DocId> = ids.iter().copied().collect();
        Ok(self
            .doc_set(peer)?
            .into_iter()
            .filter(|e| wanted.contains(&e.id))
            .collect())
    }

    fn doc_status(&mut self, id: DocId) -> std::result::Result<DocStatus, ReplicaError> {
        if self.erased_set()?.contains(&id) {
            return Ok(DocStatus::Erased);
        }
        match self.session.store.doc_info(id) {
            Ok(_) => Ok(DocStatus::Present),
            Err(StoreError::DocNotFound(_)) => Ok(DocStatus::Absent),
            Err(e) => Err(storage(e)),
        }
    }

    fn load_doc(&mut self, id: DocId) -> std::result::Result<Option<LoadedDoc>, ReplicaError> {
        let store = &self.session.store;
        let kind = match store.doc_info(id) {
            Ok(info) => info.kind,
            Err(StoreError::DocNotFound(_)) => return Ok(None),
            Err(e) => return Err(storage(e)),
        };
        match store.load_doc(id) {
            Ok(doc) => Ok(Some(LoadedDoc { kind, doc })),
            Err(StoreError::DocNotFound(_)) => Ok(None),
            Err(StoreError::Corrupt { .. } | StoreError::InvalidDocument) => {
                Err(ReplicaError::Unreadable(id))
            }
            Err(e) => Err(storage(e)),
        }
    }

    /// The stored snapshot and change rows as they are (decrypted, not
    /// loaded into Automerge and saved again).
    fn export_doc(&mut self, id: DocId) -> std::result::Result<Option<ExportedDoc>, ReplicaError> {
        match self.session.store.export_doc(id) {
            Ok(e) => Ok(Some(ExportedDoc {
                kind: e.kind,
                bytes: e.bytes,
                heads: Some(e.heads),
            })),
            Err(StoreError::DocNotFound(_)) => Ok(None),
            Err(StoreError::Corrupt { .. } | StoreError::InvalidDocument) => {
                Err(ReplicaError::Unreadable(id))
            }
            Err(e) => Err(storage(e)),
        }
    }

    fn save_docs(&mut self, docs: &mut [DocWrite<'_>]) -> std::result::Result<(), ReplicaError> {
        let (erased_to, erased) = self.erased_at()?;
        // Hub: the audit entries the received changes say record them.
        let mut refs: BTreeMap<NodeId, (u64, DocId)> = BTreeMap::new();
        if self.hub {
            for w in docs.iter_mut() {
                if erased.contains(&w.id) {
                    continue;
                }
                for (node, seq) in audit_sync::change_refs(w.doc, w.base) {
                    let e = refs.entry(node).or_insert((seq, w.id));
                    if seq > e.0 {
                        *e = (seq, w.id);
                    }
                }
            }
        }
        self.turn_scopes.clear();
        let store = &self.session.store;
        let mut summaries: Vec<ClientSummary> = Vec::new();
        let mut org_changed = false;
        let mut credentials_changed: Vec<DocId> = Vec::new();
        let mut gone_files = Vec::new();
        store
            .batch(|b| {
                // Another connection may have erased a document since the
                // set was read: read again inside this transaction.
                let erased = if store.tombstone_count()? == erased_to {
                    erased
                } else {
                    tombstones::erased_in(store)?
                };
                for w in docs.iter_mut() {
                    if erased.contains(&w.id) {
                        continue;
                    }
                    let stored = match store.doc_info(w.id) {
                        Ok(info) => Some(info.heads_hash),
                        Err(StoreError::DocNotFound(_)) => None,
                        Err(e) => return Err(e),
                    };
                    // The stored copy moved since the session loaded it (or
                    // appeared): merge into it instead of appending blindly.
                    let mut merged: Option<AutoCommit> = None;
                    match (stored, w.base) {
                        (None, _) => {
                            // A document that arrived whole is kept in the
                            // bytes it came in; any other is saved from the
                            // loaded copy (not loaded again to learn heads).
                            match w.saved {
                                Some(bytes) => {
                                    b.create_doc_saved(w.id, w.kind, bytes, &w.doc.get_heads())?;
                                }
                                None => {
                                    b.create_doc_from(w.id, w.kind, w.doc.document())?;
                                }
                            }
                        }
                        (Some(hh), Some(base)) if hh == store_heads_hash(base) => {
                            let bytes = w.doc.save_after(base);
                            if bytes.is_empty() {
                                continue;
                            }
                            b.append_change(w.id, &bytes, &w.doc.get_heads())?;
                        }
                        (Some(_), _) => {
                            let mut current = store.load_doc(w.id)?;
                            let old = current.get_heads();
                            current
                                .merge(w.doc)
                                .map_err(|_| StoreError::InvalidDocument)?;
                            let bytes = current.save_after(&old);
                            if bytes.is_empty() {
                                continue;
                            }
                            b.append_change(w.id, &bytes, &current.get_heads())?;
                            merged = Some(current);
                        }
                    }
                    match w.kind {
                        DocKind::Client => {
                            // Read in place: the session's copy is not cloned.
                            let doc = merged.as_mut().unwrap_or(&mut *w.doc);
                            let Ok(basic) = BasicDoc::read(doc) else {
                                continue;
                            };
                            if DocId::from(basic.id) != w.id {
                                continue;
                            }
                            let summary = basic.summary();
                            let index =
                                index_bytes(&summary).map_err(|_| StoreError::InvalidDocument)?;
                            b.put_index(w.id, &index)?;
                            if let Some(view) = views::encode(&basic) {
                                b.put_view(w.id, store_heads_hash(&doc.get_heads()), &view)?;
                            }
                            summaries.push(summary);
                        }
                        DocKind::ClientRecord => {
                            let doc = merged.as_mut().unwrap_or(&mut *w.doc);
                            let Ok(record) = RecordDoc::read(doc) else {
                                continue;
                            };
                            if record.id != w.id {
                                continue;
                            }
                            if let Some(view) = views::encode(&record) {
                                b.put_view(w.id, store_heads_hash(&doc.get_heads()), &view)?;
                            }
                            gone_files
                                .extend(b.set_attachment_refs(w.id, &blobs::refs_of(&record))?);
                        }
                        DocKind::Organisation => org_changed = true,
                        DocKind::ActivityMemo
                        | DocKind::StatsExtract
                        | DocKind::BriefContacts
                        | DocKind::Anonymised => {}
                        DocKind::Credential => credentials_changed.push(w.id),
                    }
                }
                for (node, (seq, doc)) in &refs {
                    audit_sync::raise_expectation(store, b, node, *seq, Some(*doc))?;
                }
                Ok(())
            })
            .map_err(storage)?;
        self.delete_files(&gone_files)?;
        for s in summaries {
            self.session.index.insert(s.id, s);
        }
        if org_changed {
            self.reload_org().map_err(api_storage)?;
        }
        self.follow_credentials(&credentials_changed)
            .map_err(api_storage)?;
        Ok(())
    }

    fn accept_change(
        &mut self,
        peer: &Peer,
        change: &ChangeCheck<'_>,
    ) -> std::result::Result<(), RefusedReason> {
        if !self.hub {
            return Ok(());
        }
        let Some((user, rights)) = self.peer_user(peer) else {
            return Err(RefusedReason::OutOfScope);
        };
        self.judge_change(&user, &rights, change)
    }

    fn blob_wants(
        &mut self,
        peer: &Peer,
        limit: usize,
    ) -> std::result::Result<Vec<polku_core::AttachmentId>, ReplicaError> {
        self.wants(peer, limit)
    }

    fn blob_read(
        &mut self,
        peer: &Peer,
        id: polku_core::AttachmentId,
        offset: u64,
        max: usize,
    ) -> std::result::Result<Option<polku_sync::BlobPiece>, ReplicaError> {
        self.read_piece(peer, id, offset, max)
    }

    fn blob_write(
        &mut self,
        peer: &Peer,
        chunk: &polku_sync::protocol::BlobChunk,
    ) -> std::result::Result<polku_sync::BlobWritten, ReplicaError> {
        self.write_piece(peer, chunk)
    }

    fn delete_revoked(&mut self, _peer: &Peer, id: DocId) -> std::result::Result<(), ReplicaError> {
        // The hub no longer offers it: out of this user's scope or rights
        // (e.g. a record document after the rights narrowed to basic data).
        self.deleted_here |= self.delete_local(id)?;
        Ok(())
    }

    fn peer_record(&mut self, peer: &Peer) -> std::result::Result<PeerRecord, ReplicaError> {
        let store = &self.session.store;
        let at = self.cache.at(store)?;
        if let Some(record) = &self.cache.fresh(store)?.peer(&peer.node).record {
            return Ok(record.clone());
        }
        let record = bookkeeping::peer_record(store, &peer.node).map_err(storage)?;
        if let Some(c) = self.cache.still(store, at)? {
            c.peer(&peer.node).record = Some(record.clone());
        }
        Ok(record)
    }

    fn sync_states(
        &mut self,
        peer: &Peer,
        ids: &[DocId],
    ) -> std::result::Result<Vec<(DocId, Vec<u8>)>, ReplicaError> {
        self.session
            .store
            .sync_states(peer.node.as_bytes(), ids)
            .map_err(storage)
    }

    fn commit(
        &mut self,
        peer: &Peer,
        commit: &PeerCommit,
    ) -> std::result::Result<(), ReplicaError> {
        let mut record = self.peer_record(peer)?;
        // Nothing to agree anew (an unchanged resync): the stored record
        // stays as it is, and a laptop writes nothing at all (nor a hub,
        // unless it has audit expectations to confirm).
        let unchanged = commit.agreed.is_empty()
            && commit.sync_states.is_empty()
            && commit.tombstone_cursor == record.tombstone_cursor;
        let store = &self.session.store;
        let expectations = self.hub && store.has_audit_expectations(true).map_err(storage)?;
        if unchanged && !expectations {
            return self.checkpoint_if_deleted();
        }
        apply_in_place(std::sync::Arc::make_mut(&mut record.agreed), &commit.agreed);
        record.tombstone_cursor = commit.tombstone_cursor;
        let node = peer.node.as_bytes();
        // Only bookkeeping is written: what the cache holds of documents
        // stays valid, and the record is the one written here.
        let (_, kept) = self.cache.bookkeeping_write(store, || {
            store.batch(|b| {
                if expectations {
                    audit_sync::confirm_expectations(store, b)?;
                }
                if unchanged {
                    return Ok(());
                }
                bookkeeping::write_record(b, &peer.node, &record, &commit.agreed)?;
                for (id, hash) in &commit.agreed {
                    if hash.is_some() {
                        // Agreed now: what was refused or quarantined is resolved.
                        b.clear_sync_problems(node, *id)?;
                    }
                }
                for (id, state) in &commit.sync_states {
                    match state {
                        Some(s) => b.put_sync_state(node, *id, s)?,
                        None => {
                            b.delete_sync_state(node, *id)?;
                        }
                    }
                }
                Ok(())
            })
        })?;
        if !unchanged && kept {
            self.cache.fresh(store)?.peer(&peer.node).record = Some(record);
        }
        self.checkpoint_if_deleted()
    }

    fn audit_heads(&mut self, peer: &Peer) -> std::result::Result<Vec<AuditHead>, ReplicaError> {
        self.audit_heads_for(peer)
    }

    fn audit_missing(
        &mut self,
        peer: &Peer,
        theirs: &[AuditHead],
    ) -> std::result::Result<Vec<Vec<u8>>, ReplicaError> {
        self.audit_missing_for(peer, theirs)
    }

    fn merge_audit(
        &mut self,
        peer: &Peer,
        entries: Vec<Entry>,
    ) -> std::result::Result<AuditMerge, ReplicaError> {
        self.merge_audit_from(peer, entries)
    }

    fn own_audit_head(&mut self) -> std::result::Result<Option<polku_audit::Head>, ReplicaError> {
        self.own_head()
    }

    fn peer_audit_head(
        &mut self,
        peer: &Peer,
        head: Option<polku_audit::Head>,
    ) -> std::result::Result<(), ReplicaError> {
        self.note_peer_head(peer, head)
    }

    fn tombstones_since(
        &mut self,
        _peer: &Peer,
        cursor: u64,
    ) -> std::result::Result<TombstoneBatch, ReplicaError> {
        self.tombstones_since_pos(cursor)
    }

    fn apply_tombstone(
        &mut self,
        peer: &Peer,
        tombstone: &Tombstone,
    ) -> std::result::Result<TombstoneOutcome, ReplicaError> {
        let _ = peer;
        if self.erased_set()?.contains(&tombstone.doc) {
            return Ok(TombstoneOutcome::Known);
        }
        if let Err(reason) = self.check_tombstone(tombstone)? {
            return Ok(TombstoneOutcome::Refused(reason));
        }
        let deleted = self.erase_with(tombstone, audit_codes::TOMBSTONE_APPLIED, Utc::now())?;
        Ok(TombstoneOutcome::Applied { deleted })
    }

    fn record_refusal(
        &mut self,
        peer: &Peer,
        refusal: &Refusal,
    ) -> std::result::Result<(), ReplicaError> {
        bookkeeping::record_problem(
            &self.session.store,
            &peer.node,
            refusal.doc,
            false,
            refusal.reason.code(),
        )
        .map_err(storage)?;
        if !self.hub && refusal.reason == RefusedReason::Erased {
            // A stale copy (a store put back from before the erasure, whose
            // tombstone the hub counts as acknowledged): the hub holds the
            // tombstone, so the copy goes, as a document the hub no longer
            // offers does. The refusal stays in the sync problems.
            self.deleted_here |= self.delete_local(refusal.doc)?;
        }
        Ok(())
    }

    fn quarantine(
        &mut self,
        peer: &Peer,
        id: DocId,
        reason: QuarantineReason,
    ) -> std::result::Result<(), ReplicaError> {
        bookkeeping::record_problem(
            &self.session.store,
            &peer.node,
            id,
            true,
            bookkeeping::quarantine_code(reason),
        )
        .map_err(storage)
    }
}
