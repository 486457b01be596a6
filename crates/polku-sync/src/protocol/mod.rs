//! The wire protocol: versioned messages in length-prefixed frames.
//!
//! A connection carries a sequence of **frames**. A frame is a `u32`
//! little-endian payload length followed by the payload; the payload is at
//! most [`MAX_FRAME_LEN`] bytes and never empty. A payload starts with the
//! protocol version byte ([`PROTOCOL_VERSION`]) and a message tag, then the
//! message body (layouts in [`codec`]).
//!
//! [`decode_frame`] and [`FrameDecoder`] accept arbitrary bytes: any input
//! gives a [`Message`] or a typed [`ProtocolError`], never a panic, and no
//! allocation larger than the input. Every count and length is checked
//! against the limits below before anything is read.
//!
//! **Do not change** a released version's layouts, tags or codes: peers of
//! different builds talk to each other. A new layout needs a new protocol
//! version (and a new [`ALPN`]).
//!
//! Version 2 (this one) replaced version 1, which was never released: a hello
//! carries the sender's audit-chain head and a tombstone is signed by the
//! node that erased (see [`codec`]). Version 2 is not released either; its
//! attachment-file messages (tags 13–15) and `Done`'s "as announced" final
//! heads ([`FinalHeads::AsAnnounced`]) were added before any release. A version 1 frame is refused with
//! [`ProtocolError::UnsupportedVersion`].

pub mod codec;

use chrono::{DateTime, Utc};
use polku_audit::{EntryHash, EntrySignature, Head, NodeId, NodeKey};
use polku_core::{AttachmentId, DocId, DocKind, OrgId, UserId};

use crate::docset::{HeadsHash, SetDigest};

pub use codec::{FrameDecoder, decode_frame, decode_payload, frame_len};

/// ALPN under which the protocol is mounted on an iroh endpoint.
pub const ALPN: &[u8] = b"polku/sync/2";

/// The protocol version byte at the start of every payload.
pub const PROTOCOL_VERSION: u8 = 2;

/// Bytes of the length prefix of a frame.
pub const FRAME_HEADER_LEN: usize = 4;

/// Largest payload of one frame (16 MiB).
pub const MAX_FRAME_LEN: usize = 16 * 1024 * 1024;

/// Size a sender aims for when it packs many documents' messages into one
/// frame (256 KiB: small enough that a receiver stores the first documents
/// while the next frames arrive); a single larger message goes in a frame of
/// its own.
pub const TARGET_FRAME_LEN: usize = 256 * 1024;

/// Most per-document messages in one [`Message::DocSync`] frame.
pub const MAX_DOCS_PER_FRAME: usize = 4096;

/// Largest per-document message (an Automerge sync message or a whole
/// saved document): 8 MiB. A document that needs more is reported, not sent.
pub const MAX_DOC_MESSAGE_LEN: usize = 8 * 1024 * 1024;

/// Most entries in one frame of a list message: doc-set entries, final
/// heads, refusals, revocations, tombstones, audit heads.
pub const MAX_ENTRIES_PER_FRAME: usize = 65_536;

/// Most audit entries in one [`Message::AuditEntries`] frame.
pub const MAX_AUDIT_ENTRIES_PER_FRAME: usize = 16_384;

/// Largest piece of an attachment file in one [`Message::BlobChunk`] (1 MiB).
pub const MAX_BLOB_CHUNK_LEN: usize = 1024 * 1024;

/// The two roles of a session. A session is always between a hub and a laptop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The organisation's hub: holds everything, enforces access scope.
    Hub,
    /// A worker's laptop: holds what its user may see.
    Laptop,
}

impl Role {
    /// Wire code. Do not change.
    pub fn code(self) -> u8 {
        match self {
            Role::Hub => 1,
            Role::Laptop => 2,
        }
    }
    /// Inverse of [`Role::code`].
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Role::Hub),
            2 => Some(Role::Laptop),
            _ => None,
        }
    }
    /// The role a peer of this role must have.
    pub fn peer(self) -> Role {
        match self {
            Role::Hub => Role::Laptop,
            Role::Laptop => Role::Hub,
        }
    }
}

