//! Byte layouts of protocol version 2. **Do not change**: see the module above.
//!
//! All integers little-endian, no padding. A frame:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | payload length `n`, `1..=MAX_FRAME_LEN` |
//! | 1 | protocol version = 2 |
//! | 1 | message tag |
//! | n − 2 | body |
//!
//! Bodies by tag (`id` = 16-byte UUID, `hash` = 32 bytes, `count` = u32):
//!
//! | tag | message | body |
//! |---|---|---|
//! | 1 | Hello | max version u8, org id, node id (32), role u8 (1 hub, 2 laptop), audit head present u8 (0/1), if present: seq u64, entry hash (32) |
//! | 2 | TurnEnd | turn u32 |
//! | 3 | DocSet | flags u8 (bit 0 full, bit 1 last), digest (32), count, then per entry: id, present u8 (0/1), hash if present |
//! | 4 | DocSetRequest | — |
//! | 5 | DocSync | count, then per document: id, kind u8 ([`DocKind::code`]), body u8 (1 sync, 2 whole), len u32, bytes |
//! | 6 | Refused | count, then per document: id, reason u8 |
//! | 7 | Revoke | count, then ids |
//! | 8 | AuditHeads | count, then per chain: node (32), seq u64, entry hash (32) |
//! | 9 | AuditEntries | count, then per entry: len u16, bytes (`polku_audit::Entry::encode`) |
//! | 10 | Tombstones | count, then per tombstone: id, kind u8, erased at i64 (µs since the Unix epoch), erasing node (32), user id, signature (64) |
//! | 11 | Done | last u8 (0/1), count, then per document: id, final u8 (0 deleted, 1 heads, 2 as the receiver announced), hash if 1 |
//! | 12 | Error | code u8 |
//! | 13 | BlobWant | count, then attachment ids |
//! | 14 | BlobChunk | attachment id, offset u64, total u64, len u32, bytes (`offset + len <= total`, `len <= MAX_BLOB_CHUNK_LEN`, `len > 0` unless `total = 0`) |
//! | 15 | BlobNone | count, then attachment ids |
//!
//! Every value has one encoding: unknown tags, flags, codes and trailing
//! bytes are refused.
//!
//! Changes from version 1 (never released): the hello's audit head, and the
//! tombstone's kind, erasing node, user and signature
//! ([`super::Tombstone::signed_bytes`] after [`super::TOMBSTONE_CONTEXT`]).

use chrono::DateTime;
use polku_audit::{EntryHash, EntrySignature, Head, NodeId};
use polku_core::{AttachmentId, DocId, DocKind, OrgId, UserId};
use uuid::Uuid;

use super::{
    AuditHead, BlobChunk, DocBody, DocMessage, DocSetChunk, ErrorCode, FRAME_HEADER_LEN,
    FinalHeads, Hello, MAX_AUDIT_ENTRIES_PER_FRAME, MAX_BLOB_CHUNK_LEN, MAX_DOC_MESSAGE_LEN,
    MAX_DOCS_PER_FRAME, MAX_ENTRIES_PER_FRAME, MAX_FRAME_LEN, Message, PROTOCOL_VERSION,
    ProtocolError, Refusal, RefusedReason, Role, Tombstone,
};
use crate::docset::{HeadsHash, SetDigest};

const TAG_HELLO: u8 = 1;
const TAG_TURN_END: u8 = 2;
const TAG_DOC_SET: u8 = 3;
const TAG_DOC_SET_REQUEST: u8 = 4;
const TAG_DOC_SYNC: u8 = 5;
const TAG_REFUSED: u8 = 6;
const TAG_REVOKE: u8 = 7;
const TAG_AUDIT_HEADS: u8 = 8;
const TAG_AUDIT_ENTRIES: u8 = 9;
const TAG_TOMBSTONES: u8 = 10;
const TAG_DONE: u8 = 11;
const TAG_ERROR: u8 = 12;
const TAG_BLOB_WANT: u8 = 13;
const TAG_BLOB_CHUNK: u8 = 14;
const TAG_BLOB_NONE: u8 = 15;

