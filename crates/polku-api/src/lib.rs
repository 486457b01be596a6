//! The one API the `polku` CLI and the desktop app call.
//!
//! A [`Workspace`] is a store directory; [`Workspace::login`] unlocks it for one
//! user and gives a [`Session`]. Every read and write of client data goes through a
//! session, so that later layers (rights, audit) see every access.

pub mod bench;
mod error;
mod session;
mod views;
mod workspace;

pub use error::ApiError;
pub use polku_store::KdfParams;
pub use session::{ClientInput, DemoReport, Session};
pub use workspace::Workspace;

/// Result of this crate.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
