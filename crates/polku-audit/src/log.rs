//! The in-memory audit log: one verified [`Chain`] per node, merged
//! append-only and idempotently, indexed for queries.

use std::collections::btree_map::Entry as MapEntry;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use polku_core::UserId;
use uuid::Uuid;

use crate::action::Action;
use crate::detail::Detail;
use crate::entry::{Draft, Entry, EntryRef, Head, Scratch};
use crate::key::{EntryHash, NodeId, NodeKey};
use crate::signatures::{Signed, check_signatures};
use crate::verify::{Tip, VerifyError, verify_chain};

/// Most entries held per node while they wait for a missing predecessor.
/// Beyond this, an early entry is rejected with
/// [`VerifyError::SeqNotIncremental`] and must be sent again later.
pub const MAX_PENDING_PER_NODE: usize = 65_536;

/// One node's chain: verified entries with seq `0..len`, in order, plus
/// signed entries received ahead of a gap, held until the gap fills.
///
/// Invariants (kept by [`AuditLog`]; every entry in `entries` has passed
/// [`crate::verify_continuation`]):
/// - `entries[i].seq == i` and all entries are `node`'s;
/// - each entry's backlink is the hash of the one before it;
/// - held entries have valid signatures and seqs beyond the last entry's.
#[derive(Debug, Clone)]
pub struct Chain {
    tip: Tip,
    entries: Vec<Entry>,
    pending: BTreeMap<u64, (Entry, EntryHash)>,
}

impl PartialEq for Chain {
    fn eq(&self, other: &Self) -> bool {
        self.tip.node == other.tip.node
            && self.entries == other.entries
            && self.pending.len() == other.pending.len()
            && self
                .pending
                .values()
                .map(|p| &p.0)
                .eq(other.pending.values().map(|p| &p.0))
    }
}

impl Eq for Chain {}

impl Chain {
    fn new(tip: Tip) -> Self {
        Self {
            tip,
            entries: Vec::new(),
            pending: BTreeMap::new(),
        }
    }

    /// The node whose chain this is.
    pub fn node(&self) -> NodeId {
        self.tip.node
    }

    /// The verified entries, seq `0..len`.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Number of verified entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the chain has no verified entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The last verified entry's seq and hash; `None` if there is none.
    pub fn head(&self) -> Option<Head> {
        self.tip.head()
    }

    /// The entry with sequence number `seq`.
    pub fn get(&self, seq: u64) -> Option<&Entry> {
        usize::try_from(seq).ok().and_then(|i| self.entries.get(i))
    }

    /// The entries with sequence number `seq` and later.
    pub fn since(&self, seq: u64) -> &[Entry] {
        let from = usize::try_from(seq)
            .unwrap_or(usize::MAX)
            .min(self.entries.len());
        &self.entries[from..]
    }

    /// Number of entries held while waiting for a missing predecessor.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }
}

/// What a [`AuditLog::merge`] did with the entries it was given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct MergeReport {
    /// Entries added to their chains (including held entries that now fit).
    pub added: usize,
    /// Entries already held: merging them again changes nothing.
    pub duplicates: usize,
    /// Entries held after the merge, over the nodes it touched, waiting for
    /// a missing predecessor.
    pub held: usize,
    /// Entries refused, each with the invariant it breaks; none was stored.
    pub rejected: Vec<VerifyError>,
}

impl MergeReport {
    /// Whether nothing was rejected.
    pub fn is_clean(&self) -> bool {
        self.rejected.is_empty()
    }
}

/// The audit log of many nodes: `BTreeMap<NodeId, Chain>`.
///
/// A node appends to its own chain with [`AuditLog::append`]; chains of
/// other nodes arrive by [`AuditLog::merge`]. Invariants:
/// - only verified entries enter a chain; nothing is ever removed or changed;
/// - merging is idempotent, and when no node forks, the log after a set of
///   merges is the same whatever their order and repetition: per node, the
///   longest verified chain from seq 0 in the union of all entries given;
/// - an entry whose predecessor has not arrived is held (up to
///   [`MAX_PENDING_PER_NODE`] per node) and joins its chain when the gap
///   fills; held entries are not returned by queries, heads or iteration;
/// - at a fork (a node signed two different entries with one seq) the entry
///   that came first stays and the other is rejected with
///   [`VerifyError::Fork`]: a fork is the evidence of a misbehaving or
///   restored-from-backup node and needs a person to look at it.
///
/// A node restored from a backup must fetch its own chain from the hub
/// before appending, or its next entries fork its old ones.
#[derive(Debug, Clone, Default)]
pub struct AuditLog {
    pub(crate) chains: BTreeMap<NodeId, Chain>,
    pub(crate) by_target: HashMap<Uuid, Vec<EntryRef>>,
    pub(crate) by_user: HashMap<UserId, Vec<EntryRef>>,
    len: usize,
    scratch: Scratch,
}

