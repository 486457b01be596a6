//! Pure validators for audit entries, chains and logs.
//!
//! Each invariant is a bullet in the validator's documentation and a variant
//! of [`VerifyError`]; every error names the first bad entry (node and seq)
//! and nothing else, so it can be logged and shown without personal data.

use std::collections::{BTreeMap, HashMap};

use ed25519_dalek::VerifyingKey;

use crate::entry::{Entry, EntryRef, Head, Scratch};
use crate::key::{EntryHash, NodeId};
use crate::signatures::{Signed, check_signatures};

/// A broken invariant of the audit log, naming the first bad entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The entry is not the next one of its chain: an entry before it is
    /// missing (a gap, a deleted entry) or the entries are out of order.
    #[error("audit entry {node}#{found}: expected sequence number {expected}")]
    SeqNotIncremental {
        /// The chain's node.
        node: NodeId,
        /// The sequence number the chain needs next.
        expected: u64,
        /// The entry's sequence number.
        found: u64,
    },
    /// The entry's `prev_hash` is not the hash of the chain's previous entry
    /// (or, for seq 0, is not empty).
    #[error("audit entry {node}#{seq}: backlink does not match the previous entry")]
    BacklinkMismatch {
        /// The entry's node.
        node: NodeId,
        /// The entry's sequence number.
        seq: u64,
    },
    /// The signature is not the node's over the entry's bytes: the entry was
    /// edited, or signed by another key, or the node id is not a valid key.
    #[error("audit entry {node}#{seq}: signature does not match the node key")]
    SignatureMismatch {
        /// The node the entry claims.
        node: NodeId,
        /// The entry's sequence number.
        seq: u64,
    },
    /// The node signed two different entries with the same sequence number.
    #[error("audit entry {node}#{seq}: the node signed two different entries at this position")]
    Fork {
        /// The node.
        node: NodeId,
        /// The contested sequence number.
        seq: u64,
    },
    /// The entry belongs to another node than the chain it was given in.
    #[error("audit entry {node}#{seq}: found in the chain of another node ({chain})")]
    ForeignNode {
        /// The chain's node.
        chain: NodeId,
        /// The node the entry names.
        node: NodeId,
        /// The entry's sequence number.
        seq: u64,
    },
}

impl VerifyError {
    /// The bad entry.
    pub fn entry(&self) -> EntryRef {
        match *self {
            VerifyError::SeqNotIncremental { node, found, .. } => EntryRef { node, seq: found },
            VerifyError::BacklinkMismatch { node, seq }
            | VerifyError::SignatureMismatch { node, seq }
            | VerifyError::Fork { node, seq }
            | VerifyError::ForeignNode { node, seq, .. } => EntryRef { node, seq },
        }
    }
}

/// The verified end of a chain: what the next entry must continue.
#[derive(Debug, Clone)]
pub(crate) struct Tip {
    pub(crate) node: NodeId,
    key: VerifyingKey,
    pub(crate) next_seq: u64,
    pub(crate) last_hash: Option<EntryHash>,
}

impl Tip {
    /// The tip of an empty chain of `node`; `None` if `node` is not a valid
    /// ed25519 key (no entry of it can ever verify).
    pub(crate) fn new(node: NodeId) -> Option<Self> {
        Some(Self::with_key(node, node.verifying_key()?))
    }

    pub(crate) fn with_key(node: NodeId, key: VerifyingKey) -> Self {
        Self {
            node,
            key,
            next_seq: 0,
            last_hash: None,
        }
    }

    /// The tip after `head`.
    fn after(node: NodeId, head: Option<Head>) -> Option<Self> {
        let mut tip = Self::new(node)?;
        if let Some(head) = head {
            tip.advance(head.seq, head.hash);
        }
        Some(tip)
    }

    pub(crate) fn head(&self) -> Option<Head> {
        self.last_hash.map(|hash| Head {
            // last_hash is set only by advance, which makes next_seq >= 1.
            seq: self.next_seq.saturating_sub(1),
            hash,
        })
    }

