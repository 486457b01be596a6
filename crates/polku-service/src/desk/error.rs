//! The desk's errors and their codes.

use polku_api::{ApiError, ErrorDto};

use crate::ServiceError;

/// What went wrong in a desk command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeskError {
    /// The API refused or failed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A flow (sync) failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// Nobody is logged in.
    #[error("nobody is logged in")]
    NoSession,
    /// The session is locked: unlock first.
    #[error("the session is locked")]
    Locked,
    /// An argument cannot be read (names the argument, never its value).
    #[error("invalid argument: {0}")]
    BadArgument(&'static str),
    /// An attachment over the size the app moves in one piece.
    #[error("the file is too large")]
    TooLarge {
        /// The limit in bytes.
        max: u64,
    },
    /// A background task failed.
    #[error("an internal task failed")]
    Internal,
}

impl DeskError {
    /// The error as the UI receives it.
    pub fn to_dto(&self) -> ErrorDto {
        let mut params = std::collections::BTreeMap::new();
        let code = match self {
            DeskError::Api(e) => return e.to_dto(),
            DeskError::Service(e) => return e.to_dto(),
            DeskError::NoSession => "session.none",
            DeskError::Locked => "session.locked",
            DeskError::BadArgument(what) => {
                params.insert("what".to_owned(), (*what).to_owned());
                "input.invalid"
            }
            DeskError::TooLarge { max } => {
                params.insert("max".to_owned(), max.to_string());
                "attachment.too_large"
            }
            DeskError::Internal => "internal.task_failed",
        };
        ErrorDto {
            code: code.to_owned(),
            params,
        }
    }
}

impl From<DeskError> for ErrorDto {
    fn from(e: DeskError) -> Self {
        e.to_dto()
    }
}
