//! The [`Session`] state machine: one per connection, no I/O.
//!
//! Frames in, frames out: the transport calls [`Session::start`] once and
//! writes the frames it returns, then feeds every received frame to
//! [`Session::handle`] and writes what that returns, until
//! [`Session::is_done`] (then closes) or an error (then writes
//! [`Session::farewell`], if any, and closes).
//!
//! # Turns
//!
//! The two sides take **turns**, half-duplex: a turn is any number of frames
//! followed by `TurnEnd(t)`, and a side sends its turn `t + 1` only after it
//! has received the peer's turn `t`. The laptop (which opens the connection)
//! takes the even turns, the hub the odd ones. At any moment only one side
//! writes and the other reads, so the protocol runs over any stream with a
//! plain "write my turn, read theirs" loop, whatever its flow-control
//! windows. The peer's frames of a turn are decoded and validated as they
//! arrive but **applied only at `TurnEnd`**: a malformed frame anywhere in a
//! turn ends the session and nothing of that turn is applied. One exception,
//! on the laptop: whole documents from the hub that the laptop does not hold
//! are decoded and stored as their frames arrive (`receive_early`), so that a
//! first sync stores while it receives; a later bad frame ends the session
//! with those documents stored, as after a cut connection (the next session
//! finds them with the hub's heads and moves nothing for them).
//!
//! A transport may take a turn's frames one by one as they are built
//! ([`Session::handle_streaming`]), so that the peer receives the first
//! documents of a large turn while this side builds the rest.
//!
//! 1. Turn 0 (laptop): `Hello` (with the head of the laptop's own audit
//!    chain). The hub checks it (version, organisation, node id against the
//!    transport's, role), asks the replica to [admit](crate::Replica::admit)
//!    the laptop before it says anything else, and hands it the announced
//!    head ([`crate::Replica::peer_audit_head`]).
//! 2. Turn 1 (hub): `Hello`, then its announcement: the document-set delta
//!    and digest ([`crate::docset`]), its audit heads, and the tombstones the
//!    laptop has not acknowledged. The laptop checks the hello likewise. A
//!    tombstone the laptop refuses as not permitted is retried after each
//!    later turn (the organisation document naming the erasing device may
//!    arrive in the same session) and reported as refused if it still is
//!    when the session ends.
//! 3. Turn 2 (laptop): its announcement, and already the first per-document
//!    messages (it knows the hub's set).
//! 4. Later turns: a `DocSetRequest` (or the full set, on request), audit
//!    entries the peer lacks, revocations (hub), refusals, and batched
//!    per-document messages. Documents only one side holds are sent whole;
//!    documents both hold with different heads go through Automerge's sync
//!    protocol with the stored per-peer sync state. Where only one side
//!    changed a document since the agreement (the other's announced hash is
//!    the agreed one, and so are the stored state's shared heads), the side
//!    that changed it sends its changes in its first message, and a laptop
//!    that did not change it sends nothing first and waits for the hub's.
//! 5. After two empty turns in a row, the side whose turn it is sends `Done`
//!    with the final heads of the documents it changed, and the other
//!    answers with its own. Both then compute the same new agreed set and
//!    commit it with the sync states and the tombstone cursor
//!    ([`crate::Replica::commit`]).
//!
//! Documents are saved at the end of each turn, before anything that
//! acknowledges them is sent. A document that cannot be read or applied is
//! quarantined and refused back to the peer; one that needs more than
//! [`Limits::max_messages_per_doc`] messages (e.g. a peer poisoning Bloom
//! filters) is abandoned and reported. Neither blocks the others.

mod blobs;
mod docs;
mod outbox;
mod recon;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use automerge::ChangeHash;
use polku_audit::{Entry, NodeId};
use polku_core::{DocId, DocKind, OrgId};

use crate::docset::{self, DocSet, HeadsHash, SetDigest};
use crate::error::SyncError;
use crate::protocol::{
    AuditHead, FinalHeads, Frame, Hello, MAX_AUDIT_ENTRIES_PER_FRAME, MAX_ENTRIES_PER_FRAME,
    Message, PROTOCOL_VERSION, Refusal, Role, decode_frame,
};
use crate::replica::{Peer, Replica};
use crate::report::SyncReport;
use docs::{DocWork, EarlyBatch};
use outbox::Outbox;
pub use outbox::Sink;
use recon::push_doc_set;

