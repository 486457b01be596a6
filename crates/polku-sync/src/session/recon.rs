//! Reconciliation: rebuilding the peer's document set, deciding what each
//! document needs, and the final agreement (`Done`, commit).

use std::collections::BTreeMap;
use std::sync::Arc;

use polku_core::{DocId, DocKind};

use super::outbox::Outbox;
use super::{DocWork, Phase, Session, docs};
use crate::docset::{self, DocSet, HeadsHash, SetDigest};
use crate::error::SyncError;
use crate::protocol::{DocSetChunk, FinalHeads, Frame, MAX_ENTRIES_PER_FRAME, Message, Role};
use crate::replica::{DocStatus, PeerCommit, Replica};

impl Session {
    pub(super) fn on_doc_set(&mut self, chunk: DocSetChunk) -> Result<(), SyncError> {
        if self.recon.reconciled || self.recon.peer_start.is_some() {
            return Err(SyncError::Unexpected {
                message: "doc-set",
                when: "after the peer's set was known",
            });
        }
        self.recon.incoming.extend(chunk.entries);
        if self.recon.incoming.len() > self.cfg.limits.max_docs {
            return Err(SyncError::LimitExceeded("documents"));
        }
        if !chunk.last {
            return Ok(());
        }
        let entries = std::mem::take(&mut self.recon.incoming);
        if !chunk.full && entries.is_empty() {
            // Nothing changed on the peer's side since the agreement: its
            // set is the agreed one if the digests say so.
            if self.recon.agreed_digest() == chunk.digest {
                self.recon.theirs_as_agreed = true;
                self.recon.peer_start = Some(self.recon.agreed.clone());
            } else {
                self.recon.need_full = true;
                self.report.full_set_exchanged = true;
            }
            return Ok(());
        }
        let rebuilt = if chunk.full {
            let mut set = DocSet::new();
            docset::apply_in_place(&mut set, &entries);
            set
        } else {
            docset::apply_delta(&self.recon.agreed, &entries)
        };
        if docset::digest(&rebuilt) == chunk.digest {
            if !chunk.full {
                self.recon.peer_removed = entries
                    .iter()
                    .filter(|(_, h)| h.is_none())
                    .map(|(id, _)| *id)
                    .collect();
            }
            self.recon.peer_start = Some(Arc::new(rebuilt));
            Ok(())
        } else if chunk.full {
            Err(SyncError::InconsistentDocSet)
        } else {
            self.recon.need_full = true;
            self.report.full_set_exchanged = true;
            Ok(())
        }
    }

