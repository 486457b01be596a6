//! The one API the `polku` CLI and the desktop app call.
//!
//! A [`Workspace`] is a store directory; [`Workspace::login`] unlocks it for one
//! user and gives a [`Session`]. Every read and write of client data goes through a
//! session, which checks the user's rights (PAR's matrix, `polku_core::rights`) and
//! writes a signed entry to the device's audit chain before returning.

mod activity;
mod attachments;
mod audit_codes;
mod audit_ops;
pub mod backup;
mod basic_edit;
#[cfg(feature = "bench-internals")]
pub mod bench_hooks;
mod conflict_resolve;
mod contacts;
mod credentials;
mod demo_users;
mod devices;
mod edits;
mod erase;
mod error;
mod extract;
pub mod fault;
mod history;
mod listing;
mod meta_keys;
mod org_admin;
mod own_password;
mod privacy_notice;
mod record;
mod replica;
mod retention;
mod session;
mod stats;
mod subject_access;
mod trail;
mod users;
mod views;
mod workspace;

pub use activity::{
    ActivityEdit, ActivityFilter, ActivityInput, MAX_DURATION_MINUTES, MAX_PLACE_CHARS,
    MAX_TEXT_CHARS,
};
pub use attachments::{MAX_FILE_NAME_CHARS, media_type_for};
pub use audit_ops::{AuditQuery, AuditRow};
pub use basic_edit::BasicEdit;
pub use conflict_resolve::{ConflictChoice, ConflictRow};
pub use contacts::{ContactEdit, ContactEntry, ContactInput};
pub use credentials::TEMPORARY_PASSWORD_HOURS;
pub use demo_users::{DEMO_PASSWORD, DemoUser, demo_users};
pub use devices::{
    BadTicket, EnrolGrant, EnrolRefused, PasswordCheck, PendingEnrolment, TICKET_LIFETIME_HOURS,
    TICKET_MAX_WRONG_PASSWORDS, Ticket,
};
pub use erase::{Erasure, ErasureReason, RetentionRun};
pub use error::{ApiError, ErrorDto, Rejection};
pub use history::HistoryRow;
pub use listing::{ClientListQuery, ClientRow, ListScope, ListStatus, MissingItem, is_active};
pub use org_admin::{CodeChoice, SettingRow};
pub use polku_store::{AttachmentReader, DB_FILE, KdfParams, PasswordVerifier};
pub use record::{
    DisclosureInput, PeriodClose, PeriodInput, PeriodText, ReferralInput, SituationInput,
};
pub use replica::{AuditGap, ErasureStatus, SyncProblem, SyncReplica};
pub use retention::RetentionRow;
pub use session::{
    ClientInput, ClientView, DemoReport, LockedSession, Part, Session, TransportSecret,
};
pub use stats::{StatsFormat, StatsQuery};
pub use subject_access::{ExportLang, FieldChange, SubjectAccess, SubjectAccessData};
pub use trail::{AuditMerge, AuditProblem, MAX_FORKS_PER_NODE, VerifySummary};
pub use users::UserInput;
pub use workspace::{CLOCK_BACK_TOLERANCE_MINUTES, HubPin, Workspace};

/// Check a new password against the organisation's password policy (at least
/// ten characters, not a common password) before sending it anywhere.
pub fn check_password_policy(password: &str) -> Result<()> {
    credentials::check_policy(password)
}

/// Result of this crate.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
