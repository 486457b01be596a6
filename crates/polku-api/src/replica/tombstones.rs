//! Erasure: signed tombstones, their log (the store's `sync_tombstones`),
//! the checks a received one must pass, and the one transaction that
//! records a tombstone, deletes the documents and writes the audit entry.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use polku_audit::{Detail, NodeId};
use polku_core::model::record_doc_id;
use polku_core::rights::{Action, Target, delivery};
use polku_core::{ClientId, DocId, DocKind, UserId};
use polku_store::{Store, StoreError};
use polku_sync::protocol::{RefusedReason, Tombstone};
use polku_sync::{ReplicaError, TombstoneBatch};
use uuid::Uuid;

use super::{SyncReplica, api_storage, bookkeeping, corrupt, node_hex, storage};
use crate::audit_codes;
use crate::{Result, Session};

/// The documents a tombstone erases: a client's tombstone (named by the
/// client's id) takes its record document along.
pub(crate) fn erased_ids(t: &Tombstone) -> Vec<DocId> {
    match t.kind {
        DocKind::Client => vec![t.doc, record_doc_id(ClientId::from(t.doc.0))],
        _ => vec![t.doc],
    }
}

/// Version byte of a stored tombstone. Do not change.
const TOMB_VERSION: u8 = 2;

/// A stored tombstone: `[TOMB_VERSION]`, then the signed bytes
/// ([`Tombstone::signed_bytes`]: id, kind, erased at, node, user), then the
/// signature (64).
pub(crate) fn encode_tombstone(t: &Tombstone) -> Vec<u8> {
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

/// The tombstones of the log from position `from` on, oldest first.
fn log_from(store: &Store, from: u64) -> std::result::Result<Vec<Tombstone>, StoreError> {
    store
        .tombstones_from(from)?
        .iter()
        .map(|b| {
            decode_tombstone(b).ok_or(StoreError::Corrupt {
                what: "tombstone log",
            })
        })
        .collect()
}

/// Every id the tombstone log erases.
pub(crate) fn erased_in(store: &Store) -> std::result::Result<BTreeSet<DocId>, StoreError> {
    Ok(log_from(store, 0)?.iter().flat_map(erased_ids).collect())
}

impl SyncReplica {
    /// Every id the tombstone log erases, read once and then only the
    /// tombstones appended since (by this connection or another: a hub's
    /// other sync connections, or another process).
    pub(super) fn erased_set(&mut self) -> Result<&mut BTreeSet<DocId>, ReplicaError> {
        let store = &self.session.store;
        let end = store.tombstone_count().map_err(storage)?;
        match &mut self.erased {
            Some((read, set)) if *read <= end => {
                if *read < end {
                    for t in log_from(store, *read).map_err(storage)? {
                        set.extend(erased_ids(&t));
                    }
                    *read = end;
                }
            }
            _ => self.erased = Some((end, erased_in(store).map_err(storage)?)),
        }
        Ok(&mut self.erased.get_or_insert_default().1)
    }

    /// [`SyncReplica::erased_set`] with the log position it was read to.
    pub(super) fn erased_at(&mut self) -> Result<(u64, BTreeSet<DocId>), ReplicaError> {
        let set = self.erased_set()?.clone();
        let read = self.erased.as_ref().map_or(0, |(r, _)| *r);
        Ok((read, set))
    }

    /// Whether a received tombstone may be applied here: its signature
    /// verifies against its erasing node; it is not for the organisation
    /// document and names the kind of the local copy; the erasing node is
    /// this organisation's hub or a device enrolled for the tombstone's
    /// user, and that user may erase
    /// ([`delivery::may_apply_tombstone`]).
    pub(super) fn check_tombstone(
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
            // A revocation or role change made by another process counts
            // (it moves the store's write mark).
            self.fresh_org()?;
        }
        let hub_node = if self.hub {
            Some(self.node)
        } else {
            self.session
                .hub_pin()
                .map_err(api_storage)?
                .map(|p| NodeId::from_bytes(p.node))
        };
        let hub_node = hub_node.map(|n| node_hex(&n));
        if delivery::may_apply_tombstone(
            &self.session.org,
            hub_node.as_deref(),
            &node_hex(&t.node),
            t.user,
            t.kind,
        ) {
            Ok(Ok(()))
        } else {
            Ok(Err(RefusedReason::NotPermitted))
        }
    }

    /// Erases `t.doc` here in **one store transaction**: appends the
    /// tombstone to the log, deletes the documents with their history, index
    /// entries, views and every peer's sync state, and writes this node's
    /// audit entry (action `erase`, the tombstone's user, `detail`); then
    /// deletes their attachment files and checkpoints
    /// ([`Session::erase_tx`]). A crash leaves either all of it or none.
    /// Returns whether a local copy was deleted.
    pub(super) fn erase_with(
        &mut self,
        t: &Tombstone,
        detail: polku_audit::Code,
        now: DateTime<Utc>,
    ) -> std::result::Result<bool, ReplicaError> {
        let (deleted, _) = self
            .session
            .erase_tx(t, detail, None, now)
            .map_err(api_storage)?;
        self.forget_erased(t)?;
        Ok(deleted > 0)
    }

    /// The caches after an erasure.
    fn forget_erased(&mut self, t: &Tombstone) -> std::result::Result<(), ReplicaError> {
        // The live heads and document sets leave out erased ids.
        self.cache.clear();
        for doc in erased_ids(t) {
            self.scopes.remove(&doc);
            self.erased_set()?.insert(doc);
        }
        Ok(())
    }

    /// Erases a client on this node: [`Session::erase_client`] (anonymised
    /// record, signed tombstone, documents, files, audit entry), keeping
    /// the replica's caches in step.
    pub fn erase_client(
        &mut self,
        id: ClientId,
        reason: crate::ErasureReason,
        now: DateTime<Utc>,
    ) -> Result<crate::Erasure> {
        let erasure = self.session.erase_client(id, reason, now)?;
        // The tombstone is the log's last one (read at the next look).
        self.cache.clear();
        for doc in [DocId::from(id), record_doc_id(id)] {
            self.scopes.remove(&doc);
        }
        Ok(erasure)
    }

    /// Erases a document on this node, if the logged-in user may
    /// ([`Action::EraseClient`]; a refusal is audited and returned as
    /// [`ApiError::Denied`]); the organisation document never
    /// ([`ApiError::Invalid`]). Records a tombstone signed by this node's key
    /// and deletes the local copy, without an anonymised record. Returns
    /// `false` if the id was already erased.
    ///
    /// Not public API (test-only feature `test-internals`): erasing a
    /// client goes with writing its anonymised record
    /// ([`SyncReplica::erase_client`]).
    #[cfg(feature = "test-internals")]
    pub fn erase_doc(&mut self, id: DocId, at: DateTime<Utc>) -> Result<bool> {
        self.erase_doc_here(id, at)
    }

    /// See [`SyncReplica::erase_doc`].
    #[cfg(feature = "test-internals")]
    fn erase_doc_here(&mut self, id: DocId, at: DateTime<Utc>) -> Result<bool> {
        use super::replica_to_api;
        use crate::ApiError;
        use polku_core::rights::ClientScope;
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
        let key = polku_audit::NodeKey::from_bytes(&self.session.secret_key()?);
        let t = Tombstone::sign(&key, id, kind, self.session.user.id, at);
        self.erase_with(&t, audit_codes::ERASED_HERE, at)
            .map_err(replica_to_api)
    }

    /// The tombstones this node holds (its log, oldest first): for the app
    /// and for checking who erased what.
    pub fn tombstones(&mut self) -> Result<Vec<Tombstone>> {
        Ok(log_from(&self.session.store, 0)?)
    }

    /// The tombstones after `cursor` and the cursor after them.
    pub(super) fn tombstones_since_pos(
        &self,
        cursor: u64,
    ) -> std::result::Result<TombstoneBatch, ReplicaError> {
        let store = &self.session.store;
        let next = store.tombstone_count().map_err(storage)?;
        let tombstones = log_from(store, cursor.min(next)).map_err(|_| corrupt("tombstone log"))?;
        Ok(TombstoneBatch {
            tombstones,
            cursor: next,
        })
    }
}

