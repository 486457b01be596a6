//! Per-document work inside a session: receiving, generating, saving.
//!
//! Every Automerge call on bytes from the peer runs under `catch_unwind`: a
//! panic inside Automerge quarantines that one document instead of taking
//! the process down. After a failure the session's copy is dropped unsaved,
//! so the store keeps its last good state.

use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::sync::{self, SyncDoc};
use automerge::{AutoCommit, ChangeHash};
use polku_core::{DocId, DocKind};

use super::Session;
use super::outbox::Outbox;
use crate::conflicts::has_conflicts;
use crate::docset::{HeadsHash, heads_hash};
use crate::error::SyncError;
use crate::inflate::InflateError;
use crate::protocol::{DocBody, DocMessage, MAX_DOC_MESSAGE_LEN, Refusal, RefusedReason};
use crate::replica::{ChangeCheck, DocStatus, DocWrite, QuarantineReason, Replica, ReplicaError};

/// What a document is doing in this session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Automerge sync with the peer.
    Sync,
    /// Automerge sync that sends ours but applies nothing of theirs (after a
    /// refused change: the peer still receives updates).
    ReadOnly,
    /// To be sent whole (the peer does not hold it).
    SendWhole,
    /// Finished for this session (refused, quarantined, deleted, abandoned).
    Closed,
}

/// One document in play.
#[derive(Debug)]
pub(super) struct DocWork {
    kind: DocKind,
    mode: Mode,
    /// The session's copy, loaded on demand and released when idle. Boxed:
    /// an `AutoCommit` is kilobytes inline, and a first sync has a
    /// `DocWork` for every document, almost all without a copy loaded.
    doc: Option<Box<AutoCommit>>,
    /// Heads of the stored copy as last loaded or saved; `None` if the store
    /// does not hold the document.
    base: Option<Vec<ChangeHash>>,
    /// Heads of the session's copy, kept when the copy is released.
    heads: Vec<ChangeHash>,
    state: sync::State,
    received: u32,
    dirty: bool,
    /// The last generate produced a message: a reply may come, keep loaded.
    awaiting: bool,
    /// A document the peer sent whole and this side did not hold: the bytes
    /// it came in and their heads, stored as they are if the copy still has
    /// those heads when it is saved (no Automerge save of it here).
    arrived: Option<(Vec<u8>, Vec<ChangeHash>)>,
}

impl DocWork {
    fn new(kind: DocKind, mode: Mode, state: sync::State) -> Self {
        Self {
            kind,
            mode,
            doc: None,
            base: None,
            heads: Vec::new(),
            state,
            received: 0,
            dirty: false,
            awaiting: false,
            arrived: None,
        }
    }

    /// A document both sides hold, with the stored sync state if any.
    pub(super) fn for_sync(kind: DocKind, state: Option<sync::State>) -> Self {
        Self::new(kind, Mode::Sync, state.unwrap_or_default())
    }

    /// A document the peer does not hold.
    pub(super) fn for_whole(kind: DocKind) -> Self {
        Self::new(kind, Mode::SendWhole, sync::State::new())
    }

    /// A placeholder for a document closed before it was in play.
    pub(super) fn closed() -> Self {
        Self::new(DocKind::Client, Mode::Closed, sync::State::new())
    }

    pub(super) fn close(&mut self) {
        self.mode = Mode::Closed;
        self.doc = None;
        self.dirty = false;
        self.awaiting = false;
        self.arrived = None;
    }

    /// The sync state to keep when the document ended agreed at `hash`:
    /// shared heads = our heads, which is what Automerge's own state holds
    /// after a complete sync.
    pub(super) fn agreed_state(&self, hash: &HeadsHash) -> Option<Vec<u8>> {
        if self.heads.is_empty() || heads_hash(&self.heads) != *hash {
            return None;
        }
        let mut shared = self.heads.clone();
        shared.sort();
        let state = sync::State {
            shared_heads: shared,
            ..sync::State::default()
        };
        Some(state.encode())
    }
}

/// A whole document from the peer, or why it is quarantined.
type Whole = Result<AutoCommit, QuarantineReason>;