const BODY_SYNC: u8 = 1;
const BODY_WHOLE: u8 = 2;

const FLAG_FULL: u8 = 1;
const FLAG_LAST: u8 = 2;

/// Bytes of one encoded tombstone.
const TOMBSTONE_LEN: usize = 16 + 1 + 8 + 32 + 16 + 64;

/// Longest encoded audit entry accepted.
const MAX_AUDIT_ENTRY_LEN: usize = polku_audit::wire::MAX_ENCODED_LEN;

fn put_u32(out: &mut Vec<u8>, v: usize) {
    out.extend_from_slice(&u32::try_from(v).unwrap_or(u32::MAX).to_le_bytes());
}

fn put_id(out: &mut Vec<u8>, id: &DocId) {
    out.extend_from_slice(id.0.as_bytes());
}

fn put_opt_hash(out: &mut Vec<u8>, h: &Option<HeadsHash>) {
    match h {
        Some(h) => {
            out.push(1);
            out.extend_from_slice(&h.0);
        }
        None => out.push(0),
    }
}

/// Encodes one message as a whole frame.
pub(super) fn encode(msg: &Message) -> Vec<u8> {
    let mut out = vec![0u8; FRAME_HEADER_LEN];
    out.push(PROTOCOL_VERSION);
    match msg {
        Message::Hello(h) => {
            out.push(TAG_HELLO);
            out.push(h.max_version);
            out.extend_from_slice(h.org.0.as_bytes());
            out.extend_from_slice(h.node.as_bytes());
            out.push(h.role.code());
            match &h.audit_head {
                Some(head) => {
                    out.push(1);
                    out.extend_from_slice(&head.seq.to_le_bytes());
                    out.extend_from_slice(&head.hash.0);
                }
                None => out.push(0),
            }
        }
        Message::TurnEnd { turn } => {
            out.push(TAG_TURN_END);
            out.extend_from_slice(&turn.to_le_bytes());
        }
        Message::DocSet(c) => {
            out.push(TAG_DOC_SET);
            let flags = if c.full { FLAG_FULL } else { 0 } | if c.last { FLAG_LAST } else { 0 };
            out.push(flags);
            out.extend_from_slice(&c.digest.0);
            put_u32(&mut out, c.entries.len());
            for (id, h) in &c.entries {
                put_id(&mut out, id);
                put_opt_hash(&mut out, h);
            }
        }
        Message::DocSetRequest => out.push(TAG_DOC_SET_REQUEST),
        Message::DocSync(docs) => {
            out.push(TAG_DOC_SYNC);
            put_u32(&mut out, docs.len());
            for d in docs {
                put_id(&mut out, &d.id);
                out.push(d.kind.code());
                let (tag, bytes) = match &d.body {
                    DocBody::Sync(b) => (BODY_SYNC, b),
                    DocBody::Whole(b) => (BODY_WHOLE, b),
                };
                out.push(tag);
                put_u32(&mut out, bytes.len());
                out.extend_from_slice(bytes);
            }
        }
        Message::BlobWant(ids) | Message::BlobNone(ids) => {
            out.push(if matches!(msg, Message::BlobWant(_)) {
                TAG_BLOB_WANT
            } else {
                TAG_BLOB_NONE
            });
            put_u32(&mut out, ids.len());
            for id in ids {
                out.extend_from_slice(id.as_bytes());
            }
        }
        Message::BlobChunk(c) => {
            out.push(TAG_BLOB_CHUNK);
            out.extend_from_slice(c.id.as_bytes());
            out.extend_from_slice(&c.offset.to_le_bytes());
            out.extend_from_slice(&c.total.to_le_bytes());
            put_u32(&mut out, c.data.len());
            out.extend_from_slice(&c.data);
        }
        Message::Refused(list) => {
            out.push(TAG_REFUSED);
            put_u32(&mut out, list.len());
            for r in list {
                put_id(&mut out, &r.doc);
                out.push(r.reason.code());
            }
        }
        Message::Revoke(ids) => {
            out.push(TAG_REVOKE);
            put_u32(&mut out, ids.len());
            for id in ids {
                put_id(&mut out, id);
            }
        }
        Message::AuditHeads(heads) => {
            out.push(TAG_AUDIT_HEADS);
            put_u32(&mut out, heads.len());
            for h in heads {
                out.extend_from_slice(h.node.as_bytes());
                out.extend_from_slice(&h.seq.to_le_bytes());
                out.extend_from_slice(&h.hash.0);
            }
        }
        Message::AuditEntries(entries) => {
            out.push(TAG_AUDIT_ENTRIES);
            put_u32(&mut out, entries.len());
            for e in entries {
                let len = u16::try_from(e.len()).unwrap_or(u16::MAX);
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(e);
            }
        }
        Message::Tombstones(list) => {
            out.push(TAG_TOMBSTONES);
            put_u32(&mut out, list.len());
            for t in list {
                put_id(&mut out, &t.doc);
                out.push(t.kind.code());
                out.extend_from_slice(&t.erased_at.timestamp_micros().to_le_bytes());
                out.extend_from_slice(t.node.as_bytes());
                out.extend_from_slice(t.user.as_bytes());
                out.extend_from_slice(t.signature.as_bytes());
            }
        }
        Message::Done { last, changed } => {
            out.push(TAG_DONE);
            out.push(u8::from(*last));
            put_u32(&mut out, changed.len());
            for (id, f) in changed {
                put_id(&mut out, id);
                match f {
                    FinalHeads::Deleted => out.push(0),
                    FinalHeads::Heads(h) => {
                        out.push(1);
                        out.extend_from_slice(&h.0);
                    }
                    FinalHeads::AsAnnounced => out.push(2),
                }
            }
        }
        Message::Error(code) => {
            out.push(TAG_ERROR);
            out.push(code.code());
        }
    }
    let len = out.len() - FRAME_HEADER_LEN;
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    out[..FRAME_HEADER_LEN].copy_from_slice(&len.to_le_bytes());
    out
}

