//! The contract the desktop app stands on (issue 9): the JSON of the DTOs it
//! sends and receives, and every error code with its parameters. A change
//! here is a change the UI must follow: the snapshots in `tests/contract/`
//! are compared byte for byte. After an intended change, regenerate them with
//! `POLKU_UPDATE_CONTRACT=1 cargo test -p polku-api --test contract` and
//! review the diff.

use std::path::PathBuf;

use chrono::NaiveDate;
use polku_api::{
    ApiError, ClientInput, DisclosureInput, ErrorDto, PeriodClose, PeriodInput, PeriodText,
    ReferralInput, Rejection, SituationInput,
};
use polku_core::codes::{CodeList, UnknownCode};
use polku_core::model::SnapshotPhase;
use polku_core::rights::{AdminRight, Denied, MissingRight};
use polku_core::{ClientId, PeriodId, RecordId};
use polku_store::StoreError;
use serde_json::{Value, json};
use uuid::Uuid;

fn check(name: &str, value: &Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/contract")
        .join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(value).expect("json") + "\n";
    if std::env::var_os("POLKU_UPDATE_CONTRACT").is_some() {
        std::fs::write(&path, &text).expect("write snapshot");
        return;
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (create it with POLKU_UPDATE_CONTRACT=1)",
            path.display()
        )
    });
    assert_eq!(
        stored, text,
        "the {name} contract changed; if intended, regenerate with POLKU_UPDATE_CONTRACT=1"
    );
}

fn id(n: u8) -> Uuid {
    Uuid::from_bytes([n; 16])
}

#[test]
fn error_codes_and_their_parameters() {
    let day = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
    let _ = day;
    let mut errors = vec![
        ApiError::Store(StoreError::NotAStore),
        ApiError::Store(StoreError::NewerSchema {
            found: 9,
            supported: 5,
        }),
        ApiError::Store(StoreError::Corrupt { what: "document" }),
        ApiError::Store(StoreError::WrongPassword),
        ApiError::Store(StoreError::UnknownUser),
        ApiError::Store(StoreError::TooManyAttempts {
            retry_after_secs: 30,
        }),
        ApiError::Store(StoreError::DiskFull),
        ApiError::Store(StoreError::Busy),
        ApiError::Store(StoreError::AlreadyExists),
        ApiError::Store(StoreError::LastUser),
        ApiError::UnknownCode(UnknownCode {
            list: CodeList::Gender,
            code: "1".into(),
        }),
        ApiError::ClientNotFound(ClientId(id(1))),
        ApiError::NoOrganisation,
        ApiError::NotAnOrgUser,
        ApiError::UnknownUnit,
        ApiError::NoUnit,
        ApiError::UserInactive,
        ApiError::AuditDamaged { seq: 7 },
        ApiError::UnknownLogin,
        ApiError::LoginTaken,
        ApiError::LastAdmin,
        ApiError::ReauthRequired,
        ApiError::MustChangePassword,
        ApiError::PasswordRejected(polku_core::password::PasswordRejected::TooShort { min: 10 }),
        ApiError::PasswordRejected(polku_core::password::PasswordRejected::TooCommon),
        ApiError::TemporaryPasswordExpired,
        ApiError::NotFound("period"),
        ApiError::NoConsent,
        ApiError::Invalid("client view"),
        ApiError::TooLong(polku_core::limits::TooLong {
            field: polku_core::limits::TextField::FirstName,
            max: 100,
        }),
        ApiError::SettingOutOfRange(polku_core::model::SettingOutOfRange {
            key: polku_core::model::SettingKey::RetentionYears,
            min: 1,
            max: 4,
        }),
        ApiError::OwnCode(polku_core::codes::OwnCodeError::MissingLabel),
        ApiError::CodeTaken {
            list: CodeList::Measure,
        },
        ApiError::CodeRetired {
            list: CodeList::Measure,
        },
        ApiError::UnitNameTaken,
        ApiError::UnitRetired,
        ApiError::OrgChangeOnHubOnly,
        ApiError::ActivityNotFound(polku_core::ActivityMemoId(id(5))),
        ApiError::ContactNotFound(polku_core::BriefContactId(id(5))),
        ApiError::Backup(polku_api::backup::BackupError::WrongKey),
        ApiError::Backup(polku_api::backup::BackupError::Damaged("archive")),
        ApiError::Backup(polku_api::backup::BackupError::NoRecipients),
        ApiError::Backup(polku_api::backup::BackupError::BadKey),
        ApiError::Backup(polku_api::backup::BackupError::TargetNotEmpty),
        ApiError::AttachmentNotFound(polku_core::AttachmentId(id(6))),
        ApiError::AttachmentNotOnThisDevice(polku_core::AttachmentId(id(6))),
    ];
    for missing in [
        MissingRight::ActiveUser,
        MissingRight::Admin(AdminRight::Users),
        MissingRight::Admin(AdminRight::Codes),
        MissingRight::Admin(AdminRight::Audit),
        MissingRight::Admin(AdminRight::SupervisorReports),
        MissingRight::Admin(AdminRight::Statistics),
        MissingRight::View,
        MissingRight::Modify,
        MissingRight::FullRecord,
        MissingRight::Memos,
    ] {
        errors.push(ApiError::Denied(Denied { missing }));
    }
    for r in [
        Rejection::ClientNeedsName,
        Rejection::EmptyMemo,
        Rejection::EmptyLogin,
        Rejection::PeriodEndsBeforeStart,
        Rejection::PeriodEnded,
        Rejection::PeriodNotEnded,
        Rejection::WithdrawnBeforeGiven,
        Rejection::LastResponsible,
        Rejection::DisclosureIncomplete,
        Rejection::UnknownTicket,
        Rejection::TicketUsed,
        Rejection::NotTheHub,
        Rejection::NoHubAddress,
        Rejection::NoSuchDevice,
        Rejection::HubNeverWiped,
        Rejection::NoSuchDocument,
        Rejection::OrgNotErasable,
        Rejection::ErasureNeedsRecord,
        Rejection::UnknownErasureReason,
    ] {
        errors.push(ApiError::Rejected(r));
    }
    let dtos: Vec<ErrorDto> = errors.iter().map(ApiError::to_dto).collect();
    // Codes are stable words; no sentence, no command line in them.
    for d in &dtos {
        assert!(
            d.code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'),
            "{}",
            d.code
        );
    }
    check("errors", &serde_json::to_value(&dtos).expect("json"));
}

