//! Storage of the audit log (schema v4): the signed, hash-chained entries of
//! every node, as opaque bytes.
//!
//! The store does not know the entry format (that is `polku-audit`'s); it
//! keeps one sealed blob per `(node, seq)` where `node` is the 32-byte node
//! id (its ed25519 public key). The node id and the sequence number are
//! plaintext (random key, counter); the entry itself is sealed like every
//! other row, bound to its node and seq so entries cannot be swapped.
//!
//! # Append-only
//!
//! There is deliberately **no API to update or delete an audit entry**:
//! entries are never deleted, not even when the client they mention is
//! erased (they hold only random ids). [`Batch::append_audit`] inserts; if
//! the same `(node, seq)` is already stored it accepts identical bytes (an
//! idempotent merge, e.g. the same entry arriving twice by sync) and refuses
//! different bytes with [`StoreError::AuditConflict`] (a fork attempt). The
//! `tamper_*` functions (cargo feature `tamper`, off by default) exist only
//! so that scenario tests can play an attacker who holds the keys; they are
//! not compiled into real builds.

use rusqlite::{OptionalExtension, params};

use crate::Store;
use crate::crypto::{RowRef, SealKey, Slot};
use crate::docs::Batch;
use crate::error::{Result, StoreError};

/// One stored audit entry as read back: `(node id, seq, encoded entry)`.
pub type AuditRow = ([u8; 32], u64, Vec<u8>);

/// The last entry of `node`'s chain, decrypted.
fn last_entry(
    conn: &rusqlite::Connection,
    seal: &SealKey,
    node: &[u8; 32],
) -> Result<Option<(u64, Vec<u8>)>> {
    let row: Option<(i64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT seq, entry FROM audit_entries WHERE node = ?1 ORDER BY seq DESC LIMIT 1",
        )?
        .query_row([node.as_slice()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(seq, sealed)| {
        let seq = seq_from_sql(seq)?;
        Ok((seq, open_entry(seal, node, seq, &sealed)?))
    })
    .transpose()
}

/// Where an entry's ciphertext is bound (its associated data).
fn row(node: &[u8; 32], seq: u64) -> RowRef<'_> {
    RowRef::new(Slot::AuditEntry, node).seq(seq)
}

fn seq_to_sql(seq: u64) -> Result<i64> {
    i64::try_from(seq).map_err(|_| StoreError::InvalidInput {
        what: "audit sequence number out of range",
    })
}

fn seq_from_sql(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| StoreError::corrupt("audit sequence number"))
}

/// Open a stored entry; a ciphertext that does not authenticate is
/// [`StoreError::AuditEntryDamaged`] naming its seq.
fn open_entry(seal: &SealKey, node: &[u8; 32], seq: u64, sealed: &[u8]) -> Result<Vec<u8>> {
    seal.open(row(node, seq), sealed, "audit entry")
        .map_err(|_| StoreError::AuditEntryDamaged { seq })
}

impl Batch<'_> {
    /// The highest seq of `node`'s chain, read inside this transaction
    /// (plaintext metadata; nothing is decrypted). A writer compares it with
    /// its own head to notice entries appended by another session meanwhile.
    pub fn audit_last_seq(&self, node: &[u8; 32]) -> Result<Option<u64>> {
        let seq: Option<i64> = self
            .tx
            .prepare_cached("SELECT max(seq) FROM audit_entries WHERE node = ?1")?
            .query_row([node.as_slice()], |r| r.get(0))?;
        seq.map(seq_from_sql).transpose()
    }

    /// The last entry of `node`'s chain, decrypted, read inside this transaction.
    pub fn audit_last(&self, node: &[u8; 32]) -> Result<Option<(u64, Vec<u8>)>> {
        last_entry(&self.tx, &self.keys.seal, node)
    }

    /// Append the encoded audit entry `seq` of `node`'s chain.
    ///
    /// Insert only. If this `(node, seq)` is already stored with identical
    /// bytes, this is a no-op (`Ok`); with different bytes it is
    /// [`StoreError::AuditConflict`] and the stored entry is kept; if the
    /// stored entry no longer authenticates it is
    /// [`StoreError::AuditEntryDamaged`]. On any of these errors nothing was
    /// written, so the batch may go on (e.g. to merge the rest of a chain
    /// received by sync and report the conflict afterwards).
    ///
    /// The store checks no signature, hash link or gap: that is the audit
    /// crate's job.
    pub fn append_audit(&self, node: &[u8; 32], seq: u64, entry: &[u8]) -> Result<()> {
        if entry.is_empty() {
            return Err(StoreError::InvalidInput {
                what: "empty audit entry",
            });
        }
        let sql_seq = seq_to_sql(seq)?;
        let existing: Option<Vec<u8>> = self
            .tx
            .prepare_cached("SELECT entry FROM audit_entries WHERE node = ?1 AND seq = ?2")?
            .query_row(params![node.as_slice(), sql_seq], |r| r.get(0))
            .optional()?;
        if let Some(sealed) = existing {
            let stored = open_entry(&self.keys.seal, node, seq, &sealed)?;
            return if stored == entry {
                Ok(())
            } else {
                Err(StoreError::AuditConflict { seq })
            };
        }
        let sealed = self.keys.seal.seal(row(node, seq), entry)?;
        self.tx
            .prepare_cached("INSERT INTO audit_entries (node, seq, entry) VALUES (?1, ?2, ?3)")?
            .execute(params![node.as_slice(), sql_seq, sealed])?;
        Ok(())
    }
}