/// Bounds on what a peer may make a session do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Turns per session (both sides' together).
    pub max_turns: u32,
    /// Messages received per document per session (against Bloom-filter
    /// poisoning: a document over it is abandoned and reported).
    pub max_messages_per_doc: u32,
    /// Documents in the peer's announced set, and documents in play.
    pub max_docs: usize,
    /// Bytes buffered from the peer in one turn.
    pub max_turn_bytes: usize,
    /// Audit entries received per session.
    pub max_audit_entries: usize,
    /// Tombstones received per session.
    pub max_tombstones: usize,
    /// What one document message from the peer may inflate to: Automerge
    /// bytes past it are quarantined without being loaded (see
    /// [`crate::inflate`]).
    pub max_inflated_doc_bytes: usize,
    /// Attachment files a peer may ask for in one session (and this side
    /// asks for at most).
    pub max_blob_wants: usize,
    /// Attachment file bytes this side sends in one turn.
    pub blob_bytes_per_turn: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_turns: 128,
            max_messages_per_doc: 16,
            max_docs: 1_000_000,
            max_turn_bytes: 512 * 1024 * 1024,
            max_audit_entries: 1_000_000,
            max_tombstones: 1_000_000,
            max_inflated_doc_bytes: 64 * 1024 * 1024,
            max_blob_wants: 4096,
            blob_bytes_per_turn: 8 * 1024 * 1024,
        }
    }
}

/// Who the session is between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// This side's role.
    pub role: Role,
    /// The organisation both sides must belong to.
    pub org: OrgId,
    /// This node's id.
    pub local: NodeId,
    /// The peer's node id as the transport authenticated it.
    pub peer: NodeId,
    /// Limits.
    pub limits: Limits,
}