/// Why Automerge bytes from the peer are not loaded: they inflate past
/// `max`, or their layout cannot be bounded.
fn unbounded(bytes: &[u8], max: usize) -> Option<QuarantineReason> {
    match crate::inflate::inflated_len(bytes, max) {
        Ok(_) => None,
        Err(InflateError::TooLarge) => Some(QuarantineReason::TooLarge),
        Err(InflateError::Malformed) => Some(QuarantineReason::BadMessage),
    }
}

/// Loads a whole document from the peer, if what it inflates to is at most
/// `max`, it is one and Automerge did not panic on it.
fn load_whole(bytes: &[u8], max: usize) -> Whole {
    if let Some(reason) = unbounded(bytes, max) {
        return Err(reason);
    }
    match catch_unwind(|| AutoCommit::load(bytes)) {
        Ok(Ok(doc)) => Ok(doc),
        _ => Err(QuarantineReason::BadMessage),
    }
}

/// Whole documents in a batch at least this large are decoded on several threads.
const PARALLEL_DECODE_MIN: usize = 16;

/// Decodes the whole documents of a batch, on all cores for a large batch
/// (a first sync is bound by Automerge's load). Aligned with `list`: `None`
/// for sync messages, `Some(None)` for bytes that do not load. The result
/// does not depend on the threads.
pub(super) fn decode_wholes(list: &[DocMessage], max: usize) -> Vec<Option<Whole>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    decode_wholes_on(list, max, threads)
}

