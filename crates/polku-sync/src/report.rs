//! What a session did, for the app and the CLI (`polku sync` prints it).

use polku_audit::NodeId;
use polku_core::DocId;

use crate::protocol::{Refusal, Role};
use crate::replica::QuarantineReason;

/// The summary of one session, from one side's point of view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// The peer.
    pub peer: NodeId,
    /// This side's role.
    pub role: Role,
    /// Whether the session completed (both sides sent `Done`).
    pub completed: bool,
    /// Turns exchanged (both sides').
    pub turns: u32,
    /// Frames sent.
    pub frames_sent: u64,
    /// Frames received.
    pub frames_received: u64,
    /// Bytes sent (length prefixes included).
    pub bytes_sent: u64,
    /// Bytes received (length prefixes included).
    pub bytes_received: u64,
    /// Documents this side offered (its scoped set at session start).
    pub docs_offered: usize,
    /// Documents whose heads differed between the two sides.
    pub docs_differing: usize,
    /// Whether the delta did not suffice and a full set was exchanged.
    pub full_set_exchanged: bool,
    /// Documents for which this side sent changes or a whole document.
    pub docs_sent: usize,
    /// Documents changed here by what the peer sent.
    pub docs_received: usize,
    /// Documents created here by what the peer sent.
    pub docs_created: usize,
    /// Our documents or changes the peer refused (recorded in the replica).
    pub refused_by_peer: Vec<Refusal>,
    /// The peer's documents or changes this side refused.
    pub refused_here: Vec<Refusal>,
    /// Documents deleted here because the hub revoked them.
    pub revoked: Vec<DocId>,
    /// Documents the hub told the peer to delete (hub side).
    pub revoked_at_peer: Vec<DocId>,
    /// Documents deleted here by a received tombstone.
    pub erased: Vec<DocId>,
    /// Documents quarantined here, with why.
    pub quarantined: Vec<(DocId, QuarantineReason)>,
    /// Documents abandoned for needing too many messages.
    pub round_limited: Vec<DocId>,
    /// Documents changed by this session that now hold concurrent values of
    /// one field (shown to a person to resolve).
    pub conflicted: Vec<DocId>,
    /// Audit entries sent.
    pub audit_sent: usize,
    /// Audit entries received and added.
    pub audit_added: usize,
    /// Audit entries received and refused.
    pub audit_rejected: usize,
    /// Tombstones sent.
    pub tombstones_sent: usize,
    /// Tombstones received and applied.
    pub tombstones_applied: usize,
    /// Attachment files sent whole.
    pub blobs_sent: usize,
    /// Attachment file bytes sent.
    pub blob_bytes_sent: u64,
    /// Attachment files received, checked and stored.
    pub blobs_received: usize,
    /// Attachment files received that did not match their reference (dropped).
    pub blobs_rejected: usize,
    /// Attachment files asked for that the peer could not give.
    pub blobs_unavailable: usize,
}

impl SyncReport {
    pub(crate) fn new(peer: NodeId, role: Role) -> Self {
        Self {
            peer,
            role,
            completed: false,
            turns: 0,
            frames_sent: 0,
            frames_received: 0,
            bytes_sent: 0,
            bytes_received: 0,
            docs_offered: 0,
            docs_differing: 0,
            full_set_exchanged: false,
            docs_sent: 0,
            docs_received: 0,
            docs_created: 0,
            refused_by_peer: Vec::new(),
            refused_here: Vec::new(),
            revoked: Vec::new(),
            revoked_at_peer: Vec::new(),
            erased: Vec::new(),
            quarantined: Vec::new(),
            round_limited: Vec::new(),
            conflicted: Vec::new(),
            audit_sent: 0,
            audit_added: 0,
            audit_rejected: 0,
            tombstones_sent: 0,
            tombstones_applied: 0,
            blobs_sent: 0,
            blob_bytes_sent: 0,
            blobs_received: 0,
            blobs_rejected: 0,
            blobs_unavailable: 0,
        }
    }

    /// Whether nothing moved: no document, audit entry or tombstone changed
    /// hands and nothing was refused, revoked or quarantined.
    pub fn is_quiet(&self) -> bool {
        self.docs_sent == 0
            && self.docs_received == 0
            && self.refused_by_peer.is_empty()
            && self.refused_here.is_empty()
            && self.revoked.is_empty()
            && self.revoked_at_peer.is_empty()
            && self.erased.is_empty()
            && self.quarantined.is_empty()
            && self.round_limited.is_empty()
            && self.audit_sent == 0
            && self.audit_added == 0
            && self.tombstones_sent == 0
            && self.tombstones_applied == 0
            && self.blobs_sent == 0
            && self.blobs_received == 0
            && self.blobs_rejected == 0
    }
}