impl SessionConfig {
    /// A configuration with default limits.
    pub fn new(role: Role, org: OrgId, local: NodeId, peer: NodeId) -> Self {
        Self {
            role,
            org,
            local,
            peer,
            limits: Limits::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    New,
    Open,
    /// I sent `Done`; waiting for the peer's.
    AwaitDone,
    /// The peer sent (part of) `Done`; I answer with mine when it is complete.
    PeerDone,
    Done,
    Failed,
}

/// Reconciliation state: my set, the agreed set, what I know of the peer's.
#[derive(Debug, Default)]
struct Recon {
    /// My set at session start (what the peer reconstructs). The maps are
    /// shared with the replica's and copied only when changed.
    start: Arc<DocSet>,
    /// My set now: `start` with `changed` applied.
    current: Arc<DocSet>,
    /// Kinds of the documents in `current`.
    kinds: Arc<BTreeMap<DocId, DocKind>>,
    /// My changes since the start (`None` = deleted).
    changed: BTreeMap<DocId, Option<HeadsHash>>,
    /// The agreed set at session start.
    agreed: Arc<DocSet>,
    /// The peer's announcement being received.
    incoming: Vec<(DocId, Option<HeadsHash>)>,
    /// The peer's start set, once known exactly.
    peer_start: Option<Arc<DocSet>>,
    /// Ids the peer's delta marked removed since the agreed set.
    peer_removed: BTreeSet<DocId>,
    /// I could not rebuild the peer's set and must ask for the full one.
    need_full: bool,
    /// The request was sent.
    requested: bool,
    /// The peer asked for my full set.
    peer_wants_full: bool,
    /// The to-do list was computed.
    reconciled: bool,
    /// The digest of `agreed`, once computed.
    agreed_digest: Option<SetDigest>,
    /// My start set equals the agreed set (my delta was empty).
    mine_as_agreed: bool,
    /// Where my start set differs from the agreed set (my announced delta).
    my_delta: Vec<DocId>,
    /// Where the peer's start set differs from the agreed set (at most).
    peer_delta: Vec<DocId>,
    /// The peer's start set equals the agreed set (its delta was empty and
    /// the digest matched).
    theirs_as_agreed: bool,
}

impl Recon {
    /// The digest of the agreed set (computed once).
    fn agreed_digest(&mut self) -> SetDigest {
        *self
            .agreed_digest
            .get_or_insert_with(|| docset::digest(&self.agreed))
    }

    /// Records my document's new heads.
    fn set_mine(&mut self, id: DocId, kind: DocKind, hash: HeadsHash) {
        Arc::make_mut(&mut self.current).insert(id, hash);
        Arc::make_mut(&mut self.kinds).insert(id, kind);
        self.changed.insert(id, Some(hash));
    }

    /// Records that my document is gone (revoked or erased).
    fn remove_mine(&mut self, id: DocId) {
        if self.current.contains_key(&id) {
            Arc::make_mut(&mut self.current).remove(&id);
            Arc::make_mut(&mut self.kinds).remove(&id);
            self.changed.insert(id, None);
        }
    }
}

/// One sync session with one peer. See the module docs.
#[derive(Debug)]
pub struct Session {
    cfg: SessionConfig,
    peer: Peer,
    phase: Phase,
    /// The turn the peer is sending (or will send next).
    turn: u32,
    /// Whether my last turn was empty (only its `TurnEnd`).
    my_idle: bool,
    /// The peer's hello was checked.
    opened: bool,
    /// My announcement (set delta, audit heads, tombstones) was sent.
    announced: bool,
    inbox: Vec<Message>,
    inbox_bytes: usize,
    report: SyncReport,
    farewell: Option<Frame>,
    recon: Recon,
    docs: BTreeMap<DocId, DocWork>,
    to_generate: BTreeSet<DocId>,
    /// Documents the peer changed this turn, with their heads before (judged
    /// by [`docs::run_checks`] once the turn is applied).
    to_check: BTreeMap<DocId, Vec<ChangeHash>>,
    docs_sent: BTreeSet<DocId>,
    docs_received: BTreeSet<DocId>,
    out_refusals: Vec<Refusal>,
    out_revokes: Vec<DocId>,
    audit_theirs: Option<Vec<AuditHead>>,
    audit_seen: usize,
    tombstones_seen: usize,
    tombstone_cursor: u64,
    /// Laptop: tombstones refused as not permitted, retried after each turn
    /// (the organisation document naming the erasing device may arrive later
    /// in the same session).
    deferred_tombstones: Vec<crate::protocol::Tombstone>,
    peer_done: Vec<(DocId, Option<HeadsHash>)>,
    blobs: blobs::Blobs,
    /// Set for one [`Session::handle_streaming`] call.
    sink: Option<Sink>,
    /// Laptop: new whole documents of the hub's turn being decoded as their
    /// frames arrive (oldest first), and their ids.
    early: VecDeque<EarlyBatch>,
    early_ids: BTreeSet<DocId>,
}

impl Session {
    /// A session that has not started.
    pub fn new(cfg: SessionConfig) -> Self {
        Self {
            peer: Peer {
                node: cfg.peer,
                role: cfg.role.peer(),
            },
            report: SyncReport::new(cfg.peer, cfg.role),
            cfg,
            phase: Phase::New,
            turn: 0,
            my_idle: false,
            opened: false,
            announced: false,
            inbox: Vec::new(),
            inbox_bytes: 0,
            farewell: None,
            recon: Recon::default(),
            docs: BTreeMap::new(),
            to_generate: BTreeSet::new(),
            to_check: BTreeMap::new(),
            docs_sent: BTreeSet::new(),
            docs_received: BTreeSet::new(),
            out_refusals: Vec::new(),
            out_revokes: Vec::new(),
            audit_theirs: None,
            audit_seen: 0,
            tombstones_seen: 0,
            tombstone_cursor: 0,
            deferred_tombstones: Vec::new(),
            peer_done: Vec::new(),
            blobs: blobs::Blobs::default(),
            sink: None,
            early: VecDeque::new(),
            early_ids: BTreeSet::new(),
        }
    }

    /// The peer.
    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    /// Opens the session: a laptop's first turn (its hello); nothing for a
    /// hub, which waits for the laptop's hello.
    pub fn start<R: Replica + ?Sized>(&mut self, replica: &mut R) -> Result<Vec<Frame>, SyncError> {
        if self.phase != Phase::New {
            return Err(SyncError::NotStarted);
        }
        self.phase = Phase::Open;
        if self.cfg.role == Role::Hub {
            self.turn = 0;
            return Ok(Vec::new());
        }
        let mut out = Outbox::new();
        out.push(self.hello(replica)?);
        let (frames, idle) = out.finish(0);
        self.my_idle = idle;
        self.turn = 1;
        Ok(self.sent(frames))
    }

    fn hello<R: Replica + ?Sized>(&self, replica: &mut R) -> Result<Message, SyncError> {
        Ok(Message::Hello(Hello {
            max_version: PROTOCOL_VERSION,
            org: self.cfg.org,
            node: self.cfg.local,
            role: self.cfg.role,
            audit_head: replica.own_audit_head()?,
        }))
    }

    /// Handles one received frame (length prefix included); returns the
    /// frames to send. After an error the session is over: send
    /// [`Session::farewell`] and close.
    pub fn handle<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        frame: &[u8],
    ) -> Result<Vec<Frame>, SyncError> {
        match self.phase {
            Phase::Open | Phase::AwaitDone | Phase::PeerDone => {}
            Phase::New => return Err(SyncError::NotStarted),
            Phase::Done | Phase::Failed => return Err(SyncError::Ended),
        }
        self.report.frames_received += 1;
        self.report.bytes_received += frame.len() as u64;
        match self.step(replica, frame) {
            Ok(frames) => Ok(self.sent(frames)),
            Err(err) => {
                self.phase = Phase::Failed;
                self.farewell = err.code().map(|c| Message::Error(c).encode());
                Err(err)
            }
        }
    }

    /// [`Session::handle`], handing the frames of a turn this side sends to
    /// `sink` as each is complete (so the transport writes them while the
    /// rest of the turn is built, and a turn of every document is never held
    /// whole); what it returns are only the frames that did not go to the
    /// sink (`Done`, a farewell). The frames and their order are the same as
    /// [`Session::handle`]'s.
    pub fn handle_streaming<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        frame: &[u8],
        sink: Sink,
    ) -> Result<Vec<Frame>, SyncError> {
        self.sink = Some(sink);
        let out = self.handle(replica, frame);
        self.sink = None;
        out
    }

