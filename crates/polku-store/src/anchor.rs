//! Write counters and the rollback anchor (schema v5).
//!
//! Rows that are overwritten in place — search-index entries, sealed
//! key/value rows ([`crate::Store::put_meta`]: sync positions, lease and
//! last-contact times, per-peer records) and document views — could be
//! rolled back by someone who can write the database file: an older
//! ciphertext of the same row has the same associated data, so it would
//! still decrypt. Three things stop that:
//!
//! 1. **Write counter.** Every such row carries a `ctr` column taken from one
//!    store-wide counter, bumped in the same transaction as the write, and
//!    sealed into the row's associated data (the `seq` field, see
//!    `crypto.rs`). An old ciphertext put back under the row's current
//!    counter does not authenticate ([`StoreError::Corrupt`] at the read and
//!    in [`crate::Store::verify`]).
//! 2. **Anchor.** One sealed row, `rollback_anchor`, holds the store counter
//!    and the XOR over all live mutable rows of
//!    `blake3_keyed(anchor key, slot ‖ id ‖ ctr)` ([`crate::crypto`]),
//!    updated incrementally in the same transaction as every put and delete
//!    (the old row's tag XORed out, the new one's in). Unlock and
//!    [`crate::Store::verify`] recompute it from the `ctr` columns (no
//!    decryption) and compare: an old row put back *together with its old
//!    counter*, a deleted row, a re-inserted deleted row or a counter above
//!    the store counter is [`StoreError::Corrupt`] with `what` =
//!    [`ROLLED_BACK`]. The anchor itself is sealed under the store counter,
//!    so it cannot be edited either.
//! 3. **Documents.** A `docs` row is changed in place too (its plaintext
//!    heads hash and next change number with every appended change, its
//!    snapshot and generation at compaction), so it also carries a `ctr`
//!    bumped by each of those writes, and its anchor tag binds
//!    `heads_hash ‖ generation ‖ next_seq` as well. Change rows are
//!    append-only and sealed under their number, the snapshot under its
//!    generation, and every load checks the heads hash: a document rolled
//!    back to an earlier state (trailing change rows removed with the heads
//!    hash set back, an older snapshot), deleted, or an erased one put back
//!    changes its row's tag or the set of tags and is refused at unlock.
//!
//! The check runs at every unlock (one scan of the three tables' ids and
//! counters, no decryption; well under a microsecond per row) and in
//! [`crate::Store::verify`]. A row changed behind the store's back while it
//! is open (another process writing the file) is seen at the next unlock.
//!
//! **Not detected, by design:** rolling back the whole mutable state
//! consistently — every mutable row *and* the anchor to the same earlier
//! moment, e.g. restoring an older copy of the whole file (a backup), or
//! undoing exactly the last transaction together with its anchor. Nothing
//! inside the file can tell an old consistent copy from the current one;
//! that needs state outside the file (the hub, the audit chain's heads).
//! Logins (`users`) and the append-only audit log are not covered here.
//!
//! **Upgrade.** Migration 5 adds the columns with `ctr` = 0 and the empty
//! anchor table; in the same transaction, at the first unlock after the
//! upgrade (the migration needs the keys), every row with `ctr` = 0 is
//! opened with the old associated data (`seq` = 0), re-sealed under a fresh
//! counter (documents only get a counter), and the anchor is written. From then on a row with `ctr` = 0 is
//! refused, as is a schema-v5 store without an anchor row. A row that does
//! not open during the upgrade fails the unlock with [`StoreError::Corrupt`]
//! naming the row type (it was damaged before). A file made to look as if it
//! had never been upgraded (schema version set back, counters and anchor
//! removed) is upgraded again from whatever pre-v5 rows it holds: versions
//! written before the upgrade stay as replayable as they always were, which
//! is the consistent-rollback case above.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};

use crate::crypto::{RowRef, Slot, StoreKeys};
use crate::error::{Result, StoreError};

