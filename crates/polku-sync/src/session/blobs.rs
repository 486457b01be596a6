//! Attachment files (liitteet) in a session.
//!
//! Documents carry only references to attachment files ([`AttachmentRef`]:
//! id, size, digest); the files follow in the same session, after the
//! documents that reference them:
//!
//! - A side whose turn would otherwise be empty asks for the files its
//!   documents reference and it lacks ([`Message::BlobWant`],
//!   [`crate::Replica::blob_wants`]; hub: only files of documents in the
//!   peer's scope). Asking only in an otherwise empty turn means the
//!   documents received so far are saved, so their references count.
//! - The peer answers in its following turns with the files in order, in
//!   pieces of at most [`MAX_BLOB_CHUNK_LEN`] and at most
//!   [`Limits::blob_bytes_per_turn`] per turn ([`Message::BlobChunk`]), or
//!   says it cannot give them ([`Message::BlobNone`]; hub: also when the
//!   referencing document is outside the asker's scope).
//! - The receiver accepts pieces only of files it asked for, in order
//!   (anything else ends the session as a protocol error, before anything of
//!   the turn is applied), and its replica checks the whole file against the
//!   size and digest of its own reference before storing it
//!   ([`crate::Replica::blob_write`]).
//! - Files never hold up the documents: they go last, no more are started
//!   when the session nears its turn limit, and what did not arrive is asked
//!   for again at the next session.
//!
//! [`AttachmentRef`]: polku_core::model::AttachmentRef

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use polku_core::AttachmentId;

use super::Limits;
use super::outbox::Outbox;
use crate::error::SyncError;
use crate::protocol::{BlobChunk, MAX_BLOB_CHUNK_LEN, MAX_ENTRIES_PER_FRAME, Message};
use crate::replica::{BlobWritten, Peer, Replica};
use crate::report::SyncReport;

/// Turns kept free of new file work at the end of a session, so that
/// documents still in play can finish within [`Limits::max_turns`].
const TURN_RESERVE: u32 = 8;

/// A file being received.
#[derive(Debug, Clone, Copy)]
struct Incoming {
    /// The offset the next piece must start at.
    next: u64,
    /// The size the first piece announced.
    total: Option<u64>,
    /// The replica dropped it: later pieces are skipped.
    dropped: bool,
}

/// The attachment-file state of one session.
#[derive(Debug, Default)]
pub(super) struct Blobs {
    /// Files I asked the peer for.
    asked: BTreeSet<AttachmentId>,
    /// Files asked for and not finished.
    incoming: BTreeMap<AttachmentId, Incoming>,
    /// Files the peer asked me for, in order; the front one is being sent.
    queue: VecDeque<AttachmentId>,
    /// Everything the peer asked for this session (each file is sent once).
    queued: BTreeSet<AttachmentId>,
    /// Offset of the next piece of the front file.
    offset: u64,
}