impl Store {
    /// Append one audit entry in its own transaction. See
    /// [`Batch::append_audit`].
    pub fn append_audit(&self, node: &[u8; 32], seq: u64, entry: &[u8]) -> Result<()> {
        self.batch(|b| b.append_audit(node, seq, entry))
    }

    /// Every stored audit entry, decrypted, ordered by node id then seq.
    /// The first entry that does not authenticate stops the read with
    /// [`StoreError::AuditEntryDamaged`].
    pub fn audit_entries(&self) -> Result<Vec<AuditRow>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT node, seq, entry FROM audit_entries ORDER BY node, seq")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let node: [u8; 32] = r.get(0)?;
            let seq = seq_from_sql(r.get(1)?)?;
            let sealed: Vec<u8> = r.get(2)?;
            let entry = open_entry(&self.keys.seal, &node, seq, &sealed)?;
            out.push((node, seq, entry));
        }
        Ok(out)
    }

    /// `node`'s entries with a seq greater than `after_seq` (all of them for
    /// `None`), decrypted, in seq order: what a peer that has the chain up
    /// to `after_seq` is missing.
    pub fn audit_entries_since(
        &self,
        node: &[u8; 32],
        after_seq: Option<u64>,
    ) -> Result<Vec<(u64, Vec<u8>)>> {
        let after = match after_seq {
            None => -1,
            Some(s) => match i64::try_from(s) {
                Ok(s) => s,
                // Nothing can be stored above i64::MAX.
                Err(_) => return Ok(Vec::new()),
            },
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, entry FROM audit_entries WHERE node = ?1 AND seq > ?2 ORDER BY seq",
        )?;
        let mut rows = stmt.query(params![node.as_slice(), after])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let seq = seq_from_sql(r.get(0)?)?;
            let sealed: Vec<u8> = r.get(1)?;
            out.push((seq, open_entry(&self.keys.seal, node, seq, &sealed)?));
        }
        Ok(out)
    }

    /// The entry with the highest seq of `node`'s chain, decrypted, if any
    /// (to chain the next entry onto).
    pub fn audit_last(&self, node: &[u8; 32]) -> Result<Option<(u64, Vec<u8>)>> {
        last_entry(&self.conn, &self.keys.seal, node)
    }

    /// Each node with stored entries and its highest seq, ordered by node
    /// id (plaintext metadata only, nothing is decrypted): what a sync peer
    /// compares to find missing entries.
    pub fn audit_heads(&self) -> Result<Vec<([u8; 32], u64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT node, max(seq) FROM audit_entries GROUP BY node ORDER BY node",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push((r.get(0)?, seq_from_sql(r.get(1)?)?));
        }
        Ok(out)
    }

    /// Number of stored audit entries (all nodes).
    pub fn audit_len(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM audit_entries", [], |r| r.get(0))?;
        u64::try_from(n).map_err(|_| StoreError::corrupt("audit entry count"))
    }
}

/// Tampering, for tests only (cargo feature `tamper`, off by default).
///
/// These exist **only** so that scenario tests can play an attacker who
/// holds the store keys and rewrites the audit log behind the API's back;
/// verification must then detect the edit, gap or fork. They bypass the
/// append-only rule and must never be enabled in a real build.
#[cfg(feature = "tamper")]
impl Store {
    /// Test-only (feature `tamper`): seal `entry` for `(node, seq)` and
    /// overwrite the stored entry, or insert it if there is none.
    pub fn tamper_replace_audit(&self, node: &[u8; 32], seq: u64, entry: &[u8]) -> Result<()> {
        let sealed = self.keys.seal.seal(row(node, seq), entry)?;
        self.tamper_set_raw_audit_ciphertext(node, seq, &sealed)
    }

    /// Test-only (feature `tamper`): delete the entry `(node, seq)`.
    /// Returns whether it existed.
    pub fn tamper_delete_audit(&self, node: &[u8; 32], seq: u64) -> Result<bool> {
        let tx = self.write_tx()?;
        let n = tx.execute(
            "DELETE FROM audit_entries WHERE node = ?1 AND seq = ?2",
            params![node.as_slice(), seq_to_sql(seq)?],
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    /// Test-only (feature `tamper`): the stored (sealed) bytes of entry
    /// `(node, seq)`; [`StoreError::InvalidInput`] if there is none.
    pub fn tamper_raw_audit_ciphertext(&self, node: &[u8; 32], seq: u64) -> Result<Vec<u8>> {
        self.conn
            .query_row(
                "SELECT entry FROM audit_entries WHERE node = ?1 AND seq = ?2",
                params![node.as_slice(), seq_to_sql(seq)?],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::InvalidInput {
                what: "no such audit entry",
            })
    }

    /// Test-only (feature `tamper`): store `raw` verbatim as the sealed
    /// bytes of entry `(node, seq)`, overwriting or inserting.
    pub fn tamper_set_raw_audit_ciphertext(
        &self,
        node: &[u8; 32],
        seq: u64,
        raw: &[u8],
    ) -> Result<()> {
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO audit_entries (node, seq, entry) VALUES (?1, ?2, ?3)
             ON CONFLICT (node, seq) DO UPDATE SET entry = excluded.entry",
            params![node.as_slice(), seq_to_sql(seq)?, raw],
        )?;
        tx.commit()?;
        Ok(())
    }
}
