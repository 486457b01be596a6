//! Sync bookkeeping (schema v6): per-peer records and Automerge sync
//! states, refusals and quarantined documents, the tombstone log and the
//! hub's audit expectations, each in its own table; from schema v9, changes
//! appended to a per-peer record (`sync_peer_deltas`), so that a session
//! that agrees on a few documents of a large set writes those, not the
//! whole record again.
//!
//! Rows are found by plaintext random ids (node ids, document ids) and
//! positions; every value is sealed under its table's [`Slot`], the row's
//! key and its write counter, and every row is bound into the rollback
//! anchor like the other mutable rows (`src/anchor.rs`): a row rolled back,
//! deleted or put back fails the unlock. The store does not interpret the
//! values except a problem's (reason, document kind, time: [`SyncProblemRow`]).
//!
//! **Upgrade from v5.** The sync layer kept the same bookkeeping in the
//! sealed key/value area under `polku/sync/v1/…` ([`LEGACY_PREFIX`]). At the
//! first unlock after migration 6 (it needs the keys), in the migration's
//! transaction, those rows move here and leave the key/value area
//! ([`migrate_from_meta`]).

use chrono::{DateTime, Utc};
use polku_core::{DocId, DocKind};
use rusqlite::{OptionalExtension, params_from_iter};
use uuid::Uuid;

use crate::Store;
use crate::anchor::ctr_of;
use crate::crypto::{RowRef, Slot};
use crate::docs::Batch;
use crate::error::{Result, StoreError};

/// First schema version with the sync bookkeeping tables.
pub(crate) const SYNC_BOOK_SINCE: u32 = 6;

/// A node id (the ed25519 public key of a device or hub).
pub type NodeBytes = [u8; 32];

/// One bookkeeping table: its name, slot, key columns and sealed column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Table {
    pub name: &'static str,
    pub slot: Slot,
    pub keys: &'static [&'static str],
    pub value: &'static str,
    /// The schema version that created the table.
    pub since: u32,
}

pub(crate) const PEERS: Table = Table {
    name: "sync_peers",
    slot: Slot::SyncPeer,
    keys: &["peer"],
    value: "record",
    since: SYNC_BOOK_SINCE,
};
pub(crate) const STATES: Table = Table {
    name: "sync_states",
    slot: Slot::SyncState,
    keys: &["peer", "doc_id"],
    value: "state",
    since: SYNC_BOOK_SINCE,
};
pub(crate) const PROBLEMS: Table = Table {
    name: "sync_problems",
    slot: Slot::SyncProblem,
    keys: &["peer", "doc_id", "quarantined"],
    value: "problem",
    since: SYNC_BOOK_SINCE,
};
pub(crate) const TOMBSTONES: Table = Table {
    name: "sync_tombstones",
    slot: Slot::Tombstone,
    keys: &["pos"],
    value: "tombstone",
    since: SYNC_BOOK_SINCE,
};
pub(crate) const EXPECT: Table = Table {
    name: "sync_audit_expect",
    slot: Slot::AuditExpect,
    keys: &["node", "pending"],
    value: "expectation",
    since: SYNC_BOOK_SINCE,
};

/// First schema version with [`DELTAS`].
pub(crate) const PEER_DELTAS_SINCE: u32 = 9;

pub(crate) const DELTAS: Table = Table {
    name: "sync_peer_deltas",
    slot: Slot::SyncPeerDelta,
    keys: &["peer", "seq"],
    value: "delta",
    since: PEER_DELTAS_SINCE,
};

/// Every bookkeeping table (the anchor check walks those of the store's
/// schema version).
pub(crate) const TABLES: &[Table] = &[PEERS, STATES, PROBLEMS, TOMBSTONES, EXPECT, DELTAS];

/// One key column's value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Part<'a> {
    Blob(&'a [u8]),
    Int(i64),
}

impl rusqlite::ToSql for Part<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Part::Blob(b) => b.to_sql(),
            Part::Int(i) => i.to_sql(),
        }
    }
}