impl Blobs {
    /// Checks the blob messages of a turn before anything of it is applied:
    /// wants within the session's limit, pieces only of files asked for and
    /// in order.
    pub(super) fn check_turn(&self, inbox: &[Message], limits: &Limits) -> Result<(), SyncError> {
        let mut wants = self.queued.len();
        let mut seen: BTreeMap<AttachmentId, Incoming> = BTreeMap::new();
        for m in inbox {
            match m {
                Message::BlobWant(ids) => {
                    wants += ids.len();
                    if wants > limits.max_blob_wants {
                        return Err(SyncError::LimitExceeded("attachment files"));
                    }
                }
                Message::BlobChunk(c) => {
                    let state = match seen.get(&c.id) {
                        Some(s) => *s,
                        None => *self.incoming.get(&c.id).ok_or(SyncError::Unexpected {
                            message: "blob-chunk",
                            when: "for a file not asked for",
                        })?,
                    };
                    if state.next != c.offset || state.total.is_some_and(|t| t != c.total) {
                        return Err(SyncError::Unexpected {
                            message: "blob-chunk",
                            when: "out of order",
                        });
                    }
                    seen.insert(
                        c.id,
                        Incoming {
                            next: c.offset + c.data.len() as u64,
                            total: Some(c.total),
                            ..state
                        },
                    );
                    if c.is_last() {
                        // Finished: a further piece would be unexpected.
                        seen.insert(
                            c.id,
                            Incoming {
                                next: u64::MAX,
                                total: Some(c.total),
                                dropped: true,
                            },
                        );
                    }
                }
                Message::BlobNone(ids) => {
                    for id in ids {
                        // Given up: a further piece would be unexpected.
                        seen.insert(
                            *id,
                            Incoming {
                                next: u64::MAX,
                                total: None,
                                dropped: true,
                            },
                        );
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Applies one blob message of the peer's turn; `false` if `msg` is not one.
    pub(super) fn apply<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        peer: &Peer,
        msg: &Message,
        report: &mut SyncReport,
    ) -> Result<bool, SyncError> {
        match msg {
            Message::BlobWant(ids) => {
                for id in ids {
                    if self.queued.insert(*id) {
                        self.queue.push_back(*id);
                    }
                }
            }
            Message::BlobChunk(c) => self.receive(replica, peer, c, report)?,
            Message::BlobNone(ids) => {
                for id in ids {
                    if self.incoming.remove(id).is_some() {
                        report.blobs_unavailable += 1;
                    }
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn receive<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        peer: &Peer,
        c: &BlobChunk,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let Some(state) = self.incoming.get_mut(&c.id) else {
            // check_turn let it through: a piece of a file already finished
            // cannot reach here.
            return Err(SyncError::Unexpected {
                message: "blob-chunk",
                when: "for a file not asked for",
            });
        };
        state.next = c.offset + c.data.len() as u64;
        state.total = Some(c.total);
        let last = c.is_last();
        if !state.dropped {
            match replica.blob_write(peer, c)? {
                BlobWritten::Partial if !last => {}
                BlobWritten::Stored if last => report.blobs_received += 1,
                BlobWritten::Partial | BlobWritten::Stored | BlobWritten::Rejected => {
                    state.dropped = true;
                    report.blobs_rejected += 1;
                }
            }
        }
        if last {
            self.incoming.remove(&c.id);
        }
        Ok(())
    }

    /// My turn `turn`: pieces of the files the peer asked for, within the
    /// turn's budget; then, if the turn holds nothing else, what I lack.
    pub(super) fn emit<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        peer: &Peer,
        out: &mut Outbox,
        turn: u32,
        limits: &Limits,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let late = turn + TURN_RESERVE >= limits.max_turns;
        if !late {
            self.serve(replica, peer, out, limits, report)?;
        }
        if !late && !out.has_content() && self.asked.len() < limits.max_blob_wants {
            let room = limits.max_blob_wants - self.asked.len();
            let new: Vec<AttachmentId> = replica
                .blob_wants(peer, room)?
                .into_iter()
                .filter(|id| !self.asked.contains(id))
                .take(room)
                .collect();
            for id in &new {
                self.asked.insert(*id);
                self.incoming.insert(
                    *id,
                    Incoming {
                        next: 0,
                        total: None,
                        dropped: false,
                    },
                );
            }
            out.push_chunks(new, MAX_ENTRIES_PER_FRAME, Message::BlobWant, false);
        }
        Ok(())
    }

    fn serve<R: Replica + ?Sized>(
        &mut self,
        replica: &mut R,
        peer: &Peer,
        out: &mut Outbox,
        limits: &Limits,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let mut budget = limits.blob_bytes_per_turn.max(1);
        let mut none = Vec::new();
        while budget > 0 {
            let Some(&id) = self.queue.front() else {
                break;
            };
            let max = budget.min(MAX_BLOB_CHUNK_LEN);
            let piece = replica.blob_read(peer, id, self.offset, max)?;
            let fits = piece.as_ref().is_some_and(|p| {
                let end = self.offset + p.data.len() as u64;
                p.data.len() <= max && end <= p.total && (!p.data.is_empty() || end == p.total)
            });
            let Some(piece) = piece.filter(|_| fits) else {
                // Not held (or it changed under us): the peer forgets it.
                none.push(id);
                self.queue.pop_front();
                self.offset = 0;
                continue;
            };
            let len = piece.data.len();
            let chunk = BlobChunk {
                id,
                offset: self.offset,
                total: piece.total,
                data: piece.data,
            };
            let last = chunk.is_last();
            out.push(Message::BlobChunk(chunk));
            report.blob_bytes_sent += len as u64;
            budget = budget.saturating_sub(len.max(1));
            if last {
                report.blobs_sent += 1;
                self.queue.pop_front();
                self.offset = 0;
            } else {
                self.offset += len as u64;
            }
        }
        out.push_chunks(none, MAX_ENTRIES_PER_FRAME, Message::BlobNone, false);
        Ok(())
    }
}
