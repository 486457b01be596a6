//! The API's error type. Messages never contain personal data.

use polku_core::ClientId;
use polku_core::codes::UnknownCode;
use polku_core::doc::DocError;
use polku_store::StoreError;

/// What went wrong in an API call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The encrypted store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A document could not be read or written (boxed: the error is large).
    #[error("document error")]
    Doc(#[source] Box<DocError>),
    /// A code is not in the code lists.
    #[error(transparent)]
    UnknownCode(#[from] UnknownCode),
    /// No client with this id is visible.
    #[error("client {0} not found")]
    ClientNotFound(ClientId),
    /// The store has no organisation document.
    #[error("the store has no organisation document")]
    NoOrganisation,
    /// The unlocked login is not a user of the organisation.
    #[error("this login is not a user of the organisation")]
    NotAnOrgUser,
    /// A unit name or id that the organisation does not have.
    #[error("unknown unit")]
    UnknownUnit,
    /// The user belongs to no unit and none was given.
    #[error("no unit given and the user belongs to no unit")]
    NoUnit,
    /// The user is deactivated: no login anywhere.
    #[error("this user account is deactivated; ask an administrator")]
    UserInactive,
    /// The user lacks a right; the refusal was audited.
    #[error(transparent)]
    Denied(#[from] polku_core::rights::Denied),
    /// An entry of this device's audit chain is damaged; nothing more is written.
    #[error("audit entry {seq} of this device is damaged; run `polku audit verify`")]
    AuditDamaged {
        /// Sequence number of the damaged entry.
        seq: u64,
    },
    /// No user of the organisation has this login name.
    #[error("no such user in the organisation")]
    UnknownLogin,
    /// The login name is taken.
    #[error("the login name is already in use")]
    LoginTaken,
    /// The change would leave no active administrator.
    #[error("the organisation must keep at least one active administrator")]
    LastAdmin,
    /// This laptop has been offline longer than the organisation allows.
    #[error(
        "this device has not reached the hub for too long: run `polku sync` to re-authenticate online"
    )]
    ReauthRequired,
    /// The user must change their password first.
    #[error("the password must be changed first: run `polku user passwd`")]
    MustChangePassword,
    /// A new password does not satisfy the password policy.
    #[error(transparent)]
    PasswordRejected(polku_core::password::PasswordRejected),
    /// A temporary password is past its expiry.
    #[error("the temporary password has expired; ask an administrator for a new one")]
    TemporaryPasswordExpired,
    /// Input that cannot be accepted.
    #[error("invalid input: {0}")]
    Invalid(&'static str),
    /// A text is longer than its field allows.
    #[error("the {field} is longer than {max} characters")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// Its limit, in characters.
        max: usize,
    },
    /// No activity memo with this id is held here.
    #[error("activity memo {0} not found")]
    ActivityNotFound(polku_core::ActivityMemoId),
    /// The client's record has no attachment with this id.
    #[error("attachment {0} not found")]
    AttachmentNotFound(polku_core::AttachmentId),
    /// The attachment is listed in the client's record, but its file is not
    /// on this device (attachment files do not sync yet).
    #[error("attachment {0} is not on this device")]
    AttachmentNotOnThisDevice(polku_core::AttachmentId),
}

impl ApiError {
    /// Whether this is a refused login (wrong password, unknown user).
    pub fn is_auth_failure(&self) -> bool {
        matches!(
            self,
            ApiError::Store(
                StoreError::WrongPassword
                    | StoreError::UnknownUser
                    | StoreError::TooManyAttempts { .. }
            ) | ApiError::NotAnOrgUser
                | ApiError::UserInactive
                | ApiError::ReauthRequired
                | ApiError::TemporaryPasswordExpired
        )
    }

    /// Whether the store or a document in it is damaged.
    pub fn is_corrupt(&self) -> bool {
        matches!(
            self,
            ApiError::Store(StoreError::Corrupt { .. } | StoreError::NotAStore)
        ) || matches!(self, ApiError::Doc(_))
    }
}

impl From<DocError> for ApiError {
    fn from(e: DocError) -> Self {
        ApiError::Doc(Box::new(e))
    }
}
