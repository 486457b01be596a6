//! Opening `polku.db`, connection settings and schema migrations.
//!
//! Migrations are SQL files under `src/migrations/`, applied in order inside
//! one transaction; `PRAGMA user_version` records the schema version. A store
//! whose version is newer than [`SCHEMA_VERSION`] is refused with
//! [`StoreError::NewerSchema`]. Shipped migrations are never edited: a test
//! pins their hashes.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::anchor::{self, ANCHOR_SINCE};
use crate::crypto::StoreKeys;
use crate::docs::Batch;
use crate::error::{Result, StoreError};
use crate::sync_book::{self, SYNC_BOOK_SINCE};

/// The schema version this binary writes and understands.
pub const SCHEMA_VERSION: u32 = 9;

/// Value of `store_meta.format` marking a Polku store. Do not change.
pub(crate) const FORMAT_MARKER: &[u8] = b"polku-store";

/// One schema step.
#[derive(Debug)]
pub(crate) struct Migration {
    /// The schema version after this step.
    pub version: u32,
    /// SQL applied by this step. Never edit once shipped.
    pub sql: &'static str,
}

/// All migrations, oldest first. Append only.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("migrations/0002_search_index_and_kv.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("migrations/0003_doc_views.sql"),
    },
    Migration {
        version: 4,
        sql: include_str!("migrations/0004_audit.sql"),
    },
    Migration {
        version: 5,
        sql: include_str!("migrations/0005_write_counters.sql"),
    },
    Migration {
        version: 6,
        sql: include_str!("migrations/0006_sync_bookkeeping.sql"),
    },
    Migration {
        version: 7,
        sql: include_str!("migrations/0007_attachment_refs.sql"),
    },
    Migration {
        version: 8,
        sql: include_str!("migrations/0008_doc_heads_index.sql"),
    },
    Migration {
        version: 9,
        sql: include_str!("migrations/0009_sync_peer_deltas.sql"),
    },
];

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Cheap structural check of the database file before SQLite touches it:
/// garbage is [`StoreError::NotAStore`], a file shorter than its own header
/// says is [`StoreError::Corrupt`] (a store cut in half).
pub(crate) fn check_file(db: &Path) -> Result<()> {
    let meta = match fs::metadata(db) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StoreError::NotAStore),
        Err(e) => return Err(e.into()),
    };
    if !meta.is_file() {
        return Err(StoreError::NotAStore);
    }
    let len = meta.len();
    let mut header = [0u8; 100];
    if len < header.len() as u64 {
        return Err(StoreError::NotAStore);
    }
    fs::File::open(db)?.read_exact(&mut header)?;
    if &header[..16] != SQLITE_MAGIC {
        return Err(StoreError::NotAStore);
    }
    let raw_page_size = u32::from(u16::from_be_bytes([header[16], header[17]]));
    let page_size = if raw_page_size == 1 {
        65_536
    } else {
        raw_page_size
    };
    if !(512..=65_536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(StoreError::corrupt("database header"));
    }
    let change_counter = &header[24..28];
    let valid_for = &header[92..96];
    let page_count = u32::from_be_bytes([header[28], header[29], header[30], header[31]]);
    // The in-header size is authoritative only when it was written by the
    // same transaction as the change counter. While a write-ahead log holds
    // frames, the main file may legitimately lag behind; skip the check then.
    let wal_has_frames = fs::metadata(wal_path(db))
        .map(|m| m.len() > 0)
        .unwrap_or(false);
    if change_counter == valid_for
        && page_count > 0
        && !wal_has_frames
        && len < u64::from(page_count) * u64::from(page_size)
    {
        return Err(StoreError::corrupt("database file truncated"));
    }
    Ok(())
}

fn wal_path(db: &Path) -> std::path::PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push("-wal");
    s.into()
}

/// Open an existing database file (never creates one).
pub(crate) fn open_existing(db: &Path) -> Result<Connection> {
    check_file(db)?;
    #[cfg_attr(not(feature = "fault-injection"), allow(unused_mut))]
    let mut conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn)?;
    #[cfg(feature = "fault-injection")]
    crate::fault::install(&mut conn);
    Ok(conn)
}

/// Create a new, empty database file.
pub(crate) fn create_new(db: &Path) -> Result<Connection> {
    #[cfg_attr(not(feature = "fault-injection"), allow(unused_mut))]
    let mut conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn)?;
    #[cfg(feature = "fault-injection")]
    crate::fault::install(&mut conn);
    Ok(conn)
}

/// Connection settings: WAL, `synchronous=FULL` (a write is durable when the
/// call returns), foreign keys, `secure_delete` (deleted rows are zeroed so
/// erased clients leave no ciphertext in free pages).
fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::InvalidInput {
            what: "the file system does not support write-ahead logging",
        });
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "secure_delete", true)?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(())
}

/// The schema version on disk.
pub(crate) fn user_version(conn: &Connection) -> Result<u32> {
    let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    u32::try_from(v).map_err(|_| StoreError::corrupt("schema version"))
}