/// One erasure as the hub sees it: which devices have acknowledged its
/// tombstone. Holds the erased client's random id only.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ErasureStatus {
    /// The erased document's id (a client's random id).
    pub doc: DocId,
    /// The kind of document erased.
    pub kind: DocKind,
    /// When it was erased (the tombstone's time).
    pub erased_at: DateTime<Utc>,
    /// The devices that have acknowledged it (node ids, lowercase hex).
    pub acknowledged: Vec<String>,
    /// The devices that still lack it: node id and label.
    pub missing: Vec<(String, String)>,
}

impl ErasureStatus {
    /// The devices counted: acknowledged and missing.
    pub fn devices(&self) -> usize {
        self.acknowledged.len() + self.missing.len()
    }
}

impl Session {
    /// Per erasure in this node's tombstone log (oldest first), which
    /// devices have acknowledged its tombstone ("3 of 4 devices"). On the
    /// hub the devices are the enrolled, non-revoked devices other than the
    /// hub; on a laptop, its hub. A device has acknowledged a tombstone when
    /// a sync session that sent it to the device completed (the per-peer
    /// tombstone cursor passed it) or when the device itself erased it.
    ///
    /// Rights: [`Action::EraseClient`] (a refusal is audited). Audit: one
    /// `view` entry with `erasure_status` and the number of erasures.
    pub fn erasure_status(&mut self, now: DateTime<Utc>) -> Result<Vec<ErasureStatus>> {
        let nobody = BTreeSet::new();
        let scope = polku_core::rights::ClientScope {
            unit: None,
            responsible: &nobody,
        };
        self.check(Action::EraseClient, Target::Client(&scope), None, now)?;
        let me = self.node_id()?;
        let peers: Vec<(String, String)> = if self.is_hub()? {
            self.org
                .devices
                .values()
                .filter(|d| !d.is_revoked() && d.node_id != node_hex(&me))
                .map(|d| (d.node_id.clone(), d.label.clone()))
                .collect()
        } else {
            self.hub_pin()?
                .map(|p| (node_hex(&NodeId::from_bytes(p.node)), "hub".to_owned()))
                .into_iter()
                .collect()
        };
        let mut cursors = Vec::with_capacity(peers.len());
        for (node, label) in peers {
            let cursor = node
                .parse::<NodeId>()
                .ok()
                .map(|n| bookkeeping::peer_record(&self.store, &n))
                .transpose()?
                .map_or(0, |r| r.tombstone_cursor);
            cursors.push((node, label, cursor));
        }
        let out: Vec<ErasureStatus> = log_from(&self.store, 0)?
            .into_iter()
            .enumerate()
            .map(|(pos, t)| {
                let pos = pos as u64;
                let by = node_hex(&t.node);
                let (mut acknowledged, mut missing) = (Vec::new(), Vec::new());
                for (node, label, cursor) in &cursors {
                    if *cursor > pos || *node == by {
                        acknowledged.push(node.clone());
                    } else {
                        missing.push((node.clone(), label.clone()));
                    }
                }
                ErasureStatus {
                    doc: t.doc,
                    kind: t.kind,
                    erased_at: t.erased_at,
                    acknowledged,
                    missing,
                }
            })
            .collect();
        let count = u32::try_from(out.len()).unwrap_or(u32::MAX);
        self.record(
            now,
            polku_audit::Action::View,
            None,
            Detail::CodeCount {
                code: audit_codes::ERASURE_STATUS,
                count,
            },
        )?;
        Ok(out)
    }
}
