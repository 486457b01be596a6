//! Polku's encrypted local store.
//!
//! One store is a directory:
//!
//! ```text
//! <dir>/polku.db        SQLite (WAL, synchronous=FULL, foreign keys, secure_delete)
//! <dir>/attachments/<id> age files (streamed, to the store recipient)
//! ```
//!
//! Every byte of personal data is encrypted: Automerge snapshots and change
//! rows, attachments, the search index, login names and the key/value area.
//! Plaintext is limited to random ids, kinds, sizes, hashes, counters and
//! schema/crypto metadata. Rows overwritten in place (index entries, sealed
//! values, views) carry write counters checked against a sealed anchor at
//! unlock, so a single row cannot be rolled back (`src/anchor.rs`). The audit log's entries are stored sealed and
//! append-only (`src/audit.rs`); failed logins before unlock are recorded
//! with only a time, a random user id and a reason (`src/users.rs`). See `src/crypto.rs` for the key hierarchy and the
//! on-disk formats ("do not change"), and `src/migrations/` for the schema.
//!
//! ```no_run
//! # fn main() -> Result<(), polku_store::StoreError> {
//! use polku_core::{DocId, DocKind, UserId};
//! use polku_store::{KdfParams, NewUser, Store};
//!
//! let store = Store::create("/tmp/store", NewUser {
//!     user_id: UserId::new(),
//!     login: "maija",
//!     password: "correct horse battery staple",
//!     kdf: KdfParams::default(),
//! })?;
//! let mut doc = automerge::AutoCommit::new();
//! let id = DocId(uuid::Uuid::now_v7());
//! store.create_doc(id, DocKind::Client, &doc.save())?;
//! store.close()?;
//!
//! let store = Store::unlock("/tmp/store", "maija", "correct horse battery staple")?;
//! let loaded = store.load_doc(id)?;
//! # let _ = loaded;
//! # Ok(())
//! # }
//! ```

mod anchor;
mod attachment_refs;
mod attachments;
mod audit;
#[cfg(feature = "bench-internals")]
mod bench;
mod crypto;
mod docs;
mod error;
mod index;
mod kdf;
mod schema;
mod snapshot;
mod store;
mod sync_book;
mod users;
mod views;

#[cfg(feature = "fault-injection")]
pub mod fault;
pub use anchor::ROLLED_BACK;
pub use attachment_refs::WantedAttachment;
pub use attachments::{AttachmentInfo, AttachmentReader, AttachmentWriter};
pub use audit::AuditRow;
#[cfg(feature = "bench-internals")]
pub use bench::{AgePerBlobStats, RawDecryptStats};
pub use crypto::SEAL_OVERHEAD;
pub use docs::{Batch, DocHeadsSince, DocInfo, ExportedBytes, HeadsHash, heads_hash};
pub use error::{Result, StoreError};
pub use kdf::{KdfParams, KdfTally, PasswordVerifier};

/// Whether this build holds a test-only feature (`tamper`, `fault-injection`,
/// `bench-internals`),
/// which a shipped binary must never: `scripts/check-shipped` builds the
/// binaries alone and looks for [`TEST_ONLY_MARKER`] in them.
pub const TEST_ONLY_FEATURES: bool = cfg!(any(
    feature = "tamper",
    feature = "fault-injection",
    feature = "bench-internals"
));

/// Bytes present in a binary exactly when it was built with a test-only
/// feature (kept by [`Store::open`], which every binary calls).
#[cfg(any(
    feature = "tamper",
    feature = "fault-injection",
    feature = "bench-internals"
))]
pub static TEST_ONLY_MARKER: [u8; 34] = *b"POLKU-TEST-ONLY-FEATURE-IN-BINARY!";

/// Test-only write hooks (cargo feature `tamper`).
#[cfg(feature = "tamper")]
pub mod write_hook;
pub use schema::SCHEMA_VERSION;
pub use store::{
    ATTACHMENTS_DIR, DB_FILE, DerivedKey, LockedStore, Store, UnlockTimings, WriteMark,
};
pub use sync_book::{LEGACY_PREFIX, NodeBytes, RecordAndDeltas, SyncProblemRow};
pub use users::{AuthFailure, AuthFailureReason, LocalUser, NewUser};
