//! The canonical, versioned byte encoding of an [`Entry`].
//!
//! **Do not change the version 1 layout**: entries are signed over it and
//! hashed over it, so a changed byte breaks every signature and backlink
//! already stored. A new layout needs a new [`FORMAT_VERSION`] and a decoder
//! that keeps reading version 1.
//!
//! Version 1, all integers little-endian, no padding:
//!
//! | bytes | field |
//! |---|---|
//! | 1 | format version = 1 |
//! | 32 | node: ed25519 public key |
//! | 8 | seq: u64 |
//! | 1 (+32) | prev_hash: tag 0 = none, 1 = some, then the BLAKE3 hash |
//! | 8 | time: i64 microseconds since 1970-01-01T00:00:00Z |
//! | 1 (+16) | user: tag 0/1, then the UUID bytes |
//! | 1 | action code ([`Action::code`]) |
//! | 1 (+16) | target: tag 0/1, then the UUID bytes |
//! | 1 + … | detail: tag ([`Detail`]) then its payload, see below |
//! | 64 | ed25519 signature |
//!
//! Detail payloads: `0` none; `1` u32 count; `2` u8 reason code; `3` code;
//! `4` code then u32 count; `5` u8 number of codes (≤ 16) then each code;
//! `6` u32 sent then u32 received. A code is a u8 length (1..=32) then its
//! ASCII bytes.
//!
//! The signature covers [`SIGNING_CONTEXT`] followed by every byte before the
//! signature. The entry hash is BLAKE3 over the whole encoding, signature
//! included. Every value has exactly one encoding: tags other than those
//! listed, unknown codes, out-of-range times and trailing bytes are refused.

use chrono::{DateTime, Utc};
use polku_core::UserId;
use uuid::Uuid;

use crate::action::{Action, Reason};
use crate::detail::{Code, Detail, FieldList, MAX_CODE_LEN, MAX_FIELDS};
use crate::entry::Entry;
use crate::key::{EntryHash, EntrySignature, NodeId};

/// Version byte at the start of every encoded entry.
pub const FORMAT_VERSION: u8 = 1;

/// Domain separation for entry signatures: the node key also signs iroh's
/// handshakes, and no audit signature may ever be valid for another protocol.
/// Do not change.
pub const SIGNING_CONTEXT: &[u8] = b"polku-audit/entry/v1\0";

const DETAIL_MAX_LEN: usize = 1 + 1 + MAX_FIELDS * (1 + MAX_CODE_LEN);

/// Length of an ed25519 signature.
const SIGNATURE_LEN: usize = 64;

/// The longest valid encoding, in bytes; longer input is refused unread.
pub const MAX_ENCODED_LEN: usize =
    1 + 32 + 8 + (1 + 32) + 8 + (1 + 16) + 1 + (1 + 16) + DETAIL_MAX_LEN + SIGNATURE_LEN;

/// Why bytes are not an encoded entry. Carries no content of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input is longer than [`MAX_ENCODED_LEN`].
    #[error("encoded audit entry is {len} bytes, longer than {MAX_ENCODED_LEN}")]
    TooLong {
        /// Input length.
        len: usize,
    },
    /// The input ends before the entry does.
    #[error("encoded audit entry ends early")]
    UnexpectedEnd,
    /// The first byte is not a supported format version.
    #[error("audit entry format version {0} is not supported (expected {FORMAT_VERSION})")]
    UnsupportedVersion(u8),
    /// An option tag is neither 0 nor 1.
    #[error("audit entry field {field}: presence tag {tag} is not 0 or 1")]
    InvalidTag {
        /// The wire field.
        field: &'static str,
        /// The tag found.
        tag: u8,
    },
    /// An unknown action code.
    #[error("unknown audit action code {0}")]
    UnknownAction(u8),
    /// An unknown detail tag.
    #[error("unknown audit detail tag {0}")]
    UnknownDetail(u8),
    /// An unknown reason code.
    #[error("unknown audit reason code {0}")]
    UnknownReason(u8),
    /// A code breaks the rules of [`Code`].
    #[error("invalid code in audit entry detail")]
    InvalidCode,
    /// More than [`MAX_FIELDS`] field codes.
    #[error("audit entry detail lists {0} fields, more than {MAX_FIELDS}")]
    TooManyFields(u8),
    /// The time is outside the range of `chrono::DateTime<Utc>`.
    #[error("audit entry time is out of range")]
    TimeOutOfRange,
    /// Bytes follow the signature.
    #[error("{0} bytes follow the encoded audit entry")]
    TrailingBytes(usize),
}

/// Appends the signed part of `entry` (everything but the signature).
pub(crate) fn put_signed(entry: &Entry, out: &mut Vec<u8>) {
    out.push(FORMAT_VERSION);
    out.extend_from_slice(entry.node.as_bytes());
    out.extend_from_slice(&entry.seq.to_le_bytes());
    put_option(out, entry.prev_hash.as_ref().map(EntryHash::as_bytes));
    out.extend_from_slice(&entry.time.timestamp_micros().to_le_bytes());
    put_option(out, entry.user.as_ref().map(UserId::as_bytes));
    out.push(entry.action.code());
    put_option(out, entry.target.as_ref().map(Uuid::as_bytes));
    put_detail(out, &entry.detail);
}

