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
//! - **Saving** appends, in one store transaction for all documents, the
//!   changes each document got since it was loaded, and refreshes the sealed
//!   search-index entry and view of client documents.
//! - **Bookkeeping** (agreed sets, per-document Automerge sync states,
//!   tombstone cursors, the tombstone log, refusals, quarantine) lives in the
//!   store's sealed key/value area under `polku/sync/v1/`.
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
//! - **Erasure** ([`SyncReplica::erase_doc`], [`Replica::apply_tombstone`]):
//!   tombstones are signed by the erasing node; a receiver verifies the
//!   signature, refuses the organisation document, a kind other than the
//!   local copy's, and an erasing node that is neither the hub nor a device
//!   enrolled for the tombstone's user, or whose user may not erase. The
//!   tombstone, the deletion and the audit entry are one transaction.

use std::collections::{BTreeMap, BTreeSet};

use automerge::AutoCommit;
use chrono::{DateTime, Utc};
use polku_audit::{Action as AuditAction, Detail, Entry, NodeId};
use polku_core::doc::{ActivityMemoDoc, BasicDoc, BriefDoc, RecordDoc, credential};
use polku_core::model::{ClientBasic, ClientRecord, ClientSummary, User, record_doc_id};
use polku_core::rights::{
    Action, ClientScope, Rights, Target, can, delivery, may_record_unit_work,
};
use polku_core::{ClientId, DocId, DocKind, UnitId, UserId};
use polku_store::{StoreError, heads_hash as store_heads_hash};
use polku_sync::docset::{DocSet, apply_in_place};
use polku_sync::protocol::{AuditHead, Refusal, RefusedReason, Role, Tombstone};
use polku_sync::{
    AuditMerge, ChangeCheck, Denial, DocEntry, DocStatus, DocWrite, HeadsHash, LoadedDoc, Peer,
    PeerCommit, PeerRecord, QuarantineReason, Replica, ReplicaError, SessionConfig, SyncReport,
    TombstoneBatch, TombstoneOutcome,
};
use uuid::Uuid;

use crate::session::{Session, index_bytes};
use crate::{ApiError, Result, views};

/// Prefix of every sealed key/value slot of sync bookkeeping. Do not change.
const PREFIX: &str = "polku/sync/v1/";
/// Version byte of the encoded per-peer record. Do not change.
const RECORD_VERSION: u8 = 1;

fn key(parts: &[&str]) -> Vec<u8> {
    let mut k = String::from(PREFIX);
    k.push_str(&parts.join("/"));
    k.into_bytes()
}

fn node_hex(node: &NodeId) -> String {
    node.to_string()
}

fn record_key(node: &NodeId) -> Vec<u8> {
    key(&["peer", &node_hex(node), "record"])
}

fn state_key(node: &NodeId, id: DocId) -> Vec<u8> {
    key(&["peer", &node_hex(node), "state", &id.0.to_string()])
}

fn peers_key() -> Vec<u8> {
    key(&["peers"])
}

fn tomb_next_key() -> Vec<u8> {
    key(&["tomb-next"])
}

fn tomb_key(pos: u64) -> Vec<u8> {
    key(&["tomb", &format!("{pos:020}")])
}

fn refusal_prefix() -> Vec<u8> {
    key(&["refused", ""])
}

fn refusal_key(node: &NodeId, id: DocId) -> Vec<u8> {
    key(&["refused", &node_hex(node), &id.0.to_string()])
}

fn quarantine_prefix() -> Vec<u8> {
    key(&["quarantine", ""])
}

fn quarantine_key(node: &NodeId, id: DocId) -> Vec<u8> {
    key(&["quarantine", &node_hex(node), &id.0.to_string()])
}

fn expect_prefix() -> Vec<u8> {
    key(&["audit-expect", ""])
}

fn expect_key(node: &NodeId) -> Vec<u8> {
    key(&["audit-expect", &node_hex(node)])
}

/// Expectations seen in a session that has not completed yet: a session cut
/// after a hello or a document change but before the audit entries arrived
/// is no gap. They count (move to [`expect_key`]) when a session completes.
fn pending_prefix() -> Vec<u8> {
    key(&["audit-expect-pending", ""])
}

fn pending_key(node: &NodeId) -> Vec<u8> {
    key(&["audit-expect-pending", &node_hex(node)])
}

/// What a hub expects of a node's audit chain, as stored: the highest seq
/// the node announced or a change of it referenced, and the document of that
/// change (`None`: announced in a hello). `postcard((seq, doc))`.
type StoredExpectation = (u64, Option<[u8; 16]>);

/// A hole in an audit chain, seen on the hub: the node announced (in a sync
/// hello) or referenced (in a document change's commit message) entries the
/// hub does not hold — e.g. entries deleted from the device before a sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditGap {
    /// The node whose chain has the hole.
    pub node: NodeId,
    /// The last seq held of its chain (`None`: nothing).
    pub held: Option<u64>,
    /// The seq the node announced or a change referenced.
    pub expected: u64,
    /// The document whose change referenced `expected`, if a change did.
    pub doc: Option<DocId>,
    /// The entry at `expected` is held but does not record a change of
    /// `doc` (the chain was cut and written again).
    pub mismatch: bool,
}

/// Keeps the higher of a pending expectation and a new one, inside `b`.
fn raise_expectation(
    store: &polku_store::Store,
    b: &polku_store::Batch<'_>,
    node: &NodeId,
    seq: u64,
    doc: Option<DocId>,
) -> std::result::Result<(), StoreError> {
    raise_at(
        store,
        b,
        &pending_key(node),
        (seq, doc.map(|d| *d.0.as_bytes())),
    )
}

/// Keeps the higher of the expectation stored under `k` and `value`.
fn raise_at(
    store: &polku_store::Store,
    b: &polku_store::Batch<'_>,
    k: &[u8],
    value: StoredExpectation,
) -> std::result::Result<(), StoreError> {
    let stored: Option<StoredExpectation> = store
        .get_meta(k)?
        .and_then(|v| postcard::from_bytes(&v).ok());
    if stored.is_some_and(|(s, _)| s >= value.0) {
        return Ok(());
    }
    let bytes = postcard::to_allocvec(&value).map_err(|_| StoreError::Corrupt {
        what: "audit expectation",
    })?;
    b.put_meta(k, &bytes)
}

