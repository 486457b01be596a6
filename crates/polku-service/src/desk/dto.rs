//! What the desktop app's commands take and return (docs/app-commands.md):
//! serde DTOs, `snake_case` both ways. A change here is a change of the
//! contract: `tests/contract/desk.json` holds their JSON shapes.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use polku_api::{
    BasicEdit, ClientInput, ClientView, ConflictRow, DemoUser, DisclosureInput, ErrorDto,
    MissingItem, PeriodClose, PeriodInput, PeriodText, ReferralInput, SituationInput,
};
use polku_core::codes::Labels;
use polku_core::model::{BackgroundField, ConsentTopic, MeasureStatus, Role};
use polku_core::{
    ActivityMemoId, AttachmentId, BriefContactId, ClientId, MeasureId, MemoId, PeriodId, RecordId,
};
use serde::{Deserialize, Serialize};

/// `app_info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppInfo {
    /// The app's version.
    pub version: String,
    /// `laptop` or `hub` (as far as known before a login: `laptop`).
    pub store: &'static str,
    /// The organisation's name, once a session has been open.
    pub organisation: Option<String>,
    /// The demo users, only on the embedded demo store.
    pub demo_users: Option<Vec<DemoUser>>,
}

/// `session_state`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionState {
    /// `none`, `locked` or `open`.
    pub state: &'static str,
    /// The session's login (open or locked).
    pub login: Option<String>,
    /// Only the password change is possible until it is done.
    pub must_change_password: bool,
    /// Minutes without a command before the app locks.
    pub idle_lock_minutes: u32,
    /// The logged-in user, when the session is open (a reloaded UI takes
    /// it up again without the password).
    pub me: Option<Me>,
}

/// A unit as the app names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitRef {
    /// Its id.
    pub id: polku_core::UnitId,
    /// Its name.
    pub name: String,
}

/// What the user may do, for showing or hiding parts of the app (the
/// backend checks every command itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct May {
    /// The rest of the record beyond basic data.
    pub view_record: bool,
    /// Memos.
    pub memos: bool,
    /// Any administration right.
    pub admin: bool,
    /// Statistics.
    pub statistics: bool,
}

/// The logged-in user (`login`, `unlock`, `change_password`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Me {
    /// Login name.
    pub login: String,
    /// Role.
    pub role: Role,
    /// Units.
    pub units: Vec<UnitRef>,
    /// Only the password change is possible until it is done.
    pub must_change_password: bool,
    /// Minutes without a command before the app locks.
    pub idle_lock_minutes: u32,
    /// When this laptop's offline lease ends (enrolled laptops only).
    pub offline_lease_expires: Option<DateTime<Utc>>,
    /// What the user may do.
    pub may: May,
}

/// One code of a list (`codes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeDto {
    /// The stored code.
    pub code: String,
    /// Its labels.
    pub label: Labels,
    /// Retired: shown on old records, never offered for new ones.
    pub retired: bool,
}

/// `codes`: every list by its name.
pub type CodesDto = BTreeMap<String, Vec<CodeDto>>;

/// `client_view` and the record commands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientViewDto {
    /// The client as polku-api shows it (`client`, `record`, `memos`).
    #[serde(flatten)]
    pub view: ClientView,
    /// What the record lacks (empty when it is hidden by rights).
    pub missing: Vec<MissingItem>,
    /// Fields with concurrent values.
    pub conflicts: Vec<ConflictRow>,
    /// The login names of the users the client refers to (responsible
    /// workers, memo authors), by user id: the UI never shows a bare id.
    pub people: std::collections::BTreeMap<polku_core::UserId, String>,
}

/// `client_names`: a client the user may see, by name (the quick entry's
/// type-ahead).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientName {
    /// The client.
    pub id: ClientId,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Birth date, when known.
    pub birth_date: Option<chrono::NaiveDate>,
}

/// A new id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Created<T> {
    /// The id.
    pub id: T,
}