/// The row id bound into the seal and the anchor tag: the key columns'
/// bytes in order (blobs as they are, all of fixed length; integers as 8
/// bytes big-endian).
pub(crate) fn row_id(parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(49);
    for p in parts {
        match p {
            Part::Blob(b) => out.extend_from_slice(b),
            Part::Int(i) => out.extend_from_slice(&i.to_be_bytes()),
        }
    }
    out
}

/// The row id of a row read as its key columns `0..n`.
pub(crate) fn row_id_of(r: &rusqlite::Row<'_>, n: usize) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(49);
    for i in 0..n {
        match r.get_ref(i)? {
            rusqlite::types::ValueRef::Blob(b) => out.extend_from_slice(b),
            rusqlite::types::ValueRef::Integer(v) => out.extend_from_slice(&v.to_be_bytes()),
            _ => return Err(StoreError::corrupt("sync bookkeeping key")),
        }
    }
    Ok(out)
}

fn where_keys(t: &Table) -> String {
    t.keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{k} = ?{}", i + 1))
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn doc_from(raw: &[u8]) -> Result<DocId> {
    Uuid::from_slice(raw)
        .map(DocId)
        .map_err(|_| StoreError::corrupt("sync bookkeeping key"))
}

fn node_from(raw: &[u8]) -> Result<NodeBytes> {
    raw.try_into()
        .map_err(|_| StoreError::corrupt("sync bookkeeping key"))
}

/// A peer's record as written whole, if it was, and the changes appended
/// to it since, oldest first.
pub type RecordAndDeltas = (Option<Vec<u8>>, Vec<Vec<u8>>);

/// A refusal or quarantine as stored (no content, no personal data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncProblemRow {
    /// The peer.
    pub peer: NodeBytes,
    /// The document.
    pub doc: DocId,
    /// Quarantined here (`true`) or refused by the peer (`false`).
    pub quarantined: bool,
    /// The sync layer's reason code.
    pub reason: u8,
    /// The kind of the document, if known when it was recorded.
    pub kind: Option<DocKind>,
    /// When it was recorded (for rows moved from schema v5, which kept no
    /// time: when they were moved).
    pub at: DateTime<Utc>,
}

/// Sealed value of a problem: `[reason, kind code (0: unknown), µs LE i64]`.
fn encode_problem(reason: u8, kind: Option<DocKind>, at: DateTime<Utc>) -> Vec<u8> {
    let mut out = vec![reason, kind.map_or(0, DocKind::code)];
    out.extend_from_slice(&at.timestamp_micros().to_le_bytes());
    out
}

/// A problem value; a v5 value is only the reason code (`at` = `moved_at`).
fn decode_problem(
    v: &[u8],
    moved_at: DateTime<Utc>,
) -> Option<(u8, Option<DocKind>, DateTime<Utc>)> {
    match v {
        [reason] => Some((*reason, None, moved_at)),
        [reason, kind, micros @ ..] => {
            let at = DateTime::from_timestamp_micros(i64::from_le_bytes(micros.try_into().ok()?))?;
            Some((*reason, DocKind::from_code(*kind), at))
        }
        [] => None,
    }
}

