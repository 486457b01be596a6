//! The session's audit trail: the device's node key, its chain writer, and
//! reading and verifying the stored log.
//!
//! Every entry is written durably before the call that caused it returns its
//! result, so an operation whose entry could not be written fails.

use chrono::{DateTime, Utc};
use polku_audit::{Action, ChainWriter, Detail, Entry, NodeId, NodeKey, VerifyError};
use polku_core::UserId;
use polku_store::{Batch, Store, StoreError};
use uuid::Uuid;

use crate::meta_keys::{FORK_PREFIX, NODE_KEY_META};
use crate::{ApiError, Result};

/// Create and store a new random node key (at store creation).
pub(crate) fn create_node_key(batch: &Batch<'_>) -> Result<()> {
    put_node_key(batch, &rand::random())
}

/// Store a given node key (a laptop joining keeps the key it enrolled with).
pub(crate) fn put_node_key(batch: &Batch<'_>, secret: &[u8; 32]) -> Result<()> {
    batch.put_meta(NODE_KEY_META, secret)?;
    Ok(())
}

/// The device's secret node key: signs audit entries and is the iroh identity.
pub(crate) fn node_secret(store: &Store) -> Result<[u8; 32]> {
    let bytes = store
        .get_meta(NODE_KEY_META)?
        .ok_or(StoreError::Corrupt { what: "node key" })?;
    bytes
        .as_slice()
        .try_into()
        .map_err(|_| StoreError::Corrupt { what: "node key" }.into())
}

fn load_node_key(store: &Store) -> Result<NodeKey> {
    let bytes = store
        .get_meta(NODE_KEY_META)?
        .ok_or(StoreError::Corrupt { what: "node key" })?;
    let secret: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| StoreError::Corrupt { what: "node key" })?;
    Ok(NodeKey::from_bytes(&secret))
}

/// Start of the commit message of a document change (see
/// [`Trail::change_message`]). Do not change.
const CHANGE_MESSAGE_PREFIX: &str = "polku-audit/1 ";

/// The author's node and audit seq a change's commit message records, if it
/// is one of ours.
pub(crate) fn parse_change_message(message: &str) -> Option<(NodeId, u64)> {
    let rest = message.strip_prefix(CHANGE_MESSAGE_PREFIX)?;
    let (node, seq) = rest.split_once(' ')?;
    Some((node.parse().ok()?, seq.parse().ok()?))
}

/// Signs this device's entries and persists them.
#[derive(Debug)]
pub(crate) struct Trail {
    writer: ChainWriter,
    node: NodeId,
}

impl Trail {
    /// Resume this device's chain from its last stored entry.
    pub(crate) fn open(store: &Store) -> Result<Trail> {
        let key = load_node_key(store)?;
        let node = key.node_id();
        let last = store
            .audit_last(node.as_bytes())?
            .map(|(seq, bytes)| Entry::decode(&bytes).map_err(|_| ApiError::AuditDamaged { seq }))
            .transpose()?;
        let writer = ChainWriter::resume(key, last.as_ref())
            .map_err(|e| ApiError::AuditDamaged { seq: e.entry().seq })?;
        Ok(Trail { writer, node })
    }

    /// Sign an entry and write it inside `batch` (the caller's transaction).
    pub(crate) fn record_in(
        &mut self,
        batch: &Batch<'_>,
        now: DateTime<Utc>,
        user: Option<UserId>,
        action: Action,
        target: Option<Uuid>,
        detail: Detail,
    ) -> std::result::Result<(), StoreError> {
        // Another session on this device may have extended the chain since:
        // continue after the stored last entry (read inside this transaction).
        let stored = batch.audit_last_seq(self.node.as_bytes())?;
        if stored != self.writer.head().map(|h| h.seq) {
            let last = batch
                .audit_last(self.node.as_bytes())?
                .map(|(seq, bytes)| {
                    Entry::decode(&bytes).map_err(|_| StoreError::AuditEntryDamaged { seq })
                })
                .transpose()?;
            self.writer
                .reset_to(last.as_ref())
                .map_err(|e| StoreError::AuditEntryDamaged { seq: e.entry().seq })?;
        }
        let head = self.writer.head();
        let entry = self.writer.append(now, user, action, target, detail);
        let result = batch.append_audit(self.node.as_bytes(), entry.seq, &entry.encode());
        if result.is_err() {
            self.writer.rewind(head);
        }
        result
    }