/// An attachment in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentRow {
    /// Its id.
    pub id: AttachmentId,
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// When it was added.
    pub added_at: DateTime<Utc>,
    /// Who added it (not recorded on attachments yet: `null`).
    pub added_by: Option<String>,
}

/// `attachment_get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentData {
    /// File name.
    pub name: String,
    /// The bytes, base64 (standard alphabet, padded).
    pub bytes_base64: String,
}

/// A brief contact in `contact_list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactRow {
    /// Its id.
    pub id: BriefContactId,
    /// The unit's name.
    pub unit: Option<String>,
    /// Date.
    pub date: NaiveDate,
    /// Channel code.
    pub channel: String,
    /// Gender code.
    pub gender: Option<String>,
    /// Age-group code.
    pub age_group: Option<String>,
    /// Topic code.
    pub topic: Option<String>,
    /// Free text.
    pub text: String,
}

/// Young people met, one cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetDto {
    /// Gender code.
    pub gender: String,
    /// Age-group code.
    pub age_group: String,
    /// How many.
    pub count: u32,
}

/// An activity memo in `activity_list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivityRow {
    /// Its id.
    pub id: ActivityMemoId,
    /// The unit's name.
    pub unit: Option<String>,
    /// Kind code.
    pub kind: String,
    /// Date.
    pub date: NaiveDate,
    /// Duration.
    pub duration_minutes: u32,
    /// Place.
    pub place: String,
    /// Workers' logins.
    pub workers: Vec<String>,
    /// Young people met in all.
    pub met_total: u32,
}

/// `activity_show` and `activity_edit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivityDto {
    /// Its id.
    pub id: ActivityMemoId,
    /// The unit's name.
    pub unit: Option<String>,
    /// Kind code.
    pub kind: String,
    /// Date.
    pub date: NaiveDate,
    /// Duration.
    pub duration_minutes: u32,
    /// Place.
    pub place: String,
    /// Workers' logins.
    pub workers: Vec<String>,
    /// Young people met.
    pub met: Vec<MetDto>,
    /// Free text.
    pub text: String,
}

/// A document sync refused or quarantined, named by kind (never by a
/// client's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncProblemDto {
    /// The document's kind (`client`, `record`, …; `document` when unknown).
    pub doc: String,
    /// Why, as a stable code.
    pub code: String,
    /// When it was recorded, if known.
    pub at: Option<DateTime<Utc>>,
}

/// `sync_status` and `sync_now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    /// Whether this store is a laptop enrolled with a hub.
    pub enrolled: bool,
    /// A sync is running now.
    pub running: bool,
    /// The last completed sync.
    pub last_sync: Option<DateTime<Utc>>,
    /// Local changes the hub has not received yet.
    pub waiting_changes: usize,
    /// Whether the hub answered at the last attempt (`null`: not tried).
    pub hub_reachable: Option<bool>,
    /// The last attempt's error.
    pub last_error: Option<ErrorDto>,
    /// Changes the hub refused (kept here).
    pub refused: Vec<SyncProblemDto>,
    /// Documents set aside as unreadable.
    pub quarantined: Vec<SyncProblemDto>,
}

// ---- arguments ----------------------------------------------------------

/// `login`.
#[derive(Debug, Clone, Deserialize)]
pub struct LoginArgs {
    /// Login name.
    pub login: String,
    /// Password.
    pub password: String,
}

/// `change_password`.
#[derive(Debug, Clone, Deserialize)]
pub struct ChangePasswordArgs {
    /// The current password.
    pub current: String,
    /// The new one.
    pub new: String,
}

/// `unlock`.
#[derive(Debug, Clone, Deserialize)]
pub struct UnlockArgs {
    /// The password.
    pub password: String,
}

/// A client.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct ClientArgs {
    /// The client.
    pub id: ClientId,
}

/// `client_add`.
#[derive(Debug, Clone, Deserialize)]
pub struct ClientAddArgs {
    /// The new client.
    pub input: ClientInput,
}