/// A session completed: its expectations (and those of earlier, cut
/// sessions) now count, inside `b`.
fn confirm_expectations(
    store: &polku_store::Store,
    b: &polku_store::Batch<'_>,
) -> std::result::Result<(), StoreError> {
    let prefix = pending_prefix();
    for k in store.list_meta_keys()? {
        let Some(rest) = k.strip_prefix(prefix.as_slice()) else {
            continue;
        };
        let Some(node) = std::str::from_utf8(rest)
            .ok()
            .and_then(|t| t.parse::<NodeId>().ok())
        else {
            continue;
        };
        if let Some(value) = store
            .get_meta(&k)?
            .and_then(|v| postcard::from_bytes::<StoredExpectation>(&v).ok())
        {
            raise_at(store, b, &expect_key(&node), value)?;
        }
        b.delete_meta(&k)?;
    }
    Ok(())
}

/// The (node, seq) references in the commit messages of `doc`'s changes
/// after `base` (all of them if `None`), the highest per node.
fn change_refs(
    doc: &mut AutoCommit,
    base: Option<&[automerge::ChangeHash]>,
) -> BTreeMap<NodeId, u64> {
    let mut out: BTreeMap<NodeId, u64> = BTreeMap::new();
    for change in doc.get_changes(base.unwrap_or(&[])) {
        if let Some((node, seq)) = change
            .message()
            .and_then(crate::trail::parse_change_message)
        {
            let e = out.entry(node).or_insert(seq);
            *e = (*e).max(seq);
        }
    }
    out
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

/// Wire code of a quarantine reason (kept in the store). Do not change.
fn quarantine_code(r: QuarantineReason) -> u8 {
    match r {
        QuarantineReason::Unreadable => 1,
        QuarantineReason::BadMessage => 2,
        QuarantineReason::ApplyFailed => 3,
        QuarantineReason::TooLarge => 4,
        QuarantineReason::KindMismatch => 5,
        _ => 0,
    }
}

fn quarantine_from_code(c: u8) -> QuarantineReason {
    match c {
        1 => QuarantineReason::Unreadable,
        2 => QuarantineReason::BadMessage,
        3 => QuarantineReason::ApplyFailed,
        4 => QuarantineReason::TooLarge,
        5 => QuarantineReason::KindMismatch,
        _ => QuarantineReason::ApplyFailed,
    }
}

/// What rights depend on: a document's unit and responsible workers, or
/// (a client's record document) those of another document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct DocScope {
    unit: Option<UnitId>,
    responsible: BTreeSet<UserId>,
    /// The scope is that of this document (the client's basic-data document).
    of: Option<DocId>,
}

fn client_scope(doc: AutoCommit) -> Option<DocScope> {
    let basic = BasicDoc::from_automerge(doc).ok()?.get().ok()?;
    Some(DocScope {
        unit: basic.unit,
        responsible: basic.responsible,
        of: None,
    })
}

fn record_scope(doc: AutoCommit) -> Option<DocScope> {
    let record = RecordDoc::from_automerge(doc).ok()?.get().ok()?;
    (record.id == record_doc_id(record.client)).then(|| DocScope {
        of: Some(record.client.into()),
        ..DocScope::default()
    })
}

fn memo_scope(doc: AutoCommit) -> Option<DocScope> {
    let memo = ActivityMemoDoc::from_automerge(doc)
        .ok()?
        .activity_memo()
        .ok()?;
    Some(DocScope {
        unit: Some(memo.unit),
        responsible: BTreeSet::new(),
        of: None,
    })
}

fn brief_scope(doc: AutoCommit) -> Option<DocScope> {
    let log = BriefDoc::from_automerge(doc).ok()?.log().ok()?;
    Some(DocScope {
        unit: Some(log.unit),
        responsible: BTreeSet::new(),
        of: None,
    })
}

fn scope_of(kind: DocKind, doc: AutoCommit) -> Option<DocScope> {
    match kind {
        DocKind::BriefContacts => brief_scope(doc),
        DocKind::Client => client_scope(doc),
        DocKind::ClientRecord => record_scope(doc),
        DocKind::ActivityMemo => memo_scope(doc),
        DocKind::Organisation | DocKind::StatsExtract => Some(DocScope::default()),
        // A credential document goes to its own user's devices only.
        DocKind::Credential => credential::credential_user(&doc).map(|u| DocScope {
            unit: None,
            responsible: [u].into_iter().collect(),
            of: None,
        }),
    }
}

/// The documents a tombstone erases: a client's tombstone (named by the
/// client's id) takes its record document along.
fn erased_ids(t: &Tombstone) -> Vec<DocId> {
    match t.kind {
        DocKind::Client => vec![t.doc, record_doc_id(ClientId::from(t.doc.0))],
        _ => vec![t.doc],
    }
}

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
        agreed: list
            .into_iter()
            .map(|(id, h)| (DocId(Uuid::from_bytes(id)), HeadsHash(h)))
            .collect(),
        tombstone_cursor: cursor,
    })
}

/// Version byte of a stored tombstone. Do not change.
const TOMB_VERSION: u8 = 2;

/// A stored tombstone: `[TOMB_VERSION]`, then the signed bytes
/// ([`Tombstone::signed_bytes`]: id, kind, erased at, node, user), then the
/// signature (64).
fn encode_tombstone(t: &Tombstone) -> Vec<u8> {
    let mut out = vec![TOMB_VERSION];
    out.extend_from_slice(&t.signed_bytes());
    out.extend_from_slice(t.signature.as_bytes());
    out
}

fn decode_tombstone(bytes: &[u8]) -> Option<Tombstone> {
    let (&TOMB_VERSION, rest) = bytes.split_first()? else {
        return None;
    };
    if rest.len() != 16 + 1 + 8 + 32 + 16 + 64 {
        return None;
    }
    let id: [u8; 16] = rest[..16].try_into().ok()?;
    let kind = DocKind::from_code(rest[16])?;
    let micros: [u8; 8] = rest[17..25].try_into().ok()?;
    let node: [u8; 32] = rest[25..57].try_into().ok()?;
    let user: [u8; 16] = rest[57..73].try_into().ok()?;
    let signature: [u8; 64] = rest[73..137].try_into().ok()?;
    Some(Tombstone {
        doc: DocId(Uuid::from_bytes(id)),
        kind,
        erased_at: DateTime::from_timestamp_micros(i64::from_le_bytes(micros))?,
        node: NodeId::from_bytes(node),
        user: UserId(Uuid::from_bytes(user)),
        signature: polku_audit::EntrySignature(signature),
    })
}