/// The payload length announced by a frame header, checked against
/// [`MAX_FRAME_LEN`]: how many bytes to read next from a stream.
pub fn frame_len(header: [u8; FRAME_HEADER_LEN]) -> Result<usize, ProtocolError> {
    let len = u32::from_le_bytes(header) as usize;
    if len == 0 {
        return Err(ProtocolError::EmptyFrame);
    }
    if len > MAX_FRAME_LEN {
        return Err(ProtocolError::FrameTooLarge { len });
    }
    Ok(len)
}

/// Decodes exactly one whole frame (length prefix included).
pub fn decode_frame(frame: &[u8]) -> Result<Message, ProtocolError> {
    let header: [u8; FRAME_HEADER_LEN] = frame
        .get(..FRAME_HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or(ProtocolError::Truncated)?;
    let len = frame_len(header)?;
    let rest = &frame[FRAME_HEADER_LEN..];
    if rest.len() < len {
        return Err(ProtocolError::Truncated);
    }
    if rest.len() > len {
        return Err(ProtocolError::TrailingBytes {
            count: rest.len() - len,
        });
    }
    decode_payload(rest)
}

/// Splits a byte stream into whole frames: push bytes as they arrive, take
/// frames out. A bad length prefix is reported as soon as it is seen.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
}

