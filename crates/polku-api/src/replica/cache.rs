//! What a replica reads from its store in every session (the live document
//! heads, the organisation document, a hub's per-peer document set and each
//! peer's bookkeeping record), kept in memory while the store's
//! [`WriteMark`] stays where it was: any write of a document, index entry,
//! view or bookkeeping row, by this process or another, drops it (but for
//! the records, which only this replica's commits write, and which go only
//! when another process wrote). An unchanged resync then reads none of it
//! again.

use std::collections::VecDeque;

use polku_audit::NodeId;
use polku_core::{DocId, DocKind};
use polku_store::{Store, WriteMark};
use polku_sync::{DocEntry, OfferedSet, PeerRecord, ReplicaError};

use super::storage;

/// A document's id, kind and heads hash, as the store lists them.
pub(super) type Heads = (DocId, DocKind, polku_store::HeadsHash);

/// Peers whose document set and record are kept (the most recent ones): a
/// hub's memory stays bounded whatever the number of devices.
const MAX_PEERS: usize = 16;

/// One peer's cached reads.
#[derive(Debug, Default)]
pub(super) struct PeerCache {
    /// The document set offered to the peer (hub; a laptop offers `live`).
    pub(super) set: Option<Vec<DocEntry>>,
    /// The bookkeeping record as stored.
    pub(super) record: Option<PeerRecord>,
    /// `set` (hub) or `live` (laptop) as the maps a session starts from.
    pub(super) offered: Option<OfferedSet>,
}

/// Every document's id, kind and heads hash as last listed, with the
/// highest write counter then: the next listing reads only the documents
/// written since ([`Store::doc_heads_since`]). Not dropped when the store
/// moves (that is what it follows); if the store's document count says
/// that one was deleted meanwhile, or its counter went back, everything is
/// listed again.
#[derive(Debug, Default)]
pub(super) struct Listing {
    docs: Vec<Heads>,
    max_ctr: u64,
    known: bool,
}

impl Listing {
    /// Every stored document (erased ones not filtered), ascending by id.
    pub(super) fn list(&mut self, store: &Store) -> Result<Vec<Heads>, ReplicaError> {
        if self.known {
            let since = store.doc_heads_since(Some(self.max_ctr)).map_err(storage)?;
            if since.max_ctr >= self.max_ctr {
                let merged = merge(&self.docs, &since.docs);
                if merged.len() as u64 == since.count {
                    self.docs = merged;
                    self.max_ctr = since.max_ctr;
                    return Ok(self.docs.clone());
                }
            }
        }
        let all = store.doc_heads_since(None).map_err(storage)?;
        self.docs = all.docs;
        self.max_ctr = all.max_ctr;
        self.known = true;
        Ok(self.docs.clone())
    }
}

/// `old` with `written` (both ascending by id) put in: an id in both takes
/// the entry of `written`.
fn merge(old: &[Heads], written: &[Heads]) -> Vec<Heads> {
    let mut out = Vec::with_capacity(old.len() + written.len());
    let (mut a, mut b) = (old.iter().peekable(), written.iter().peekable());
    loop {
        match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(o), Some(w)) if o.0 == w.0 => {
                out.push(**w);
                a.next();
                b.next();
            }
            (Some(o), Some(w)) if o.0 < w.0 => {
                out.push(**o);
                a.next();
            }
            (Some(o), None) => {
                out.push(**o);
                a.next();
            }
            (_, Some(w)) => {
                out.push(**w);
                b.next();
            }
        }
    }
    out
}

/// The cached reads and the mark they are valid at.
#[derive(Debug, Default)]
pub(super) struct Cached {
    mark: Option<WriteMark>,
    /// Every stored document but the erased ones.
    pub(super) live: Option<Vec<Heads>>,
    /// Hub: the organisation document was read at this mark.
    pub(super) org_read: bool,
    /// Hub: the statistics extract was found current at this mark.
    pub(super) extract_current: bool,
    /// Most recent first.
    peers: VecDeque<(NodeId, PeerCache)>,
    /// What was read before the store last moved (hub): the base an
    /// incremental document set starts from.
    stale: Option<Stale>,
}

/// Live heads and the document sets computed from them, before the store
/// moved: consistent with each other, not with the store.
#[derive(Debug, Default)]
struct Stale {
    live: Vec<Heads>,
    sets: Vec<(NodeId, Vec<DocEntry>)>,
}

impl Cached {
    /// Drops everything (erased ids changed, or the store moved).
    pub(super) fn clear(&mut self) {
        *self = Cached::default();
    }

    /// The cache, emptied first if the store was written since it was filled.
    /// Peers' records survive this process's own writes: only this
    /// replica's commits write them, and those keep the cache in step.
    pub(super) fn fresh(&mut self, store: &Store) -> Result<&mut Cached, ReplicaError> {
        let mark = store.write_mark().map_err(storage)?;
        if self.mark != Some(mark) {
            let own_only = self.mark.is_some_and(|m| m.same_foreign(&mark));
            let mut records = Vec::new();
            let mut sets = Vec::new();
            for (n, p) in self.peers.drain(..) {
                if let Some(set) = p.set {
                    sets.push((n, set));
                }
                if let (true, Some(r)) = (own_only, p.record) {
                    records.push((n, r));
                }
            }
            // The newest consistent pair of live heads and sets is kept.
            let stale = match self.live.take() {
                Some(live) if !sets.is_empty() => Some(Stale { live, sets }),
                _ => self.stale.take(),
            };
            self.clear();
            self.stale = stale;
            self.mark = Some(mark);
            for (n, record) in records {
                self.peers.push_back((
                    n,
                    PeerCache {
                        record: Some(record),
                        ..PeerCache::default()
                    },
                ));
            }
        }
        Ok(self)
    }

