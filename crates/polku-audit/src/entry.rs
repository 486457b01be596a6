//! The audit [`Entry`], its identity ([`EntryRef`], [`EntryHash`]) and the
//! [`Head`] of a chain.

use std::fmt;

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, VerifyingKey};
use polku_core::UserId;
use uuid::Uuid;

use crate::action::Action;
use crate::detail::Detail;
use crate::key::{EntryHash, EntrySignature, NodeId, NodeKey};
use crate::wire::{self, DecodeError, SIGNING_CONTEXT};

/// One signed entry of a node's audit chain.
///
/// A valid entry (see [`crate::verify_entry`] and [`crate::verify_link`]):
/// - is signed by `node`'s key over its canonical encoding ([`crate::wire`]);
/// - has `seq` 0 and no `prev_hash` if it is the first entry of its chain;
/// - otherwise has `seq` one more than its predecessor's and `prev_hash` equal
///   to the predecessor's [`Entry::hash`].
///
/// Sequence numbers start at **0**. The time is the caller's UTC clock at the
/// event, kept to the microsecond; it is recorded, not trusted for ordering
/// (laptop clocks drift), so nothing requires it to grow along the chain.
///
/// No field can hold personal data: the user and target are random UUIDs and
/// the [`Detail`] is built from counts, closed enums and static codes. Entries
/// stay when their client is erased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    /// Position in the node's chain, from 0.
    pub seq: u64,
    /// Hash of the previous entry of the chain; `None` for seq 0.
    pub prev_hash: Option<EntryHash>,
    /// When it happened (UTC, microsecond precision), from the caller.
    pub time: DateTime<Utc>,
    /// Who acted; `None` when unknown (a failed login of an unknown user).
    pub user: Option<UserId>,
    /// The node that wrote and signed the entry.
    pub node: NodeId,
    /// What happened.
    pub action: Action,
    /// What it happened to: a client, document, user or device id.
    pub target: Option<Uuid>,
    /// More about it, without personal data.
    pub detail: Detail,
    /// `node`'s signature over the encoding of all the fields above.
    pub signature: EntrySignature,
}

/// Names one entry: its node and sequence number. Printed as `node#seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryRef {
    /// The node whose chain holds the entry.
    pub node: NodeId,
    /// The entry's position in that chain.
    pub seq: u64,
}

impl fmt::Display for EntryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.node, self.seq)
    }
}

/// The newest entry of a chain: what two peers compare to find out what the
/// other lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Head {
    /// Sequence number of the last entry.
    pub seq: u64,
    /// Hash of the last entry.
    pub hash: EntryHash,
}

/// The fields of an entry before signing.
#[derive(Debug)]
pub(crate) struct Draft {
    pub(crate) seq: u64,
    pub(crate) prev_hash: Option<EntryHash>,
    pub(crate) time: DateTime<Utc>,
    pub(crate) user: Option<UserId>,
    pub(crate) action: Action,
    pub(crate) target: Option<Uuid>,
    pub(crate) detail: Detail,
}

impl Entry {
    /// The canonical encoding (see [`crate::wire`]): what the store persists
    /// and sync sends.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(192);
        wire::put_entry(self, &mut out);
        out
    }

    /// Appends the canonical encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        wire::put_entry(self, out);
    }

    /// Decodes an entry. Any input gives an entry or an error, never a panic;
    /// input longer than [`wire::MAX_ENCODED_LEN`] is refused unread.
    ///
    /// Decoding checks only the format; [`crate::verify_entry`] checks the
    /// signature.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        wire::decode(bytes)
    }

    /// BLAKE3 of the full encoding (signature included): the entry's identity
    /// and its successor's `prev_hash`.
    pub fn hash(&self) -> EntryHash {
        let mut buf = Vec::with_capacity(192);
        wire::put_entry(self, &mut buf);
        EntryHash(*blake3::hash(&buf).as_bytes())
    }

    /// The bytes the signature covers, after [`SIGNING_CONTEXT`]: the whole
    /// encoding but the signature.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        wire::put_signed(self, &mut out);
        out
    }

    /// This entry's node and sequence number.
    pub fn entry_ref(&self) -> EntryRef {
        EntryRef {
            node: self.node,
            seq: self.seq,
        }
    }

    /// Signs a draft with `key`; returns the entry and its hash. The time is
    /// cut to whole microseconds first, so the entry equals its decoding.
    pub(crate) fn sign(key: &NodeKey, draft: Draft, scratch: &mut Scratch) -> (Self, EntryHash) {
        let time =
            DateTime::from_timestamp_micros(draft.time.timestamp_micros()).unwrap_or(draft.time);
        let mut entry = Entry {
            seq: draft.seq,
            prev_hash: draft.prev_hash,
            time,
            user: draft.user,
            node: key.node_id(),
            action: draft.action,
            target: draft.target,
            detail: draft.detail,
            signature: EntrySignature([0; 64]),
        };
        scratch.fill_signed(&entry);
        entry.signature = key.sign(&scratch.buf);
        let hash = scratch.hash_filled(&entry.signature);
        (entry, hash)
    }
}

