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

use polku_core::DocId;
use rusqlite::{OptionalExtension, params};

use crate::Store;
use crate::crypto::{RowRef, Slot};
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
        let sealed = self
            .keys
            .seal
            .seal(RowRef::new(Slot::IndexEntry, raw_id), entry)?;
        self.tx
            .prepare_cached(
                "INSERT INTO search_index (doc_id, entry) VALUES (?1, ?2)
                 ON CONFLICT (doc_id) DO UPDATE SET entry = excluded.entry",
            )?
            .execute(params![raw_id.as_slice(), sealed])
            .map_err(|e| {
                if is_foreign_key_violation(&e) {
                    StoreError::DocNotFound(id)
                } else {
                    e.into()
                }
            })?;
        Ok(())
    }

    /// Remove the index entry of `id`; returns whether there was one.
    pub fn delete_index(&self, id: DocId) -> Result<bool> {
        let n = self.tx.execute(
            "DELETE FROM search_index WHERE doc_id = ?1",
            [id.0.as_bytes().as_slice()],
        )?;
        Ok(n > 0)
    }

    /// Set a sealed value under `key` (any bytes, never stored in plaintext).
    pub fn put_meta(&self, key: &[u8], value: &[u8]) -> Result<()> {
        let hash = self.keys.meta_key_hash(key);
        let sealed_key = self
            .keys
            .seal
            .seal(RowRef::new(Slot::MetaKey, &hash), key)?;
        let sealed_value = self
            .keys
            .seal
            .seal(RowRef::new(Slot::MetaValue, &hash), value)?;
        self.tx
            .prepare_cached(
                "INSERT INTO sealed_kv (key_hash, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key_hash) DO UPDATE SET key = excluded.key, value = excluded.value",
            )?
            .execute(params![hash.as_slice(), sealed_key, sealed_value])?;
        Ok(())
    }

    /// Delete the value under `key`; returns whether there was one.
    pub fn delete_meta(&self, key: &[u8]) -> Result<bool> {
        let hash = self.keys.meta_key_hash(key);
        let n = self.tx.execute(
            "DELETE FROM sealed_kv WHERE key_hash = ?1",
            [hash.as_slice()],
        )?;
        Ok(n > 0)
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
        let sealed: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT entry FROM search_index WHERE doc_id = ?1")?
            .query_row([raw_id.as_slice()], |r| r.get(0))
            .optional()?;
        sealed
            .map(|s| {
                self.keys.seal.open(
                    RowRef::new(Slot::IndexEntry, raw_id),
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
            .prepare_cached("SELECT doc_id, entry FROM search_index ORDER BY doc_id")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let raw: Vec<u8> = r.get(0)?;
            let sealed: Vec<u8> = r.get(1)?;
            let entry = self.keys.seal.open(
                RowRef::new(Slot::IndexEntry, &raw),
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
        let hash = self.keys.meta_key_hash(key);
        let sealed: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT value FROM sealed_kv WHERE key_hash = ?1")?
            .query_row([hash.as_slice()], |r| r.get(0))
            .optional()?;
        sealed
            .map(|s| {
                self.keys
                    .seal
                    .open(RowRef::new(Slot::MetaValue, &hash), &s, "sealed value")
            })
            .transpose()
    }

    /// All keys of the key/value area, decrypted (unordered).
    pub fn list_meta_keys(&self) -> Result<Vec<Vec<u8>>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key_hash, key FROM sealed_kv")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let hash: Vec<u8> = r.get(0)?;
            let sealed: Vec<u8> = r.get(1)?;
            out.push(self.keys.seal.open(
                RowRef::new(Slot::MetaKey, &hash),
                &sealed,
                "sealed key",
            )?);
        }
        Ok(out)
    }
}
