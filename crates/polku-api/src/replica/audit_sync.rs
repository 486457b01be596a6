//! Audit chains over sync: which chains are shared with a peer, which
//! received entries are kept, and the hub's expectations of each node's
//! chain (announced heads and the audit seqs document changes reference),
//! kept in the store's `sync_audit_expect` table, from which
//! [`Session::audit_gaps`] reports entries that never arrived.

use std::collections::BTreeMap;

use automerge::AutoCommit;
use chrono::{DateTime, Utc};
use polku_audit::{Entry, NodeId};
use polku_core::DocId;
use polku_core::rights::{Action, Target, delivery};
use polku_store::{Batch, Store, StoreError};
use polku_sync::protocol::AuditHead;
use polku_sync::{AuditMerge, Peer, ReplicaError};
use uuid::Uuid;

use super::{SyncReplica, api_storage, corrupt, node_hex, storage};
use crate::{Result, Session};

/// What a hub expects of a node's audit chain, as stored: the highest seq
/// the node announced or a change of it referenced, and the document of that
/// change (`None`: announced in a hello). `postcard((seq, doc))`.
type StoredExpectation = (u64, Option<[u8; 16]>);

fn decode_expectation(v: &[u8]) -> Option<StoredExpectation> {
    postcard::from_bytes(v).ok()
}

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
/// Pending: seen in a session that has not completed yet (a session cut
/// after a hello or a document change but before the audit entries arrived
/// is no gap); they count when a session completes
/// ([`confirm_expectations`]).
pub(super) fn raise_expectation(
    store: &Store,
    b: &Batch<'_>,
    node: &NodeId,
    seq: u64,
    doc: Option<DocId>,
) -> std::result::Result<(), StoreError> {
    raise_at(store, b, node, true, (seq, doc.map(|d| *d.0.as_bytes())))
}

/// Keeps the higher of the stored expectation and `value`.
fn raise_at(
    store: &Store,
    b: &Batch<'_>,
    node: &NodeId,
    pending: bool,
    value: StoredExpectation,
) -> std::result::Result<(), StoreError> {
    let stored = store
        .audit_expectation(node.as_bytes(), pending)?
        .and_then(|v| decode_expectation(&v));
    if stored.is_some_and(|(s, _)| s >= value.0) {
        return Ok(());
    }
    let bytes = postcard::to_allocvec(&value).map_err(|_| StoreError::Corrupt {
        what: "audit expectation",
    })?;
    b.put_audit_expectation(node.as_bytes(), pending, &bytes)
}

/// A session completed: its expectations (and those of earlier, cut
/// sessions) now count, inside `b`.
pub(super) fn confirm_expectations(
    store: &Store,
    b: &Batch<'_>,
) -> std::result::Result<(), StoreError> {
    for (node, v) in store.audit_expectations(true)? {
        if let Some(value) = decode_expectation(&v) {
            raise_at(store, b, &NodeId::from_bytes(node), false, value)?;
        }
        b.delete_audit_expectation(&node, true)?;
    }
    Ok(())
}

/// The (node, seq) references in the commit messages of `doc`'s changes
/// after `base` (all of them if `None`), the highest per node.
pub(super) fn change_refs(
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

impl SyncReplica {
    /// Whether the peer's user is an administrator (their devices get a copy
    /// of the hub's own audit chain, to verify and keep).
    fn peer_is_admin(&self, peer: &Peer) -> bool {
        self.peer_user(peer)
            .is_some_and(|(user, _)| user.role == polku_core::model::Role::Admin)
    }

    /// Whether the chain of `node` is shared with `peer`: a hub shares the
    /// peer's own chain (and its own with administrators' devices); a
    /// laptop shares everything it holds.
    fn shares_chain(&self, peer: &Peer, node: NodeId, hub_chain_too: bool) -> bool {
        !self.hub || node == peer.node || (hub_chain_too && node == self.node)
    }

    pub(super) fn audit_heads_for(
        &mut self,
        peer: &Peer,
    ) -> std::result::Result<Vec<AuditHead>, ReplicaError> {
        let hub_chain_too = self.hub && self.peer_is_admin(peer);
        let store = &self.session.store;
        let mut out = Vec::new();
        for (node, _) in store.audit_heads().map_err(storage)? {
            let node = NodeId::from_bytes(node);
            if !self.shares_chain(peer, node, hub_chain_too) {
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

    pub(super) fn audit_missing_for(
        &mut self,
        peer: &Peer,
        theirs: &[AuditHead],
    ) -> std::result::Result<Vec<Vec<u8>>, ReplicaError> {
        let hub_chain_too = self.hub && self.peer_is_admin(peer);
        let store = &self.session.store;
        let remote: BTreeMap<NodeId, u64> = theirs.iter().map(|h| (h.node, h.seq)).collect();
        let mut out = Vec::new();
        for (node, seq) in store.audit_heads().map_err(storage)? {
            let node = NodeId::from_bytes(node);
            if !self.shares_chain(peer, node, hub_chain_too) {
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

    pub(super) fn merge_audit_from(
        &mut self,
        peer: &Peer,
        entries: Vec<Entry>,
    ) -> std::result::Result<AuditMerge, ReplicaError> {
        let before = entries.len();
        let entries = self.acceptable_entries(peer, entries)?;
        let refused_here = before - entries.len();
        // Audit rows only: what the replica keeps of its store stays valid.
        let store = &self.session.store;
        let (report, _) = self.cache.bookkeeping(store, || {
            crate::trail::merge_entries(store, entries).map_err(api_storage)
        })?;
        Ok(AuditMerge {
            added: report.added,
            duplicates: report.duplicates,
            rejected: report.refused + report.forks + refused_here,
        })
    }

    pub(super) fn own_head(
        &mut self,
    ) -> std::result::Result<Option<polku_audit::Head>, ReplicaError> {
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

    /// The head a peer announced: a hub expects its chain to reach it.
    pub(super) fn note_peer_head(
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
        // Already expected as far (confirmed): a pending expectation would
        // confirm to nothing, and nothing is written.
        let confirmed = store
            .audit_expectation(peer.node.as_bytes(), false)
            .map_err(storage)?
            .and_then(|v| decode_expectation(&v));
        if confirmed.is_some_and(|(s, _)| s >= head.seq) {
            return Ok(());
        }
        self.cache
            .bookkeeping_write(store, || {
                store.batch(|b| raise_expectation(store, b, &peer.node, head.seq, None))
            })
            .map(|(out, _)| out)
    }

    /// The received entries this node accepts from `peer`; the rest are
    /// refused unread. A hub keeps its own chain and those of enrolled
    /// devices whose entries name no user or the device's enrolled user
    /// ([`delivery::hub_keeps_entry`]); a laptop its hub's chain and its
    /// own. Signatures and links are then verified by the merge.
    fn acceptable_entries(
        &mut self,
        peer: &Peer,
        entries: Vec<Entry>,
    ) -> std::result::Result<Vec<Entry>, ReplicaError> {
        let _ = peer;
        if self.hub {
            self.fresh_org()?;
            let org = &self.session.org;
            let own = node_hex(&self.node);
            Ok(entries
                .into_iter()
                .filter(|e| delivery::hub_keeps_entry(org, &own, &node_hex(&e.node), e.user))
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
        let mut out = Vec::new();
        for (node, v) in self.store.audit_expectations(false)? {
            let node = NodeId::from_bytes(node);
            let Some((expected, doc)) = decode_expectation(&v) else {
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