/// Whether `user` may erase a document of `kind` (PAR: erasing needs
/// modify-all and user management, [`Action::EraseClient`]; activity memos
/// follow the same right; the organisation document is never erased).
///
/// Judged on the user's rights ([`Rights::for_user`]) as the organisation document says now, as if
/// active: a tombstone made while the user could erase stays valid after
/// the user is deactivated (a deactivated user's device is refused at the
/// hub, so it brings no new tombstones).
fn may_erase(user: &User, kind: DocKind) -> bool {
    delivery::may_erase(user, &Rights::for_user(user), kind)
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
    /// Erased ids (the tombstone log), read once.
    erased: Option<BTreeSet<DocId>>,
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
        let node = polku_audit::NodeKey::from_bytes(&session.node_secret()?).node_id();
        Ok(SyncReplica {
            session,
            hub,
            node,
            scopes: BTreeMap::new(),
            scopes_filled: false,
            turn_scopes: BTreeMap::new(),
            deleted_here: false,
            erased: None,
        })
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
        let mut out = Vec::new();
        for (node, id, v) in self.list_pairs(&refusal_prefix())? {
            if let Some(&c) = v.first() {
                out.push((
                    node,
                    Refusal {
                        doc: id,
                        reason: RefusedReason::from_code(c),
                    },
                ));
            }
        }
        Ok(out)
    }

    /// Documents that could not be synced with a peer, for the app to show.
    pub fn quarantined(&self) -> Result<Vec<(NodeId, DocId, QuarantineReason)>> {
        Ok(self
            .list_pairs(&quarantine_prefix())?
            .into_iter()
            .filter_map(|(node, id, v)| Some((node, id, quarantine_from_code(*v.first()?))))
            .collect())
    }

    /// Whether `id` was erased (its id is refused forever).
    pub fn is_erased(&mut self, id: DocId) -> Result<bool> {
        Ok(self.erased_set().map_err(replica_to_api)?.contains(&id))
    }

    /// Writes one audit entry for a completed sync session (action `sync`,
    /// the documents sent and received, the peer-independent target `None`).
    pub fn record_sync(&mut self, report: &SyncReport, now: DateTime<Utc>) -> Result<()> {
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

    /// `(node, doc, value)` of the slots `prefix<node hex>/<doc uuid>`.
    fn list_pairs(&self, prefix: &[u8]) -> Result<Vec<(NodeId, DocId, Vec<u8>)>> {
        let store = &self.session.store;
        let mut out = Vec::new();
        for k in store.list_meta_keys()? {
            let Some(rest) = k.strip_prefix(prefix) else {
                continue;
            };
            let Ok(rest) = std::str::from_utf8(rest) else {
                continue;
            };
            let Some((node, doc)) = rest.split_once('/') else {
                continue;
            };
            let (Ok(node), Ok(doc)) = (node.parse::<NodeId>(), doc.parse::<Uuid>()) else {
                continue;
            };
            if let Some(v) = store.get_meta(&k)? {
                out.push((node, DocId(doc), v));
            }
        }
        Ok(out)
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

    /// The user of a peer device and their rights, if the device is allowed.
    fn peer_user(&self, peer: &Peer) -> Option<(User, Rights)> {
        let org = &self.session.org;
        let device = org.devices.get(&node_hex(&peer.node))?;
        if device.revoked_at.is_some() {
            return None;
        }
        let user = org.users.get(&device.user)?.clone();
        let rights = Rights::for_user(&user);
        user.active.then_some((user, rights))
    }

    fn erased_set(&mut self) -> Result<&mut BTreeSet<DocId>, ReplicaError> {
        if self.erased.is_none() {
            let store = &self.session.store;
            let next = self.tomb_next()?;
            let mut set = BTreeSet::new();
            for pos in 0..next {
                let bytes = store
                    .get_meta(&tomb_key(pos))
                    .map_err(storage)?
                    .ok_or(corrupt("tombstone log"))?;
                set.extend(erased_ids(
                    &decode_tombstone(&bytes).ok_or(corrupt("tombstone log"))?,
                ));
            }
            self.erased = Some(set);
        }
        Ok(self.erased.get_or_insert_default())
    }

    fn tomb_next(&self) -> Result<u64, ReplicaError> {
        match self
            .session
            .store
            .get_meta(&tomb_next_key())
            .map_err(storage)?
        {
            None => Ok(0),
            Some(b) => b
                .as_slice()
                .try_into()
                .map(u64::from_be_bytes)
                .map_err(|_| corrupt("tombstone log")),
        }
    }

    fn peers(&self) -> Result<Vec<[u8; 32]>, ReplicaError> {
        Ok(self
            .session
            .store
            .get_meta(&peers_key())
            .map_err(storage)?
            .and_then(|b| postcard::from_bytes(&b).ok())
            .unwrap_or_default())
    }

    /// Deletes a document, its index entry and view (with it) and every
    /// peer's sync state for it in one transaction, and forgets it in memory.
    /// The WAL is checkpointed once at the end of the session (see
    /// [`Replica::commit`]), not after each of possibly thousands of
    /// documents.
    fn delete_local(&mut self, id: DocId) -> Result<bool, ReplicaError> {
        let peers = self.peers()?;
        let store = &self.session.store;
        let deleted = store
            .batch(|b| {
                for p in &peers {
                    b.delete_meta(&state_key(&NodeId::from_bytes(*p), id))?;
                }
                b.delete_doc(id)
            })
            .map_err(storage)?;
        let client = ClientId::from(id.0);
        self.session.index.remove(&client);
        self.session.dirty.remove(&client);
        self.scopes.remove(&id);
        Ok(deleted)
    }

    /// Brings the scope cache up to date with the stored heads (hub).
    fn refresh_scopes(
        &mut self,
        heads: &[(DocId, DocKind, polku_store::HeadsHash)],
    ) -> Result<(), ReplicaError> {
        let store = &self.session.store;
        if !self.scopes_filled {
            self.scopes_filled = true;
            for kind in [
                DocKind::Client,
                DocKind::ClientRecord,
                DocKind::ActivityMemo,
                DocKind::BriefContacts,
                DocKind::Credential,
            ] {
                // A damaged document fails the bulk load: fall back to one by one.
                let Ok(all) = store.load_all(kind) else {
                    continue;
                };
                for (id, mut doc) in all {
                    let hh = store_heads_hash(&doc.get_heads());
                    self.scopes.insert(id, (hh, scope_of(kind, doc)));
                }
            }
        }
        let live: BTreeSet<DocId> = heads.iter().map(|(id, _, _)| *id).collect();
        self.scopes.retain(|id, _| live.contains(id));
        for (id, kind, hh) in heads {
            if *kind == DocKind::Organisation {
                continue;
            }
            if self.scopes.get(id).is_some_and(|(h, _)| h == hh) {
                continue;
            }
            let scope = match store.load_doc(*id) {
                Ok(doc) => scope_of(*kind, doc),
                Err(StoreError::Corrupt { .. }) => None,
                Err(e) => return Err(storage(e)),
            };
            self.scopes.insert(*id, (*hh, scope));
        }
        Ok(())
    }

    /// The scope facts of a document from the cache, a record document's
    /// being its client's (`None`: unknown or unreadable).
    fn resolved_scope(&self, id: DocId) -> Option<&DocScope> {
        let scope = self.scopes.get(&id)?.1.as_ref()?;
        match scope.of {
            None => Some(scope),
            Some(of) => match self.scopes.get(&of)?.1.as_ref()? {
                s if s.of.is_none() => Some(s),
                _ => None,
            },
        }
    }

    fn may_view(user: &User, rights: &Rights, kind: DocKind, scope: &DocScope) -> bool {
        // `scope` is the client's for a record document (resolved by the caller).
        let cs = ClientScope {
            unit: scope.unit,
            responsible: &scope.responsible,
        };
        delivery::may_receive(user, rights, kind, &cs)
    }

    /// A peer's change of a credential document: its own user's (a password
    /// changed on that device), or any user's by someone who manages users;
    /// it must stay the same user's, decode, and protect the password at least
    /// as well as the hub's policy asks.
    fn check_credential_change(
        &self,
        user: &User,
        rights: &Rights,
        change: &ChangeCheck<'_>,
    ) -> std::result::Result<(), RefusedReason> {
        let owner = credential::credential_user(change.after).ok_or(RefusedReason::Invalid)?;
        // The id is derived from the user: a document re-pointed at another
        // user no longer matches its id.
        if credential::credential_doc_id(owner) != change.id {
            return Err(RefusedReason::Invalid);
        }
        if owner != user.id && can(user, rights, Action::ManageUsers, Target::Organisation).is_err()
        {
            return Err(RefusedReason::NotPermitted);
        }
        let c = crate::credentials::newest(change.after).ok_or(RefusedReason::Invalid)?;
        let policy = crate::credentials::kdf_policy(&self.session.store)
            .map_err(|_| RefusedReason::Invalid)?;
        if !crate::credentials::strong_enough(&c.verifier, &policy) {
            return Err(RefusedReason::NotPermitted);
        }
        Ok(())
    }

    /// A peer's change of a client's basic-data document: the modify right
    /// on the client's scope before and after the change (the create right
    /// for a new client).
    fn check_basic_change(
        &mut self,
        user: &User,
        rights: &Rights,
        change: &ChangeCheck<'_>,
    ) -> std::result::Result<(), RefusedReason> {
        let hydrate = |doc: AutoCommit| -> Option<ClientBasic> {
            BasicDoc::from_automerge(doc).ok()?.get().ok()
        };
        let after = hydrate(change.after.clone()).ok_or(RefusedReason::Invalid)?;
        if DocId::from(after.id) != change.id {
            return Err(RefusedReason::Invalid);
        }
        // The hub holds a change from a peer to the limits the API holds its
        // own writes to.
        polku_core::limits::check_basic(&after).map_err(|_| RefusedReason::Invalid)?;
        let before = match change.before {
            None => {
                can(
                    user,
                    rights,
                    Action::CreateClient,
                    Target::NewClientIn(after.unit),
                )
                .map_err(|_| RefusedReason::NotPermitted)?;
                None
            }
            Some(heads) => {
                let mut copy = change.after.clone();
                let at = copy.fork_at(heads).map_err(|_| RefusedReason::Invalid)?;
                Some(hydrate(at).ok_or(RefusedReason::Invalid)?)
            }
        };
        let after_scope = DocScope {
            unit: after.unit,
            responsible: after.responsible.clone(),
            of: None,
        };
        let mut scopes = vec![after_scope.clone()];
        if let Some(b) = &before {
            scopes.push(DocScope {
                unit: b.unit,
                responsible: b.responsible.clone(),
                of: None,
            });
        }
        Self::check_actions(
            user,
            rights,
            &[Action::ModifyBasic],
            &scopes,
            before.is_some(),
        )?;
        // A record document checked later in this turn is judged on this.
        self.turn_scopes.insert(change.id, after_scope);
        Ok(())
    }

    /// A peer's change of a client's record document: the record right (and
    /// the memo right when memos changed) on the client's scope, as the
    /// client's basic-data document says after this turn.
    fn check_record_change(
        &mut self,
        user: &User,
        rights: &Rights,
        change: &ChangeCheck<'_>,
    ) -> std::result::Result<(), RefusedReason> {
        let hydrate = |doc: AutoCommit| -> Option<ClientRecord> {
            RecordDoc::from_automerge(doc).ok()?.get().ok()
        };
        let after = hydrate(change.after.clone()).ok_or(RefusedReason::Invalid)?;
        if after.id != change.id || record_doc_id(after.client) != change.id {
            return Err(RefusedReason::Invalid);
        }
        polku_core::limits::check_record(&after).map_err(|_| RefusedReason::Invalid)?;
        let before = match change.before {
            None => ClientRecord::empty(after.client),
            Some(heads) => {
                let mut copy = change.after.clone();
                let at = copy.fork_at(heads).map_err(|_| RefusedReason::Invalid)?;
                hydrate(at).ok_or(RefusedReason::Invalid)?
            }
        };
        let client: DocId = after.client.into();
        let scope = match self.turn_scopes.get(&client) {
            Some(s) => s.clone(),
            None => match self.session.store.load_doc(client) {
                Ok(doc) => client_scope(doc).ok_or(RefusedReason::Invalid)?,
                // No such client here: nothing to judge it on.
                Err(_) => return Err(RefusedReason::OutOfScope),
            },
        };
        let actions = delivery::record_change_actions(&before, &after);
        Self::check_actions(user, rights, &actions, &[scope], change.before.is_some())
    }

    /// Every action allowed on every scope; a missing view right of a
    /// document the peer already had reads as out of scope.
    fn check_actions(
        user: &User,
        rights: &Rights,
        actions: &[Action],
        scopes: &[DocScope],
        existed: bool,
    ) -> std::result::Result<(), RefusedReason> {
        let scopes: Vec<ClientScope<'_>> = scopes
            .iter()
            .map(|s| ClientScope {
                unit: s.unit,
                responsible: &s.responsible,
            })
            .collect();
        delivery::judge_change(user, rights, actions, &scopes, existed).map_err(|n| match n {
            delivery::NotTaken::NotPermitted => RefusedReason::NotPermitted,
            delivery::NotTaken::OutOfScope => RefusedReason::OutOfScope,
        })
    }

    fn check_memo_change(
        user: &User,
        rights: &Rights,
        change: &ChangeCheck<'_>,
    ) -> std::result::Result<(), RefusedReason> {
        let hydrate = |doc: AutoCommit| {
            ActivityMemoDoc::from_automerge(doc)
                .ok()?
                .activity_memo()
                .ok()
        };
        let after = hydrate(change.after.clone()).ok_or(RefusedReason::Invalid)?;
        if DocId::from(after.id) != change.id {
            return Err(RefusedReason::Invalid);
        }
        let mut units = vec![after.unit];
        if let Some(heads) = change.before {
            let mut copy = change.after.clone();
            let at = copy.fork_at(heads).map_err(|_| RefusedReason::Invalid)?;
            units.push(hydrate(at).ok_or(RefusedReason::Invalid)?.unit);
        }
        may_record_unit_work(user, rights, &units).map_err(|_| RefusedReason::NotPermitted)
    }

    /// A peer's change of a brief-contact log: a valid log that keeps the
    /// id its unit and month derive, every contact dated in that month, and
    /// the right to record work in the unit (the same rule as a local write).
    fn check_brief_change(
        user: &User,
        rights: &Rights,
        change: &ChangeCheck<'_>,
    ) -> std::result::Result<(), RefusedReason> {
        let hydrate = |doc: AutoCommit| BriefDoc::from_automerge(doc).ok()?.log().ok();
        let after = hydrate(change.after.clone()).ok_or(RefusedReason::Invalid)?;
        if after.id != change.id || !after.id_matches() || !after.dates_match() {
            return Err(RefusedReason::Invalid);
        }
        let mut units = vec![after.unit];
        if let Some(heads) = change.before {
            let mut copy = change.after.clone();
            let at = copy.fork_at(heads).map_err(|_| RefusedReason::Invalid)?;
            units.push(hydrate(at).ok_or(RefusedReason::Invalid)?.unit);
        }
        may_record_unit_work(user, rights, &units).map_err(|_| RefusedReason::NotPermitted)
    }
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

impl Replica for SyncReplica {
    fn admit(&mut self, peer: &Peer) -> std::result::Result<(), Denial> {
        if !self.hub {
            return match self.session.hub_pin() {
                Ok(Some(pin)) if pin.node == *peer.node.as_bytes() => Ok(()),
                _ => Err(Denial::HubMismatch),
            };
        }
        // Fail closed: without a fresh organisation document, admit nobody.
        self.reload_org().map_err(|_| Denial::NotEnrolled)?;
        let org = &self.session.org;
        let Some(device) = org.devices.get(&node_hex(&peer.node)) else {
            return Err(Denial::NotEnrolled);
        };
        if device.revoked_at.is_some() {
            return Err(Denial::DeviceRevoked);
        }
        match org.users.get(&device.user) {
            Some(u) if u.active => Ok(()),
            _ => Err(Denial::UserDeactivated),
        }
    }

    fn doc_set(&mut self, peer: &Peer) -> std::result::Result<Vec<DocEntry>, ReplicaError> {
        let heads = self.session.store.list_doc_heads().map_err(storage)?;
        let erased = self.erased_set()?.clone();
        let heads: Vec<_> = heads
            .into_iter()
            .filter(|(id, _, _)| !erased.contains(id))
            .collect();
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
        let heads = if crate::extract::gets_extract(&user, &rights)
            && self.session.refresh_extract().map_err(api_storage)?
        {
            let erased = self.erased_set()?.clone();
            let all = self.session.store.list_doc_heads().map_err(storage)?;
            all.into_iter()
                .filter(|(id, _, _)| !erased.contains(id))
                .collect()
        } else {
            heads
        };
        self.refresh_scopes(&heads)?;
        let org_doc = self.session.org_id;
        Ok(heads
            .into_iter()
            .filter(|(id, kind, _)| match kind {
                DocKind::Organisation => *id == org_doc,
                _ => match self.resolved_scope(*id) {
                    Some(scope) => Self::may_view(&user, &rights, *kind, scope),
                    // Unreadable: its scope cannot be decided, it is not offered.
                    None => false,
                },
            })
            .map(|(id, kind, hh)| DocEntry {
                id,
                kind,
                heads: to_sync_hash(hh),
            })
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

    fn save_docs(&mut self, docs: &mut [DocWrite<'_>]) -> std::result::Result<(), ReplicaError> {
        let erased = self.erased_set()?.clone();
        // Hub: the audit entries the received changes say record them.
        let mut refs: BTreeMap<NodeId, (u64, DocId)> = BTreeMap::new();
        if self.hub {
            for w in docs.iter_mut() {
                if erased.contains(&w.id) {
                    continue;
                }
                for (node, seq) in change_refs(w.doc, w.base) {
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
        store
            .batch(|b| {
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
                            b.create_doc(w.id, w.kind, &w.doc.save())?;
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
                            let doc = merged.unwrap_or_else(|| w.doc.clone());
                            let Ok(mut bd) = BasicDoc::from_automerge(doc) else {
                                continue;
                            };
                            let Ok(basic) = bd.get() else {
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
                                b.put_view(w.id, store_heads_hash(&bd.heads()), &view)?;
                            }
                            summaries.push(summary);
                        }
                        DocKind::ClientRecord => {
                            let doc = merged.unwrap_or_else(|| w.doc.clone());
                            let Ok(mut rd) = RecordDoc::from_automerge(doc) else {
                                continue;
                            };
                            let Ok(record) = rd.get() else {
                                continue;
                            };
                            if record.id != w.id {
                                continue;
                            }
                            if let Some(view) = views::encode(&record) {
                                b.put_view(w.id, store_heads_hash(&rd.heads()), &view)?;
                            }
                        }
                        DocKind::Organisation => org_changed = true,
                        DocKind::ActivityMemo | DocKind::StatsExtract | DocKind::BriefContacts => {}
                        DocKind::Credential => credentials_changed.push(w.id),
                    }
                }
                for (node, (seq, doc)) in &refs {
                    raise_expectation(store, b, node, *seq, Some(*doc))?;
                }
                Ok(())
            })
            .map_err(storage)?;
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
        match change.kind {
            // The organisation document and the extract are changed on the hub only.
            DocKind::Organisation | DocKind::StatsExtract => Err(RefusedReason::NotPermitted),
            DocKind::Client => self.check_basic_change(&user, &rights, change),
            DocKind::ClientRecord => self.check_record_change(&user, &rights, change),
            DocKind::ActivityMemo => Self::check_memo_change(&user, &rights, change),
            DocKind::BriefContacts => Self::check_brief_change(&user, &rights, change),
            DocKind::Credential => self.check_credential_change(&user, &rights, change),
        }
    }

    fn delete_revoked(&mut self, _peer: &Peer, id: DocId) -> std::result::Result<(), ReplicaError> {
        // The hub no longer offers it: out of this user's scope or rights
        // (e.g. a record document after the rights narrowed to basic data).
        self.deleted_here |= self.delete_local(id)?;
        Ok(())
    }

    fn peer_record(&mut self, peer: &Peer) -> std::result::Result<PeerRecord, ReplicaError> {
        match self
            .session
            .store
            .get_meta(&record_key(&peer.node))
            .map_err(storage)?
        {
            None => Ok(PeerRecord::default()),
            // An unreadable record costs a full set exchange, not correctness.
            Some(bytes) => Ok(decode_record(&bytes).unwrap_or_default()),
        }
    }

    fn sync_states(
        &mut self,
        peer: &Peer,
        ids: &[DocId],
    ) -> std::result::Result<Vec<(DocId, Vec<u8>)>, ReplicaError> {
        let store = &self.session.store;
        let mut out = Vec::new();
        for id in ids {
            if let Some(s) = store
                .get_meta(&state_key(&peer.node, *id))
                .map_err(storage)?
            {
                out.push((*id, s));
            }
        }
        Ok(out)
    }

    fn commit(
        &mut self,
        peer: &Peer,
        commit: &PeerCommit,
    ) -> std::result::Result<(), ReplicaError> {
        let mut record = self.peer_record(peer)?;
        apply_in_place(&mut record.agreed, &commit.agreed);
        let bytes =
            encode_record(&record.agreed, commit.tombstone_cursor).ok_or(corrupt("sync record"))?;
        let mut peers = self.peers()?;
        let new_peer = !peers.contains(peer.node.as_bytes());
        if new_peer {
            peers.push(*peer.node.as_bytes());
        }
        let peers_bytes = postcard::to_allocvec(&peers).map_err(|_| corrupt("sync peers"))?;
        let store = &self.session.store;
        let hub = self.hub;
        store
            .batch(|b| {
                if hub {
                    confirm_expectations(store, b)?;
                }
                b.put_meta(&record_key(&peer.node), &bytes)?;
                if new_peer {
                    b.put_meta(&peers_key(), &peers_bytes)?;
                }
                for (id, state) in &commit.sync_states {
                    let k = state_key(&peer.node, *id);
                    match state {
                        Some(s) => b.put_meta(&k, s)?,
                        None => {
                            b.delete_meta(&k)?;
                        }
                    }
                }
                Ok(())
            })
            .map_err(storage)?;
        if std::mem::take(&mut self.deleted_here) {
            // What left the scope also leaves the write-ahead log.
            store.checkpoint().map_err(storage)?;
        }
        Ok(())
    }

    fn audit_heads(&mut self, peer: &Peer) -> std::result::Result<Vec<AuditHead>, ReplicaError> {
        let shares_hub_chain = self.hub && self.peer_is_admin(peer);
        let store = &self.session.store;
        let mut out = Vec::new();
        for (node, _) in store.audit_heads().map_err(storage)? {
            let node = NodeId::from_bytes(node);
            if self.hub && node != peer.node && !(shares_hub_chain && node == self.node) {
                continue;
            }
            let Some((seq, bytes)) = store.audit_last(node.as_bytes()).map_err(storage)? else {
                continue;
            };
            let entry = Entry::decode(&bytes).map_err(|_| corrupt("audit entry"))?;
            out.push(AuditHead {
                node,
                seq,
                hash: entry.hash(),
            });
        }
        Ok(out)
    }

    fn audit_missing(
        &mut self,
        peer: &Peer,
        theirs: &[AuditHead],
    ) -> std::result::Result<Vec<Vec<u8>>, ReplicaError> {
        let shares_hub_chain = self.hub && self.peer_is_admin(peer);
        let store = &self.session.store;
        let remote: BTreeMap<NodeId, u64> = theirs.iter().map(|h| (h.node, h.seq)).collect();
        let mut out = Vec::new();
        for (node, seq) in store.audit_heads().map_err(storage)? {
            let node = NodeId::from_bytes(node);
            if self.hub && node != peer.node && !(shares_hub_chain && node == self.node) {
                continue;
            }
            let after = remote.get(&node).copied();
            if after.is_some_and(|a| a >= seq) {
                continue;
            }
            for (_, bytes) in store
                .audit_entries_since(node.as_bytes(), after)
                .map_err(storage)?
            {
                out.push(bytes);
            }
        }
        Ok(out)
    }

    fn merge_audit(
        &mut self,
        peer: &Peer,
        entries: Vec<Entry>,
    ) -> std::result::Result<AuditMerge, ReplicaError> {
        let before = entries.len();
        let entries = self.acceptable_entries(peer, entries)?;
        let refused_here = before - entries.len();
        let report =
            crate::trail::merge_entries(&self.session.store, entries).map_err(api_storage)?;
        Ok(AuditMerge {
            added: report.added,
            duplicates: report.duplicates,
            rejected: report.refused + report.forks + refused_here,
        })
    }

    fn own_audit_head(&mut self) -> std::result::Result<Option<polku_audit::Head>, ReplicaError> {
        // The stored chain (another session on this device may have extended it).
        let Some((seq, bytes)) = self
            .session
            .store
            .audit_last(self.node.as_bytes())
            .map_err(storage)?
        else {
            return Ok(None);
        };
        let entry = Entry::decode(&bytes).map_err(|_| corrupt("audit entry"))?;
        Ok(Some(polku_audit::Head {
            seq,
            hash: entry.hash(),
        }))
    }

    fn peer_audit_head(
        &mut self,
        peer: &Peer,
        head: Option<polku_audit::Head>,
    ) -> std::result::Result<(), ReplicaError> {
        let Some(head) = head else {
            return Ok(());
        };
        if !self.hub {
            return Ok(());
        }
        let store = &self.session.store;
        store
            .batch(|b| raise_expectation(store, b, &peer.node, head.seq, None))
            .map_err(storage)
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
        let deleted = self.erase_with(tombstone, codes::TOMBSTONE_APPLIED, Utc::now())?;
        Ok(TombstoneOutcome::Applied { deleted })
    }

    fn record_refusal(
        &mut self,
        peer: &Peer,
        refusal: &Refusal,
    ) -> std::result::Result<(), ReplicaError> {
        self.session
            .store
            .put_meta(
                &refusal_key(&peer.node, refusal.doc),
                &[refusal.reason.code()],
            )
            .map_err(storage)
    }

    fn quarantine(
        &mut self,
        peer: &Peer,
        id: DocId,
        reason: QuarantineReason,
    ) -> std::result::Result<(), ReplicaError> {
        self.session
            .store
            .put_meta(&quarantine_key(&peer.node, id), &[quarantine_code(reason)])
            .map_err(storage)
    }
}

impl SyncReplica {
    /// Whether the peer's user is an administrator (their devices get a copy
    /// of the hub's own audit chain, to verify and keep).
    fn peer_is_admin(&self, peer: &Peer) -> bool {
        self.peer_user(peer)
            .is_some_and(|(user, _)| user.role == polku_core::model::Role::Admin)
    }

    /// The received entries this node accepts from `peer`; the rest are
    /// refused unread. A hub accepts a node's entries only if the node is an
    /// enrolled device (the peer itself, or one whose chain the peer relays)
    /// and each entry names no user or the user that device was enrolled for;
    /// and entries of its own chain (signed by its own key). A laptop accepts
    /// its hub's chain and its own. Signatures and links are then verified by
    /// the merge.
    fn acceptable_entries(
        &mut self,
        peer: &Peer,
        entries: Vec<Entry>,
    ) -> std::result::Result<Vec<Entry>, ReplicaError> {
        let _ = peer;
        if self.hub {
            self.reload_org().map_err(api_storage)?;
            let org = &self.session.org;
            let node = self.node;
            Ok(entries
                .into_iter()
                .filter(|e| {
                    if e.node == node {
                        return true;
                    }
                    org.devices
                        .get(&node_hex(&e.node))
                        .is_some_and(|d| e.user.is_none_or(|u| u == d.user))
                })
                .collect())
        } else {
            let hub = self
                .session
                .hub_pin()
                .map_err(api_storage)?
                .map(|p| NodeId::from_bytes(p.node));
            let own = self.node;
            Ok(entries
                .into_iter()
                .filter(|e| e.node == own || Some(e.node) == hub)
                .collect())
        }
    }
}

impl Session {
    /// Holes in the audit chains this hub holds: entries a node announced in
    /// a sync hello, or that one of its document changes referenced (every
    /// change records its author's audit seq), but that never arrived — e.g.
    /// the last entries deleted on a laptop before a sync. Needs the
    /// audit-log right (the check is audited).
    pub fn audit_gaps(&mut self, now: DateTime<Utc>) -> Result<Vec<AuditGap>> {
        self.check(Action::ViewAudit, Target::Organisation, None, now)?;
        let prefix = expect_prefix();
        let mut out = Vec::new();
        for k in self.store.list_meta_keys()? {
            let Some(rest) = k.strip_prefix(prefix.as_slice()) else {
                continue;
            };
            let Some(node) = std::str::from_utf8(rest)
                .ok()
                .and_then(|t| t.parse::<NodeId>().ok())
            else {
                continue;
            };
            let Some((expected, doc)) = self
                .store
                .get_meta(&k)?
                .and_then(|v| postcard::from_bytes::<StoredExpectation>(&v).ok())
            else {
                continue;
            };
            let doc = doc.map(|d| DocId(Uuid::from_bytes(d)));
            let held = self.store.audit_last(node.as_bytes())?.map(|(seq, _)| seq);
            let gap = AuditGap {
                node,
                held,
                expected,
                doc,
                mismatch: false,
            };
            if held.is_none_or(|h| h < expected) {
                out.push(gap);
                continue;
            }
            // Held: it must be the entry that recorded the change.
            if let Some(doc) = doc {
                let at = self
                    .store
                    .audit_entries_since(node.as_bytes(), expected.checked_sub(1))?
                    .into_iter()
                    .next()
                    .filter(|(seq, _)| *seq == expected)
                    .and_then(|(_, bytes)| Entry::decode(&bytes).ok());
                if at.is_none_or(|e| e.target != Some(doc.0)) {
                    out.push(AuditGap {
                        mismatch: true,
                        ..gap
                    });
                }
            }
        }
        Ok(out)
    }
}

/// Audit detail codes of erasure. Do not change (they are in signed entries).
mod codes {
    use polku_audit::Code;

    /// This node erased the document (and signed its tombstone).
    pub const ERASED_HERE: Code = code("erase");
    /// A tombstone from another node was applied here.
    pub const TOMBSTONE_APPLIED: Code = code("tombstone");

    const fn code(s: &'static str) -> Code {
        match Code::new(s) {
            Ok(c) => c,
            Err(_) => panic!("invalid audit code in the program text"),
        }
    }
}

impl SyncReplica {
    /// Whether a received tombstone may be applied here: its signature
    /// verifies against its erasing node; it is not for the organisation
    /// document and names the kind of the local copy; the erasing node is
    /// this organisation's hub or a device enrolled for the tombstone's
    /// user; and that user may erase ([`may_erase`]).
    fn check_tombstone(
        &mut self,
        t: &Tombstone,
    ) -> std::result::Result<std::result::Result<(), RefusedReason>, ReplicaError> {
        if !t.verify() {
            return Ok(Err(RefusedReason::Invalid));
        }
        if t.kind == DocKind::Organisation || t.doc == self.session.org_id {
            return Ok(Err(RefusedReason::NotPermitted));
        }
        match self.session.store.doc_info(t.doc) {
            Ok(info) if info.kind != t.kind => return Ok(Err(RefusedReason::Invalid)),
            Ok(_) | Err(StoreError::DocNotFound(_)) => {}
            Err(e) => return Err(storage(e)),
        }
        if self.hub {
            // A revocation or role change made by another process counts.
            self.reload_org().map_err(api_storage)?;
        }
        let hub_node = if self.hub {
            Some(self.node)
        } else {
            self.session
                .hub_pin()
                .map_err(api_storage)?
                .map(|p| NodeId::from_bytes(p.node))
        };
        let org = &self.session.org;
        if hub_node != Some(t.node) {
            match org.devices.get(&node_hex(&t.node)) {
                Some(d) if d.user == t.user => {}
                _ => return Ok(Err(RefusedReason::NotPermitted)),
            }
        }
        match org.users.get(&t.user) {
            Some(user) if may_erase(user, t.kind) => Ok(Ok(())),
            _ => Ok(Err(RefusedReason::NotPermitted)),
        }
    }

    /// Erases `t.doc` here in **one store transaction**: appends the
    /// tombstone to the log, deletes the document with its history, index
    /// entry, view and every peer's sync state, and writes this node's audit
    /// entry (action `erase`, the tombstone's user, `detail`). A crash leaves
    /// either all of it or none. Returns whether a local copy was deleted.
    fn erase_with(
        &mut self,
        t: &Tombstone,
        detail: polku_audit::Code,
        now: DateTime<Utc>,
    ) -> std::result::Result<bool, ReplicaError> {
        let next = self.tomb_next()?;
        let peers = self.peers()?;
        let bytes = encode_tombstone(t);
        let session = &mut self.session;
        let trail = &mut session.trail;
        let head = trail.head();
        let deleted = session
            .store
            .batch(|b| {
                b.put_meta(&tomb_key(next), &bytes)?;
                b.put_meta(&tomb_next_key(), &(next + 1).to_be_bytes())?;
                crate::fault::point(crate::fault::TOMBSTONE_RECORDED);
                let mut deleted = false;
                for doc in erased_ids(t) {
                    for p in &peers {
                        b.delete_meta(&state_key(&NodeId::from_bytes(*p), doc))?;
                    }
                    deleted |= b.delete_doc(doc)?;
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
            .inspect_err(|_| trail.rewind(head))
            .map_err(storage)?;
        if deleted {
            // The erased ciphertext also leaves the write-ahead log.
            session.store.checkpoint().map_err(storage)?;
        }
        let client = ClientId::from(t.doc.0);
        session.index.remove(&client);
        session.dirty.remove(&client);
        for doc in erased_ids(t) {
            self.scopes.remove(&doc);
            self.erased_set()?.insert(doc);
        }
        Ok(deleted)
    }

    /// Erases a document on this node, if the logged-in user may
    /// ([`Action::EraseClient`]; a refusal is audited and returned as
    /// [`ApiError::Denied`]); the organisation document never
    /// ([`ApiError::Invalid`]). Records a tombstone signed by this node's key
    /// (propagated to peers at the next sync; every peer checks it, deletes
    /// its copy, audits it and refuses the id forever), deletes the local
    /// copy with its history and writes the `erase` audit entry, in one
    /// transaction. Returns `false` if the id was already erased. The caller
    /// writes the anonymised record first.
    pub fn erase_doc(&mut self, id: DocId, at: DateTime<Utc>) -> Result<bool> {
        if self.is_erased(id)? {
            return Ok(false);
        }
        let kind = match self.session.store.doc_info(id) {
            Ok(info) => info.kind,
            Err(StoreError::DocNotFound(_)) => {
                return Err(ApiError::Rejected(crate::Rejection::NoSuchDocument));
            }
            Err(e) => return Err(e.into()),
        };
        if kind == DocKind::Organisation || id == self.session.org_id {
            return Err(ApiError::Rejected(crate::Rejection::OrgNotErasable));
        }
        let responsible = BTreeSet::new();
        let scope = ClientScope {
            unit: None,
            responsible: &responsible,
        };
        self.session
            .check(Action::EraseClient, Target::Client(&scope), Some(id.0), at)?;
        let key = polku_audit::NodeKey::from_bytes(&self.session.node_secret()?);
        let t = Tombstone::sign(&key, id, kind, self.session.user.id, at);
        self.erase_with(&t, codes::ERASED_HERE, at)
            .map_err(replica_to_api)
    }

    /// The tombstones this node holds (its log, oldest first): for the app
    /// and for checking who erased what.
    pub fn tombstones(&mut self) -> Result<Vec<Tombstone>> {
        Ok(self
            .tombstones_since_pos(0)
            .map_err(replica_to_api)?
            .tombstones)
    }

    fn tombstones_since_pos(
        &self,
        cursor: u64,
    ) -> std::result::Result<TombstoneBatch, ReplicaError> {
        let next = self.tomb_next()?;
        let store = &self.session.store;
        let mut tombstones = Vec::new();
        for pos in cursor.min(next)..next {
            let bytes = store
                .get_meta(&tomb_key(pos))
                .map_err(storage)?
                .ok_or(corrupt("tombstone log"))?;
            tombstones.push(decode_tombstone(&bytes).ok_or(corrupt("tombstone log"))?);
        }
        Ok(TombstoneBatch {
            tombstones,
            cursor: next,
        })
    }
}
