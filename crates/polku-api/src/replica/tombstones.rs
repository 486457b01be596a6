//! Erasure: signed tombstones, their log (the store's `sync_tombstones`),
//! the checks a received one must pass, and the one transaction that
//! records a tombstone, deletes the documents and writes the audit entry.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use polku_audit::{Action as AuditAction, Detail, NodeId};
use polku_core::model::record_doc_id;
use polku_core::rights::{Action, ClientScope, Target, delivery};
use polku_core::{ClientId, DocId, DocKind, UserId};
use polku_store::{Store, StoreError};
use polku_sync::protocol::{RefusedReason, Tombstone};
use polku_sync::{ReplicaError, TombstoneBatch};
use uuid::Uuid;

use super::{SyncReplica, api_storage, corrupt, node_hex, replica_to_api, storage};
use crate::audit_codes;
use crate::{ApiError, Result};

/// The documents a tombstone erases: a client's tombstone (named by the
/// client's id) takes its record document along.
pub(super) fn erased_ids(t: &Tombstone) -> Vec<DocId> {
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
    pub(super) fn erased_set(&mut self) -> Result<&mut BTreeSet<DocId>, ReplicaError> {
        if self.erased.is_none() {
            self.erased = Some(erased_in(&self.session.store).map_err(storage)?);
        }
        Ok(self.erased.get_or_insert_default())
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
    /// tombstone to the log, deletes the document with its history, index
    /// entry, view and every peer's sync state, and writes this node's audit
    /// entry (action `erase`, the tombstone's user, `detail`). A crash leaves
    /// either all of it or none. Returns whether a local copy was deleted.
    pub(super) fn erase_with(
        &mut self,
        t: &Tombstone,
        detail: polku_audit::Code,
        now: DateTime<Utc>,
    ) -> std::result::Result<bool, ReplicaError> {
        let bytes = encode_tombstone(t);
        let session = &mut self.session;
        let trail = &mut session.trail;
        let head = trail.head();
        let deleted = session
            .store
            .batch(|b| {
                b.append_tombstone(&bytes)?;
                crate::fault::point(crate::fault::TOMBSTONE_RECORDED);
                let mut deleted = false;
                for doc in erased_ids(t) {
                    // With its sync states.
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
    ///
    /// Not public API (test-only feature `test-internals`): erasing a
    /// client goes with writing its anonymised record.
    #[cfg(feature = "test-internals")]
    pub fn erase_doc(&mut self, id: DocId, at: DateTime<Utc>) -> Result<bool> {
        self.erase_doc_here(id, at)
    }

    /// See [`SyncReplica::erase_doc`].
    #[cfg_attr(not(feature = "test-internals"), allow(dead_code))]
    pub(crate) fn erase_doc_here(&mut self, id: DocId, at: DateTime<Utc>) -> Result<bool> {
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