/// The first message of each side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// Highest protocol version the sender speaks (the frame carries the one in use).
    pub max_version: u8,
    /// The organisation the sender belongs to.
    pub org: OrgId,
    /// The sender's node id; must equal the id the transport authenticated.
    pub node: NodeId,
    /// The sender's role.
    pub role: Role,
    /// The head of the sender's own audit chain (`None`: no entry yet). The
    /// receiver keeps the highest head a node ever announced: entries removed
    /// from that node's store afterwards show up as a gap.
    pub audit_head: Option<Head>,
}

/// One frame of a document-set announcement (see [`crate::docset`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocSetChunk {
    /// `false`: the entries are a delta against the set last agreed with the
    /// receiver (`None` = removed); `true`: the entries are the whole set.
    pub full: bool,
    /// Whether this is the last chunk of the announcement.
    pub last: bool,
    /// Digest of the sender's whole (scoped) set at session start.
    pub digest: SetDigest,
    /// Entries, in any order.
    pub entries: Vec<(DocId, Option<HeadsHash>)>,
}

/// The payload of one per-document message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocBody {
    /// An encoded Automerge sync message (`automerge::sync::Message::encode`).
    Sync(Vec<u8>),
    /// A whole saved document (`AutoCommit::save`), sent to a peer that does
    /// not hold the document at all.
    Whole(Vec<u8>),
}

impl DocBody {
    /// The payload bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            DocBody::Sync(b) | DocBody::Whole(b) => b,
        }
    }
}

/// One document's message inside a [`Message::DocSync`] batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocMessage {
    /// The document.
    pub id: DocId,
    /// Its kind.
    pub kind: DocKind,
    /// The payload.
    pub body: DocBody,
}

/// A piece of an attachment file (liite), in order: the receiver asked for
/// the file with [`Message::BlobWant`] and checks the whole file against the
/// size and digest its own copy of the referencing document records.
#[derive(Clone, PartialEq, Eq)]
pub struct BlobChunk {
    /// The attachment.
    pub id: AttachmentId,
    /// Where `data` starts in the file.
    pub offset: u64,
    /// The file's size as the sender holds it.
    pub total: u64,
    /// The bytes (plaintext of the file; the connection is encrypted).
    pub data: Vec<u8>,
}

impl BlobChunk {
    /// Whether this is the file's last piece.
    pub fn is_last(&self) -> bool {
        self.offset + self.data.len() as u64 == self.total
    }
}

impl std::fmt::Debug for BlobChunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobChunk")
            .field("id", &self.id)
            .field("offset", &self.offset)
            .field("total", &self.total)
            .field("len", &self.data.len())
            .finish()
    }
}

/// Why a document (or a change to it) was not accepted. Carries no content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefusedReason {
    /// The peer's user may not see this document.
    OutOfScope,
    /// The peer's user may not make this change.
    NotPermitted,
    /// The document was erased; its id is refused forever.
    Erased,
    /// The bytes could not be read or applied (quarantined).
    Corrupt,
    /// The document is larger than [`MAX_DOC_MESSAGE_LEN`].
    TooLarge,
    /// The document needed more messages than the session allows.
    RoundLimit,
    /// The document is not valid here (e.g. its kind does not match).
    Invalid,
    /// A code from a newer build.
    Other(u8),
}

impl RefusedReason {
    /// Wire code. Do not change.
    pub fn code(self) -> u8 {
        match self {
            RefusedReason::OutOfScope => 1,
            RefusedReason::NotPermitted => 2,
            RefusedReason::Erased => 3,
            RefusedReason::Corrupt => 4,
            RefusedReason::TooLarge => 5,
            RefusedReason::RoundLimit => 6,
            RefusedReason::Invalid => 7,
            RefusedReason::Other(c) => c,
        }
    }
    /// Inverse of [`RefusedReason::code`]; unknown codes become [`RefusedReason::Other`].
    pub fn from_code(code: u8) -> Self {
        match code {
            1 => RefusedReason::OutOfScope,
            2 => RefusedReason::NotPermitted,
            3 => RefusedReason::Erased,
            4 => RefusedReason::Corrupt,
            5 => RefusedReason::TooLarge,
            6 => RefusedReason::RoundLimit,
            7 => RefusedReason::Invalid,
            c => RefusedReason::Other(c),
        }
    }
}

