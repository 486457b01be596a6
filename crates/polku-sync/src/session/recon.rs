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
            self.recon.peer_delta = if chunk.full {
                docset::delta(&rebuilt, &self.recon.agreed)
                    .into_iter()
                    .map(|(id, _)| id)
                    .collect()
            } else {
                entries.iter().map(|(id, _)| *id).collect()
            };
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
        // Documents both hold with different heads: (id, mine, theirs).
        let mut one_sided = Vec::new();
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
                (Some(m), Some(t)) => {
                    sync_ids.push(id);
                    one_sided.push((id, m, t));
                }
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
        // Both sides held these since the agreement: where only one side
        // changed one, the sync can skip Automerge's first round (see
        // `one_side_changed`).
        let hashes: BTreeMap<DocId, (HeadsHash, HeadsHash)> =
            one_sided.into_iter().map(|(i, m, t)| (i, (m, t))).collect();
        // The laptop reconciles in its first announcing turn, before the hub
        // has seen its announcement: the hub reconciles after it and starts
        // every document both hold and that differs.
        let peer_starts_after = self.cfg.role == Role::Laptop && !self.announced;
        for id in sync_ids {
            let kind = self
                .recon
                .kinds
                .get(&id)
                .copied()
                .unwrap_or(DocKind::Client);
            let mut state = states.get(&id).map(|s| docs::decode_state(s));
            let mut generate = true;
            if let (Some(st), Some((m, t)), Some(agreed)) =
                (state.as_mut(), hashes.get(&id), self.recon.agreed.get(&id))
            {
                match one_side_changed(st, *m, *t, *agreed) {
                    Some(Changed::Mine) => prime_unchanged_peer(st),
                    Some(Changed::Theirs) if peer_starts_after => generate = false,
                    _ => {}
                }
            }
            self.docs.insert(id, DocWork::for_sync(kind, state));
            if generate {
                self.to_generate.insert(id);
            }
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

    /// How the agreed set changes: where both sets end equal, that entry;
    /// elsewhere none. Only where either side's set differs from the agreed
    /// one can the agreement change (my delta and my changes since, the
    /// peer's delta and its final heads), so only those documents are
    /// looked at, not every document of both sets. Ascending by id, as
    /// [`docset::delta`] of the new agreed set against the old one.
    fn agreement_changes(&self, theirs_at_start: &DocSet) -> Vec<(DocId, Option<HeadsHash>)> {
        let theirs_done: BTreeMap<DocId, Option<HeadsHash>> =
            self.peer_done.iter().copied().collect();
        let candidates: std::collections::BTreeSet<DocId> = self
            .recon
            .my_delta
            .iter()
            .chain(self.recon.changed.keys())
            .chain(self.recon.peer_delta.iter())
            .chain(theirs_done.keys())
            .copied()
            .collect();
        let mut out = Vec::new();
        for id in candidates {
            let mine = self.recon.current.get(&id).copied();
            let theirs = match theirs_done.get(&id) {
                Some(h) => *h,
                None => theirs_at_start.get(&id).copied(),
            };
            let now = match (mine, theirs) {
                (Some(m), Some(t)) if m == t => Some(m),
                _ => None,
            };
            if now != self.recon.agreed.get(&id).copied() {
                out.push((id, now));
            }
        }
        out
    }

    /// The peer is done too: compute the new agreed set and commit.
    pub(super) fn finish<R: Replica + ?Sized>(&mut self, replica: &mut R) -> Result<(), SyncError> {
        let Some(theirs) = self.recon.peer_start.take() else {
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
            let updates = self.agreement_changes(&theirs);
            #[cfg(debug_assertions)]
            {
                // The whole walk it spares, in debug builds (every test).
                let mut theirs = theirs.clone();
                docset::apply_in_place(Arc::make_mut(&mut theirs), &self.peer_done);
                let agreed = docset::agreed_after(&self.recon.current, &theirs);
                debug_assert_eq!(updates, docset::delta(&agreed, &self.recon.agreed));
            }
            updates
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

/// Which side alone changed a document since the agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Changed {
    Mine,
    Theirs,
}

/// Whether exactly one side changed a document both hold since their last
/// agreement, with the stored sync state at that agreement (its shared
/// heads hash to the agreed hash). The side that did not change it holds
/// exactly the shared heads: the peer's announcement is checked against the
/// agreed set by its digest, and the agreed hash is that of the heads both
/// had.
fn one_side_changed(
    state: &automerge::sync::State,
    mine: HeadsHash,
    theirs: HeadsHash,
    agreed: HeadsHash,
) -> Option<Changed> {
    if state.shared_heads.is_empty() || crate::heads_hash(&state.shared_heads) != agreed {
        return None;
    }
    match (mine == agreed, theirs == agreed) {
        (false, true) => Some(Changed::Mine),
        (true, false) => Some(Changed::Theirs),
        _ => None,
    }
}

/// The peer holds exactly the shared heads of `state` (it has not changed
/// the document since the agreement): say so in the state, as its first
/// message would have, so that the first message of this side already
/// carries the changes it lacks. Should the peer hold more after all,
/// Automerge's protocol goes on from its reply as usual.
fn prime_unchanged_peer(state: &mut automerge::sync::State) {
    let shared = state.shared_heads.clone();
    state.their_heads = Some(shared.clone());
    state.their_need = Some(Vec::new());
    state.their_have = Some(vec![automerge::sync::Have {
        last_sync: shared,
        bloom: automerge::sync::BloomFilter::default(),
    }]);
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

#[cfg(test)]
mod tests {
    use automerge::sync::{State, SyncDoc};
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT, ReadDoc};

    use super::*;

    /// Plain Automerge sync between two copies until neither has more to say.
    fn sync_to_end(a: &mut AutoCommit, b: &mut AutoCommit, sa: &mut State, sb: &mut State) {
        for _ in 0..8 {
            if let Some(m) = a.sync().generate_sync_message(sa) {
                b.sync().receive_sync_message(sb, m).expect("b receives");
            }
            if let Some(m) = b.sync().generate_sync_message(sb) {
                a.sync().receive_sync_message(sa, m).expect("a receives");
            }
        }
    }

    /// Two copies synced to the end, each with the state it would store.
    fn agreed_pair() -> (AutoCommit, AutoCommit, State, State) {
        let mut a = AutoCommit::new();
        a.put(ROOT, "first_name", "Aino").expect("put");
        let mut b = AutoCommit::new();
        let (mut sa, mut sb) = (State::new(), State::new());
        sync_to_end(&mut a, &mut b, &mut sa, &mut sb);
        assert_eq!(a.get_heads(), b.get_heads());
        // As stored between sessions: only the shared heads survive.
        let (sa, sb) = (
            State::decode(&sa.encode()).expect("state"),
            State::decode(&sb.encode()).expect("state"),
        );
        (a, b, sa, sb)
    }

    #[test]
    fn a_change_on_one_side_only_goes_in_that_sides_first_message() {
        let (mut a, mut b, mut sa, mut sb) = agreed_pair();
        let agreed = crate::heads_hash(&a.get_heads());
        a.put(ROOT, "phone", "050 000").expect("put");
        let (ha, hb) = (
            crate::heads_hash(&a.get_heads()),
            crate::heads_hash(&b.get_heads()),
        );
        assert_eq!(one_side_changed(&sa, ha, hb, agreed), Some(Changed::Mine));
        assert_eq!(one_side_changed(&sb, hb, ha, agreed), Some(Changed::Theirs));

        // Unprimed, the first message carries no change: Automerge waits for
        // the peer's heads first.
        let mut unprimed = sa.clone();
        let first = a
            .sync()
            .generate_sync_message(&mut unprimed)
            .expect("message");
        assert!(first.changes.is_empty());

        prime_unchanged_peer(&mut sa);
        let first = a.sync().generate_sync_message(&mut sa).expect("message");
        assert!(!first.changes.is_empty());
        b.sync()
            .receive_sync_message(&mut sb, first)
            .expect("b receives");
        assert_eq!(a.get_heads(), b.get_heads());
        let phone = b
            .get(ROOT, "phone")
            .expect("get")
            .and_then(|(v, _)| v.as_str().map(str::to_owned));
        assert_eq!(phone.as_deref(), Some("050 000"));
        // The reply tells the changed side that all is in: it has nothing more.
        let reply = b.sync().generate_sync_message(&mut sb).expect("reply");
        a.sync()
            .receive_sync_message(&mut sa, reply)
            .expect("a receives");
        assert!(a.sync().generate_sync_message(&mut sa).is_none());
    }

    #[test]
    fn both_changed_or_a_state_of_another_agreement_is_not_one_sided() {
        let (mut a, mut b, sa, _) = agreed_pair();
        let agreed = crate::heads_hash(&a.get_heads());
        a.put(ROOT, "phone", "050 000").expect("put");
        b.put(ROOT, "phone", "040 111").expect("put");
        let (ha, hb) = (
            crate::heads_hash(&a.get_heads()),
            crate::heads_hash(&b.get_heads()),
        );
        assert_eq!(one_side_changed(&sa, ha, hb, agreed), None);
        // A stored state whose shared heads are not the agreed ones (an
        // older session's): nothing is assumed of the peer.
        assert_eq!(one_side_changed(&sa, ha, agreed, hb), None);
        assert_eq!(one_side_changed(&State::new(), ha, agreed, agreed), None);
    }

    #[test]
    fn a_primed_side_whose_peer_had_changed_after_all_still_converges() {
        // The peer's announcement was wrong about its copy: Automerge's
        // protocol goes on from the peer's reply.
        let (mut a, mut b, mut sa, mut sb) = agreed_pair();
        a.put(ROOT, "phone", "050 000").expect("put");
        b.put(ROOT, "email", "x@example.invalid").expect("put");
        prime_unchanged_peer(&mut sa);
        sync_to_end(&mut a, &mut b, &mut sa, &mut sb);
        assert_eq!(a.get_heads(), b.get_heads());
        assert!(a.get(ROOT, "email").expect("get").is_some());
        assert!(b.get(ROOT, "phone").expect("get").is_some());
    }
}