/// `what` of the [`StoreError::Corrupt`] reported for a rolled-back,
/// deleted or re-inserted document or mutable row. Fixed text, never data.
pub const ROLLED_BACK: &str = "rows rolled back or removed";

/// First schema version with write counters and the anchor.
pub(crate) const ANCHOR_SINCE: u32 = 5;

pub(crate) fn rolled_back() -> StoreError {
    StoreError::corrupt(ROLLED_BACK)
}

/// The anchor as held in memory during one write transaction.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Anchor {
    /// Highest counter handed out.
    pub counter: u64,
    /// XOR of the tags of all live mutable rows.
    pub acc: [u8; 32],
    dirty: bool,
}

fn to_ctr(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| rolled_back())
}

/// The write counter of a stored mutable row: 0 (a row from before schema
/// v5, put back after the upgrade re-sealed it) or negative is a rollback.
pub(crate) fn ctr_of(v: i64) -> Result<u64> {
    match to_ctr(v)? {
        0 => Err(rolled_back()),
        c => Ok(c),
    }
}

impl Anchor {
    fn empty() -> Self {
        Anchor {
            counter: 0,
            acc: [0; 32],
            dirty: true,
        }
    }

    /// Read and authenticate the anchor row. A missing row in a store that
    /// has the table is a rollback (it is written with the table).
    pub fn load(conn: &Connection, keys: &StoreKeys) -> Result<Anchor> {
        let row: Option<(i64, Vec<u8>)> = conn
            .prepare_cached("SELECT counter, anchor FROM rollback_anchor WHERE id = 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (counter, sealed) = row.ok_or_else(rolled_back)?;
        let counter = to_ctr(counter)?;
        let plain = keys
            .seal
            .open(
                RowRef::new(Slot::Anchor, &[]).seq(counter),
                &sealed,
                ROLLED_BACK,
            )
            .map_err(|_| rolled_back())?;
        let acc: [u8; 32] = plain.as_slice().try_into().map_err(|_| rolled_back())?;
        Ok(Anchor {
            counter,
            acc,
            dirty: false,
        })
    }

    /// The next write counter (strictly increasing).
    pub fn next(&mut self) -> u64 {
        self.counter += 1;
        self.dirty = true;
        self.counter
    }

    /// XOR a row's tag in (a new row) or out (a replaced or deleted row).
    pub fn toggle(&mut self, keys: &StoreKeys, slot: Slot, id: &[u8], ctr: u64, extra: &[u8]) {
        let tag = keys.anchor_tag(slot, id, ctr, extra);
        for (a, t) in self.acc.iter_mut().zip(tag) {
            *a ^= t;
        }
        self.dirty = true;
    }

    /// Write the anchor back if it changed.
    pub fn store(&mut self, conn: &Connection, keys: &StoreKeys) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let counter = i64::try_from(self.counter).map_err(|_| StoreError::InvalidInput {
            what: "write counter exhausted",
        })?;
        let sealed = keys
            .seal
            .seal(RowRef::new(Slot::Anchor, &[]).seq(self.counter), &self.acc)?;
        conn.prepare_cached(
            "INSERT INTO rollback_anchor (id, counter, anchor) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET counter = excluded.counter, anchor = excluded.anchor",
        )?
        .execute(params![counter, sealed])?;
        self.dirty = false;
        Ok(())
    }
}

/// The mutable tables: (slot of the tag, query of `id, ctr` of every row).
const MUTABLE: &[(Slot, &str)] = &[
    (Slot::IndexEntry, "SELECT doc_id, ctr FROM search_index"),
    (Slot::MetaValue, "SELECT key_hash, ctr FROM sealed_kv"),
    (Slot::DocView, "SELECT doc_id, ctr FROM doc_views"),
];