    /// The commit message of a document change this session makes now: the
    /// node and the seq of the audit entry that will record it (the next one
    /// of this chain). A hub that receives the change expects this node's
    /// chain to reach that entry ([`parse_change_message`]).
    pub(crate) fn change_message(&self) -> String {
        let next = self.writer.head().map_or(0, |h| h.seq + 1);
        format!("{CHANGE_MESSAGE_PREFIX}{} {next}", self.node)
    }

    /// The chain's last entry (to rewind to if a transaction fails).
    pub(crate) fn head(&self) -> Option<polku_audit::Head> {
        self.writer.head()
    }

    /// Set the head back (the transaction holding the entries since was rolled back).
    pub(crate) fn rewind(&mut self, head: Option<polku_audit::Head>) {
        self.writer.rewind(head);
    }
}

/// The outcome of verifying every stored chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifySummary {
    /// Entries checked.
    pub entries: usize,
    /// Chains (nodes) checked.
    pub nodes: usize,
}

/// The first bad entry of the stored log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditProblem {
    /// A stored entry cannot be decrypted or decoded.
    #[error("entry {node}#{seq} is damaged (cannot be decrypted or decoded)")]
    Damaged {
        /// Node (hex).
        node: String,
        /// Sequence number.
        seq: u64,
    },
    /// A stored entry sits at a position that is not its own.
    #[error(
        "entry stored at {node}#{stored} claims to be {node}#{claimed} (entries moved or swapped)"
    )]
    Misplaced {
        /// Node (hex).
        node: String,
        /// Where it is stored.
        stored: u64,
        /// What it says.
        claimed: u64,
    },
    /// A chain invariant is broken.
    #[error("entry {entry}: {error}")]
    Invalid {
        /// `node#seq`.
        entry: String,
        /// Which invariant.
        error: VerifyError,
    },
}

/// Read and check every stored entry: decryption, position, signatures,
/// back-links, sequence numbers and forks. Names the first bad entry.
pub(crate) fn read_verified(
    store: &Store,
) -> Result<std::result::Result<(Vec<Entry>, VerifySummary), AuditProblem>> {
    let rows = match store.audit_entries() {
        Ok(rows) => rows,
        Err(StoreError::AuditEntryDamaged { seq }) => {
            return Ok(Err(AuditProblem::Damaged {
                node: "?".into(),
                seq,
            }));
        }
        Err(e) => return Err(e.into()),
    };
    let mut entries = Vec::with_capacity(rows.len());
    for (node, seq, bytes) in rows {
        let node_hex = NodeId::from_bytes(node).to_string();
        let Ok(entry) = Entry::decode(&bytes) else {
            return Ok(Err(AuditProblem::Damaged {
                node: node_hex,
                seq,
            }));
        };
        if entry.seq != seq || entry.node.as_bytes() != &node {
            return Ok(Err(AuditProblem::Misplaced {
                node: node_hex,
                stored: seq,
                claimed: entry.seq,
            }));
        }
        entries.push(entry);
    }
    // Fork evidence joins the log: two entries at one position are a fork.
    let mut all = entries.clone();
    all.extend(fork_evidence(store)?);
    all.sort_by_key(|e| (e.node, e.seq));
    match polku_audit::verify_log(&all) {
        Ok(heads) => {
            let summary = VerifySummary {
                entries: entries.len(),
                nodes: heads.len(),
            };
            Ok(Ok((entries, summary)))
        }
        Err(error) => Ok(Err(AuditProblem::Invalid {
            entry: error.entry().to_string(),
            error,
        })),
    }
}

/// Most fork evidence entries kept per node: a peer cannot fill the store
/// with forks (one is proof enough; more are refused and counted).
pub const MAX_FORKS_PER_NODE: usize = 16;