impl std::fmt::Display for RefusedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RefusedReason::OutOfScope => f.write_str("out of the user's scope"),
            RefusedReason::NotPermitted => f.write_str("the user may not make this change"),
            RefusedReason::Erased => f.write_str("the document was erased"),
            RefusedReason::Corrupt => f.write_str("the document could not be read or applied"),
            RefusedReason::TooLarge => f.write_str("the document is too large to sync"),
            RefusedReason::RoundLimit => f.write_str("the document needed too many messages"),
            RefusedReason::Invalid => f.write_str("the document is not valid"),
            RefusedReason::Other(c) => write!(f, "refused (code {c})"),
        }
    }
}

/// A document the sender did not accept, reported back so it is never lost silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Refusal {
    /// The document.
    pub doc: DocId,
    /// Why.
    pub reason: RefusedReason,
}

/// The head of one node's audit chain, as exchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuditHead {
    /// The node whose chain it is.
    pub node: NodeId,
    /// Sequence number of the chain's last entry.
    pub seq: u64,
    /// Hash of the chain's last entry.
    pub hash: EntryHash,
}

/// Signing context of a tombstone's signature. Do not change.
pub const TOMBSTONE_CONTEXT: &[u8] = b"polku/tombstone/v1\0";

/// An erased document: every peer deletes its copy and refuses the id forever.
///
/// Signed by the node that erased it ([`Tombstone::sign`]), so every receiver
/// can check ([`Tombstone::verify`]) which node and user erased what, whoever
/// relayed it. Whether that node's user may erase is the receiver's decision
/// ([`crate::Replica::apply_tombstone`]); an organisation document is never
/// erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tombstone {
    /// The erased document.
    pub doc: DocId,
    /// Its kind.
    pub kind: DocKind,
    /// When it was erased (microsecond precision).
    pub erased_at: DateTime<Utc>,
    /// The node that erased it and signed this tombstone.
    pub node: NodeId,
    /// The user who erased it on that node.
    pub user: UserId,
    /// `node`'s signature over [`Tombstone::signed_bytes`], after [`TOMBSTONE_CONTEXT`].
    pub signature: EntrySignature,
}

impl Tombstone {
    /// A tombstone signed by `key` (the erasing node's key). The time is cut
    /// to whole microseconds, as the wire carries it.
    pub fn sign(
        key: &NodeKey,
        doc: DocId,
        kind: DocKind,
        user: UserId,
        erased_at: DateTime<Utc>,
    ) -> Tombstone {
        let erased_at =
            DateTime::from_timestamp_micros(erased_at.timestamp_micros()).unwrap_or(erased_at);
        let mut t = Tombstone {
            doc,
            kind,
            erased_at,
            node: key.node_id(),
            user,
            signature: EntrySignature([0; 64]),
        };
        t.signature = key.sign_detached(TOMBSTONE_CONTEXT, &t.signed_bytes());
        t
    }

    /// The bytes the signature covers: id (16), kind code (1), erased at
    /// (i64 µs, little-endian), node (32), user (16).
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(73);
        out.extend_from_slice(self.doc.0.as_bytes());
        out.push(self.kind.code());
        out.extend_from_slice(&self.erased_at.timestamp_micros().to_le_bytes());
        out.extend_from_slice(self.node.as_bytes());
        out.extend_from_slice(self.user.as_bytes());
        out
    }

    /// Whether the signature is `node`'s over the other fields.
    pub fn verify(&self) -> bool {
        self.node
            .verify_detached(TOMBSTONE_CONTEXT, &self.signed_bytes(), &self.signature)
    }
}