    /// Whether the session completed (both sides' `Done`, bookkeeping committed).
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Whether the peer's hello was checked and the replica admitted it.
    /// Until then a transport should accept only small frames.
    pub fn is_opened(&self) -> bool {
        self.opened
    }

    /// Whether the session ended with an error.
    pub fn is_failed(&self) -> bool {
        self.phase == Phase::Failed
    }

    /// After an error: the frame telling the peer why, if it should be told.
    pub fn farewell(&self) -> Option<&Frame> {
        self.farewell.as_ref()
    }

    /// What the session did so far (complete once [`Session::is_done`]).
    pub fn report(&self) -> &SyncReport {
        &self.report
    }

    fn sent(&mut self, frames: Vec<Frame>) -> Vec<Frame> {
        self.report.frames_sent += frames.len() as u64;
        self.report.bytes_sent += frames.iter().map(|f| f.len() as u64).sum::<u64>();
        frames
    }

    fn unexpected(msg: &Message, when: &'static str) -> SyncError {
        SyncError::Unexpected {
            message: msg.name(),
            when,
        }
    }

    fn step<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        frame: &[u8],
    ) -> Result<Vec<Frame>, SyncError> {
        let msg = decode_frame(frame).map_err(SyncError::Malformed)?;
        if let Message::Error(code) = msg {
            return Err(SyncError::Remote(code));
        }
        if let Message::Done { last, changed } = msg {
            return self.on_done(replica, last, changed);
        }
        match (self.phase, msg) {
            (Phase::AwaitDone | Phase::PeerDone, other) => {
                Err(Self::unexpected(&other, "while finishing"))
            }
            (_, Message::TurnEnd { turn }) if turn == self.turn => self.end_turn(replica),
            (_, Message::TurnEnd { .. }) => Err(SyncError::Unexpected {
                message: "turn-end",
                when: "out of turn",
            }),
            (_, msg @ Message::Hello(_)) if self.opened || !self.inbox.is_empty() => {
                Err(Self::unexpected(&msg, "after hello"))
            }
            (_, msg @ Message::Hello(_)) => {
                self.inbox.push(msg);
                Ok(Vec::new())
            }
            (_, msg) if !self.opened && self.inbox.is_empty() => {
                Err(Self::unexpected(&msg, "before hello"))
            }
            (_, msg @ Message::Revoke(_)) if self.cfg.role == Role::Hub => {
                Err(Self::unexpected(&msg, "from a laptop"))
            }
            (Phase::Open, Message::DocSync(list))
                if self.cfg.role == Role::Laptop && self.opened && self.recon.reconciled =>
            {
                let rest = self.receive_early(replica, list)?;
                if !rest.is_empty() {
                    self.inbox_bytes += frame.len();
                    if self.inbox_bytes > self.cfg.limits.max_turn_bytes {
                        return Err(SyncError::LimitExceeded("bytes per turn"));
                    }
                    self.inbox.push(Message::DocSync(rest));
                }
                Ok(Vec::new())
            }
            (_, other) => {
                self.inbox_bytes += frame.len();
                if self.inbox_bytes > self.cfg.limits.max_turn_bytes {
                    return Err(SyncError::LimitExceeded("bytes per turn"));
                }
                self.inbox.push(other);
                Ok(Vec::new())
            }
        }
    }

    /// A `Done` frame: the peer answering mine, or the peer finishing first
    /// (allowed only after an empty turn of mine, and between turns).
    fn on_done<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        last: bool,
        changed: Vec<(DocId, FinalHeads)>,
    ) -> Result<Vec<Frame>, SyncError> {
        match self.phase {
            Phase::AwaitDone | Phase::PeerDone => {}
            Phase::Open if self.opened && self.my_idle && self.inbox.is_empty() => {
                self.phase = Phase::PeerDone;
            }
            _ => {
                return Err(SyncError::Unexpected {
                    message: "done",
                    when: "before two empty turns",
                });
            }
        }
        for (id, f) in changed {
            let hash = match f {
                FinalHeads::Deleted => None,
                FinalHeads::Heads(h) => Some(h),
                // What I announced: my start set, which the peer rebuilt
                // exactly (the digest said so).
                FinalHeads::AsAnnounced => match self.recon.start.get(&id) {
                    Some(h) => Some(*h),
                    None => return Err(SyncError::InconsistentDocSet),
                },
            };
            self.peer_done.push((id, hash));
        }
        if self.peer_done.len() > self.cfg.limits.max_docs {
            return Err(SyncError::LimitExceeded("documents"));
        }
        if !last {
            return Ok(Vec::new());
        }
        let reply = if self.phase == Phase::PeerDone {
            self.done_frames()
        } else {
            Vec::new()
        };
        self.finish(replica)?;
        Ok(reply)
    }

    /// The peer's turn ended: apply it, then send my turn or `Done`.
    fn end_turn<R: Replica + ?Sized>(&mut self, replica: &mut R) -> Result<Vec<Frame>, SyncError> {
        let turn = self.turn;
        let inbox = std::mem::take(&mut self.inbox);
        self.inbox_bytes = 0;
        let peer_idle = inbox.is_empty();
        let mut msgs = inbox.into_iter();
        if !self.opened {
            let Some(Message::Hello(hello)) = msgs.next() else {
                return Err(SyncError::Unexpected {
                    message: "turn-end",
                    when: "before hello",
                });
            };
            self.open(replica, &hello)?;
            self.opened = true;
        }
        let rest: Vec<Message> = msgs.collect();
        // New whole documents stored as their frames arrived are all in
        // before the rest of the turn is applied.
        self.store_all_early(replica)?;
        // Everything that can reject the turn is checked before the replica
        // is touched: a bad turn changes nothing (but for those documents).
        self.check_turn(&rest)?;
        let mut later = Vec::with_capacity(rest.len());
        for msg in rest {
            match msg {
                Message::DocSet(chunk) => self.on_doc_set(chunk)?,
                other => later.push(other),
            }
        }
        for msg in later {
            self.apply(replica, msg)?;
        }
        self.run_checks(replica)?;
        if !self.recon.reconciled && self.recon.peer_start.is_some() {
            self.reconcile(replica)?;
        }
        self.save_dirty(replica)?;
        self.retry_tombstones(replica)?;
        self.report.turns = turn + 1;
        if self.my_idle && peer_idle {
            self.phase = Phase::AwaitDone;
            return Ok(self.done_frames());
        }
        if turn + 1 >= self.cfg.limits.max_turns {
            return Err(SyncError::LimitExceeded("turns"));
        }
        let frames = self.emit_turn(replica, turn + 1)?;
        self.turn = turn + 2;
        Ok(frames)
    }

    /// Checks the peer's hello and loads this side's set and bookkeeping.
    fn open<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        hello: &Hello,
    ) -> Result<(), SyncError> {
        if hello.max_version < PROTOCOL_VERSION {
            return Err(SyncError::UnsupportedVersion(hello.max_version));
        }
        if hello.org != self.cfg.org {
            return Err(SyncError::WrongOrganisation);
        }
        if hello.node != self.cfg.peer {
            return Err(SyncError::NodeMismatch);
        }
        if hello.role != self.cfg.role.peer() {
            return Err(SyncError::WrongRole);
        }
        replica.admit(&self.peer).map_err(SyncError::Denied)?;
        replica.peer_audit_head(&self.peer, hello.audit_head)?;
        let record = replica.peer_record(&self.peer)?;
        let offered = replica.offered_set(&self.peer)?;
        self.recon.current = offered.heads.clone();
        self.recon.start = offered.heads;
        self.recon.kinds = offered.kinds;
        self.recon.agreed = record.agreed;
        self.tombstone_cursor = record.tombstone_cursor;
        self.report.docs_offered = self.recon.start.len();
        Ok(())
    }

    /// Session limits over a whole turn, before anything of it is applied.
    fn check_turn(&mut self, inbox: &[Message]) -> Result<(), SyncError> {
        let (mut audit, mut tombstones, mut docs) = (0, 0, 0);
        for m in inbox {
            match m {
                Message::AuditEntries(e) => audit += e.len(),
                Message::Tombstones(t) => tombstones += t.len(),
                Message::DocSync(d) => docs += d.len(),
                _ => {}
            }
        }
        self.audit_seen += audit;
        self.tombstones_seen += tombstones;
        self.blobs.check_turn(inbox, &self.cfg.limits)?;
        let limits = &self.cfg.limits;
        if self.audit_seen > limits.max_audit_entries {
            return Err(SyncError::LimitExceeded("audit entries"));
        }
        if self.tombstones_seen > limits.max_tombstones {
            return Err(SyncError::LimitExceeded("tombstones"));
        }
        if self.docs.len() + docs > limits.max_docs {
            return Err(SyncError::LimitExceeded("documents"));
        }
        Ok(())
    }

    /// Applies one message of the peer's turn (announcements are already in).
    fn apply<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        msg: Message,
    ) -> Result<(), SyncError> {
        match msg {
            Message::DocSetRequest => {
                self.recon.peer_wants_full = true;
                self.report.full_set_exchanged = true;
                Ok(())
            }
            Message::DocSync(list) => {
                let wholes = docs::decode_wholes(&list, self.cfg.limits.max_inflated_doc_bytes);
                for (m, whole) in list.into_iter().zip(wholes) {
                    self.receive_doc(replica, m, whole)?;
                }
                Ok(())
            }
            Message::Refused(list) => {
                for r in list {
                    replica.record_refusal(&self.peer, &r)?;
                    self.report.refused_by_peer.push(r);
                    if r.reason != crate::protocol::RefusedReason::NotPermitted {
                        self.close(r.doc);
                    }
                }
                Ok(())
            }
            Message::Revoke(ids) => {
                for id in ids {
                    replica.delete_revoked(&self.peer, id)?;
                    self.recon.remove_mine(id);
                    self.report.revoked.push(id);
                    self.close(id);
                }
                Ok(())
            }
            Message::AuditHeads(heads) => {
                self.audit_theirs.get_or_insert_with(Vec::new).extend(heads);
                Ok(())
            }
            Message::AuditEntries(raw) => {
                let mut entries = Vec::with_capacity(raw.len());
                for bytes in &raw {
                    match Entry::decode(bytes) {
                        Ok(e) => entries.push(e),
                        Err(_) => self.report.audit_rejected += 1,
                    }
                }
                if !entries.is_empty() {
                    let merged = replica.merge_audit(&self.peer, entries)?;
                    self.report.audit_added += merged.added;
                    self.report.audit_rejected += merged.rejected;
                }
                Ok(())
            }
            Message::Tombstones(list) => {
                for t in list {
                    self.on_tombstone(replica, &t)?;
                }
                Ok(())
            }
            other => {
                if self
                    .blobs
                    .apply(replica, &self.peer, &other, &mut self.report)?
                {
                    Ok(())
                } else {
                    Err(Self::unexpected(&other, "inside a turn"))
                }
            }
        }
    }

    /// Retries deferred tombstones (laptop); those still refused stay
    /// deferred and are reported as refused if the session ends with them.
    fn retry_tombstones<R: Replica + ?Sized>(&mut self, replica: &mut R) -> Result<(), SyncError> {
        for t in std::mem::take(&mut self.deferred_tombstones) {
            self.on_tombstone(replica, &t)?;
        }
        Ok(())
    }

    /// The session ends: deferred tombstones are refused for good.
    fn refuse_deferred(&mut self) {
        for t in std::mem::take(&mut self.deferred_tombstones) {
            self.report.refused_here.push(Refusal {
                doc: t.doc,
                reason: crate::protocol::RefusedReason::NotPermitted,
            });
        }
    }

    /// Applies a received tombstone. A laptop defers one refused as not
    /// permitted to the end of the turn (and again, until the session ends).
    fn on_tombstone<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        t: &crate::protocol::Tombstone,
    ) -> Result<(), SyncError> {
        use crate::replica::TombstoneOutcome;
        match replica.apply_tombstone(&self.peer, t)? {
            TombstoneOutcome::Refused(crate::protocol::RefusedReason::NotPermitted)
                if self.cfg.role == Role::Laptop =>
            {
                self.deferred_tombstones.push(*t);
            }
            TombstoneOutcome::Applied { deleted } => {
                self.report.tombstones_applied += 1;
                if deleted {
                    self.report.erased.push(t.doc);
                }
                self.recon.remove_mine(t.doc);
                self.close(t.doc);
            }
            TombstoneOutcome::Known => self.close(t.doc),
            TombstoneOutcome::Refused(reason) => {
                let r = Refusal { doc: t.doc, reason };
                self.report.refused_here.push(r);
                self.out_refusals.push(r);
            }
        }
        Ok(())
    }

    /// My frames of turn `t`.
    fn emit_turn<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        t: u32,
    ) -> Result<Vec<Frame>, SyncError> {
        let mut out = Outbox::with_sink(self.sink.take());
        if !self.announced {
            self.announced = true;
            if self.cfg.role == Role::Hub {
                out.push(self.hello(replica)?);
            }
            let delta = docset::delta(&self.recon.start, &self.recon.agreed);
            // An empty delta: my set is the agreed one, whose digest the
            // peer's announcement may already have needed.
            self.recon.mine_as_agreed = delta.is_empty();
            self.recon.my_delta = delta.iter().map(|(id, _)| *id).collect();
            let digest = if delta.is_empty() {
                self.recon.agreed_digest()
            } else {
                docset::digest(&self.recon.start)
            };
            push_doc_set(&mut out, false, digest, delta);
            let heads = replica.audit_heads(&self.peer)?;
            out.push_chunks(heads, MAX_ENTRIES_PER_FRAME, Message::AuditHeads, true);
            let batch = replica.tombstones_since(&self.peer, self.tombstone_cursor)?;
            self.report.tombstones_sent += batch.tombstones.len();
            self.tombstone_cursor = batch.cursor;
            out.push_chunks(
                batch.tombstones,
                MAX_ENTRIES_PER_FRAME,
                Message::Tombstones,
                false,
            );
        }
        if std::mem::take(&mut self.recon.peer_wants_full) {
            let digest = docset::digest(&self.recon.start);
            let full: Vec<_> = self
                .recon
                .start
                .iter()
                .map(|(i, h)| (*i, Some(*h)))
                .collect();
            push_doc_set(&mut out, true, digest, full);
        }
        if self.recon.need_full && !self.recon.requested {
            self.recon.requested = true;
            out.push(Message::DocSetRequest);
        }
        if let Some(theirs) = self.audit_theirs.take() {
            let entries = replica.audit_missing(&self.peer, &theirs)?;
            self.report.audit_sent += entries.len();
            out.push_chunks(
                entries,
                MAX_AUDIT_ENTRIES_PER_FRAME,
                Message::AuditEntries,
                false,
            );
        }
        let revokes = std::mem::take(&mut self.out_revokes);
        out.push_chunks(revokes, MAX_ENTRIES_PER_FRAME, Message::Revoke, false);
        self.generate(replica, &mut out)?;
        let refusals = std::mem::take(&mut self.out_refusals);
        out.push_chunks(refusals, MAX_ENTRIES_PER_FRAME, Message::Refused, false);
        self.blobs.emit(
            replica,
            &self.peer,
            &mut out,
            t,
            &self.cfg.limits,
            &mut self.report,
        )?;
        self.release_idle_docs();
        let (frames, idle) = out.finish(t);
        self.sink = out.take_sink();
        self.report.frames_sent += out.streamed.0;
        self.report.bytes_sent += out.streamed.1;
        self.my_idle = idle;
        Ok(frames)
    }

    fn close(&mut self, id: DocId) {
        self.docs.entry(id).or_insert_with(DocWork::closed).close();
        self.to_generate.remove(&id);
    }
}