/// `client_edit_basic`.
#[derive(Debug, Clone, Deserialize)]
pub struct EditBasicArgs {
    /// The client.
    pub id: ClientId,
    /// The fields to change.
    pub basic: BasicEdit,
}

/// `client_resolve_conflict`.
#[derive(Debug, Clone, Deserialize)]
pub struct ResolveConflictArgs {
    /// The client.
    pub id: ClientId,
    /// The field, as `conflicts[].field` names it.
    pub field: String,
    /// The chosen value, one of `conflicts[].values[].value`.
    pub value: serde_json::Value,
}

/// `background_set`.
#[derive(Debug, Clone, Deserialize)]
pub struct BackgroundArgs {
    /// The client.
    pub id: ClientId,
    /// Which text.
    pub field: BackgroundField,
    /// The text.
    pub text: String,
}

/// `situation_add`.
#[derive(Debug, Clone, Deserialize)]
pub struct SituationArgs {
    /// The client.
    pub id: ClientId,
    /// The snapshot.
    pub input: SituationInput,
}

/// `period_open`.
#[derive(Debug, Clone, Deserialize)]
pub struct PeriodOpenArgs {
    /// The client.
    pub id: ClientId,
    /// The period.
    pub input: PeriodInput,
}

/// `period_text`.
#[derive(Debug, Clone, Deserialize)]
pub struct PeriodTextArgs {
    /// The client.
    pub id: ClientId,
    /// The period.
    pub period: PeriodId,
    /// Which text.
    pub which: PeriodText,
    /// The text.
    pub text: String,
}

/// `period_close`.
#[derive(Debug, Clone, Deserialize)]
pub struct PeriodCloseArgs {
    /// The client.
    pub id: ClientId,
    /// The period.
    pub period: PeriodId,
    /// End, outcome, assessment.
    pub input: PeriodClose,
}

/// `measure_add`.
#[derive(Debug, Clone, Deserialize)]
pub struct MeasureAddArgs {
    /// The client.
    pub id: ClientId,
    /// The period.
    pub period: PeriodId,
    /// The measure's code (list `measure`).
    pub kind: String,
    /// Its start (default today).
    #[serde(default)]
    pub start: Option<NaiveDate>,
}

/// `measure_status`.
#[derive(Debug, Clone, Deserialize)]
pub struct MeasureStatusArgs {
    /// The client.
    pub id: ClientId,
    /// The period.
    pub period: PeriodId,
    /// The measure.
    pub measure: MeasureId,
    /// The new status.
    pub status: MeasureStatus,
    /// Its end.
    #[serde(default)]
    pub end: Option<NaiveDate>,
}

/// `memo_add`.
#[derive(Debug, Clone, Deserialize)]
pub struct MemoAddArgs {
    /// The client.
    pub id: ClientId,
    /// The text.
    pub text: String,
    /// The memo type (list `memo_type`; default `meeting`).
    #[serde(default)]
    pub kind: Option<String>,
}

/// `memo_edit`.
#[derive(Debug, Clone, Deserialize)]
pub struct MemoEditArgs {
    /// The client.
    pub id: ClientId,
    /// The memo.
    pub memo: MemoId,
    /// The new text.
    pub text: String,
}

/// `memo_delete`, `memo_restore`.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct MemoArgs {
    /// The client.
    pub id: ClientId,
    /// The memo.
    pub memo: MemoId,
}

/// `referral_add`.
#[derive(Debug, Clone, Deserialize)]
pub struct ReferralArgs {
    /// The client.
    pub id: ClientId,
    /// The referral.
    pub input: ReferralInput,
}

/// `consent_add`.
#[derive(Debug, Clone, Deserialize)]
pub struct ConsentAddArgs {
    /// The client.
    pub id: ClientId,
    /// To what.
    pub topic: ConsentTopic,
    /// Given on (default today).
    #[serde(default)]
    pub given: Option<NaiveDate>,
    /// A note.
    #[serde(default)]
    pub note: String,
}