/// Why a session was ended by one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A malformed or unexpected message.
    Protocol,
    /// No common protocol version.
    UnsupportedVersion,
    /// The peer belongs to another organisation.
    WrongOrganisation,
    /// The node is not enrolled with this hub.
    NotEnrolled,
    /// The device was revoked.
    DeviceRevoked,
    /// The device's user is deactivated.
    UserDeactivated,
    /// The hub is not the one this laptop is pinned to.
    HubMismatch,
    /// The laptop must re-authenticate online (offline lease expired).
    ReauthRequired,
    /// The peer's hello names a node other than the connection's.
    NodeMismatch,
    /// Both sides have the same role.
    WrongRole,
    /// A size or turn limit was exceeded.
    LimitExceeded,
    /// The sender's store failed.
    Internal,
    /// A code from a newer build.
    Other(u8),
}

impl ErrorCode {
    /// Wire code. Do not change.
    pub fn code(self) -> u8 {
        match self {
            ErrorCode::Protocol => 1,
            ErrorCode::UnsupportedVersion => 2,
            ErrorCode::WrongOrganisation => 3,
            ErrorCode::NotEnrolled => 4,
            ErrorCode::DeviceRevoked => 5,
            ErrorCode::UserDeactivated => 6,
            ErrorCode::HubMismatch => 7,
            ErrorCode::ReauthRequired => 8,
            ErrorCode::NodeMismatch => 9,
            ErrorCode::WrongRole => 10,
            ErrorCode::LimitExceeded => 11,
            ErrorCode::Internal => 12,
            ErrorCode::Other(c) => c,
        }
    }
    /// Inverse of [`ErrorCode::code`]; unknown codes become [`ErrorCode::Other`].
    pub fn from_code(code: u8) -> Self {
        match code {
            1 => ErrorCode::Protocol,
            2 => ErrorCode::UnsupportedVersion,
            3 => ErrorCode::WrongOrganisation,
            4 => ErrorCode::NotEnrolled,
            5 => ErrorCode::DeviceRevoked,
            6 => ErrorCode::UserDeactivated,
            7 => ErrorCode::HubMismatch,
            8 => ErrorCode::ReauthRequired,
            9 => ErrorCode::NodeMismatch,
            10 => ErrorCode::WrongRole,
            11 => ErrorCode::LimitExceeded,
            12 => ErrorCode::Internal,
            c => ErrorCode::Other(c),
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            ErrorCode::Protocol => "malformed or unexpected message",
            ErrorCode::UnsupportedVersion => "unsupported protocol version",
            ErrorCode::WrongOrganisation => "peer belongs to another organisation",
            ErrorCode::NotEnrolled => "device is not enrolled",
            ErrorCode::DeviceRevoked => "device was revoked",
            ErrorCode::UserDeactivated => "user is deactivated",
            ErrorCode::HubMismatch => "hub is not the pinned hub",
            ErrorCode::ReauthRequired => "online re-authentication required",
            ErrorCode::NodeMismatch => "hello names another node than the connection",
            ErrorCode::WrongRole => "both peers have the same role",
            ErrorCode::LimitExceeded => "a size or turn limit was exceeded",
            ErrorCode::Internal => "the peer's store failed",
            ErrorCode::Other(c) => return write!(f, "error code {c}"),
        };
        f.write_str(text)
    }
}

/// A decoded message. One frame carries one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Who the sender is (its first turn).
    Hello(Hello),
    /// The sender has sent everything of this turn; the receiver's turn.
    TurnEnd {
        /// The turn that ends.
        turn: u32,
    },
    /// (Part of) the sender's document set: delta or full.
    DocSet(DocSetChunk),
    /// The receiver could not reconstruct the sender's set from its delta:
    /// send the full set.
    DocSetRequest,
    /// Per-document messages, batched.
    DocSync(Vec<DocMessage>),
    /// Documents or changes the sender did not accept.
    Refused(Vec<Refusal>),
    /// Hub to laptop: the laptop's user may no longer see these documents;
    /// delete them.
    Revoke(Vec<DocId>),
    /// The heads of the audit chains the sender shares with the receiver.
    AuditHeads(Vec<AuditHead>),
    /// Encoded audit entries (`polku_audit::Entry::encode`) the receiver lacks.
    AuditEntries(Vec<Vec<u8>>),
    /// Erasure tombstones the receiver has not acknowledged yet.
    Tombstones(Vec<Tombstone>),
    /// Attachment files the sender's documents reference and it lacks.
    BlobWant(Vec<AttachmentId>),
    /// A piece of a wanted attachment file.
    BlobChunk(BlobChunk),
    /// Wanted attachment files the sender cannot give (it does not hold
    /// them, or the receiver may not have them).
    BlobNone(Vec<AttachmentId>),
    /// The sender is finished: the final heads of the documents whose heads
    /// changed on its side during the session.
    Done {
        /// Whether this is the last `Done` frame.
        last: bool,
        /// Changed documents.
        changed: Vec<(DocId, FinalHeads)>,
    },
    /// The sender ends the session.
    Error(ErrorCode),
}