    pub(crate) fn advance(&mut self, seq: u64, hash: EntryHash) {
        // A chain of 2^64 entries cannot exist; saturating keeps this total.
        self.next_seq = seq.saturating_add(1);
        self.last_hash = Some(hash);
    }

    /// Checks `entry`'s signature with this chain's key.
    pub(crate) fn check_signature(&self, entry: &Entry, scratch: &mut Scratch) -> Signed {
        scratch.check(entry, &self.key)
    }

    /// Checks that `entry` is the next entry of this chain, given the result
    /// of its signature check; returns its hash.
    pub(crate) fn check_next(
        &self,
        entry: &Entry,
        signed: Signed,
    ) -> Result<EntryHash, VerifyError> {
        if entry.node != self.node {
            return Err(foreign(self.node, entry));
        }
        if entry.seq != self.next_seq {
            return Err(VerifyError::SeqNotIncremental {
                node: self.node,
                expected: self.next_seq,
                found: entry.seq,
            });
        }
        let hash = self.check_detached(entry, signed)?;
        self.check_backlink(entry)?;
        Ok(hash)
    }

    /// Checks what can be checked of an entry without its predecessor, given
    /// the result of its signature check: node, signature, and that only seq
    /// 0 lacks a backlink. Returns its hash.
    pub(crate) fn check_detached(
        &self,
        entry: &Entry,
        signed: Signed,
    ) -> Result<EntryHash, VerifyError> {
        if entry.node != self.node {
            return Err(foreign(self.node, entry));
        }
        let hash = signed.ok_or(VerifyError::SignatureMismatch {
            node: entry.node,
            seq: entry.seq,
        })?;
        if (entry.seq == 0) != entry.prev_hash.is_none() {
            return Err(backlink_mismatch(entry));
        }
        Ok(hash)
    }

    /// Checks that `entry` links to this tip's last entry.
    pub(crate) fn check_backlink(&self, entry: &Entry) -> Result<(), VerifyError> {
        if entry.prev_hash != self.last_hash {
            return Err(backlink_mismatch(entry));
        }
        Ok(())
    }
}

fn foreign(chain: NodeId, entry: &Entry) -> VerifyError {
    VerifyError::ForeignNode {
        chain,
        node: entry.node,
        seq: entry.seq,
    }
}

fn backlink_mismatch(entry: &Entry) -> VerifyError {
    VerifyError::BacklinkMismatch {
        node: entry.node,
        seq: entry.seq,
    }
}

/// Verifies one entry on its own and returns its hash.
///
/// Invariants:
/// - the signature is `entry.node`'s, over [`crate::wire::SIGNING_CONTEXT`] and
///   the entry's signed bytes, by strict ed25519 rules
///   ([`VerifyError::SignatureMismatch`]);
/// - an entry has no backlink exactly when its seq is 0
///   ([`VerifyError::BacklinkMismatch`]).
pub fn verify_entry(entry: &Entry) -> Result<EntryHash, VerifyError> {
    let tip = Tip::new(entry.node).ok_or(VerifyError::SignatureMismatch {
        node: entry.node,
        seq: entry.seq,
    })?;
    let signed = tip.check_signature(entry, &mut Scratch::default());
    tip.check_detached(entry, signed)
}

/// Verifies that `next` directly follows `prev` in a chain. Signatures are
/// not checked here (see [`verify_entry`]).
///
/// Invariants:
/// - both entries belong to the same node ([`VerifyError::ForeignNode`]);
/// - `next.seq == prev.seq + 1` ([`VerifyError::SeqNotIncremental`]);
/// - `next.prev_hash` is `prev`'s hash ([`VerifyError::BacklinkMismatch`]).
pub fn verify_link(prev: &Entry, next: &Entry) -> Result<(), VerifyError> {
    if next.node != prev.node {
        return Err(VerifyError::ForeignNode {
            chain: prev.node,
            node: next.node,
            seq: next.seq,
        });
    }
    let expected = prev.seq.saturating_add(1);
    if next.seq != expected {
        return Err(VerifyError::SeqNotIncremental {
            node: prev.node,
            expected,
            found: next.seq,
        });
    }
    if next.prev_hash != Some(prev.hash()) {
        return Err(backlink_mismatch(next));
    }
    Ok(())
}

