//! Session errors. Messages name steps, codes and ids, never document content.

use crate::protocol::{ErrorCode, ProtocolError};
use crate::replica::{Denial, ReplicaError};

/// Why a session ended without completing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The peer sent bytes that are not a valid frame.
    #[error("malformed message from the peer")]
    Malformed(#[source] ProtocolError),
    /// The peer sent a valid message at the wrong time.
    #[error("unexpected {message} message from the peer ({when})")]
    Unexpected {
        /// The message's name.
        message: &'static str,
        /// What the session expected.
        when: &'static str,
    },
    /// The peer's hello names another organisation.
    #[error("the peer belongs to another organisation")]
    WrongOrganisation,
    /// The peer's hello names a node other than the connection's.
    #[error("the peer's hello names another node than the connection")]
    NodeMismatch,
    /// Both sides have the same role.
    #[error("the peer has the same role")]
    WrongRole,
    /// The peer speaks no common protocol version.
    #[error("the peer speaks protocol version {0} only")]
    UnsupportedVersion(u8),
    /// This side refused the peer.
    #[error("refused the peer")]
    Denied(#[source] Denial),
    /// The peer's document set announcement is inconsistent (a full set
    /// whose digest does not match).
    #[error("the peer's document set does not match its digest")]
    InconsistentDocSet,
    /// The peer exceeded a session limit.
    #[error("the peer exceeded the limit on {0}")]
    LimitExceeded(&'static str),
    /// The peer ended the session.
    #[error("the peer ended the session: {0}")]
    Remote(ErrorCode),
    /// The local store failed.
    #[error("the local store failed")]
    Replica(#[source] ReplicaError),
    /// The session had already ended.
    #[error("the session has already ended")]
    Ended,
    /// `start` was called twice, or `handle` before `start`.
    #[error("the session was not started exactly once")]
    NotStarted,
}

impl SyncError {
    /// The code to send to the peer before closing, if the peer should be told.
    pub fn code(&self) -> Option<ErrorCode> {
        Some(match self {
            SyncError::Malformed(_) | SyncError::Unexpected { .. } => ErrorCode::Protocol,
            SyncError::InconsistentDocSet => ErrorCode::Protocol,
            SyncError::WrongOrganisation => ErrorCode::WrongOrganisation,
            SyncError::NodeMismatch => ErrorCode::NodeMismatch,
            SyncError::WrongRole => ErrorCode::WrongRole,
            SyncError::UnsupportedVersion(_) => ErrorCode::UnsupportedVersion,
            SyncError::Denied(d) => d.code(),
            SyncError::LimitExceeded(_) => ErrorCode::LimitExceeded,
            SyncError::Replica(_) => ErrorCode::Internal,
            SyncError::Remote(_) | SyncError::Ended | SyncError::NotStarted => return None,
        })
    }
}

impl From<ReplicaError> for SyncError {
    fn from(e: ReplicaError) -> Self {
        SyncError::Replica(e)
    }
}