/// Recompute the anchor from the `ctr` columns and compare it with the
/// stored one. Run inside one read transaction (a consistent snapshot).
pub(crate) fn check(conn: &Connection, keys: &StoreKeys) -> Result<()> {
    if !conn.is_autocommit() {
        // Inside a write batch (`verify` called from its closure) the
        // anchor's new state is only in memory until the commit.
        return Err(StoreError::InvalidInput {
            what: "the rollback check cannot run inside a write batch",
        });
    }
    conn.execute_batch("BEGIN DEFERRED")?;
    let result = check_in(conn, keys);
    // A read transaction: ending it cannot lose anything.
    let end = conn.execute_batch("COMMIT");
    result?;
    end?;
    Ok(())
}

/// The anchor-tag extra of a `docs` row: the plaintext state a rollback of
/// the document would have to restore.
pub(crate) fn doc_extra(heads: &[u8; 32], generation: u64, next_seq: u64) -> [u8; 48] {
    let mut out = [0u8; 48];
    out[..32].copy_from_slice(heads);
    out[32..40].copy_from_slice(&generation.to_le_bytes());
    out[40..].copy_from_slice(&next_seq.to_le_bytes());
    out
}

/// A `docs` row's anchor-relevant columns as read from SQLite.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DocState {
    pub ctr: u64,
    pub heads: [u8; 32],
    pub generation: u64,
    pub next_seq: u64,
}

impl DocState {
    /// The row (`ctr`, `heads_hash`, `generation`, `next_seq` from column
    /// `first` on).
    pub fn from_row(r: &rusqlite::Row<'_>, first: usize) -> Result<DocState> {
        Ok(DocState {
            ctr: ctr_of(r.get(first)?)?,
            heads: r.get(first + 1)?,
            generation: to_ctr(r.get(first + 2)?)?,
            next_seq: to_ctr(r.get(first + 3)?)?,
        })
    }

    /// The tag extra of this state.
    pub fn extra(&self) -> [u8; 48] {
        doc_extra(&self.heads, self.generation, self.next_seq)
    }
}

fn check_in(conn: &Connection, keys: &StoreKeys) -> Result<()> {
    let anchor = Anchor::load(conn, keys)?;
    let mut acc = [0u8; 32];
    {
        let mut stmt =
            conn.prepare_cached("SELECT id, ctr, heads_hash, generation, next_seq FROM docs")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let state = DocState::from_row(r, 1)?;
            let ValueRef::Blob(id) = r.get_ref(0)? else {
                return Err(rolled_back());
            };
            if state.ctr > anchor.counter {
                return Err(rolled_back());
            }
            let tag = keys.anchor_tag(Slot::DocSnapshot, id, state.ctr, &state.extra());
            for (a, t) in acc.iter_mut().zip(tag) {
                *a ^= t;
            }
        }
    }
    for (slot, sql) in MUTABLE {
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let ctr = to_ctr(r.get(1)?)?;
            let ValueRef::Blob(id) = r.get_ref(0)? else {
                return Err(rolled_back());
            };
            if ctr == 0 || ctr > anchor.counter {
                return Err(rolled_back());
            }
            let tag = keys.anchor_tag(*slot, id, ctr, &[]);
            for (a, t) in acc.iter_mut().zip(tag) {
                *a ^= t;
            }
        }
    }
    // The sync bookkeeping tables (schema v6; their ids are the key columns).
    let version = crate::schema::user_version(conn)?;
    if version >= crate::sync_book::SYNC_BOOK_SINCE {
        for t in crate::sync_book::TABLES
            .iter()
            .filter(|t| t.since <= version)
        {
            let sql = format!("SELECT {}, ctr FROM {}", t.keys.join(", "), t.name);
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let id = crate::sync_book::row_id_of(r, t.keys.len())?;
                let ctr = to_ctr(r.get(t.keys.len())?)?;
                if ctr == 0 || ctr > anchor.counter {
                    return Err(rolled_back());
                }
                let tag = keys.anchor_tag(t.slot, &id, ctr, &[]);
                for (a, t) in acc.iter_mut().zip(tag) {
                    *a ^= t;
                }
            }
        }
    }
    if acc != anchor.acc {
        return Err(rolled_back());
    }
    Ok(())
}