    /// Both sets are known: decide, per document, what to do.
    pub(super) fn reconcile<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
    ) -> Result<(), SyncError> {
        self.recon.reconciled = true;
        let Some(theirs) = self.recon.peer_start.as_ref() else {
            return Ok(());
        };
        let mut sync_ids = Vec::new();
        let mut whole_ids = Vec::new();
        let mut theirs_only = Vec::new();
        let mut differing = 0;
        let mine = &self.recon.current;
        let mut a = mine.iter().peekable();
        let mut b = theirs.iter().peekable();
        loop {
            let (id, m, t) = match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some((ia, ha)), Some((ib, hb))) if ia == ib => {
                    let r = (**ia, Some(**ha), Some(**hb));
                    a.next();
                    b.next();
                    r
                }
                (Some((ia, ha)), Some((ib, _))) if ia < ib => {
                    let r = (**ia, Some(**ha), None);
                    a.next();
                    r
                }
                (Some((ia, ha)), None) => {
                    let r = (**ia, Some(**ha), None);
                    a.next();
                    r
                }
                (_, Some((ib, hb))) => {
                    let r = (**ib, None, Some(**hb));
                    b.next();
                    r
                }
            };
            if m == t {
                continue;
            }
            differing += 1;
            // Documents already in play (the peer started them first) keep
            // going; only the revocation check applies to them.
            let in_play = self.docs.contains_key(&id);
            match (m, t) {
                _ if in_play && m.is_some() => {}
                (Some(_), Some(_)) => sync_ids.push(id),
                (Some(h), None) => {
                    // A laptop does not push back a document the hub dropped
                    // from its set since the last agreement (revoked or
                    // erased: the hub says which) unless it changed it.
                    let dropped = self.cfg.role == Role::Laptop
                        && self.recon.peer_removed.contains(&id)
                        && self.recon.agreed.get(&id) == Some(&h);
                    if !dropped {
                        whole_ids.push(id);
                    }
                }
                (None, Some(_)) => theirs_only.push(id),
                (None, None) => {}
            }
        }
        self.report.docs_differing = differing;
        if self.cfg.role == Role::Hub {
            let mut held = Vec::new();
            for id in theirs_only {
                if replica.doc_status(id)? == DocStatus::Present {
                    held.push(id);
                }
            }
            // Held but not offered at the start: out of the peer's scope,
            // unless it appeared since (another session saved it meanwhile).
            let now: BTreeMap<DocId, _> = if held.is_empty() {
                BTreeMap::new()
            } else {
                replica
                    .offered_now(&self.peer, &held)?
                    .into_iter()
                    .map(|e| (e.id, e))
                    .collect()
            };
            for id in held {
                match now.get(&id) {
                    Some(e) => {
                        self.recon.set_mine(e.id, e.kind, e.heads);
                        sync_ids.push(id);
                    }
                    None => {
                        self.out_revokes.push(id);
                        self.report.revoked_at_peer.push(id);
                    }
                }
            }
        }
        let states: BTreeMap<DocId, Vec<u8>> = replica
            .sync_states(&self.peer, &sync_ids)?
            .into_iter()
            .collect();
        for id in sync_ids {
            let kind = self
                .recon
                .kinds
                .get(&id)
                .copied()
                .unwrap_or(DocKind::Client);
            let state = states.get(&id).map(|s| docs::decode_state(s));
            self.docs.insert(id, DocWork::for_sync(kind, state));
            self.to_generate.insert(id);
        }
        for id in whole_ids {
            let kind = self
                .recon
                .kinds
                .get(&id)
                .copied()
                .unwrap_or(DocKind::Client);
            self.docs.insert(id, DocWork::for_whole(kind));
            self.to_generate.insert(id);
        }
        Ok(())
    }

    /// My `Done` frames: the final heads of the documents I changed.
    pub(super) fn done_frames(&mut self) -> Vec<Frame> {
        self.report.docs_sent = self.docs_sent.len();
        self.report.docs_received = self.docs_received.len();
        // A final hash equal to what the peer announced is said in one byte.
        let announced = self.recon.peer_start.as_ref();
        let changed: Vec<_> = self
            .recon
            .changed
            .iter()
            .map(|(i, h)| {
                let f = match h {
                    None => FinalHeads::Deleted,
                    Some(h) if announced.and_then(|a| a.get(i)) == Some(h) => {
                        FinalHeads::AsAnnounced
                    }
                    Some(h) => FinalHeads::Heads(*h),
                };
                (*i, f)
            })
            .collect();
        let mut out = Outbox::new();
        let mut chunks = changed.chunks(MAX_ENTRIES_PER_FRAME).peekable();
        if chunks.peek().is_none() {
            out.push(Message::Done {
                last: true,
                changed: Vec::new(),
            });
        }
        while let Some(chunk) = chunks.next() {
            out.push(Message::Done {
                last: chunks.peek().is_none(),
                changed: chunk.to_vec(),
            });
        }
        out.into_frames()
    }

    /// The peer is done too: compute the new agreed set and commit.
    pub(super) fn finish<R: Replica + ?Sized>(&mut self, replica: &mut R) -> Result<(), SyncError> {
        let Some(mut theirs) = self.recon.peer_start.take() else {
            return Err(SyncError::Unexpected {
                message: "done",
                when: "before the peer's set was known",
            });
        };
        // Neither side changed anything and both started from the agreed
        // set: the agreement stands as it is (no walk over the sets).
        let unchanged = self.recon.mine_as_agreed
            && self.recon.theirs_as_agreed
            && self.recon.changed.is_empty()
            && self.peer_done.is_empty();
        let updates = if unchanged {
            Vec::new()
        } else {
            docset::apply_in_place(Arc::make_mut(&mut theirs), &self.peer_done);
            let agreed = docset::agreed_after(&self.recon.current, &theirs);
            docset::delta(&agreed, &self.recon.agreed)
        };
        let mut sync_states = Vec::new();
        for (id, hash) in &updates {
            match hash {
                Some(h) => {
                    if let Some(state) = self.docs.get(id).and_then(|w| w.agreed_state(h)) {
                        sync_states.push((*id, Some(state)));
                    }
                }
                None if !self.recon.current.contains_key(id) => sync_states.push((*id, None)),
                None => {}
            }
        }
        for (id, hash) in &self.recon.changed {
            if hash.is_none() && !self.recon.agreed.contains_key(id) {
                sync_states.push((*id, None));
            }
        }
        let commit = PeerCommit {
            agreed: updates,
            sync_states,
            tombstone_cursor: self.tombstone_cursor,
        };
        self.retry_tombstones(replica)?;
        self.refuse_deferred();
        replica.commit(&self.peer, &commit)?;
        self.report.completed = true;
        self.phase = Phase::Done;
        Ok(())
    }
}

/// Pushes a document-set announcement, in chunks.
pub(super) fn push_doc_set(
    out: &mut Outbox,
    full: bool,
    digest: SetDigest,
    entries: Vec<(DocId, Option<HeadsHash>)>,
) {
    let mut chunks = entries.chunks(MAX_ENTRIES_PER_FRAME).peekable();
    if chunks.peek().is_none() {
        out.push(Message::DocSet(DocSetChunk {
            full,
            last: true,
            digest,
            entries: Vec::new(),
        }));
    }
    while let Some(chunk) = chunks.next() {
        out.push(Message::DocSet(DocSetChunk {
            full,
            last: chunks.peek().is_none(),
            digest,
            entries: chunk.to_vec(),
        }));
    }
}