#[test]
fn request_dtos() {
    let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).expect("date");
    let value = json!({
        "client_input": ClientInput {
            first_name: "Etunimi".into(),
            last_name: "Sukunimi".into(),
            birth_date: Some(day(1)),
            gender: Some("female".into()),
            mother_tongue: Some("fi".into()),
            unit: Some("Keskusta".into()),
        },
        "situation_input": SituationInput {
            date: Some(day(2)),
            phase: Some(SnapshotPhase::Start),
            period: Some(PeriodId(id(2))),
            highest_education: Some("basic".into()),
            education_status: Some("studying".into()),
            main_activity: Some("student".into()),
            livelihood: Some("study_benefit".into()),
            housing: Some("with_parents".into()),
        },
        "period_input": PeriodInput {
            start: Some(day(3)),
            arrival_route: Some("young_person".into()),
            referral: Some(RecordId(id(3))),
            goals: "…".into(),
        },
        "period_close": PeriodClose {
            end: Some(day(4)),
            outcome: Some("vocational".into()),
            final_assessment: None,
        },
        "period_text": [PeriodText::Goals, PeriodText::FinalAssessment],
        "referral_input": ReferralInput {
            source: "basic_education".into(),
            received: Some(day(5)),
            follow_up: "…".into(),
            follow_up_decided: None,
        },
        "disclosure_input": DisclosureInput {
            what: "…".into(),
            recipient: "…".into(),
            date: Some(day(6)),
            basis: "…".into(),
        },
    });
    check("requests", &value);
    // And they read back.
    let back: ClientInput =
        serde_json::from_value(value["client_input"].clone()).expect("client input");
    assert_eq!(back.first_name, "Etunimi");
}

#[test]
fn a_client_view_says_what_it_left_out() {
    use polku_api::{ClientView, Part};
    use polku_core::model::Client;
    let created = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
        .expect("time")
        .with_timezone(&chrono::Utc);
    let mut client = Client::new(ClientId(id(4)), created);
    client.basic.first_name = "Etunimi".into();
    let view = ClientView {
        client,
        record: Part::HiddenByRights,
        memos: Part::HiddenByRights,
    };
    check("client_view", &serde_json::to_value(&view).expect("json"));
}