/// A reusable buffer for signing and checking entries without allocating.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scratch {
    buf: Vec<u8>,
}

impl Scratch {
    /// Fills the buffer with the signing context and the signed bytes.
    fn fill_signed(&mut self, entry: &Entry) {
        self.buf.clear();
        self.buf.extend_from_slice(SIGNING_CONTEXT);
        wire::put_signed(entry, &mut self.buf);
    }

    /// Hash of the filled entry with `signature` appended.
    fn hash_filled(&self, signature: &EntrySignature) -> EntryHash {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&self.buf[SIGNING_CONTEXT.len()..]);
        hasher.update(signature.as_bytes());
        EntryHash(*hasher.finalize().as_bytes())
    }

    /// Checks `entry`'s signature with `key` (strict ed25519: no malleable
    /// signatures, no weak keys); on success returns the entry's hash.
    pub(crate) fn check(&mut self, entry: &Entry, key: &VerifyingKey) -> Option<EntryHash> {
        self.fill_signed(entry);
        let signature = Signature::from_bytes(entry.signature.as_bytes());
        key.verify_strict(&self.buf, &signature).ok()?;
        Some(self.hash_filled(&entry.signature))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detail::Code;

    fn draft(seq: u64) -> Draft {
        Draft {
            seq,
            prev_hash: None,
            time: DateTime::from_timestamp_nanos(1_750_000_000_123_456_789),
            user: Some(UserId::from_parts(1_750_000_000_000, [1; 10])),
            action: Action::Export,
            target: Some(Uuid::from_bytes([9; 16])),
            detail: Detail::CodeCount {
                code: Code::new("parkki_csv").unwrap_or_else(|_| unreachable!()),
                count: 42,
            },
        }
    }

    #[test]
    fn signed_entry_round_trips_and_hashes_its_encoding() {
        let key = NodeKey::from_bytes(&[3; 32]);
        let (entry, hash) = Entry::sign(&key, draft(0), &mut Scratch::default());
        assert_eq!(
            entry.time.timestamp_subsec_nanos(),
            123_456_000,
            "cut to microseconds"
        );
        let bytes = entry.encode();
        assert_eq!(Entry::decode(&bytes), Ok(entry.clone()));
        assert_eq!(entry.hash(), hash);
        assert_eq!(hash.0, *blake3::hash(&bytes).as_bytes());
        assert_eq!(bytes[..bytes.len() - 64], entry.signed_bytes()[..]);
        assert_eq!(bytes[0], wire::FORMAT_VERSION);
    }

    #[test]
    fn scratch_check_accepts_own_signature_and_refuses_others() {
        let key = NodeKey::from_bytes(&[3; 32]);
        let other = NodeKey::from_bytes(&[4; 32]);
        let mut scratch = Scratch::default();
        let (entry, hash) = Entry::sign(&key, draft(0), &mut scratch);
        let vk = key.node_id().verifying_key();
        let other_vk = other.node_id().verifying_key();
        assert_eq!(vk.and_then(|k| scratch.check(&entry, &k)), Some(hash));
        assert_eq!(other_vk.and_then(|k| scratch.check(&entry, &k)), None);
    }

    #[test]
    fn a_sync_entry_names_its_peer_node_and_round_trips() {
        let key = NodeKey::from_bytes(&[3; 32]);
        let peer = NodeKey::from_bytes(&[8; 32]).node_id();
        let d = Draft {
            action: Action::Sync,
            target: None,
            detail: Detail::PeerTransfer {
                peer,
                sent: 3,
                received: 70_000,
            },
            ..draft(0)
        };
        let (entry, _) = Entry::sign(&key, d, &mut Scratch::default());
        let bytes = entry.encode();
        assert_eq!(Entry::decode(&bytes), Ok(entry));
        // A cut peer id is refused, not misread.
        let cut = &bytes[..bytes.len() - 64 - 40];
        assert!(Entry::decode(cut).is_err());
    }

    #[test]
    fn entry_ref_prints_node_and_seq() {
        let node = NodeKey::from_bytes(&[5; 32]).node_id();
        let r = EntryRef { node, seq: 7 };
        assert_eq!(r.to_string(), format!("{node}#7"));
    }
}