/// Check that `conn` is a Polku store this binary can read; returns its
/// schema version.
pub(crate) fn check_store(conn: &Connection) -> Result<u32> {
    let version = user_version(conn)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if version == 0 {
        return Err(StoreError::NotAStore);
    }
    let has_meta: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'store_meta'",
        [],
        |r| r.get(0),
    )?;
    if has_meta == 0 {
        return Err(StoreError::NotAStore);
    }
    let marker: Option<Vec<u8>> = conn
        .query_row(
            "SELECT value FROM store_meta WHERE key = 'format'",
            [],
            |r| r.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    if marker.as_deref() != Some(FORMAT_MARKER) {
        return Err(StoreError::NotAStore);
    }
    Ok(version)
}

/// Apply migrations `(from, to]` inside `tx` and record the new version.
pub(crate) fn apply_migrations(tx: &Transaction<'_>, from: u32, to: u32) -> Result<()> {
    for m in MIGRATIONS
        .iter()
        .filter(|m| m.version > from && m.version <= to)
    {
        tx.execute_batch(m.sql)?;
    }
    tx.pragma_update(None, "user_version", i64::from(to))?;
    Ok(())
}

/// Bring an opened store up to [`SCHEMA_VERSION`] in one transaction.
/// Returns the version found before migrating.
///
/// Crossing schema v5 also re-seals the existing mutable rows under write
/// counters and writes the rollback anchor, in the same transaction (it
/// needs the keys; see `src/anchor.rs`); crossing v6 moves the sync
/// bookkeeping out of the sealed key/value area into its tables
/// (`src/sync_book.rs`).
pub(crate) fn migrate(conn: &Connection, keys: &StoreKeys) -> Result<u32> {
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    // Re-read under the write lock: another process may have migrated.
    let found = user_version(&tx)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < SCHEMA_VERSION {
        apply_migrations(&tx, found, SCHEMA_VERSION)?;
        if found < ANCHOR_SINCE {
            anchor::establish(&tx, keys)?;
        }
        if found < SYNC_BOOK_SINCE {
            // The sync layer's rows leave the sealed key/value area.
            let b = Batch::new(tx, keys);
            sync_book::migrate_from_meta(&b, chrono::Utc::now())?;
            // Before any cache of this connection exists: nothing to count.
            b.commit()?;
        } else {
            tx.commit()?;
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shipped migrations must never change. If this fails you edited one:
    /// revert it and add a new migration instead.
    #[test]
    fn shipped_migrations_are_unchanged() {
        let pinned: &[(u32, &str)] = &[
            (
                1,
                "ee0690c98b8d8ef44ded7c301ed0c6fb4812d24fef0b17291da6c136062527e3",
            ),
            (
                2,
                "072008da379d068727456078fa7e7ba13ce358c0aae86b4ff0ef3a237e0da18e",
            ),
            (
                3,
                "c9802e5385e3b1589bd6fcc6e680e70ecf5c6467aa66c273bd55e2427b85c345",
            ),
            (
                4,
                "66e65493ce9a9a815a5b4d4489fe852dc54c74f0477ec9bd6999621a1a93c2a9",
            ),
            (
                5,
                "73957841a2463796ea8ccf0c01c29bd4587a6510fb3ebcb690ebd013975c8ade",
            ),
            (
                6,
                "07c80388d0f21c177895af6fceb1dffea19065c68c6e81fc6e327024f7b89d34",
            ),
            (
                7,
                "e11ff87ff6d1e65f67e62db5209b44bba89b37cb4bd736b8a2200ab7c16a4007",
            ),
            (
                8,
                "187891940e732e48bad17fb2fb38937ff4f7752a3147300cbc6b4cec25ea79ea",
            ),
            (
                9,
                "49f301257ea64fd7f4d340ca7c18226ebe44713bad0235191ba238b13939b85b",
            ),
        ];
        assert_eq!(MIGRATIONS.len(), SCHEMA_VERSION as usize);
        for (m, (v, hash)) in MIGRATIONS.iter().zip(pinned) {
            assert_eq!(m.version, *v);
            // Line endings normalised: a CRLF checkout is not an edit.
            let text = m.sql.replace("\r\n", "\n");
            assert_eq!(
                blake3::hash(text.as_bytes()).to_hex().as_str(),
                *hash,
                "migration {v} was edited (its hash is now {})",
                blake3::hash(text.as_bytes()).to_hex()
            );
        }
    }

    #[test]
    fn versions_are_consecutive() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1);
        }
    }

    #[test]
    fn migrations_apply_on_an_empty_database() {
        let mut conn = Connection::open_in_memory().expect("open");
        let tx = conn.transaction().expect("tx");
        apply_migrations(&tx, 0, SCHEMA_VERSION).expect("migrate");
        tx.commit().expect("commit");
        assert_eq!(user_version(&conn).expect("v"), SCHEMA_VERSION);
    }
}
