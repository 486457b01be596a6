//! The sealed search index and the sealed key/value area (schema v2).
//!
//! The store does not know the domain model: a search-index entry is an
//! opaque blob the caller serialises per document (e.g. name, birth date,
//! unit of a client), sealed and keyed by the document id; at unlock the
//! caller reads them all with [`Store::index_entries`] and builds its
//! in-memory index. Nothing of it is plaintext on disk.
//!
//! The key/value area holds small sealed blobs such as per-peer sync states.
//! Keys are not stored in plaintext either: rows are found by a keyed hash of
//! the key, and the key itself is sealed so it can be listed.
//!
//! Both are overwritten in place, so each row carries a write counter bound
//! into its sealed associated data and into the store's rollback anchor
//! (`src/anchor.rs`): an older ciphertext copied back does not open.

use polku_core::DocId;
use rusqlite::{OptionalExtension, params};

use crate::Store;
use crate::anchor::ctr_of;
use crate::crypto::{RowRef, Slot, StoreKeys};
use crate::docs::{Batch, doc_id_from};
use crate::error::{Result, StoreError};

fn is_foreign_key_violation(e: &rusqlite::Error) -> bool {
    e.sqlite_error()
        .is_some_and(|s| s.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
}

impl Batch<'_> {
    /// Set (insert or replace) the sealed index entry of document `id`.
    /// The document must exist; the entry is deleted with it.
    pub fn put_index(&self, id: DocId, entry: &[u8]) -> Result<()> {
        let raw_id = id.0.as_bytes();
        let old = self.old_ctr("SELECT ctr FROM search_index WHERE doc_id = ?1", raw_id)?;
        let ctr = self.with_anchor(|a, _| a.next())?;
        let sealed = self
            .keys
            .seal
            .seal(RowRef::new(Slot::IndexEntry, raw_id).seq(ctr), entry)?;
        self.tx
            .prepare_cached(
                "INSERT INTO search_index (doc_id, entry, ctr) VALUES (?1, ?2, ?3)
                 ON CONFLICT (doc_id) DO UPDATE SET entry = excluded.entry, ctr = excluded.ctr",
            )?
            .execute(params![raw_id.as_slice(), sealed, ctr as i64])
            .map_err(|e| {
                if is_foreign_key_violation(&e) {
                    StoreError::DocNotFound(id)
                } else {
                    e.into()
                }
            })?;
        self.replaced(Slot::IndexEntry, raw_id, old, Some(ctr))
    }

    /// The write counter of the mutable row `id` selected by `sql`, if any.
    pub(crate) fn old_ctr(&self, sql: &str, id: &[u8]) -> Result<Option<u64>> {
        self.tx
            .prepare_cached(sql)?
            .query_row([id], |r| r.get::<_, i64>(0))
            .optional()?
            .map(ctr_of)
            .transpose()
    }

    /// Update the anchor for a mutable row written (`new`) over or instead
    /// of the row with counter `old`, or deleted (`new` = `None`).
    pub(crate) fn replaced(
        &self,
        slot: Slot,
        id: &[u8],
        old: Option<u64>,
        new: Option<u64>,
    ) -> Result<()> {
        self.with_anchor(|a, keys| {
            for ctr in [old, new].into_iter().flatten() {
                a.toggle(keys, slot, id, ctr, &[]);
            }
            if new.is_none() {
                // A delete changes the anchor too: each state gets its own counter.
                a.next();
            }
        })
    }

    /// Remove the index entry of `id`; returns whether there was one.
    pub fn delete_index(&self, id: DocId) -> Result<bool> {
        let raw_id = id.0.as_bytes();
        let old = self.old_ctr(
            "DELETE FROM search_index WHERE doc_id = ?1 RETURNING ctr",
            raw_id,
        )?;
        if old.is_some() {
            self.replaced(Slot::IndexEntry, raw_id, old, None)?;
        }
        Ok(old.is_some())
    }

    /// Set a sealed value under `key` (any bytes, never stored in plaintext).
    pub fn put_meta(&self, key: &[u8], value: &[u8]) -> Result<()> {
        let hash = self.keys.meta_key_hash(key);
        let old = self.old_ctr("SELECT ctr FROM sealed_kv WHERE key_hash = ?1", &hash)?;
        let ctr = self.with_anchor(|a, _| a.next())?;
        let sealed_key = self
            .keys
            .seal
            .seal(RowRef::new(Slot::MetaKey, &hash).seq(ctr), key)?;
        let sealed_value = self
            .keys
            .seal
            .seal(RowRef::new(Slot::MetaValue, &hash).seq(ctr), value)?;
        self.tx
            .prepare_cached(
                "INSERT INTO sealed_kv (key_hash, key, value, ctr) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (key_hash) DO UPDATE SET key = excluded.key, value = excluded.value,
                                                      ctr = excluded.ctr",
            )?
            .execute(params![
                hash.as_slice(),
                sealed_key,
                sealed_value,
                ctr as i64
            ])?;
        self.replaced(Slot::MetaValue, &hash, old, Some(ctr))
    }

    /// Delete the value under `key`; returns whether there was one.
    pub fn delete_meta(&self, key: &[u8]) -> Result<bool> {
        let hash = self.keys.meta_key_hash(key);
        let old = self.old_ctr(
            "DELETE FROM sealed_kv WHERE key_hash = ?1 RETURNING ctr",
            &hash,
        )?;
        if old.is_some() {
            self.replaced(Slot::MetaValue, &hash, old, None)?;
        }
        Ok(old.is_some())
    }
}