    /// The mark the cache is at now. Read it *before* reading what is to be
    /// kept, and keep it only through [`Cached::still`]: another connection
    /// (a hub's other sync sessions, another process) may commit while it is
    /// read, and what was read before that must not be kept as if after.
    pub(super) fn at(&mut self, store: &Store) -> Result<WriteMark, ReplicaError> {
        // Read first: if the store moves before `fresh` reads it again, what
        // is read after this is simply not kept.
        let mark = store.write_mark().map_err(storage)?;
        self.fresh(store)?;
        Ok(mark)
    }

    /// The cache, if the store has not moved since `at`; `None` (keep
    /// nothing) if it has.
    pub(super) fn still(
        &mut self,
        store: &Store,
        at: WriteMark,
    ) -> Result<Option<&mut Cached>, ReplicaError> {
        let c = self.fresh(store)?;
        Ok(if c.mark == Some(at) { Some(c) } else { None })
    }

    /// Runs `write`, a write of sync bookkeeping only (a commit, an audit
    /// expectation). See [`Cached::after_bookkeeping`]. Returns whether the
    /// cache was kept.
    pub(super) fn bookkeeping_write<T>(
        &mut self,
        store: &Store,
        write: impl FnOnce() -> Result<T, polku_store::StoreError>,
    ) -> Result<(T, bool), ReplicaError> {
        self.bookkeeping(store, || write().map_err(storage))
    }

    /// [`Cached::bookkeeping_write`] for a write that fails with a
    /// replica's error (an audit merge).
    pub(super) fn bookkeeping<T>(
        &mut self,
        store: &Store,
        write: impl FnOnce() -> Result<T, ReplicaError>,
    ) -> Result<(T, bool), ReplicaError> {
        let before = self.before_bookkeeping(store)?;
        let out = write();
        let kept = self.after_bookkeeping(store, before)?;
        Ok((out?, kept))
    }

    /// The mark before writes of bookkeeping only (sync records, audit
    /// entries, the last hub contact), to hand to
    /// [`Cached::after_bookkeeping`] once they are done.
    pub(super) fn before_bookkeeping(
        &mut self,
        store: &Store,
    ) -> Result<Option<WriteMark>, ReplicaError> {
        Ok(self.fresh(store)?.mark)
    }

    /// After writes of bookkeeping only on this connection, begun at
    /// `before`: if no other connection wrote meanwhile, the store moved by
    /// those writes alone, none of which touches what the cache holds (a
    /// caller that wrote a record puts it in), and the cache stays valid at
    /// the new mark; anything else drops it. Returns whether it was kept.
    pub(super) fn after_bookkeeping(
        &mut self,
        store: &Store,
        before: Option<WriteMark>,
    ) -> Result<bool, ReplicaError> {
        let after = store.write_mark().map_err(storage)?;
        let kept = before.is_some_and(|b| b.same_foreign(&after));
        if kept {
            self.mark = Some(after);
        } else {
            self.clear();
        }
        Ok(kept)
    }

    /// The live heads and the peer's document set as they were before the
    /// store last moved, if both are known.
    pub(super) fn stale_for(&self, node: &NodeId) -> Option<(&[Heads], &[DocEntry])> {
        let stale = self.stale.as_ref()?;
        let set = stale.sets.iter().find(|(n, _)| n == node)?;
        Some((&stale.live, &set.1))
    }

    /// The peer's entry (created, and moved to the front).
    pub(super) fn peer(&mut self, node: &NodeId) -> &mut PeerCache {
        match self.peers.iter().position(|(n, _)| n == node) {
            Some(0) => {}
            Some(i) => {
                if let Some(e) = self.peers.remove(i) {
                    self.peers.push_front(e);
                }
            }
            None => {
                self.peers.push_front((*node, PeerCache::default()));
                self.peers.truncate(MAX_PEERS);
            }
        }
        &mut self.peers[0].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(n: u8) -> NodeId {
        NodeId::from_bytes([n; 32])
    }

    fn entry(n: u8, h: u8) -> Heads {
        (
            DocId(uuid::Uuid::from_bytes([n; 16])),
            DocKind::Client,
            polku_store::HeadsHash([h; 32]),
        )
    }

    #[test]
    fn written_documents_replace_or_join_the_listed_ones_in_order() {
        let old = vec![entry(1, 1), entry(3, 1), entry(5, 1)];
        let written = vec![entry(0, 2), entry(3, 2), entry(6, 2)];
        assert_eq!(
            merge(&old, &written),
            vec![
                entry(0, 2),
                entry(1, 1),
                entry(3, 2),
                entry(5, 1),
                entry(6, 2)
            ]
        );
        assert_eq!(merge(&old, &[]), old);
        assert_eq!(merge(&[], &written), written);
    }

    #[test]
    fn at_most_the_most_recent_peers_are_kept() {
        let mut c = Cached::default();
        for n in 0..(MAX_PEERS as u8 + 4) {
            c.peer(&node(n)).record = Some(PeerRecord::default());
        }
        assert_eq!(c.peers.len(), MAX_PEERS);
        // The first ones went; a peer used again moves to the front.
        assert!(c.peers.iter().all(|(n, _)| *n != node(0)));
        let last = node(MAX_PEERS as u8 + 3);
        let oldest = c.peers.back().map(|(n, _)| *n).expect("some");
        c.peer(&oldest);
        assert_eq!(c.peers[0].0, oldest);
        assert_eq!(c.peers[1].0, last);
        assert!(c.peer(&oldest).record.is_some());
    }
}