/// Appends the whole encoding of `entry`.
pub(crate) fn put_entry(entry: &Entry, out: &mut Vec<u8>) {
    put_signed(entry, out);
    out.extend_from_slice(entry.signature.as_bytes());
}

fn put_option<const N: usize>(out: &mut Vec<u8>, value: Option<&[u8; N]>) {
    match value {
        None => out.push(0),
        Some(bytes) => {
            out.push(1);
            out.extend_from_slice(bytes);
        }
    }
}

fn put_code(out: &mut Vec<u8>, code: &Code) {
    let bytes = code.as_bytes();
    // A code is at most MAX_CODE_LEN (32) bytes, so its length fits a u8.
    out.push(bytes.len() as u8);
    out.extend_from_slice(bytes);
}

fn put_detail(out: &mut Vec<u8>, detail: &Detail) {
    match detail {
        Detail::None => out.push(0),
        Detail::Count(n) => {
            out.push(1);
            out.extend_from_slice(&n.to_le_bytes());
        }
        Detail::Reason(r) => {
            out.push(2);
            out.push(r.code());
        }
        Detail::Code(c) => {
            out.push(3);
            put_code(out, c);
        }
        Detail::CodeCount { code, count } => {
            out.push(4);
            put_code(out, code);
            out.extend_from_slice(&count.to_le_bytes());
        }
        Detail::Fields(list) => {
            out.push(5);
            // A FieldList holds at most MAX_FIELDS (16) codes.
            out.push(list.codes().len() as u8);
            for c in list.codes() {
                put_code(out, c);
            }
        }
        Detail::Transfer { sent, received } => {
            out.push(6);
            out.extend_from_slice(&sent.to_le_bytes());
            out.extend_from_slice(&received.to_le_bytes());
        }
        Detail::PeerTransfer {
            peer,
            sent,
            received,
        } => {
            out.push(7);
            out.extend_from_slice(peer.as_bytes());
            out.extend_from_slice(&sent.to_le_bytes());
            out.extend_from_slice(&received.to_le_bytes());
        }
    }
}

/// Decodes one entry; see the module documentation for the layout.
pub(crate) fn decode(bytes: &[u8]) -> Result<Entry, DecodeError> {
    if bytes.len() > MAX_ENCODED_LEN {
        return Err(DecodeError::TooLong { len: bytes.len() });
    }
    let mut r = Reader(bytes);
    let version = r.u8()?;
    if version != FORMAT_VERSION {
        return Err(DecodeError::UnsupportedVersion(version));
    }
    let node = NodeId::from_bytes(r.array()?);
    let seq = u64::from_le_bytes(r.array()?);
    let prev_hash = r.option("prev_hash")?.map(EntryHash);
    let micros = i64::from_le_bytes(r.array()?);
    let time = DateTime::<Utc>::from_timestamp_micros(micros).ok_or(DecodeError::TimeOutOfRange)?;
    let user = r.option("user")?.map(|b| UserId::from(Uuid::from_bytes(b)));
    let code = r.u8()?;
    let action = Action::from_code(code).ok_or(DecodeError::UnknownAction(code))?;
    let target = r.option("target")?.map(Uuid::from_bytes);
    let detail = r.detail()?;
    let signature = EntrySignature(r.array()?);
    if !r.0.is_empty() {
        return Err(DecodeError::TrailingBytes(r.0.len()));
    }
    Ok(Entry {
        seq,
        prev_hash,
        time,
        user,
        node,
        action,
        target,
        detail,
        signature,
    })
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        if self.0.len() < n {
            return Err(DecodeError::UnexpectedEnd);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn option<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<Option<[u8; N]>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.array().map(Some),
            tag => Err(DecodeError::InvalidTag { field, tag }),
        }
    }

    fn code(&mut self) -> Result<Code, DecodeError> {
        let len = usize::from(self.u8()?);
        Code::from_bytes(self.take(len)?).map_err(|_| DecodeError::InvalidCode)
    }

    fn detail(&mut self) -> Result<Detail, DecodeError> {
        Ok(match self.u8()? {
            0 => Detail::None,
            1 => Detail::Count(self.u32()?),
            2 => {
                let code = self.u8()?;
                Detail::Reason(Reason::from_code(code).ok_or(DecodeError::UnknownReason(code))?)
            }
            3 => Detail::Code(self.code()?),
            4 => Detail::CodeCount {
                code: self.code()?,
                count: self.u32()?,
            },
            5 => {
                let n = self.u8()?;
                if usize::from(n) > MAX_FIELDS {
                    return Err(DecodeError::TooManyFields(n));
                }
                let mut codes = Vec::with_capacity(usize::from(n));
                for _ in 0..n {
                    codes.push(self.code()?);
                }
                Detail::Fields(FieldList::new(codes).map_err(|_| DecodeError::TooManyFields(n))?)
            }
            6 => Detail::Transfer {
                sent: self.u32()?,
                received: self.u32()?,
            },
            7 => Detail::PeerTransfer {
                peer: crate::NodeId::from_bytes(self.array()?),
                sent: self.u32()?,
                received: self.u32()?,
            },
            tag => return Err(DecodeError::UnknownDetail(tag)),
        })
    }
}