impl Batch<'_> {
    fn book_put(&self, t: &Table, key: &[Part<'_>], value: &[u8]) -> Result<()> {
        let id = row_id(key);
        let old = {
            let sql = format!("SELECT ctr FROM {} WHERE {}", t.name, where_keys(t));
            self.tx
                .prepare_cached(&sql)?
                .query_row(params_from_iter(key.iter()), |r| r.get::<_, i64>(0))
                .optional()?
                .map(ctr_of)
                .transpose()?
        };
        let ctr = self.with_anchor(|a, _| a.next())?;
        let sealed = self
            .keys
            .seal
            .seal(RowRef::new(t.slot, &id).seq(ctr), value)?;
        let cols = t.keys.join(", ");
        let n = t.keys.len();
        let marks: Vec<String> = (1..=n + 2).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT INTO {name} ({cols}, {value}, ctr) VALUES ({marks})
             ON CONFLICT ({cols}) DO UPDATE SET {value} = excluded.{value}, ctr = excluded.ctr",
            name = t.name,
            value = t.value,
            marks = marks.join(", "),
        );
        let mut args: Vec<rusqlite::types::Value> = key
            .iter()
            .map(|p| match p {
                Part::Blob(b) => rusqlite::types::Value::Blob(b.to_vec()),
                Part::Int(i) => rusqlite::types::Value::Integer(*i),
            })
            .collect();
        args.push(rusqlite::types::Value::Blob(sealed));
        args.push(rusqlite::types::Value::Integer(ctr as i64));
        self.tx
            .prepare_cached(&sql)?
            .execute(params_from_iter(args))?;
        self.replaced(t.slot, &id, old, Some(ctr))
    }

    /// Deletes the rows of `t` matching `filter` (SQL over the table, with
    /// `args`); returns how many.
    fn book_delete(&self, t: &Table, filter: &str, args: &[Part<'_>]) -> Result<usize> {
        let sql = format!(
            "DELETE FROM {} WHERE {filter} RETURNING {}, ctr",
            t.name,
            t.keys.join(", ")
        );
        let gone: Vec<(Vec<u8>, u64)> = {
            let mut stmt = self.tx.prepare_cached(&sql)?;
            let mut rows = stmt.query(params_from_iter(args.iter()))?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push((row_id_of(r, t.keys.len())?, ctr_of(r.get(t.keys.len())?)?));
            }
            out
        };
        for (id, ctr) in &gone {
            self.replaced(t.slot, id, Some(*ctr), None)?;
        }
        Ok(gone.len())
    }

    /// Sets the bookkeeping record of `peer` (the agreed set and tombstone
    /// cursor, encoded by the sync layer).
    pub fn put_peer_record(&self, peer: &NodeBytes, record: &[u8]) -> Result<()> {
        self.book_put(&PEERS, &[Part::Blob(peer)], record)
    }

    /// Appends a change to the bookkeeping record of `peer` (encoded by the
    /// sync layer) after those already appended; returns its position.
    pub fn append_peer_delta(&self, peer: &NodeBytes, delta: &[u8]) -> Result<u64> {
        let next: i64 = self.tx.query_row(
            "SELECT COALESCE(MAX(seq) + 1, 0) FROM sync_peer_deltas WHERE peer = ?1",
            [peer.as_slice()],
            |r| r.get(0),
        )?;
        self.book_put(&DELTAS, &[Part::Blob(peer), Part::Int(next)], delta)?;
        u64::try_from(next).map_err(|_| StoreError::corrupt("sync bookkeeping key"))
    }

    /// How many changes are appended to `peer`'s record, and their sealed
    /// bytes in all.
    pub fn peer_delta_size(&self, peer: &NodeBytes) -> Result<(u64, u64)> {
        let (n, bytes): (i64, i64) = self.tx.query_row(
            "SELECT count(*), COALESCE(SUM(length(delta)), 0) FROM sync_peer_deltas
             WHERE peer = ?1",
            [peer.as_slice()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((n.max(0) as u64, bytes.max(0) as u64))
    }

    /// Deletes the appended changes of `peer`'s record (it was written
    /// whole); returns how many there were.
    pub fn delete_peer_deltas(&self, peer: &NodeBytes) -> Result<usize> {
        self.book_delete(&DELTAS, "peer = ?1", &[Part::Blob(peer)])
    }

    /// Sets the Automerge sync state of `doc` with `peer`.
    pub fn put_sync_state(&self, peer: &NodeBytes, doc: DocId, state: &[u8]) -> Result<()> {
        self.book_put(
            &STATES,
            &[Part::Blob(peer), Part::Blob(doc.0.as_bytes())],
            state,
        )
    }

    /// Forgets the sync state of `doc` with `peer`; returns whether there was one.
    pub fn delete_sync_state(&self, peer: &NodeBytes, doc: DocId) -> Result<bool> {
        Ok(self.book_delete(
            &STATES,
            "peer = ?1 AND doc_id = ?2",
            &[Part::Blob(peer), Part::Blob(doc.0.as_bytes())],
        )? > 0)
    }

    /// Forgets every peer's sync state of `doc` (also done by
    /// [`Batch::delete_doc`]).
    pub fn delete_sync_states_of(&self, doc: DocId) -> Result<usize> {
        self.book_delete(&STATES, "doc_id = ?1", &[Part::Blob(doc.0.as_bytes())])
    }

    /// Forgets the sync states of documents no longer held.
    pub(crate) fn delete_orphan_sync_states(&self) -> Result<usize> {
        self.book_delete(&STATES, "doc_id NOT IN (SELECT id FROM docs)", &[])
    }

    /// Records a refusal by `peer` (`quarantined` = false) or a quarantine
    /// of its copy here (true) of `doc`, replacing an earlier one.
    pub fn put_sync_problem(&self, row: &SyncProblemRow) -> Result<()> {
        self.book_put(
            &PROBLEMS,
            &[
                Part::Blob(&row.peer),
                Part::Blob(row.doc.0.as_bytes()),
                Part::Int(i64::from(row.quarantined)),
            ],
            &encode_problem(row.reason, row.kind, row.at),
        )
    }

    /// Clears the refusal and quarantine of `doc` with `peer` (the document
    /// was agreed since); returns how many there were.
    pub fn clear_sync_problems(&self, peer: &NodeBytes, doc: DocId) -> Result<usize> {
        self.book_delete(
            &PROBLEMS,
            "peer = ?1 AND doc_id = ?2",
            &[Part::Blob(peer), Part::Blob(doc.0.as_bytes())],
        )
    }

    /// Appends a (sync-layer encoded) tombstone to the log; returns its position.
    pub fn append_tombstone(&self, tombstone: &[u8]) -> Result<u64> {
        let next: i64 = self.tx.query_row(
            "SELECT COALESCE(MAX(pos) + 1, 0) FROM sync_tombstones",
            [],
            |r| r.get(0),
        )?;
        self.book_put(&TOMBSTONES, &[Part::Int(next)], tombstone)?;
        u64::try_from(next).map_err(|_| StoreError::corrupt("tombstone log"))
    }

    /// Sets what the hub expects of `node`'s audit chain (`pending`: seen in
    /// a session not completed yet).
    pub fn put_audit_expectation(
        &self,
        node: &NodeBytes,
        pending: bool,
        expectation: &[u8],
    ) -> Result<()> {
        self.book_put(
            &EXPECT,
            &[Part::Blob(node), Part::Int(i64::from(pending))],
            expectation,
        )
    }

    /// Deletes an audit expectation; returns whether there was one.
    pub fn delete_audit_expectation(&self, node: &NodeBytes, pending: bool) -> Result<bool> {
        Ok(self.book_delete(
            &EXPECT,
            "node = ?1 AND pending = ?2",
            &[Part::Blob(node), Part::Int(i64::from(pending))],
        )? > 0)
    }
}

impl Store {
    /// Opens the sealed value of a row read as (key columns…, value, ctr).
    fn book_open(&self, t: &Table, r: &rusqlite::Row<'_>) -> Result<Vec<u8>> {
        let n = t.keys.len();
        let id = row_id_of(r, n)?;
        let sealed: Vec<u8> = r.get(n)?;
        let ctr = ctr_of(r.get(n + 1)?)?;
        self.keys.seal.open(
            RowRef::new(t.slot, &id).seq(ctr),
            &sealed,
            "sync bookkeeping",
        )
    }

    /// Rows of `t` matching `filter` (SQL, with `args`), in `order`, as
    /// (row, opened value) pairs handed to `each`.
    fn book_rows<T>(
        &self,
        t: &Table,
        filter: &str,
        args: &[Part<'_>],
        order: &str,
        mut each: impl FnMut(&rusqlite::Row<'_>, Vec<u8>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let sql = format!(
            "SELECT {}, {}, ctr FROM {} WHERE {filter} ORDER BY {order}",
            t.keys.join(", "),
            t.value,
            t.name
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(args.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let value = self.book_open(t, r)?;
            out.push(each(r, value)?);
        }
        Ok(out)
    }

    /// The bookkeeping record of `peer`, if one was written.
    pub fn peer_record(&self, peer: &NodeBytes) -> Result<Option<Vec<u8>>> {
        Ok(self
            .book_rows(&PEERS, "peer = ?1", &[Part::Blob(peer)], "peer", |_, v| {
                Ok(v)
            })?
            .pop())
    }

    /// The changes appended to `peer`'s record since it was last written
    /// whole, oldest first.
    pub fn peer_deltas(&self, peer: &NodeBytes) -> Result<Vec<Vec<u8>>> {
        self.book_rows(&DELTAS, "peer = ?1", &[Part::Blob(peer)], "seq", |_, v| {
            Ok(v)
        })
    }

    /// The bookkeeping record of `peer` and the changes appended to it, read
    /// together (in one read transaction).
    pub fn peer_record_and_deltas(&self, peer: &NodeBytes) -> Result<RecordAndDeltas> {
        crate::docs::in_snapshot(&self.conn, |_| {
            Ok((self.peer_record(peer)?, self.peer_deltas(peer)?))
        })
    }

    /// The nodes with a bookkeeping record (peers synced with).
    pub fn sync_peers(&self) -> Result<Vec<NodeBytes>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT peer FROM sync_peers ORDER BY peer")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let raw: Vec<u8> = r.get(0)?;
            out.push(node_from(&raw)?);
        }
        Ok(out)
    }

    /// The stored sync states with `peer` of `ids` (absent ones omitted).
    pub fn sync_states(&self, peer: &NodeBytes, ids: &[DocId]) -> Result<Vec<(DocId, Vec<u8>)>> {
        let mut out = Vec::new();
        for id in ids {
            if let Some(state) = self
                .book_rows(
                    &STATES,
                    "peer = ?1 AND doc_id = ?2",
                    &[Part::Blob(peer), Part::Blob(id.0.as_bytes())],
                    "doc_id",
                    |_, v| Ok(v),
                )?
                .pop()
            {
                out.push((*id, state));
            }
        }
        Ok(out)
    }

    /// Every recorded refusal and quarantine, oldest first.
    pub fn sync_problems(&self) -> Result<Vec<SyncProblemRow>> {
        let mut out = self.book_rows(&PROBLEMS, "1", &[], "peer, doc_id", |r, v| {
            let peer = node_from(&r.get::<_, Vec<u8>>(0)?)?;
            let doc = doc_from(&r.get::<_, Vec<u8>>(1)?)?;
            let quarantined = r.get::<_, i64>(2)? != 0;
            let (reason, kind, at) = decode_problem(&v, DateTime::UNIX_EPOCH)
                .ok_or(StoreError::corrupt("sync problem"))?;
            Ok(SyncProblemRow {
                peer,
                doc,
                quarantined,
                reason,
                kind,
                at,
            })
        })?;
        out.sort_by_key(|p| p.at);
        Ok(out)
    }

    /// The length of the tombstone log (the next position).
    pub fn tombstone_count(&self) -> Result<u64> {
        let n: i64 = self.conn.query_row(
            "SELECT COALESCE(MAX(pos) + 1, 0) FROM sync_tombstones",
            [],
            |r| r.get(0),
        )?;
        u64::try_from(n).map_err(|_| StoreError::corrupt("tombstone log"))
    }

    /// The tombstones from position `from` on, in order. A hole in the log
    /// is [`StoreError::Corrupt`].
    pub fn tombstones_from(&self, from: u64) -> Result<Vec<Vec<u8>>> {
        let from = i64::try_from(from).unwrap_or(i64::MAX);
        let mut expected = from;
        self.book_rows(
            &TOMBSTONES,
            "pos >= ?1",
            &[Part::Int(from)],
            "pos",
            |r, v| {
                let pos: i64 = r.get(0)?;
                if pos != expected {
                    return Err(StoreError::corrupt("tombstone log"));
                }
                expected += 1;
                Ok(v)
            },
        )
    }

    /// The hub's audit expectations (`pending` or confirmed), by node.
    pub fn audit_expectations(&self, pending: bool) -> Result<Vec<(NodeBytes, Vec<u8>)>> {
        self.book_rows(
            &EXPECT,
            "pending = ?1",
            &[Part::Int(i64::from(pending))],
            "node",
            |r, v| Ok((node_from(&r.get::<_, Vec<u8>>(0)?)?, v)),
        )
    }

    /// Whether any audit expectation is pending (`pending`) or confirmed.
    pub fn has_audit_expectations(&self, pending: bool) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM sync_audit_expect WHERE pending = ?1)")?
            .query_row([i64::from(pending)], |r| r.get::<_, bool>(0))?)
    }

    /// One audit expectation.
    pub fn audit_expectation(&self, node: &NodeBytes, pending: bool) -> Result<Option<Vec<u8>>> {
        Ok(self
            .book_rows(
                &EXPECT,
                "node = ?1 AND pending = ?2",
                &[Part::Blob(node), Part::Int(i64::from(pending))],
                "node",
                |_, v| Ok(v),
            )?
            .pop())
    }
}