impl Store {
    /// Set the sealed index entry of document `id`. See [`Batch::put_index`].
    pub fn put_index(&self, id: DocId, entry: &[u8]) -> Result<()> {
        self.batch(|b| b.put_index(id, entry))
    }

    /// Remove the index entry of `id`.
    pub fn delete_index(&self, id: DocId) -> Result<bool> {
        self.batch(|b| b.delete_index(id))
    }

    /// The decrypted index entry of `id`, if any.
    pub fn get_index(&self, id: DocId) -> Result<Option<Vec<u8>>> {
        let raw_id = id.0.as_bytes();
        let sealed: Option<(Vec<u8>, i64)> = self
            .conn
            .prepare_cached("SELECT entry, ctr FROM search_index WHERE doc_id = ?1")?
            .query_row([raw_id.as_slice()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        sealed
            .map(|(s, ctr)| {
                self.keys.seal.open(
                    RowRef::new(Slot::IndexEntry, raw_id).seq(ctr_of(ctr)?),
                    &s,
                    "search index entry",
                )
            })
            .transpose()
    }

    /// All index entries, decrypted, ordered by document id: one scan and
    /// one AEAD open per entry.
    pub fn index_entries(&self) -> Result<Vec<(DocId, Vec<u8>)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT doc_id, entry, ctr FROM search_index ORDER BY doc_id")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let raw: Vec<u8> = r.get(0)?;
            let sealed: Vec<u8> = r.get(1)?;
            let ctr = ctr_of(r.get(2)?)?;
            let entry = self.keys.seal.open(
                RowRef::new(Slot::IndexEntry, &raw).seq(ctr),
                &sealed,
                "search index entry",
            )?;
            out.push((doc_id_from(&raw)?, entry));
        }
        Ok(out)
    }

    /// Set a sealed value under `key`. See [`Batch::put_meta`].
    pub fn put_meta(&self, key: &[u8], value: &[u8]) -> Result<()> {
        self.batch(|b| b.put_meta(key, value))
    }

    /// Delete the value under `key`.
    pub fn delete_meta(&self, key: &[u8]) -> Result<bool> {
        self.batch(|b| b.delete_meta(key))
    }

    /// The decrypted value under `key`, if any.
    pub fn get_meta(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        meta_get_in(&self.conn, &self.keys, key)
    }

    /// All keys of the key/value area, decrypted (unordered).
    pub fn list_meta_keys(&self) -> Result<Vec<Vec<u8>>> {
        meta_keys_in(&self.conn, &self.keys)
    }
}

/// [`Store::get_meta`] on a connection (or a transaction).
pub(crate) fn meta_get_in(
    conn: &rusqlite::Connection,
    keys: &StoreKeys,
    key: &[u8],
) -> Result<Option<Vec<u8>>> {
    let hash = keys.meta_key_hash(key);
    let sealed: Option<(Vec<u8>, i64)> = conn
        .prepare_cached("SELECT value, ctr FROM sealed_kv WHERE key_hash = ?1")?
        .query_row([hash.as_slice()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    sealed
        .map(|(s, ctr)| {
            keys.seal.open(
                RowRef::new(Slot::MetaValue, &hash).seq(ctr_of(ctr)?),
                &s,
                "sealed value",
            )
        })
        .transpose()
}

/// [`Store::list_meta_keys`] on a connection (or a transaction).
pub(crate) fn meta_keys_in(conn: &rusqlite::Connection, keys: &StoreKeys) -> Result<Vec<Vec<u8>>> {
    let mut stmt = conn.prepare_cached("SELECT key_hash, key, ctr FROM sealed_kv")?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let hash: Vec<u8> = r.get(0)?;
        let sealed: Vec<u8> = r.get(1)?;
        let ctr = ctr_of(r.get(2)?)?;
        out.push(keys.seal.open(
            RowRef::new(Slot::MetaKey, &hash).seq(ctr),
            &sealed,
            "sealed key",
        )?);
    }
    Ok(out)
}