/// `consent_withdraw`.
#[derive(Debug, Clone, Deserialize)]
pub struct ConsentWithdrawArgs {
    /// The client.
    pub id: ClientId,
    /// The consent.
    pub consent: RecordId,
    /// Withdrawn on (default today).
    #[serde(default)]
    pub date: Option<NaiveDate>,
}

/// `disclosure_add`.
#[derive(Debug, Clone, Deserialize)]
pub struct DisclosureArgs {
    /// The client.
    pub id: ClientId,
    /// The disclosure.
    pub input: DisclosureInput,
}

/// `attachment_add`.
#[derive(Debug, Clone, Deserialize)]
pub struct AttachmentAddArgs {
    /// The client.
    pub id: ClientId,
    /// File name.
    pub name: String,
    /// The bytes, base64.
    pub bytes_base64: String,
}

/// `attachment_get`, `attachment_delete`.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct AttachmentArgs {
    /// The client.
    pub id: ClientId,
    /// The attachment.
    pub attachment: AttachmentId,
}

/// A brief contact to record.
#[derive(Debug, Clone, Deserialize)]
pub struct ContactInputDto {
    /// Date.
    pub date: NaiveDate,
    /// Channel code.
    pub channel: String,
    /// Gender code.
    #[serde(default)]
    pub gender: Option<String>,
    /// Age-group code.
    #[serde(default)]
    pub age_group: Option<String>,
    /// Topic code.
    #[serde(default)]
    pub topic: Option<String>,
    /// Free text.
    #[serde(default)]
    pub text: String,
    /// Unit name or id (default the user's first).
    #[serde(default)]
    pub unit: Option<String>,
}

/// `contact_add`.
#[derive(Debug, Clone, Deserialize)]
pub struct ContactAddArgs {
    /// The contact.
    pub input: ContactInputDto,
}

/// `contact_list`, `activity_list`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct RangeArgs {
    /// From this date.
    pub from: Option<NaiveDate>,
    /// To this date.
    pub to: Option<NaiveDate>,
}

/// An activity memo to record.
#[derive(Debug, Clone, Deserialize)]
pub struct ActivityInputDto {
    /// Kind code.
    pub kind: String,
    /// Date.
    pub date: NaiveDate,
    /// Duration.
    pub duration_minutes: u32,
    /// Place.
    #[serde(default)]
    pub place: String,
    /// Unit name or id.
    #[serde(default)]
    pub unit: Option<String>,
    /// Workers' logins (the user is added when missing).
    #[serde(default)]
    pub workers: Vec<String>,
    /// Young people met.
    #[serde(default)]
    pub met: Vec<MetDto>,
    /// Free text.
    #[serde(default)]
    pub text: String,
}

/// `activity_add`.
#[derive(Debug, Clone, Deserialize)]
pub struct ActivityAddArgs {
    /// The memo.
    pub input: ActivityInputDto,
}

/// `activity_show`.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct ActivityArgs {
    /// The memo.
    pub activity: ActivityMemoId,
}

/// A change to an activity memo: each field given replaces the old value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ActivityEditDto {
    /// Kind code.
    pub kind: Option<String>,
    /// Date.
    pub date: Option<NaiveDate>,
    /// Duration.
    pub duration_minutes: Option<u32>,
    /// Place.
    pub place: Option<String>,
    /// Workers' logins.
    pub workers: Option<Vec<String>>,
    /// Young people met: the whole table (cells left out become 0).
    pub met: Option<Vec<MetDto>>,
    /// Free text.
    pub text: Option<String>,
}

/// `activity_edit`.
#[derive(Debug, Clone, Deserialize)]
pub struct ActivityEditArgs {
    /// The memo.
    pub activity: ActivityMemoId,
    /// The change.
    pub edit: ActivityEditDto,
}
