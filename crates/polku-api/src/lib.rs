//! The one API the `polku` CLI and the desktop app call.
//!
//! A [`Workspace`] is a store directory; [`Workspace::login`] unlocks it for one
//! user and gives a [`Session`]. Every read and write of client data goes through a
//! session, which checks the user's rights (PAR's matrix, `polku_core::rights`) and
//! writes a signed entry to the device's audit chain before returning.

mod audit_ops;
pub mod bench;
pub mod bench_audit;
pub mod bench_stats;
mod devices;
mod edits;
mod error;
mod replica;
mod session;
mod stats;
mod trail;
mod users;
mod views;
mod workspace;

pub use audit_ops::{AuditQuery, AuditRow};
pub use devices::{
    BadTicket, EnrolGrant, EnrolRefused, PendingEnrolment, TICKET_LIFETIME_HOURS, Ticket,
};
pub use error::ApiError;
pub use polku_store::{DB_FILE, KdfParams};
pub use replica::SyncReplica;
pub use session::{ClientInput, DemoReport, Session};
pub use stats::{StatsFormat, StatsQuery};
pub use trail::{AuditMerge, AuditProblem, VerifySummary};
pub use users::UserInput;
pub use workspace::{HubPin, Workspace};

/// Result of this crate.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