impl PartialEq for AuditLog {
    fn eq(&self, other: &Self) -> bool {
        self.chains == other.chains
    }
}

impl Eq for AuditLog {}

impl AuditLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// A log from stored entries of any nodes, in any order, refusing them
    /// all if one is bad: for loading what the store persisted. An entry
    /// still held at the end means a gap, and is refused too. The error names
    /// the first bad entry by node, then seq.
    pub fn from_entries(entries: impl IntoIterator<Item = Entry>) -> Result<Self, VerifyError> {
        let mut log = Self::new();
        let report = log.merge(entries);
        let gaps = log.chains.values().filter_map(|chain| {
            let (&found, _) = chain.pending.first_key_value()?;
            Some(VerifyError::SeqNotIncremental {
                node: chain.node(),
                expected: chain.tip.next_seq,
                found,
            })
        });
        match report
            .rejected
            .into_iter()
            .chain(gaps)
            .min_by_key(VerifyError::entry)
        {
            Some(err) => Err(err),
            None => Ok(log),
        }
    }

    /// Appends an entry to `key`'s own chain, signed with `key`, and returns
    /// it for the store to persist. `time` is the caller's clock (cut to
    /// microseconds); `user` is `None` when unknown.
    pub fn append(
        &mut self,
        key: &NodeKey,
        time: DateTime<Utc>,
        user: Option<UserId>,
        action: Action,
        target: Option<Uuid>,
        detail: Detail,
    ) -> Entry {
        let node = key.node_id();
        let chain = self
            .chains
            .entry(node)
            .or_insert_with(|| Chain::new(Tip::with_key(node, key.verifying_key())));
        let draft = Draft {
            seq: chain.tip.next_seq,
            prev_hash: chain.tip.last_hash,
            time,
            user,
            action,
            target,
            detail,
        };
        let (entry, hash) = Entry::sign(key, draft, &mut self.scratch);
        index(&mut self.by_target, &mut self.by_user, &entry);
        chain.tip.advance(entry.seq, hash);
        chain.entries.push(entry.clone());
        self.len += 1;
        entry
    }

    /// Adds entries of any nodes (another node's chain, a sync batch, a
    /// peer's whole log), in any order; see [`AuditLog`] for the rules.
    /// Every entry is verified; bad ones are reported and not stored, and do
    /// not stop the good ones.
    pub fn merge(&mut self, entries: impl IntoIterator<Item = Entry>) -> MergeReport {
        let mut batch: Vec<Entry> = entries.into_iter().collect();
        // Stable: within a batch, the first of two entries at one position wins.
        batch.sort_by_key(|e| (e.node, e.seq));
        // Check, on every core, the signatures of entries not already held;
        // an entry already held is compared, not verified again.
        let wanted: Vec<bool> = batch
            .iter()
            .map(|e| {
                self.chains
                    .get(&e.node)
                    .is_none_or(|c| e.seq >= c.tip.next_seq)
            })
            .collect();
        let signed = check_signatures(&batch, Some(&wanted));
        let mut report = MergeReport::default();
        let mut touched = Vec::new();
        for (entry, signed) in batch.into_iter().zip(signed) {
            let node = entry.node;
            if touched.last() != Some(&node) {
                touched.push(node);
            }
            self.merge_one(entry, signed, &mut report);
        }
        for node in touched {
            self.settle(node, &mut report);
            report.held += self.chains.get(&node).map_or(0, Chain::pending_len);
        }
        report
    }

    fn merge_one(&mut self, entry: Entry, signed: Signed, report: &mut MergeReport) {
        let chain = match self.chains.entry(entry.node) {
            MapEntry::Occupied(o) => o.into_mut(),
            MapEntry::Vacant(v) => match Tip::new(entry.node) {
                Some(tip) => v.insert(Chain::new(tip)),
                None => {
                    report.rejected.push(VerifyError::SignatureMismatch {
                        node: entry.node,
                        seq: entry.seq,
                    });
                    return;
                }
            },
        };
        let next = chain.tip.next_seq;
        if entry.seq < next {
            if chain.get(entry.seq) == Some(&entry) {
                report.duplicates += 1;
            } else {
                // Not checked up front (the position was taken): check now.
                let signed = chain.tip.check_signature(&entry, &mut self.scratch);
                report
                    .rejected
                    .push(fork_or_forgery(&chain.tip, &entry, signed));
            }
        } else if entry.seq == next {
            match chain.tip.check_next(&entry, signed) {
                Ok(hash) => {
                    index(&mut self.by_target, &mut self.by_user, &entry);
                    chain.tip.advance(entry.seq, hash);
                    chain.entries.push(entry);
                    self.len += 1;
                    report.added += 1;
                }
                Err(err) => report.rejected.push(err),
            }
        } else if let Some((held, _)) = chain.pending.get(&entry.seq) {
            if held == &entry {
                report.duplicates += 1;
            } else {
                report
                    .rejected
                    .push(fork_or_forgery(&chain.tip, &entry, signed));
            }
        } else if chain.pending.len() >= MAX_PENDING_PER_NODE {
            report.rejected.push(VerifyError::SeqNotIncremental {
                node: entry.node,
                expected: next,
                found: entry.seq,
            });
        } else {
            match chain.tip.check_detached(&entry, signed) {
                Ok(hash) => {
                    chain.pending.insert(entry.seq, (entry, hash));
                }
                Err(err) => report.rejected.push(err),
            }
        }
    }

    /// Moves held entries of `node` that now fit onto its chain, drops held
    /// entries that the chain has overtaken, and forgets a chain left empty.
    fn settle(&mut self, node: NodeId, report: &mut MergeReport) {
        let Some(chain) = self.chains.get_mut(&node) else {
            return;
        };
        while let Some(first) = chain.pending.first_entry() {
            let seq = *first.key();
            if seq > chain.tip.next_seq {
                break;
            }
            let (entry, hash) = first.remove();
            if seq < chain.tip.next_seq {
                // Appended meanwhile: the same entry, or a fork.
                if chain.get(seq) == Some(&entry) {
                    report.duplicates += 1;
                } else {
                    report.rejected.push(VerifyError::Fork { node, seq });
                }
                continue;
            }
            match chain.tip.check_backlink(&entry) {
                Ok(()) => {
                    index(&mut self.by_target, &mut self.by_user, &entry);
                    chain.tip.advance(seq, hash);
                    chain.entries.push(entry);
                    self.len += 1;
                    report.added += 1;
                }
                Err(err) => report.rejected.push(err),
            }
        }
        if chain.entries.is_empty() && chain.pending.is_empty() {
            self.chains.remove(&node);
        }
    }

    /// The chain of `node`, if the log holds any of its entries.
    pub fn chain(&self, node: &NodeId) -> Option<&Chain> {
        self.chains.get(node).filter(|c| !c.is_empty())
    }

    /// The chains with at least one verified entry, by node.
    pub fn chains(&self) -> impl Iterator<Item = &Chain> {
        self.chains.values().filter(|c| !c.is_empty())
    }

    /// Every verified entry, by node then seq.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.chains.values().flat_map(|c| c.entries.iter())
    }

    /// The entry `node#seq`.
    pub fn get(&self, entry: EntryRef) -> Option<&Entry> {
        self.chains.get(&entry.node)?.get(entry.seq)
    }

    /// Number of verified entries over all chains.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the log holds no verified entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of entries held, over all nodes, waiting for a predecessor.
    pub fn pending_len(&self) -> usize {
        self.chains.values().map(Chain::pending_len).sum()
    }

    /// The head of every chain: the summary two peers exchange first.
    pub fn heads(&self) -> BTreeMap<NodeId, Head> {
        self.chains
            .iter()
            .filter_map(|(node, c)| c.head().map(|h| (*node, h)))
            .collect()
    }

    /// The entries of `node` with sequence number `seq` and later (empty for
    /// an unknown node). A peer whose head is `h` needs `entries_since(node,
    /// h.seq + 1)`; a peer without the node needs `entries_since(node, 0)`.
    pub fn entries_since(&self, node: &NodeId, seq: u64) -> &[Entry] {
        self.chains.get(node).map_or(&[], |c| c.since(seq))
    }

    /// Every entry a peer with the given heads lacks, by node then seq: what
    /// to send it. (A peer whose head differs from ours at the same seq has
    /// a fork; it will reject what we send and report it.)
    pub fn missing_from<'a>(
        &'a self,
        remote: &'a BTreeMap<NodeId, Head>,
    ) -> impl Iterator<Item = &'a Entry> + 'a {
        self.chains.iter().flat_map(move |(node, chain)| {
            let from = remote.get(node).map_or(0, |h| h.seq.saturating_add(1));
            chain.since(from).iter()
        })
    }

    /// Verifies every chain again from scratch (see [`verify_chain`]): a
    /// self-check, e.g. after loading.
    pub fn verify(&self) -> Result<(), VerifyError> {
        for chain in self.chains.values() {
            verify_chain(&chain.entries)?;
        }
        Ok(())
    }
}

/// A different entry at a position already taken: a fork if its node really
/// signed it, else a forgery.
fn fork_or_forgery(tip: &Tip, entry: &Entry, signed: Signed) -> VerifyError {
    match tip.check_detached(entry, signed) {
        Ok(_) => VerifyError::Fork {
            node: entry.node,
            seq: entry.seq,
        },
        Err(err) => err,
    }
}

fn index(
    by_target: &mut HashMap<Uuid, Vec<EntryRef>>,
    by_user: &mut HashMap<UserId, Vec<EntryRef>>,
    entry: &Entry,
) {
    if let Some(target) = entry.target {
        by_target.entry(target).or_default().push(entry.entry_ref());
    }
    if let Some(user) = entry.user {
        by_user.entry(user).or_default().push(entry.entry_ref());
    }
}

#[cfg(test)]
mod tests;