/// [`decode_wholes`] on at most `threads` threads.
fn decode_wholes_on(list: &[DocMessage], max: usize, threads: usize) -> Vec<Option<Whole>> {
    let mut out: Vec<Option<Whole>> = list.iter().map(|_| None).collect();
    let jobs: Vec<(usize, &[u8])> = list
        .iter()
        .enumerate()
        .filter_map(|(i, m)| match &m.body {
            DocBody::Whole(b) => Some((i, b.as_slice())),
            DocBody::Sync(_) => None,
        })
        .collect();
    if threads <= 1 || jobs.len() < PARALLEL_DECODE_MIN {
        for (i, bytes) in jobs {
            out[i] = Some(load_whole(bytes, max));
        }
        return out;
    }
    let chunk = jobs.len().div_ceil(threads);
    let results: Vec<(usize, Whole)> = std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|(i, b)| (*i, load_whole(b, max)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for (i, doc) in results {
        out[i] = Some(doc);
    }
    out
}

/// Frames of new whole documents being decoded while an earlier one is
/// stored (see [`Session::receive_early`]): one decoding thread beside the
/// session's own keeps two cores busy.
const EARLY_IN_FLIGHT: usize = 1;

/// A frame's new whole documents, being decoded on a thread of their own.
#[derive(Debug)]
pub(super) struct EarlyBatch {
    decoding: std::thread::JoinHandle<(Vec<DocMessage>, Vec<Option<Whole>>)>,
}

/// A stored sync state; a bad one is replaced by a fresh state (costs bytes, not correctness).
pub(super) fn decode_state(bytes: &[u8]) -> sync::State {
    match catch_unwind(|| sync::State::decode(bytes)) {
        Ok(Ok(state)) => state,
        _ => sync::State::new(),
    }
}

impl Session {
    /// Laptop, mid-turn: a frame of per-document messages from the hub. The
    /// whole documents this side does not hold and has not started are
    /// decoded at once on a thread of their own and stored as soon as the
    /// frame before them is (a first sync decodes, checks and stores while
    /// the rest arrives, and never holds every document at once); what is
    /// left is returned, to be applied with the rest of the turn at its end.
    /// The hub judges a laptop's documents together at the end of the turn
    /// (a client's basic data before its record), so it does not do this.
    pub(super) fn receive_early<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        list: Vec<DocMessage>,
    ) -> Result<Vec<DocMessage>, SyncError> {
        let (early, rest): (Vec<DocMessage>, Vec<DocMessage>) = list.into_iter().partition(|m| {
            matches!(m.body, DocBody::Whole(_))
                && !self.recon.current.contains_key(&m.id)
                && !self.docs.contains_key(&m.id)
                && !self.early_ids.contains(&m.id)
        });
        if early.is_empty() {
            return Ok(rest);
        }
        if self.docs.len() + self.early_ids.len() + early.len() > self.cfg.limits.max_docs {
            return Err(SyncError::LimitExceeded("documents"));
        }
        self.early_ids.extend(early.iter().map(|m| m.id));
        let max = self.cfg.limits.max_inflated_doc_bytes;
        let decoding = std::thread::spawn(move || {
            let wholes = decode_wholes_on(&early, max, 1);
            (early, wholes)
        });
        self.early.push_back(EarlyBatch { decoding });
        while self.early.len() > EARLY_IN_FLIGHT {
            self.store_early(replica)?;
        }
        Ok(rest)
    }

    /// Stores every batch still being decoded (at the end of the turn).
    pub(super) fn store_all_early<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
    ) -> Result<(), SyncError> {
        while !self.early.is_empty() {
            self.store_early(replica)?;
        }
        Ok(())
    }

    /// Waits for the oldest batch being decoded, then receives, checks and
    /// stores its documents, and lets go of the session's copies of those
    /// that have nothing to send back.
    fn store_early<R: Replica + ?Sized>(&mut self, replica: &mut R) -> Result<(), SyncError> {
        let Some(batch) = self.early.pop_front() else {
            return Ok(());
        };
        let (list, wholes) = match batch.decoding.join() {
            Ok(done) => done,
            // The decoder catches Automerge's panics per document; should its
            // thread fail anyway, nothing of the batch is known and the
            // session ends (the next one starts those documents again).
            Err(_) => return Err(SyncError::LimitExceeded("decoder thread")),
        };
        let ids: Vec<DocId> = list.iter().map(|m| m.id).collect();
        for (m, whole) in list.into_iter().zip(wholes) {
            self.early_ids.remove(&m.id);
            self.receive_doc(replica, m, whole)?;
        }
        self.run_checks(replica)?;
        self.save_dirty(replica)?;
        let mut released = Vec::new();
        for id in ids {
            if self.to_generate.contains(&id) {
                continue;
            }
            if let Some(w) = self.docs.get_mut(&id)
                && !w.dirty
                && !w.awaiting
                && let Some(doc) = w.doc.take()
            {
                released.push(doc);
            }
        }
        // Freeing thousands of documents is work of its own: not on the
        // session's thread.
        if !released.is_empty() {
            std::thread::spawn(move || drop(released));
        }
        Ok(())
    }

    /// One per-document message from the peer; `whole` is its body decoded
    /// by [`decode_wholes`] when it is a whole document.
    pub(super) fn receive_doc<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        m: DocMessage,
        whole: Option<Whole>,
    ) -> Result<(), SyncError> {
        let id = m.id;
        match self.docs.get(&id) {
            Some(w) if w.mode == Mode::Closed => return Ok(()),
            Some(_) => {}
            None => {
                let held = self.recon.current.contains_key(&id);
                if !held {
                    match replica.doc_status(id)? {
                        DocStatus::Absent => {}
                        DocStatus::Erased => return self.refuse(id, RefusedReason::Erased),
                        DocStatus::Present => return self.refuse(id, RefusedReason::OutOfScope),
                    }
                }
                let state = if held && matches!(m.body, DocBody::Sync(_)) {
                    replica
                        .sync_states(&self.peer, &[id])?
                        .into_iter()
                        .next()
                        .map(|(_, s)| decode_state(&s))
                } else {
                    None
                };
                let kind = self.recon.kinds.get(&id).copied().unwrap_or(m.kind);
                self.docs.insert(id, DocWork::for_sync(kind, state));
            }
        }
        let limit = self.cfg.limits.max_messages_per_doc;
        let Some(w) = self.docs.get_mut(&id) else {
            return Ok(());
        };
        w.received += 1;
        if w.received > limit {
            self.report.round_limited.push(id);
            return self.abandon(id, RefusedReason::RoundLimit);
        }
        if w.kind != m.kind {
            return self.quarantine(replica, id, QuarantineReason::KindMismatch);
        }
        if !self.ensure_loaded(replica, id)? {
            return Ok(());
        }
        match m.body {
            DocBody::Sync(bytes) => self.receive_sync(replica, id, &bytes),
            DocBody::Whole(bytes) => {
                let max = self.cfg.limits.max_inflated_doc_bytes;
                let doc = whole.unwrap_or_else(|| load_whole(&bytes, max));
                self.receive_whole(replica, id, doc, bytes)
            }
        }
    }

    fn receive_sync<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        id: DocId,
        bytes: &[u8],
    ) -> Result<(), SyncError> {
        let msg = match catch_unwind(|| sync::Message::decode(bytes)) {
            Ok(Ok(msg)) => msg,
            _ => return self.quarantine(replica, id, QuarantineReason::BadMessage),
        };
        // Decoding did not inflate anything; applying the changes would.
        let mut left = self.cfg.limits.max_inflated_doc_bytes;
        for chunk in msg.changes.iter() {
            match crate::inflate::inflated_len(chunk, left) {
                Ok(n) => left -= n,
                Err(InflateError::TooLarge) => {
                    return self.quarantine(replica, id, QuarantineReason::TooLarge);
                }
                Err(InflateError::Malformed) => {
                    return self.quarantine(replica, id, QuarantineReason::BadMessage);
                }
            }
        }
        let Some(w) = self.docs.get_mut(&id) else {
            return Ok(());
        };
        let (Some(doc), state) = (w.doc.as_deref_mut(), &mut w.state) else {
            return Ok(());
        };
        let before = doc.get_heads();
        let applied = catch_unwind(AssertUnwindSafe(|| {
            doc.sync().receive_sync_message(state, msg)
        }));
        if !matches!(applied, Ok(Ok(()))) {
            w.doc = None;
            return self.quarantine(replica, id, QuarantineReason::ApplyFailed);
        }
        let after = doc.get_heads();
        self.to_generate.insert(id);
        if after != before {
            self.defer_check(id, before);
        }
        Ok(())
    }

    fn receive_whole<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        id: DocId,
        incoming: Whole,
        bytes: Vec<u8>,
    ) -> Result<(), SyncError> {
        if self.docs.get(&id).is_some_and(|w| w.mode == Mode::ReadOnly) {
            return Ok(());
        }
        let mut incoming = match incoming {
            Ok(doc) => doc,
            Err(reason) => return self.quarantine(replica, id, reason),
        };
        let Some(w) = self.docs.get_mut(&id) else {
            return Ok(());
        };
        let Some(doc) = w.doc.as_deref_mut() else {
            return Ok(());
        };
        let incoming_heads = incoming.get_heads();
        let before = doc.get_heads();
        if before.is_empty() {
            *doc = incoming;
            if w.base.is_none() {
                w.arrived = Some((bytes, incoming_heads.clone()));
            }
        } else if !matches!(
            catch_unwind(AssertUnwindSafe(|| doc.merge(&mut incoming))),
            Ok(Ok(_))
        ) {
            w.doc = None;
            return self.quarantine(replica, id, QuarantineReason::ApplyFailed);
        }
        let after = doc.get_heads();
        w.mode = Mode::Sync;
        if after != incoming_heads {
            // We hold more than the peer sent: sync the rest back.
            w.state = sync::State::new();
            self.to_generate.insert(id);
        }
        if after != before {
            self.defer_check(id, before);
        }
        Ok(())
    }

    /// Notes that the peer changed `id` this turn (from `before`); the
    /// replica judges the change when the turn's messages are all applied.
    fn defer_check(&mut self, id: DocId, before: Vec<ChangeHash>) {
        self.to_check.entry(id).or_insert(before);
    }

    /// Judges every change the peer made this turn, documents whose content
    /// decides others' rights first (a client's basic data before its record:
    /// a new client's record is judged on its unit and responsible workers).
    pub(super) fn run_checks<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
    ) -> Result<(), SyncError> {
        let mut pending: Vec<(u8, DocId, Vec<ChangeHash>)> = std::mem::take(&mut self.to_check)
            .into_iter()
            .filter_map(|(id, before)| {
                let w = self.docs.get(&id)?;
                Some((check_rank(w.kind), id, before))
            })
            .collect();
        pending.sort_by_key(|(rank, id, _)| (*rank, *id));
        for (_, id, before) in pending {
            let Some(after) = self
                .docs
                .get_mut(&id)
                .and_then(|w| w.doc.as_deref_mut())
                .map(|d| d.get_heads())
            else {
                continue;
            };
            if after != before {
                self.check_change(replica, id, before, after)?;
            }
        }
        Ok(())
    }

    /// The peer's changes were applied to the session's copy: ask the
    /// replica whether the peer may make them; roll back if not.
    fn check_change<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        id: DocId,
        before: Vec<ChangeHash>,
        after: Vec<ChangeHash>,
    ) -> Result<(), SyncError> {
        let Some(w) = self.docs.get_mut(&id) else {
            return Ok(());
        };
        let Some(doc) = w.doc.as_deref() else {
            return Ok(());
        };
        let new_here = w.base.is_none() && before.is_empty();
        let check = ChangeCheck {
            id,
            kind: w.kind,
            before: (!new_here).then_some(before.as_slice()),
            after: doc,
        };
        match replica.accept_change(&self.peer, &check) {
            Ok(()) => {
                w.dirty = true;
                w.heads = after;
                self.docs_received.insert(id);
                self.report.docs_received = self.docs_received.len();
                Ok(())
            }
            Err(reason) => {
                let refusal = Refusal { doc: id, reason };
                self.report.refused_here.push(refusal);
                self.out_refusals.push(refusal);
                if w.base.is_none() {
                    self.close(id);
                } else {
                    // Reload the stored copy (it lacks the change) and keep
                    // sending ours read-only, so the peer still gets updates.
                    w.doc = None;
                    w.dirty = false;
                    w.state = sync::State::new_read_only();
                    w.mode = Mode::ReadOnly;
                    self.to_generate.insert(id);
                }
                Ok(())
            }
        }
    }

    /// Loads the session's copy if needed; `false` if the document was
    /// quarantined instead.
    fn ensure_loaded<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        id: DocId,
    ) -> Result<bool, SyncError> {
        let held = self.recon.current.contains_key(&id);
        let Some(w) = self.docs.get_mut(&id) else {
            return Ok(false);
        };
        if w.doc.is_some() {
            return Ok(true);
        }
        let loaded = if held {
            match replica.load_doc(id) {
                Ok(loaded) => loaded,
                Err(ReplicaError::Unreadable(_)) => {
                    self.quarantine(replica, id, QuarantineReason::Unreadable)?;
                    return Ok(false);
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            None
        };
        match loaded {
            Some(mut l) => {
                let heads = l.doc.get_heads();
                w.base = Some(heads.clone());
                w.heads = heads;
                w.doc = Some(Box::new(l.doc));
            }
            None => {
                w.base = None;
                w.heads.clear();
                w.doc = Some(Box::new(AutoCommit::new()));
            }
        }
        Ok(true)
    }

    /// Generates this turn's per-document messages.
    pub(super) fn generate<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        out: &mut Outbox,
    ) -> Result<(), SyncError> {
        for id in std::mem::take(&mut self.to_generate) {
            let mode = match self.docs.get(&id) {
                Some(w) => w.mode,
                None => continue,
            };
            let body = match mode {
                Mode::Closed => continue,
                Mode::SendWhole => match self.export(replica, id)? {
                    Some(bytes) => DocBody::Whole(bytes),
                    None => continue,
                },
                Mode::Sync | Mode::ReadOnly => match self.next_sync_message(replica, id)? {
                    Some(bytes) => DocBody::Sync(bytes),
                    None => continue,
                },
            };
            if body.bytes().len() > MAX_DOC_MESSAGE_LEN {
                self.docs_sent.remove(&id);
                self.quarantine(replica, id, QuarantineReason::TooLarge)?;
                continue;
            }
            let Some(w) = self.docs.get(&id) else {
                continue;
            };
            out.push_doc(DocMessage {
                id,
                kind: w.kind,
                body,
            });
        }
        self.report.docs_sent = self.docs_sent.len();
        Ok(())
    }

    /// The document's saved bytes, to send whole; `None` if it is gone or
    /// was quarantined.
    fn export<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        id: DocId,
    ) -> Result<Option<Vec<u8>>, SyncError> {
        let exported = match replica.export_doc(id) {
            Ok(Some(e)) => e,
            Ok(None) => {
                self.close(id);
                return Ok(None);
            }
            Err(ReplicaError::Unreadable(_)) => {
                self.quarantine(replica, id, QuarantineReason::Unreadable)?;
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        let Some(w) = self.docs.get_mut(&id) else {
            return Ok(None);
        };
        w.heads = exported.heads.unwrap_or_default();
        w.mode = Mode::Sync;
        w.awaiting = false;
        self.docs_sent.insert(id);
        Ok(Some(exported.bytes))
    }

    /// The next Automerge sync message for a document, if it has one.
    fn next_sync_message<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        id: DocId,
    ) -> Result<Option<Vec<u8>>, SyncError> {
        if !self.ensure_loaded(replica, id)? {
            return Ok(None);
        }
        let Some(w) = self.docs.get_mut(&id) else {
            return Ok(None);
        };
        let (Some(doc), state) = (w.doc.as_deref_mut(), &mut w.state) else {
            return Ok(None);
        };
        match catch_unwind(AssertUnwindSafe(|| doc.sync().generate_sync_message(state))) {
            Ok(Some(msg)) => {
                w.awaiting = true;
                if !msg.changes.is_empty() {
                    self.docs_sent.insert(id);
                }
                Ok(Some(msg.encode()))
            }
            Ok(None) => {
                w.awaiting = false;
                Ok(None)
            }
            Err(_) => {
                w.doc = None;
                self.quarantine(replica, id, QuarantineReason::ApplyFailed)?;
                Ok(None)
            }
        }
    }

    /// Persists every document changed this turn, in one call.
    pub(super) fn save_dirty<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
    ) -> Result<(), SyncError> {
        let mut writes = Vec::new();
        for (id, w) in self.docs.iter_mut() {
            let DocWork {
                kind,
                doc,
                base,
                dirty,
                arrived,
                ..
            } = w;
            if let (true, Some(doc)) = (*dirty, doc.as_deref_mut()) {
                let saved = match arrived {
                    Some((bytes, heads)) if base.is_none() && *heads == doc.get_heads() => {
                        Some(bytes.as_slice())
                    }
                    _ => None,
                };
                writes.push(DocWrite {
                    id: *id,
                    kind: *kind,
                    doc,
                    base: base.as_deref(),
                    saved,
                });
            }
        }
        if writes.is_empty() {
            return Ok(());
        }
        replica.save_docs(&mut writes)?;
        drop(writes);
        for (id, w) in self.docs.iter_mut() {
            if !w.dirty {
                continue;
            }
            let Some(doc) = w.doc.as_deref_mut() else {
                continue;
            };
            let heads = doc.get_heads();
            if w.base.is_none() {
                self.report.docs_created += 1;
            } else if has_conflicts(doc) && !self.report.conflicted.contains(id) {
                // Only documents that existed here: a new one's conflicts
                // were not made by this session.
                self.report.conflicted.push(*id);
            }
            self.recon.set_mine(*id, w.kind, heads_hash(&heads));
            w.arrived = None;
            w.base = Some(heads.clone());
            w.heads = heads;
            w.dirty = false;
        }
        Ok(())
    }

    /// Drops the session's copies of documents that wait for nothing, so a
    /// large first sync does not hold every document in memory.
    pub(super) fn release_idle_docs(&mut self) {
        for w in self.docs.values_mut() {
            if !w.dirty && !w.awaiting {
                w.doc = None;
            }
        }
    }

    /// Refuses the peer's document: reported here and told to the peer.
    fn refuse(&mut self, id: DocId, reason: RefusedReason) -> Result<(), SyncError> {
        let refusal = Refusal { doc: id, reason };
        self.report.refused_here.push(refusal);
        self.abandon(id, reason)
    }

    /// Stops the document for this session and tells the peer why.
    fn abandon(&mut self, id: DocId, reason: RefusedReason) -> Result<(), SyncError> {
        self.out_refusals.push(Refusal { doc: id, reason });
        self.close(id);
        Ok(())
    }

    /// Quarantines the document: recorded in the replica, reported, told to the peer.
    fn quarantine<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        id: DocId,
        reason: QuarantineReason,
    ) -> Result<(), SyncError> {
        replica.quarantine(&self.peer, id, reason)?;
        self.report.quarantined.push((id, reason));
        self.abandon(id, reason.refused_reason())
    }
}

/// Order in which a turn's changes are judged: documents that decide the
/// rights over others first.
fn check_rank(kind: DocKind) -> u8 {
    match kind {
        DocKind::ClientRecord => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_in_play_without_a_copy_is_small() {
        // A first sync keeps one per document of the store (tens of
        // thousands on a hub); an unboxed AutoCommit made each kilobytes.
        let w = DocWork::for_whole(DocKind::Client);
        assert!(w.doc.is_none());
        let size = std::mem::size_of::<DocWork>();
        assert!(size <= 512, "DocWork is {size} bytes");
    }
}
