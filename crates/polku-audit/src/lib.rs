//! Polku's audit log: signed, hash-chained, append-only, one chain per node.
//!
//! Every node (laptop or hub) writes its own chain of [`Entry`]s. Entry `n`
//! has `seq` n (from 0), names its predecessor by hash ([`Entry::prev_hash`])
//! and is signed by the node's ed25519 key — the node's iroh secret key, so
//! an iroh node id is a [`NodeId`] that verifies the node's entries. Sync
//! exchanges chains append-only by node and seq ([`AuditLog::heads`],
//! [`AuditLog::missing_from`], [`AuditLog::merge`]); the hub holds the union.
//! Verification ([`verify_chain`], [`verify_log`]) detects gaps, reordering,
//! forks, edits and forged signatures, each as its own [`VerifyError`]
//! naming the entry.
//!
//! Entries carry no personal data: ids are random UUIDs and the [`Detail`]
//! is built from counts, closed enums and static codes. They are never
//! deleted, not even when their client is erased.
//!
//! The crate is pure: no storage, no async, no clock. Times are arguments;
//! the store persists the bytes of [`Entry::encode`] (encrypted) and feeds
//! them back through [`Entry::decode`] and [`AuditLog::from_entries`].
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use polku_audit::{Action, AuditLog, Detail, NodeKey, Reason, verify_chain};
//!
//! let key = NodeKey::from_bytes(&[7; 32]); // in Polku: the node's iroh secret key
//! let now = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
//! let mut log = AuditLog::new();
//! let entry = log.append(&key, now, None, Action::FailedLogin, None,
//!     Detail::Reason(Reason::UnknownUser));
//! let bytes = entry.encode(); // persist these
//!
//! let mut hub = AuditLog::new();
//! let report = hub.merge([polku_audit::Entry::decode(&bytes)?]);
//! assert!(report.is_clean());
//! assert_eq!(hub, log);
//! verify_chain(hub.chain(&key.node_id()).unwrap().entries())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod action;
mod detail;
mod entry;
mod key;
mod log;
mod query;
mod signatures;
mod verify;
pub mod wire;
mod writer;

pub use action::{Action, Reason};
pub use detail::{Code, Detail, DetailError, FieldList, MAX_CODE_LEN, MAX_FIELDS};
pub use entry::{Entry, EntryRef, Head};
pub use key::{EntryHash, EntrySignature, InvalidHex, NodeId, NodeKey};
pub use log::{AuditLog, Chain, MAX_PENDING_PER_NODE, MergeReport};
pub use query::Filter;
pub use verify::{
    VerifyError, verify_chain, verify_continuation, verify_entry, verify_link, verify_log,
};
pub use wire::DecodeError;
pub use writer::ChainWriter;