impl FrameDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet returned as a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next whole frame (length prefix included), `None` if more bytes
    /// are needed.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, ProtocolError> {
        let Some(header) = self.buf.get(..FRAME_HEADER_LEN) else {
            return Ok(None);
        };
        let header: [u8; FRAME_HEADER_LEN] =
            header.try_into().map_err(|_| ProtocolError::Truncated)?;
        let total = FRAME_HEADER_LEN + frame_len(header)?;
        if self.buf.len() < total {
            return Ok(None);
        }
        let rest = self.buf.split_off(total);
        Ok(Some(std::mem::replace(&mut self.buf, rest)))
    }
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtocolError> {
        if self.buf.len() < n {
            return Err(ProtocolError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], ProtocolError> {
        self.take(N)?
            .try_into()
            .map_err(|_| ProtocolError::Truncated)
    }
    fn u8(&mut self) -> Result<u8, ProtocolError> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, ProtocolError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, ProtocolError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, ProtocolError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn i64(&mut self) -> Result<i64, ProtocolError> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    fn flag(&mut self, field: &'static str) -> Result<bool, ProtocolError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(ProtocolError::InvalidValue(field)),
        }
    }
    fn doc_id(&mut self) -> Result<DocId, ProtocolError> {
        Ok(DocId(Uuid::from_bytes(self.array()?)))
    }
    fn opt_hash(&mut self, field: &'static str) -> Result<Option<HeadsHash>, ProtocolError> {
        Ok(if self.flag(field)? {
            Some(HeadsHash(self.array()?))
        } else {
            None
        })
    }
    /// A count, checked against its limit; the returned capacity is also
    /// bounded by what the remaining input can hold.
    fn count(
        &mut self,
        what: &'static str,
        max: usize,
        min_item: usize,
    ) -> Result<(usize, usize), ProtocolError> {
        let count = self.u32()? as usize;
        if count > max {
            return Err(ProtocolError::TooMany { what, count, max });
        }
        let cap = count.min(self.buf.len() / min_item.max(1));
        Ok((count, cap))
    }
    fn finish(self) -> Result<(), ProtocolError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(ProtocolError::TrailingBytes {
                count: self.buf.len(),
            })
        }
    }
}

