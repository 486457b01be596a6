//! Every audit detail code the API writes, in one registry. The codes are
//! in signed entries: never change or reuse one. A test checks that they
//! are unique.

use polku_audit::Code;

const fn code(s: &'static str) -> Code {
    match Code::new(s) {
        Ok(c) => c,
        Err(_) => panic!("invalid audit code in the program text"),
    }
}

// Erasure (sync).
/// This node erased the document (and signed its tombstone).
pub(crate) const ERASED_HERE: Code = code("erase");
/// A tombstone from another node was applied here.
pub(crate) const TOMBSTONE_APPLIED: Code = code("tombstone");
/// This node erased a client past retention (`retention apply`).
pub(crate) const ERASED_RETENTION: Code = code("erase_retention");
/// This node erased a client who refused help (the Youth Act).
pub(crate) const ERASED_REFUSED: Code = code("erase_refused");
/// The erasure status (which devices acknowledged each tombstone).
pub(crate) const ERASURE_STATUS: Code = code("erasure_status");

// Sessions: views and writes of clients, the store, the lock.
/// A client's basic data: shown alone (view) or changed (update).
pub(crate) const BASIC: Code = code("basic");
/// A client's whole record was shown.
pub(crate) const FULL: Code = code("full");
/// The client list.
pub(crate) const CLIENT_LIST: Code = code("client_list");
/// A memo was added.
pub(crate) const MEMO_ADD: Code = code("memo_add");
/// Demo data were added.
pub(crate) const DEMO: Code = code("demo");
/// A store was created.
pub(crate) const STORE_INIT: Code = code("store_init");
/// A session was locked (idle or on demand).
pub(crate) const LOCK: Code = code("lock");

// User management.
/// `user_add`.
pub(crate) const USER_ADD: Code = code("user_add");
/// `users`.
pub(crate) const USERS: Code = code("users");
/// `activate`.
pub(crate) const ACTIVATE: Code = code("activate");
/// `deactivate`.
pub(crate) const DEACTIVATE: Code = code("deactivate");
/// `role_admin`.
pub(crate) const ROLE_ADMIN: Code = code("role_admin");
/// `role_coordinator`.
pub(crate) const ROLE_COORDINATOR: Code = code("role_coordinator");
/// `role_worker`.
pub(crate) const ROLE_WORKER: Code = code("role_worker");
/// `password_change`.
pub(crate) const PASSWORD_CHANGE: Code = code("password_change");
/// `password_reset`.
pub(crate) const PASSWORD_RESET: Code = code("password_reset");

// Administration of the organisation.
/// `rights`.
pub(crate) const RIGHTS: Code = code("rights");
/// `rights_reset`.
pub(crate) const RIGHTS_RESET: Code = code("rights_reset");
/// `unit_add`.
pub(crate) const UNIT_ADD: Code = code("unit_add");
/// `unit_rename`.
pub(crate) const UNIT_RENAME: Code = code("unit_rename");
/// `unit_retire`.
pub(crate) const UNIT_RETIRE: Code = code("unit_retire");
/// `code_add`.
pub(crate) const CODE_ADD: Code = code("code_add");
/// `code_retire`.
pub(crate) const CODE_RETIRE: Code = code("code_retire");
/// `retention_years`.
pub(crate) const RETENTION_YEARS: Code = code("retention_years");
/// `offline_lease_days`.
pub(crate) const OFFLINE_LEASE_DAYS: Code = code("offline_lease_days");
/// `idle_lock_minutes`.
pub(crate) const IDLE_LOCK_MINUTES: Code = code("idle_lock_minutes");
/// `small_cell_threshold`.
pub(crate) const SMALL_CELL_THRESHOLD: Code = code("small_cell_threshold");