/// Verifies a whole chain of one node, from seq 0, in order; returns its head
/// (`None` for an empty chain). Stops at the first bad entry.
///
/// Invariants, for each entry in turn:
/// - it belongs to the node of the first entry ([`VerifyError::ForeignNode`]);
/// - its seq is its index: the first is 0, each next one more
///   ([`VerifyError::SeqNotIncremental`]: a gap, a deletion, a reordering);
/// - its signature is its node's ([`VerifyError::SignatureMismatch`]: an edit
///   or a forgery);
/// - its backlink is the hash of the entry before it, none for seq 0
///   ([`VerifyError::BacklinkMismatch`]).
///
/// A chain cut short at its end still verifies: only the node's head, known
/// from sync ([`crate::AuditLog::heads`]), reveals a missing tail.
pub fn verify_chain(entries: &[Entry]) -> Result<Option<Head>, VerifyError> {
    verify_continuation(None, entries)
}

/// Verifies entries that continue a verified chain whose last entry is
/// `head` (`None`: from the start), as [`verify_chain`] does; returns the new
/// head. This is how a batch received by sync is checked against what is
/// already held.
pub fn verify_continuation(
    head: Option<Head>,
    entries: &[Entry],
) -> Result<Option<Head>, VerifyError> {
    let Some(first) = entries.first() else {
        return Ok(head);
    };
    let Some(mut tip) = Tip::after(first.node, head) else {
        return Err(VerifyError::SignatureMismatch {
            node: first.node,
            seq: first.seq,
        });
    };
    for (entry, signed) in entries.iter().zip(check_signatures(entries, None)) {
        let hash = tip.check_next(entry, signed)?;
        tip.advance(entry.seq, hash);
    }
    Ok(tip.head())
}

/// Verifies entries of any number of nodes, as a store or a peer holds
/// them; returns the head of each node's chain. Stops at the first bad entry.
///
/// The entries of one node must come in seq order; nodes may interleave.
/// Every node's entries must pass [`verify_chain`], and:
/// - an entry repeated with the same content is harmless and skipped;
/// - two different entries with the same node and seq are a
///   [`VerifyError::Fork`].
pub fn verify_log(entries: &[Entry]) -> Result<BTreeMap<NodeId, Head>, VerifyError> {
    struct State {
        tip: Tip,
        hashes: Vec<EntryHash>,
    }
    let mut states: HashMap<NodeId, State> = HashMap::new();
    for (entry, signed) in entries.iter().zip(check_signatures(entries, None)) {
        let state = match states.entry(entry.node) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let tip = Tip::new(entry.node).ok_or(VerifyError::SignatureMismatch {
                    node: entry.node,
                    seq: entry.seq,
                })?;
                v.insert(State {
                    tip,
                    hashes: Vec::new(),
                })
            }
        };
        if entry.seq < state.tip.next_seq {
            // Already seen at this position: the same entry again (skipped), a
            // second entry the node really signed (a fork), or a forgery.
            let hash = state.tip.check_detached(entry, signed)?;
            let seen = usize::try_from(entry.seq)
                .ok()
                .and_then(|i| state.hashes.get(i));
            if seen == Some(&hash) {
                continue;
            }
            return Err(VerifyError::Fork {
                node: entry.node,
                seq: entry.seq,
            });
        }
        let hash = state.tip.check_next(entry, signed)?;
        state.tip.advance(entry.seq, hash);
        state.hashes.push(hash);
    }
    Ok(states
        .into_iter()
        .filter_map(|(node, s)| s.tip.head().map(|h| (node, h)))
        .collect())
}

#[cfg(test)]
mod tests;