/// A document's final heads in [`Message::Done`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalHeads {
    /// Deleted on the sender's side.
    Deleted,
    /// These heads.
    Heads(HeadsHash),
    /// The heads the receiver announced for it at the start of the session
    /// (a document received whole and stored as it came: 32 bytes less each,
    /// which in a first sync is most of what the laptop sends).
    AsAnnounced,
}

impl Message {
    /// A short name for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Message::Hello(_) => "hello",
            Message::TurnEnd { .. } => "turn-end",
            Message::DocSet(_) => "doc-set",
            Message::DocSetRequest => "doc-set-request",
            Message::DocSync(_) => "doc-sync",
            Message::Refused(_) => "refused",
            Message::Revoke(_) => "revoke",
            Message::AuditHeads(_) => "audit-heads",
            Message::AuditEntries(_) => "audit-entries",
            Message::Tombstones(_) => "tombstones",
            Message::BlobWant(_) => "blob-want",
            Message::BlobChunk(_) => "blob-chunk",
            Message::BlobNone(_) => "blob-none",
            Message::Done { .. } => "done",
            Message::Error(_) => "error",
        }
    }

    /// Encodes the message as one frame (length prefix included).
    ///
    /// The caller keeps within the limits (the session does); a message
    /// over them is still encoded but its receiver refuses it.
    pub fn encode(&self) -> Frame {
        Frame(codec::encode(self))
    }
}

/// One encoded frame: the `u32` little-endian length prefix and the payload,
/// ready to write to a stream.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame(pub(crate) Vec<u8>);

impl Frame {
    /// The bytes to write (length prefix included).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    /// The bytes to write, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
    /// Total length in bytes, prefix included.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Never true for a frame built by [`Message::encode`].
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Frame({} bytes)", self.0.len())
    }
}

/// Why bytes are not a valid frame. Carries no content of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The input ends before the frame or a field does.
    #[error("frame ends early")]
    Truncated,
    /// The length prefix announces more than [`MAX_FRAME_LEN`].
    #[error("frame of {len} bytes is larger than {MAX_FRAME_LEN}")]
    FrameTooLarge {
        /// Announced payload length.
        len: usize,
    },
    /// A frame with an empty payload.
    #[error("empty frame")]
    EmptyFrame,
    /// The payload is followed by more bytes than its length says.
    #[error("{count} bytes after the end of the frame")]
    TrailingBytes {
        /// Extra bytes.
        count: usize,
    },
    /// The payload's version byte is not spoken here.
    #[error("protocol version {0} is not supported (expected {PROTOCOL_VERSION})")]
    UnsupportedVersion(u8),
    /// The message tag is unknown.
    #[error("unknown message tag {0}")]
    UnknownTag(u8),
    /// A count above its limit.
    #[error("{what}: {count} items, more than {max}")]
    TooMany {
        /// The field.
        what: &'static str,
        /// Announced count.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A length above its limit.
    #[error("{what}: {len} bytes, more than {max}")]
    TooLong {
        /// The field.
        what: &'static str,
        /// Announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field holds a value outside its range (unknown code, bad flag, bad time).
    #[error("invalid value in field {0}")]
    InvalidValue(&'static str),
}
