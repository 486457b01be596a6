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
    /// A name or text is longer than its field allows.
    #[error(transparent)]
    TooLong(#[from] polku_core::limits::TooLong),
    /// A setting's value is outside its bounds.
    #[error(transparent)]
    SettingOutOfRange(#[from] polku_core::model::SettingOutOfRange),
    /// An own code cannot be added (invalid, clashing, no Finnish label).
    #[error(transparent)]
    OwnCode(#[from] polku_core::codes::OwnCodeError),
    /// The list already has an own code with this code.
    #[error("the code already exists in list {list}")]
    CodeTaken {
        /// The list.
        list: polku_core::codes::CodeList,
    },
    /// The code is retired: old records keep it, new ones cannot choose it.
    #[error("the code is retired in list {list} and cannot be chosen for new records")]
    CodeRetired {
        /// The list.
        list: polku_core::codes::CodeList,
    },
    /// Another unit has this name.
    #[error("another unit already has this name")]
    UnitNameTaken,
    /// The unit is retired: it takes no new clients or users.
    #[error("the unit is retired and takes no new clients or users")]
    UnitRetired,
    /// The organisation document is changed on the hub only.
    #[error("the organisation's settings, units, codes and rights are changed on the hub")]
    OrgChangeOnHubOnly,
    /// Input or a request that cannot be accepted, with a stable code.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// Data that cannot be encoded or decoded (an internal fault; the
    /// argument names the thing, never a value).
    #[error("invalid input: {0}")]
    Invalid(&'static str),
    /// No activity memo with this id is held here.
    #[error("activity memo {0} not found")]
    ActivityNotFound(polku_core::ActivityMemoId),
    /// A backup could not be made, read or restored.
    #[error(transparent)]
    Backup(#[from] polku_backup::BackupError),
    /// No brief contact with this id is held here.
    #[error("brief contact {0} not found")]
    ContactNotFound(polku_core::BriefContactId),
    /// The client's record has no attachment with this id.
    #[error("attachment {0} not found")]
    AttachmentNotFound(polku_core::AttachmentId),
    /// The attachment is listed in the client's record, but its file is not
    /// on this device (attachment files do not sync yet).
    #[error("attachment {0} is not on this device")]
    AttachmentNotOnThisDevice(polku_core::AttachmentId),
    /// No such part of the record (a period, measure, memo… by its id).
    #[error("no such {0} in this client's record")]
    NotFound(&'static str),
    /// A follow-up needs the client's consent to follow-ups, in force.
    #[error("the client has not consented to follow-ups")]
    NoConsent,
}

/// Why a request was refused, with a stable code (see [`ApiError::to_dto`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// A client needs a first or a last name.
    #[error("a client needs a first or a last name")]
    ClientNeedsName,
    /// A memo's text is empty.
    #[error("the memo text is empty")]
    EmptyMemo,
    /// A login name is empty.
    #[error("the login name is empty")]
    EmptyLogin,
    /// A period's end date before its start.
    #[error("a period cannot end before it starts")]
    PeriodEndsBeforeStart,
    /// A measure added to an ended period.
    #[error("the period has ended")]
    PeriodEnded,
    /// A follow-up of a period that has not ended.
    #[error("only an ended period is followed up")]
    PeriodNotEnded,
    /// A consent withdrawn before it was given.
    #[error("a consent cannot be withdrawn before it was given")]
    WithdrawnBeforeGiven,
    /// The last responsible worker removed.
    #[error("a client keeps at least one responsible worker")]
    LastResponsible,
    /// A disclosure without what, to whom or on what basis.
    #[error("a disclosure needs what was disclosed, its recipient and its basis")]
    DisclosureIncomplete,
    /// A ticket this hub did not issue.
    #[error("no such ticket was issued here")]
    UnknownTicket,
    /// A ticket used already.
    #[error("the ticket was already used")]
    TicketUsed,
    /// Tickets are made on the hub.
    #[error("tickets are made on the hub store")]
    NotTheHub,
    /// The hub's address is not known yet.
    #[error("no hub address known: start `polku hub` first or give --addr")]
    NoHubAddress,
    /// No single device matches a node id.
    #[error("no single device matches that node id")]
    NoSuchDevice,
    /// The hub's data are never wiped.
    #[error("the hub is never wiped")]
    HubNeverWiped,
    /// No such document.
    #[error("no such document")]
    NoSuchDocument,
    /// The organisation document cannot be erased.
    #[error("the organisation document cannot be erased")]
    OrgNotErasable,
    /// A client is erased only where its whole record is held (its
    /// anonymised record needs the periods).
    #[error("this device does not hold the client's record: erase it on the hub")]
    ErasureNeedsRecord,
    /// Not one of the erasure reason codes.
    #[error("unknown erasure reason: use request, retention or refused")]
    UnknownErasureReason,
}

impl Rejection {
    /// The stable code (part of the UI contract: never change one).
    pub fn code(self) -> &'static str {
        match self {
            Rejection::ClientNeedsName => "client.needs_name",
            Rejection::EmptyMemo => "memo.empty",
            Rejection::EmptyLogin => "user.empty_login",
            Rejection::PeriodEndsBeforeStart => "period.ends_before_start",
            Rejection::PeriodEnded => "period.ended",
            Rejection::PeriodNotEnded => "period.not_ended",
            Rejection::WithdrawnBeforeGiven => "consent.withdrawn_before_given",
            Rejection::LastResponsible => "client.last_responsible",
            Rejection::DisclosureIncomplete => "disclosure.incomplete",
            Rejection::UnknownTicket => "ticket.unknown",
            Rejection::TicketUsed => "ticket.used",
            Rejection::NotTheHub => "device.not_the_hub",
            Rejection::NoHubAddress => "device.no_hub_address",
            Rejection::NoSuchDevice => "device.not_found",
            Rejection::HubNeverWiped => "device.hub_never_wiped",
            Rejection::NoSuchDocument => "document.not_found",
            Rejection::OrgNotErasable => "document.organisation_not_erasable",
            Rejection::ErasureNeedsRecord => "client.erasure_needs_record",
            Rejection::UnknownErasureReason => "client.erasure_reason_unknown",
        }
    }
}

/// An error as the desktop app receives it: a stable code and its
/// parameters, which the UI turns into Finnish, Swedish or English. Never a
/// sentence, never personal data (parameters are ids, counts, codes and
/// names of fields).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErrorDto {
    /// The stable code, e.g. `auth.wrong_password`.
    pub code: String,
    /// Its parameters, e.g. `{"retry_after_secs": "30"}`.
    pub params: std::collections::BTreeMap<String, String>,
}

impl ApiError {
    /// The error as the UI receives it (see [`ErrorDto`]).
    pub fn to_dto(&self) -> ErrorDto {
        let mut params = std::collections::BTreeMap::new();
        let mut p = |k: &str, v: String| {
            params.insert(k.to_owned(), v);
        };
        let code = match self {
            ApiError::Store(e) => store_code(e, &mut p),
            ApiError::Doc(_) => "document.damaged",
            ApiError::UnknownCode(e) => {
                p("list", e.list.to_string());
                p("code", e.code.clone());
                "code.unknown"
            }
            ApiError::ClientNotFound(id) => {
                p("id", id.to_string());
                "client.not_found"
            }
            ApiError::NoOrganisation => "store.no_organisation",
            ApiError::NotAnOrgUser => "auth.not_an_org_user",
            ApiError::UnknownUnit => "unit.unknown",
            ApiError::NoUnit => "unit.none",
            ApiError::UserInactive => "auth.user_inactive",
            ApiError::Denied(d) => {
                p("missing", d.missing.code().to_owned());
                "rights.denied"
            }
            ApiError::AuditDamaged { seq } => {
                p("seq", seq.to_string());
                "audit.damaged"
            }
            ApiError::UnknownLogin => "user.unknown_login",
            ApiError::LoginTaken => "user.login_taken",
            ApiError::LastAdmin => "user.last_admin",
            ApiError::ReauthRequired => "auth.reauth_required",
            ApiError::MustChangePassword => "auth.must_change_password",
            ApiError::PasswordRejected(r) => match r {
                polku_core::password::PasswordRejected::TooShort { min } => {
                    p("min", min.to_string());
                    "password.too_short"
                }
                _ => "password.too_common",
            },
            ApiError::TemporaryPasswordExpired => "auth.temporary_password_expired",
            ApiError::Rejected(r) => r.code(),
            ApiError::Invalid(what) => {
                p("what", (*what).to_owned());
                "internal.invalid"
            }
            ApiError::NotFound(what) => {
                p("what", (*what).to_owned());
                "record.not_found"
            }
            ApiError::NoConsent => "follow_up.no_consent",
            ApiError::TooLong(t) => {
                p("field", t.field.to_string());
                p("max", t.max.to_string());
                "input.too_long"
            }
            ApiError::SettingOutOfRange(r) => {
                p("key", r.key.to_string());
                p("min", r.min.to_string());
                p("max", r.max.to_string());
                "settings.out_of_range"
            }
            ApiError::OwnCode(e) => {
                p("reason", format!("{e:?}"));
                "code.own_code_refused"
            }
            ApiError::CodeTaken { list } => {
                p("list", list.to_string());
                "code.taken"
            }
            ApiError::CodeRetired { list } => {
                p("list", list.to_string());
                "code.retired"
            }
            ApiError::ActivityNotFound(id) => {
                p("id", id.to_string());
                "activity.not_found"
            }
            ApiError::Backup(e) => match e {
                polku_backup::BackupError::Io(_) => "backup.io",
                polku_backup::BackupError::WrongKey => "backup.wrong_key",
                polku_backup::BackupError::Damaged(what) => {
                    p("what", (*what).to_owned());
                    "backup.damaged"
                }
                polku_backup::BackupError::NoRecipients => "backup.no_key",
                polku_backup::BackupError::BadKey => "backup.bad_key",
                polku_backup::BackupError::TargetNotEmpty => "backup.target_not_empty",
            },
            ApiError::ContactNotFound(id) => {
                p("id", id.to_string());
                "contact.not_found"
            }
            ApiError::AttachmentNotFound(id) => {
                p("id", id.to_string());
                "attachment.not_found"
            }
            ApiError::AttachmentNotOnThisDevice(id) => {
                p("id", id.to_string());
                "attachment.not_on_this_device"
            }
            ApiError::UnitNameTaken => "unit.name_taken",
            ApiError::UnitRetired => "unit.retired",
            ApiError::OrgChangeOnHubOnly => "org.change_on_hub_only",
        };
        ErrorDto {
            code: code.to_owned(),
            params,
        }
    }

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

fn store_code(e: &StoreError, p: &mut impl FnMut(&str, String)) -> &'static str {
    match e {
        StoreError::NotAStore => "store.not_a_store",
        StoreError::NewerSchema { found, supported } => {
            p("found", found.to_string());
            p("supported", supported.to_string());
            "store.newer_schema"
        }
        StoreError::Corrupt { what } => {
            p("what", (*what).to_owned());
            "store.damaged"
        }
        StoreError::WrongPassword => "auth.wrong_password",
        StoreError::UnknownUser => "auth.unknown_user",
        StoreError::TooManyAttempts { retry_after_secs } => {
            p("retry_after_secs", retry_after_secs.to_string());
            "auth.too_many_attempts"
        }
        StoreError::DiskFull => "store.disk_full",
        StoreError::Busy => "store.busy",
        StoreError::AlreadyExists => "store.already_exists",
        StoreError::LoginTaken => "user.login_taken",
        StoreError::LastUser => "user.last_login",
        _ => "store.failed",
    }
}