/// What [`merge_entries`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditMerge {
    /// Entries appended.
    pub added: usize,
    /// Entries already held (same content).
    pub duplicates: usize,
    /// Entries that conflict with a held entry at the same node and seq:
    /// kept as evidence of a fork.
    pub forks: usize,
    /// Entries refused: bad signature, broken back-link, or a gap before them.
    pub refused: usize,
}

/// Merge entries of any nodes into the stored log, append-only and idempotent:
/// per node, entries continuing the stored chain are verified and appended;
/// entries already held are skipped; a different entry at a held position is
/// kept as fork evidence; anything else is refused (sync sends again later).
/// The merged log does not depend on the order of merges.
pub(crate) fn merge_entries(store: &Store, mut entries: Vec<Entry>) -> Result<AuditMerge> {
    use std::collections::BTreeMap;
    entries.sort_by_key(|e| (e.node, e.seq));
    let mut by_node: BTreeMap<NodeId, Vec<Entry>> = BTreeMap::new();
    for e in entries {
        by_node.entry(e.node).or_default().push(e);
    }
    let mut report = AuditMerge::default();
    // Fork evidence already held, per node.
    let mut forks_held: BTreeMap<NodeId, usize> = BTreeMap::new();
    for key in store.list_meta_keys()? {
        if let Some(node) = key
            .strip_prefix(FORK_PREFIX)
            .and_then(|r| r.get(..32))
            .and_then(|n| <[u8; 32]>::try_from(n).ok())
        {
            *forks_held.entry(NodeId::from_bytes(node)).or_default() += 1;
        }
    }
    store.batch(|b| {
        for (node, batch) in &by_node {
            let mut head = match store.audit_last(node.as_bytes())? {
                None => None,
                Some((seq, bytes)) => {
                    let entry =
                        Entry::decode(&bytes).map_err(|_| StoreError::AuditEntryDamaged { seq })?;
                    Some(polku_audit::Head {
                        seq,
                        hash: entry.hash(),
                    })
                }
            };
            for entry in batch {
                let next = head.map_or(0, |h| h.seq + 1);
                if entry.seq < next {
                    let bytes = entry.encode();
                    match b.append_audit(node.as_bytes(), entry.seq, &bytes) {
                        Ok(()) => report.duplicates += 1,
                        Err(StoreError::AuditConflict { .. }) => {
                            // Only signed entries count as evidence, and at
                            // most MAX_FORKS_PER_NODE per node.
                            let mut key = FORK_PREFIX.to_vec();
                            key.extend_from_slice(node.as_bytes());
                            key.extend_from_slice(&entry.seq.to_be_bytes());
                            key.extend_from_slice(entry.hash().0.as_slice());
                            let held = forks_held.entry(*node).or_default();
                            if store.get_meta(&key)?.is_some() {
                                report.forks += 1;
                            } else if *held >= MAX_FORKS_PER_NODE
                                || polku_audit::verify_entry(entry).is_err()
                            {
                                report.refused += 1;
                            } else {
                                *held += 1;
                                b.put_meta(&key, &bytes)?;
                                report.forks += 1;
                            }
                        }
                        Err(e) => return Err(e),
                    }
                    continue;
                }
                match polku_audit::verify_continuation(head, std::slice::from_ref(entry)) {
                    Ok(new_head) => {
                        b.append_audit(node.as_bytes(), entry.seq, &entry.encode())?;
                        head = new_head;
                        report.added += 1;
                    }
                    Err(_) => report.refused += 1,
                }
            }
        }
        Ok(())
    })?;
    Ok(report)
}

/// Fork evidence held by the store.
fn fork_evidence(store: &Store) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for key in store.list_meta_keys()? {
        if !key.starts_with(FORK_PREFIX) {
            continue;
        }
        if let Some(bytes) = store.get_meta(&key)?
            && let Ok(entry) = Entry::decode(&bytes)
        {
            out.push(entry);
        }
    }
    Ok(out)
}