/// The upgrade step (inside the migration's transaction, once the keys are
/// known): re-seal every row from before schema v5 (`ctr` = 0, old
/// associated data) under a fresh counter and write the first anchor.
pub(crate) fn establish(conn: &Connection, keys: &StoreKeys) -> Result<()> {
    let mut anchor = Anchor::empty();
    // Search index.
    let rows: Vec<(Vec<u8>, Vec<u8>)> = {
        let mut stmt = conn.prepare("SELECT doc_id, entry FROM search_index WHERE ctr = 0")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    for (id, sealed) in rows {
        let row = RowRef::new(Slot::IndexEntry, &id);
        let plain = keys.seal.open(row, &sealed, "search index entry")?;
        let ctr = anchor.next();
        let resealed = keys.seal.seal(row.seq(ctr), &plain)?;
        conn.execute(
            "UPDATE search_index SET entry = ?2, ctr = ?3 WHERE doc_id = ?1",
            params![id, resealed, ctr as i64],
        )?;
        anchor.toggle(keys, Slot::IndexEntry, &id, ctr, &[]);
    }
    // Sealed key/value rows (key and value).
    let rows: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> = {
        let mut stmt = conn.prepare("SELECT key_hash, key, value FROM sealed_kv WHERE ctr = 0")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    for (hash, sealed_key, sealed_value) in rows {
        let key = keys
            .seal
            .open(RowRef::new(Slot::MetaKey, &hash), &sealed_key, "sealed key")?;
        let value = keys.seal.open(
            RowRef::new(Slot::MetaValue, &hash),
            &sealed_value,
            "sealed value",
        )?;
        let ctr = anchor.next();
        let key = keys
            .seal
            .seal(RowRef::new(Slot::MetaKey, &hash).seq(ctr), &key)?;
        let value = keys
            .seal
            .seal(RowRef::new(Slot::MetaValue, &hash).seq(ctr), &value)?;
        conn.execute(
            "UPDATE sealed_kv SET key = ?2, value = ?3, ctr = ?4 WHERE key_hash = ?1",
            params![hash, key, value, ctr as i64],
        )?;
        anchor.toggle(keys, Slot::MetaValue, &hash, ctr, &[]);
    }
    // Document views.
    let rows: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> = {
        let mut stmt =
            conn.prepare("SELECT doc_id, heads_hash, view FROM doc_views WHERE ctr = 0")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    for (id, heads, sealed) in rows {
        let row = RowRef::new(Slot::DocView, &id).extra(&heads);
        let plain = keys.seal.open(row, &sealed, "document view")?;
        let ctr = anchor.next();
        let resealed = keys.seal.seal(row.seq(ctr), &plain)?;
        conn.execute(
            "UPDATE doc_views SET view = ?2, ctr = ?3 WHERE doc_id = ?1",
            params![id, resealed, ctr as i64],
        )?;
        anchor.toggle(keys, Slot::DocView, &id, ctr, &[]);
    }
    // Documents (nothing to re-seal: their tags bind the plaintext state).
    let rows: Vec<(Vec<u8>, [u8; 32], i64, i64)> = {
        let mut stmt =
            conn.prepare("SELECT id, heads_hash, generation, next_seq FROM docs WHERE ctr = 0")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    for (id, heads, generation, next_seq) in rows {
        let ctr = anchor.next();
        conn.execute(
            "UPDATE docs SET ctr = ?2 WHERE id = ?1",
            params![id, ctr as i64],
        )?;
        let extra = doc_extra(&heads, to_ctr(generation)?, to_ctr(next_seq)?);
        anchor.toggle(keys, Slot::DocSnapshot, &id, ctr, &extra);
    }
    anchor.store(conn, keys)
}

/// The first anchor of a new store (no mutable rows yet).
pub(crate) fn init(conn: &Connection, keys: &StoreKeys) -> Result<()> {
    Anchor::empty().store(conn, keys)
}