// The client record.
/// `background`.
pub(crate) const BACKGROUND: Code = code("background");
/// `situation_add`.
pub(crate) const SITUATION_ADD: Code = code("situation_add");
/// `period_open`.
pub(crate) const PERIOD_OPEN: Code = code("period_open");
/// `period_text`.
pub(crate) const PERIOD_TEXT: Code = code("period_text");
/// `period_close`.
pub(crate) const PERIOD_CLOSE: Code = code("period_close");
/// `measure_add`.
pub(crate) const MEASURE_ADD: Code = code("measure_add");
/// `measure_status`.
pub(crate) const MEASURE_STATUS: Code = code("measure_status");
/// `memo_delete`.
pub(crate) const MEMO_DELETE: Code = code("memo_delete");
/// `memo_restore`.
pub(crate) const MEMO_RESTORE: Code = code("memo_restore");
/// `referral_add`.
pub(crate) const REFERRAL_ADD: Code = code("referral_add");
/// `referral_follow_up`.
pub(crate) const REFERRAL_FOLLOW_UP: Code = code("referral_follow_up");
/// `consent_add`.
pub(crate) const CONSENT_ADD: Code = code("consent_add");
/// `consent_withdraw`.
pub(crate) const CONSENT_WITHDRAW: Code = code("consent_withdraw");
/// `disclosure_add`.
pub(crate) const DISCLOSURE_ADD: Code = code("disclosure_add");
/// `follow_up_add`.
pub(crate) const FOLLOW_UP_ADD: Code = code("follow_up_add");
/// `follow_up_done`.
pub(crate) const FOLLOW_UP_DONE: Code = code("follow_up_done");
/// `unit`.
pub(crate) const UNIT: Code = code("unit");
/// `responsible`.
pub(crate) const RESPONSIBLE: Code = code("responsible");
/// The mandatory-field check of a client was run.
pub(crate) const MISSING_FIELDS: Code = code("missing_fields");

// Statistics.
/// Audit detail codes of statistics runs. Do not change (they are in signed entries).
pub(crate) const STATS_VIEW: Code = code("stats_view");
/// `stats_csv`.
pub(crate) const STATS_CSV: Code = code("stats_csv");
/// `stats_xlsx`.
pub(crate) const STATS_XLSX: Code = code("stats_xlsx");
/// `stats_json`.
pub(crate) const STATS_JSON: Code = code("stats_json");
/// `stats_check`.
pub(crate) const STATS_CHECK: Code = code("stats_check");

// Brief contacts.
/// Audit detail codes. Do not change (they are in signed entries).
pub(crate) const CONTACT_ADD: Code = code("contact_add");
/// `contact_list`.
pub(crate) const CONTACT_LIST: Code = code("contact_list");
/// `contact_edit`.
pub(crate) const CONTACT_EDIT: Code = code("contact_edit");
/// `contact_delete`.
pub(crate) const CONTACT_DELETE: Code = code("contact_delete");
/// `contact_restore`.
pub(crate) const CONTACT_RESTORE: Code = code("contact_restore");

// Devices and enrolment.
/// `ticket`.
pub(crate) const TICKET: Code = code("ticket");
/// `ticket_cancel`.
pub(crate) const TICKET_CANCEL: Code = code("ticket_cancel");
/// `enrol_refusals`.
pub(crate) const ENROL_REFUSALS: Code = code("enrol_refusals");
/// `revoked_wipe`.
pub(crate) const REVOKED_WIPE: Code = code("revoked_wipe");

// Attachments.
/// Audit detail codes. Do not change (they are in signed entries).
pub(crate) const ATTACHMENT_ADD: Code = code("attachment_add");
/// `attachment_rm`.
pub(crate) const ATTACHMENT_RM: Code = code("attachment_rm");
/// `attachment_list`.
pub(crate) const ATTACHMENT_LIST: Code = code("attachment_list");
/// `attachment_open`.
pub(crate) const ATTACHMENT_OPEN: Code = code("attachment_open");