/// Decodes a payload (the bytes after the length prefix).
pub fn decode_payload(payload: &[u8]) -> Result<Message, ProtocolError> {
    if payload.is_empty() {
        return Err(ProtocolError::EmptyFrame);
    }
    if payload.len() > MAX_FRAME_LEN {
        return Err(ProtocolError::FrameTooLarge { len: payload.len() });
    }
    let mut r = Reader { buf: payload };
    let version = r.u8()?;
    if version != PROTOCOL_VERSION {
        return Err(ProtocolError::UnsupportedVersion(version));
    }
    let tag = r.u8()?;
    let msg = match tag {
        TAG_HELLO => {
            let max_version = r.u8()?;
            let org = OrgId(Uuid::from_bytes(r.array()?));
            let node = NodeId::from_bytes(r.array()?);
            let role = Role::from_code(r.u8()?).ok_or(ProtocolError::InvalidValue("role"))?;
            let audit_head = if r.flag("audit head")? {
                let seq = r.u64()?;
                Some(Head {
                    seq,
                    hash: EntryHash(r.array()?),
                })
            } else {
                None
            };
            Message::Hello(Hello {
                max_version,
                org,
                node,
                role,
                audit_head,
            })
        }
        TAG_TURN_END => Message::TurnEnd { turn: r.u32()? },
        TAG_DOC_SET => {
            let flags = r.u8()?;
            if flags & !(FLAG_FULL | FLAG_LAST) != 0 {
                return Err(ProtocolError::InvalidValue("doc-set flags"));
            }
            let digest = SetDigest(r.array()?);
            let (count, cap) = r.count("doc-set entries", MAX_ENTRIES_PER_FRAME, 17)?;
            let mut entries = Vec::with_capacity(cap);
            for _ in 0..count {
                let id = r.doc_id()?;
                entries.push((id, r.opt_hash("doc-set entry")?));
            }
            Message::DocSet(DocSetChunk {
                full: flags & FLAG_FULL != 0,
                last: flags & FLAG_LAST != 0,
                digest,
                entries,
            })
        }
        TAG_DOC_SET_REQUEST => Message::DocSetRequest,
        TAG_DOC_SYNC => {
            let (count, cap) = r.count("documents", MAX_DOCS_PER_FRAME, 22)?;
            let mut docs = Vec::with_capacity(cap);
            for _ in 0..count {
                let id = r.doc_id()?;
                let kind =
                    DocKind::from_code(r.u8()?).ok_or(ProtocolError::InvalidValue("doc kind"))?;
                let body_tag = r.u8()?;
                let len = r.u32()? as usize;
                if len > MAX_DOC_MESSAGE_LEN {
                    return Err(ProtocolError::TooLong {
                        what: "document message",
                        len,
                        max: MAX_DOC_MESSAGE_LEN,
                    });
                }
                let bytes = r.take(len)?.to_vec();
                let body = match body_tag {
                    BODY_SYNC => DocBody::Sync(bytes),
                    BODY_WHOLE => DocBody::Whole(bytes),
                    _ => return Err(ProtocolError::InvalidValue("document body")),
                };
                docs.push(DocMessage { id, kind, body });
            }
            Message::DocSync(docs)
        }
        TAG_REFUSED => {
            let (count, cap) = r.count("refusals", MAX_ENTRIES_PER_FRAME, 17)?;
            let mut list = Vec::with_capacity(cap);
            for _ in 0..count {
                let doc = r.doc_id()?;
                let reason = RefusedReason::from_code(r.u8()?);
                list.push(Refusal { doc, reason });
            }
            Message::Refused(list)
        }
        TAG_REVOKE => {
            let (count, cap) = r.count("revocations", MAX_ENTRIES_PER_FRAME, 16)?;
            let mut ids = Vec::with_capacity(cap);
            for _ in 0..count {
                ids.push(r.doc_id()?);
            }
            Message::Revoke(ids)
        }
        TAG_AUDIT_HEADS => {
            let (count, cap) = r.count("audit heads", MAX_ENTRIES_PER_FRAME, 72)?;
            let mut heads = Vec::with_capacity(cap);
            for _ in 0..count {
                let node = NodeId::from_bytes(r.array()?);
                let seq = r.u64()?;
                let hash = EntryHash(r.array()?);
                heads.push(AuditHead { node, seq, hash });
            }
            Message::AuditHeads(heads)
        }
        TAG_AUDIT_ENTRIES => {
            let (count, cap) = r.count("audit entries", MAX_AUDIT_ENTRIES_PER_FRAME, 2)?;
            let mut entries = Vec::with_capacity(cap);
            for _ in 0..count {
                let len = usize::from(r.u16()?);
                if len > MAX_AUDIT_ENTRY_LEN {
                    return Err(ProtocolError::TooLong {
                        what: "audit entry",
                        len,
                        max: MAX_AUDIT_ENTRY_LEN,
                    });
                }
                entries.push(r.take(len)?.to_vec());
            }
            Message::AuditEntries(entries)
        }
        TAG_TOMBSTONES => {
            let (count, cap) = r.count("tombstones", MAX_ENTRIES_PER_FRAME, TOMBSTONE_LEN)?;
            let mut list = Vec::with_capacity(cap);
            for _ in 0..count {
                let doc = r.doc_id()?;
                let kind =
                    DocKind::from_code(r.u8()?).ok_or(ProtocolError::InvalidValue("doc kind"))?;
                let erased_at = DateTime::from_timestamp_micros(r.i64()?)
                    .ok_or(ProtocolError::InvalidValue("erased at"))?;
                let node = NodeId::from_bytes(r.array()?);
                let user = UserId(Uuid::from_bytes(r.array()?));
                let signature = EntrySignature(r.array()?);
                list.push(Tombstone {
                    doc,
                    kind,
                    erased_at,
                    node,
                    user,
                    signature,
                });
            }
            Message::Tombstones(list)
        }
        TAG_DONE => {
            let last = r.flag("done last")?;
            let (count, cap) = r.count("final heads", MAX_ENTRIES_PER_FRAME, 17)?;
            let mut changed = Vec::with_capacity(cap);
            for _ in 0..count {
                let id = r.doc_id()?;
                let f = match r.u8()? {
                    0 => FinalHeads::Deleted,
                    1 => FinalHeads::Heads(HeadsHash(r.array()?)),
                    2 => FinalHeads::AsAnnounced,
                    _ => return Err(ProtocolError::InvalidValue("final heads")),
                };
                changed.push((id, f));
            }
            Message::Done { last, changed }
        }
        TAG_ERROR => Message::Error(ErrorCode::from_code(r.u8()?)),
        TAG_BLOB_WANT | TAG_BLOB_NONE => {
            let (count, cap) = r.count("attachment ids", MAX_ENTRIES_PER_FRAME, 16)?;
            let mut ids = Vec::with_capacity(cap);
            for _ in 0..count {
                ids.push(AttachmentId(Uuid::from_bytes(r.array()?)));
            }
            if tag == TAG_BLOB_WANT {
                Message::BlobWant(ids)
            } else {
                Message::BlobNone(ids)
            }
        }
        TAG_BLOB_CHUNK => {
            let id = AttachmentId(Uuid::from_bytes(r.array()?));
            let offset = r.u64()?;
            let total = r.u64()?;
            let len = r.u32()? as usize;
            if len > MAX_BLOB_CHUNK_LEN {
                return Err(ProtocolError::TooLong {
                    what: "attachment chunk",
                    len,
                    max: MAX_BLOB_CHUNK_LEN,
                });
            }
            let end = offset.checked_add(len as u64);
            if end.is_none_or(|end| end > total) || (len == 0 && total != 0) {
                return Err(ProtocolError::InvalidValue("attachment chunk range"));
            }
            let data = r.take(len)?.to_vec();
            Message::BlobChunk(BlobChunk {
                id,
                offset,
                total,
                data,
            })
        }
        other => return Err(ProtocolError::UnknownTag(other)),
    };
    r.finish()?;
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn samples() -> Vec<Message> {
        let id = DocId(Uuid::from_bytes([3; 16]));
        vec![
            Message::Hello(Hello {
                max_version: 2,
                org: OrgId(Uuid::from_bytes([1; 16])),
                node: NodeId::from_bytes([2; 32]),
                role: Role::Laptop,
                audit_head: Some(Head {
                    seq: 9,
                    hash: EntryHash([7; 32]),
                }),
            }),
            Message::Hello(Hello {
                max_version: 2,
                org: OrgId(Uuid::from_bytes([1; 16])),
                node: NodeId::from_bytes([2; 32]),
                role: Role::Hub,
                audit_head: None,
            }),
            Message::TurnEnd { turn: 7 },
            Message::DocSet(DocSetChunk {
                full: false,
                last: true,
                digest: SetDigest([9; 32]),
                entries: vec![(id, Some(HeadsHash([4; 32]))), (id, None)],
            }),
            Message::DocSetRequest,
            Message::DocSync(vec![
                DocMessage {
                    id,
                    kind: DocKind::Client,
                    body: DocBody::Sync(vec![0x42, 1, 2]),
                },
                DocMessage {
                    id,
                    kind: DocKind::Organisation,
                    body: DocBody::Whole(vec![]),
                },
            ]),
            Message::Refused(vec![Refusal {
                doc: id,
                reason: RefusedReason::NotPermitted,
            }]),
            Message::Revoke(vec![id, id]),
            Message::AuditHeads(vec![AuditHead {
                node: NodeId::from_bytes([5; 32]),
                seq: 42,
                hash: EntryHash([6; 32]),
            }]),
            Message::AuditEntries(vec![vec![1, 2, 3], vec![]]),
            Message::Tombstones(vec![Tombstone::sign(
                &polku_audit::NodeKey::from_bytes(&[4; 32]),
                id,
                DocKind::Client,
                UserId(Uuid::from_bytes([5; 16])),
                chrono::Utc
                    .with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
                    .single()
                    .unwrap_or_default(),
            )]),
            Message::Done {
                last: true,
                changed: vec![
                    (id, FinalHeads::Deleted),
                    (id, FinalHeads::Heads(HeadsHash([8; 32]))),
                    (id, FinalHeads::AsAnnounced),
                ],
            },
            Message::Error(ErrorCode::DeviceRevoked),
            Message::BlobWant(vec![AttachmentId(Uuid::from_bytes([6; 16]))]),
            Message::BlobNone(vec![]),
            Message::BlobChunk(BlobChunk {
                id: AttachmentId(Uuid::from_bytes([6; 16])),
                offset: 3,
                total: 10,
                data: vec![1, 2, 3, 4],
            }),
            Message::BlobChunk(BlobChunk {
                id: AttachmentId(Uuid::from_bytes([6; 16])),
                offset: 0,
                total: 0,
                data: vec![],
            }),
        ]
    }

    #[test]
    fn every_message_round_trips() {
        for msg in samples() {
            let frame = msg.encode();
            assert_eq!(
                decode_frame(frame.as_bytes()),
                Ok(msg.clone()),
                "{}",
                msg.name()
            );
        }
    }

    #[test]
    fn stream_decoder_splits_frames_at_any_boundary() {
        let bytes: Vec<u8> = samples()
            .iter()
            .flat_map(|m| m.encode().into_bytes())
            .collect();
        for step in [1, 3, 17, 1000] {
            let mut dec = FrameDecoder::new();
            let mut out = Vec::new();
            for chunk in bytes.chunks(step) {
                dec.push(chunk);
                while let Some(f) = dec.next_frame().expect("valid stream") {
                    out.push(decode_frame(&f).expect("valid frame"));
                }
            }
            assert_eq!(out, samples());
            assert_eq!(dec.buffered(), 0);
        }
    }

    #[test]
    fn tombstone_signature_covers_every_field() {
        let key = polku_audit::NodeKey::from_bytes(&[4; 32]);
        let t = Tombstone::sign(
            &key,
            DocId(Uuid::from_bytes([3; 16])),
            DocKind::Client,
            UserId(Uuid::from_bytes([5; 16])),
            chrono::DateTime::UNIX_EPOCH,
        );
        assert!(t.verify());
        let Ok(Message::Tombstones(back)) =
            decode_frame(Message::Tombstones(vec![t]).encode().as_bytes())
        else {
            panic!("tombstones decode");
        };
        assert!(back[0].verify(), "a decoded tombstone still verifies");
        let mut tampered = [t; 5];
        tampered[0].doc = DocId(Uuid::from_bytes([4; 16]));
        tampered[1].kind = DocKind::Organisation;
        tampered[2].erased_at = chrono::DateTime::from_timestamp_micros(1).unwrap_or_default();
        tampered[3].node = polku_audit::NodeKey::from_bytes(&[6; 32]).node_id();
        tampered[4].user = UserId(Uuid::from_bytes([6; 16]));
        for (i, x) in tampered.iter().enumerate() {
            assert!(!x.verify(), "field {i} is covered");
        }
    }

    #[test]
    fn version_1_frames_are_refused() {
        let mut v1 = Message::TurnEnd { turn: 1 }.encode().into_bytes();
        v1[4] = 1;
        assert_eq!(decode_frame(&v1), Err(ProtocolError::UnsupportedVersion(1)));
    }

    #[test]
    fn typed_errors() {
        let good = Message::TurnEnd { turn: 1 }.encode().into_bytes();
        assert_eq!(decode_frame(&good[..3]), Err(ProtocolError::Truncated));
        assert_eq!(decode_frame(&good[..6]), Err(ProtocolError::Truncated));
        let mut extra = good.clone();
        extra.push(0);
        assert_eq!(
            decode_frame(&extra),
            Err(ProtocolError::TrailingBytes { count: 1 })
        );
        let mut v = good.clone();
        v[4] = 9;
        assert_eq!(decode_frame(&v), Err(ProtocolError::UnsupportedVersion(9)));
        let mut t = good.clone();
        t[5] = 200;
        assert_eq!(decode_frame(&t), Err(ProtocolError::UnknownTag(200)));
        let huge = ((MAX_FRAME_LEN + 1) as u32).to_le_bytes();
        assert!(matches!(
            frame_len(huge),
            Err(ProtocolError::FrameTooLarge { .. })
        ));
        assert_eq!(frame_len([0; 4]), Err(ProtocolError::EmptyFrame));
        // A count above its limit is refused before anything is allocated.
        let mut p = vec![PROTOCOL_VERSION, TAG_REVOKE];
        p.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            decode_payload(&p),
            Err(ProtocolError::TooMany { .. })
        ));
    }
}
