//! Polku's sync core: the protocol between a hub and a laptop, with no I/O.
//!
//! Events in, effects out: a [`Session`] takes received frames and returns
//! frames to send, reading and writing the document store only through the
//! [`Replica`] trait. It does no I/O, runs no async tasks, never reads a
//! clock and is deterministic (a large batch of whole documents is decoded
//! on scoped threads; the result does not depend on them), so whole networks of nodes are tested in-process
//! ([`testnet`], feature `testnet`). The iroh transport (an `Endpoint`, a
//! `Router` and a `ProtocolHandler` under [`protocol::ALPN`]) is a thin
//! adapter on top: open a bi-directional stream, feed frames both ways.
//!
//! # What a session does
//!
//! - **Authenticates** the peer: the hello must name the organisation, the
//!   node id the transport authenticated and the other role, and the replica
//!   must [admit](Replica::admit) it (hub: an enrolled, non-revoked device of
//!   an active user; laptop: its pinned hub). A refusal reaches the peer as an
//!   [`protocol::ErrorCode`].
//! - **Reconciles the document sets** at a cost that grows with what changed
//!   ([`docset`]): each side sends its delta against the set agreed with that
//!   peer at the end of their last completed session, plus a digest of its
//!   whole set; the full set is exchanged only when a cut session left the
//!   agreed sets apart (the digests tell).
//! - **Syncs only documents that differ.** A document the peer lacks is sent
//!   whole (its compacted save); one both hold goes through Automerge's sync
//!   protocol, starting from the per-peer sync state kept by the replica, so
//!   a resync costs bytes in proportion to the change. Messages of many
//!   documents share frames; messages per document are bounded (a hostile
//!   peer poisoning Bloom filters gets the document abandoned and reported,
//!   not a loop).
//! - **Enforces access scope** on the hub through the replica: it offers a
//!   laptop only what its user may view ([`Replica::doc_set`]) and applies
//!   only changes its user may make ([`Replica::accept_change`]). A refused
//!   change is rolled back on the hub, reported to the laptop (which keeps
//!   it and records the refusal, [`Replica::record_refusal`]) and the hub
//!   keeps sending the laptop its updates of that document. A document the
//!   user may no longer see is revoked: the laptop deletes it.
//! - **Exchanges audit chains** append-only by node and sequence number and
//!   **erasure tombstones** both ways (the receiver deletes its copy and
//!   refuses the id forever).
//! - **Isolates failures**: a document that cannot be read or applied is
//!   quarantined and reported and never blocks the others; a malformed frame
//!   ends the session with a typed error and nothing of its turn is applied.
//!
//! Errors and reports carry ids and codes, never personal data.
//!
//! # Driving a session over a stream
//!
//! ```text
//! write(session.start(&mut replica)?)
//! until session.is_done():
//!     frame = read one frame: 4-byte header, protocol::frame_len(header)?, payload
//!     match session.handle(&mut replica, &frame):
//!         Ok(frames) => write(frames)
//!         Err(e)     => write(session.farewell()) if any; close; return Err(e)
//! ```
//!
//! The sides take turns (see [`session`]): while one writes, the other
//! only reads, so this plain loop cannot stall on flow control, whatever
//! the sizes. A hub's `start` returns nothing (it waits for the laptop's
//! hello). `handle` does CPU work proportional to the frame (Automerge
//! decoding; a large batch of whole documents is decoded on all cores with
//! scoped threads), so an async adapter calls it off the reactor
//! (`spawn_blocking` or a dedicated thread). The replica is only
//! touched inside `start`/`handle`; lock it per call, never across a read.
//!
//! # Shape
//!
//! - [`protocol`]: frames, messages, limits, the decoder.
//! - [`docset`]: heads hashes, set digests, deltas.
//! - [`Replica`]: the store side; [`mem::MemReplica`] keeps everything in memory.
//! - [`session`]: the state machine ([`Session`]) and its turns; [`SyncReport`]: what it did.
//! - [`testnet`]: named nodes, `connect`, `run_until_quiescent`, faults.

pub mod conflicts;
pub mod docset;
mod error;
pub mod inflate;
pub mod protocol;
mod replica;
mod report;
pub mod session;

#[cfg(any(test, feature = "testnet"))]
pub mod mem;
#[cfg(any(test, feature = "testnet"))]
pub mod testnet;

pub use docset::{HeadsHash, heads_hash};
pub use error::SyncError;
pub use protocol::{Frame, Role};
pub use replica::{
    AuditMerge, BlobPiece, BlobWritten, ChangeCheck, Denial, DocEntry, DocStatus, DocWrite,
    ExportedDoc, LoadedDoc, OfferedSet, Peer, PeerCommit, PeerRecord, QuarantineReason, Replica,
    ReplicaError, TombstoneBatch, TombstoneOutcome,
};
pub use report::SyncReport;
pub use session::{Limits, Session, SessionConfig, Sink};