// Activity memos.
/// Audit detail codes. Do not change (they are in signed entries).
pub(crate) const ACTIVITY_ADD: Code = code("activity_add");
/// `activity_edit`.
pub(crate) const ACTIVITY_EDIT: Code = code("activity_edit");
/// `activity`.
pub(crate) const ACTIVITY_VIEW: Code = code("activity");
/// `activity_list`.
pub(crate) const ACTIVITY_LIST: Code = code("activity_list");
/// `activity_delete`.
pub(crate) const ACTIVITY_DELETE: Code = code("activity_delete");
/// `activity_restore`.
pub(crate) const ACTIVITY_RESTORE: Code = code("activity_restore");

// The register keeper's duties.
/// A subject access export (tarkastusoikeus).
pub(crate) const SUBJECT_ACCESS: Code = code("subject_access");
/// The retention list.
pub(crate) const RETENTION_LIST: Code = code("retention_list");
/// A backup key was added.
pub(crate) const BACKUP_KEY_ADD: Code = code("backup_key_add");
/// A backup was made.
pub(crate) const BACKUP: Code = code("backup");

// Edits of basic data and memos.
/// `memo_edit`.
pub(crate) const MEMO_EDIT: Code = code("memo_edit");

/// Every code above, for the uniqueness test.
#[cfg(test)]
pub(crate) const ALL: &[Code] = &[
    ERASED_HERE,
    TOMBSTONE_APPLIED,
    ERASED_RETENTION,
    ERASED_REFUSED,
    ERASURE_STATUS,
    BASIC,
    FULL,
    CLIENT_LIST,
    MEMO_ADD,
    DEMO,
    STORE_INIT,
    LOCK,
    USER_ADD,
    USERS,
    ACTIVATE,
    DEACTIVATE,
    ROLE_ADMIN,
    ROLE_COORDINATOR,
    ROLE_WORKER,
    PASSWORD_CHANGE,
    PASSWORD_RESET,
    RIGHTS,
    RIGHTS_RESET,
    UNIT_ADD,
    UNIT_RENAME,
    UNIT_RETIRE,
    CODE_ADD,
    CODE_RETIRE,
    RETENTION_YEARS,
    OFFLINE_LEASE_DAYS,
    IDLE_LOCK_MINUTES,
    SMALL_CELL_THRESHOLD,
    BACKGROUND,
    SITUATION_ADD,
    PERIOD_OPEN,
    PERIOD_TEXT,
    PERIOD_CLOSE,
    MEASURE_ADD,
    MEASURE_STATUS,
    MEMO_DELETE,
    MEMO_RESTORE,
    REFERRAL_ADD,
    REFERRAL_FOLLOW_UP,
    CONSENT_ADD,
    CONSENT_WITHDRAW,
    DISCLOSURE_ADD,
    FOLLOW_UP_ADD,
    FOLLOW_UP_DONE,
    UNIT,
    RESPONSIBLE,
    MISSING_FIELDS,
    STATS_VIEW,
    STATS_CSV,
    STATS_XLSX,
    STATS_JSON,
    STATS_CHECK,
    CONTACT_ADD,
    CONTACT_LIST,
    TICKET,
    TICKET_CANCEL,
    ENROL_REFUSALS,
    REVOKED_WIPE,
    ATTACHMENT_ADD,
    ATTACHMENT_RM,
    ATTACHMENT_LIST,
    ATTACHMENT_OPEN,
    ACTIVITY_ADD,
    ACTIVITY_EDIT,
    ACTIVITY_VIEW,
    ACTIVITY_LIST,
    MEMO_EDIT,
    CONTACT_EDIT,
    CONTACT_DELETE,
    CONTACT_RESTORE,
    ACTIVITY_DELETE,
    ACTIVITY_RESTORE,
    SUBJECT_ACCESS,
    RETENTION_LIST,
    BACKUP_KEY_ADD,
    BACKUP,
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    #[test]
    fn audit_codes_are_unique() {
        let mut seen = BTreeSet::new();
        for c in super::ALL {
            assert!(
                seen.insert(c.as_str()),
                "audit code {} used twice",
                c.as_str()
            );
        }
    }
}