/// Prefix of the sync layer's sealed key/value rows up to schema v5. Do not change.
pub const LEGACY_PREFIX: &str = "polku/sync/v1/";

fn parse_node(hex: &str) -> Option<NodeBytes> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn parse_doc(text: &str) -> Option<DocId> {
    text.parse::<Uuid>().ok().map(DocId)
}

/// Moves the v5 bookkeeping rows (`polku/sync/v1/…` in sealed_kv) into the
/// tables, inside the migration's transaction `b`. Rows it cannot read stay
/// where they are (they never counted); the derived ones (the peer list,
/// the tombstone log's next position) are dropped. Returns how many rows moved.
pub(crate) fn migrate_from_meta(b: &Batch<'_>, now: DateTime<Utc>) -> Result<usize> {
    let mut moved = 0;
    for key in crate::index::meta_keys_in(&b.tx, b.keys)? {
        let Some(rest) = key
            .strip_prefix(LEGACY_PREFIX.as_bytes())
            .and_then(|r| std::str::from_utf8(r).ok())
        else {
            continue;
        };
        let Some(value) = crate::index::meta_get_in(&b.tx, b.keys, &key)? else {
            continue;
        };
        let parts: Vec<&str> = rest.split('/').collect();
        let done = match parts.as_slice() {
            ["peer", node, "record"] => parse_node(node)
                .map(|n| b.put_peer_record(&n, &value))
                .transpose()?
                .is_some(),
            ["peer", node, "state", doc] => match (parse_node(node), parse_doc(doc)) {
                (Some(n), Some(d)) => {
                    b.put_sync_state(&n, d, &value)?;
                    true
                }
                _ => false,
            },
            ["peers"] | ["tomb-next"] => true,
            ["tomb", pos] => match pos.parse::<i64>() {
                Ok(p) if p >= 0 => {
                    b.book_put(&TOMBSTONES, &[Part::Int(p)], &value)?;
                    true
                }
                _ => false,
            },
            [area @ ("refused" | "quarantine"), node, doc] => {
                match (
                    parse_node(node),
                    parse_doc(doc),
                    decode_problem(&value, now),
                ) {
                    (Some(peer), Some(doc), Some((reason, kind, at))) => {
                        b.put_sync_problem(&SyncProblemRow {
                            peer,
                            doc,
                            quarantined: *area == "quarantine",
                            reason,
                            kind,
                            at,
                        })?;
                        true
                    }
                    _ => false,
                }
            }
            [area @ ("audit-expect" | "audit-expect-pending"), node] => parse_node(node)
                .map(|n| b.put_audit_expectation(&n, *area == "audit-expect-pending", &value))
                .transpose()?
                .is_some(),
            _ => false,
        };
        if done {
            b.delete_meta(&key)?;
            moved += 1;
        }
    }
    Ok(moved)
}
