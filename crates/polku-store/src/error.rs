//! The store's error type.
//!
//! Messages never contain personal data: no login names, no passwords, no
//! document contents. Only random ids (documents, attachments, users) and
//! fixed descriptions appear in them.

use std::io;

use polku_core::{AttachmentId, DocId, UserId};
use rusqlite::ErrorCode;

/// Result alias for store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The directory holds no Polku store, or `polku.db` is not an SQLite
    /// database of ours (missing, empty, garbage, or another program's file).
    #[error("not a Polku store")]
    NotAStore,
    /// The store was written by a newer version of Polku.
    #[error("the store has schema version {found}; this program supports up to {supported}")]
    NewerSchema {
        /// Schema version found on disk.
        found: u32,
        /// Highest schema version this binary knows.
        supported: u32,
    },
    /// The store is damaged: truncated file, failed authentication of a
    /// sealed record, undecodable document, inconsistent metadata.
    #[error("the store is damaged ({what})")]
    Corrupt {
        /// Which part was found damaged (a fixed description, never data).
        what: &'static str,
    },
    /// The password does not open this user's key.
    #[error("wrong password")]
    WrongPassword,
    /// No local login with this name exists in the store.
    #[error("unknown user")]
    UnknownUser,
    /// Too many consecutive failed logins on this device: the attempt was
    /// refused without checking the password. Try again after
    /// `retry_after_secs` seconds (at most five minutes).
    #[error("too many failed logins; try again in {retry_after_secs} s")]
    TooManyAttempts {
        /// Seconds until the next attempt is allowed (at least 1).
        retry_after_secs: u64,
    },
    /// An audit entry with this node and sequence number is already stored
    /// with different bytes: someone tried to fork or rewrite a chain. The
    /// stored entry is kept.
    #[error("a different audit entry {seq} is already stored for this node")]
    AuditConflict {
        /// The sequence number both entries claim.
        seq: u64,
    },
    /// The sealed audit entry with this sequence number does not
    /// authenticate (edited or damaged on disk).
    #[error("audit entry {seq} is damaged")]
    AuditEntryDamaged {
        /// The damaged entry's sequence number (not personal data).
        seq: u64,
    },
    /// The disk (or quota) is full; the operation was rolled back.
    #[error("the disk is full")]
    DiskFull,
    /// Another connection holds a lock on the store for too long.
    #[error("the store is busy (locked by another process)")]
    Busy,
    /// [`crate::Store::create`] found a store already in the directory.
    #[error("a store already exists in this directory")]
    AlreadyExists,
    /// No document with this id.
    #[error("document {0} not found")]
    DocNotFound(DocId),
    /// A document with this id already exists.
    #[error("document {0} already exists")]
    DocExists(DocId),
    /// No attachment with this id.
    #[error("attachment {0} not found")]
    AttachmentNotFound(AttachmentId),
    /// An attachment with this id already exists.
    #[error("attachment {0} already exists")]
    AttachmentExists(AttachmentId),
    /// A received attachment does not match the size and digest its
    /// reference records (nothing was stored).
    #[error("attachment {0} does not match its reference")]
    AttachmentMismatch(AttachmentId),
    /// Another local user already has this login name.
    #[error("the login name is already in use on this device")]
    LoginTaken,
    /// This user already has a local login.
    #[error("user {0} already has a login on this device")]
    UserExists(UserId),
    /// This user has no local login.
    #[error("user {0} has no login on this device")]
    UserNotFound(UserId),
    /// Removing the last login would make the store unreadable forever.
    #[error("cannot remove the last login of the store")]
    LastUser,
    /// The caller passed something unusable.
    #[error("invalid input: {what}")]
    InvalidInput {
        /// What was wrong (a fixed description, never data).
        what: &'static str,
    },
    /// Bytes given as an Automerge document do not load.
    #[error("not a valid Automerge document")]
    InvalidDocument,
    /// Any other SQLite failure.
    #[error("database error")]
    Sqlite(#[source] rusqlite::Error),
    /// Any other file-system failure.
    #[error("file system error")]
    Io(#[source] io::Error),
}

impl StoreError {
    /// Shorthand for [`StoreError::Corrupt`].
    pub(crate) fn corrupt(what: &'static str) -> Self {
        StoreError::Corrupt { what }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy,
            Some(ErrorCode::DatabaseCorrupt) => StoreError::corrupt("database file"),
            Some(ErrorCode::NotADatabase) => StoreError::NotAStore,
            _ => StoreError::Sqlite(e),
        }
    }
}

impl From<io::Error> for StoreError {
    fn from(e: io::Error) -> Self {
        if is_disk_full(&e) {
            StoreError::DiskFull
        } else {
            StoreError::Io(e)
        }
    }
}

/// `ENOSPC` / `EDQUOT` (and their Windows equivalents), also when wrapped.
pub(crate) fn is_disk_full(e: &io::Error) -> bool {
    if matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    ) {
        return true;
    }
    // age and BufWriter may wrap the OS error in another io::Error.
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<io::Error>())
        .is_some_and(is_disk_full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_full_maps_to_disk_full() {
        let e = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        assert!(matches!(StoreError::from(e), StoreError::DiskFull));
    }

    #[test]
    fn sqlite_busy_and_corrupt_map_to_typed_errors() {
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert!(matches!(StoreError::from(busy), StoreError::Busy));
        let corrupt = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
            None,
        );
        assert!(matches!(
            StoreError::from(corrupt),
            StoreError::Corrupt { .. }
        ));
        let notadb = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_NOTADB),
            None,
        );
        assert!(matches!(StoreError::from(notadb), StoreError::NotAStore));
    }

    #[test]
    fn enospc_maps_to_disk_full_also_when_wrapped() {
        // 28 is ENOSPC on Linux and macOS.
        #[cfg(unix)]
        {
            let os = io::Error::from_raw_os_error(28);
            assert!(matches!(StoreError::from(os), StoreError::DiskFull));
        }
        let kind = io::Error::from(io::ErrorKind::StorageFull);
        let wrapped = io::Error::other(kind);
        assert!(matches!(StoreError::from(wrapped), StoreError::DiskFull));
        let other = io::Error::from(io::ErrorKind::PermissionDenied);
        assert!(matches!(StoreError::from(other), StoreError::Io(_)));
    }
}
