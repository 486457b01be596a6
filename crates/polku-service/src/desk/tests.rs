use std::path::Path;
use std::sync::Mutex;

use base64::Engine;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use polku_api::{KdfParams, UserInput, Workspace};
use polku_core::model::{Role, SettingKey};
use serde_json::json;

use super::*;

const PW: &str = "desk-test-password";
const TEMP: &str = "temporary-password-1";

#[derive(Debug)]
struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    fn advance(&self, d: Duration) {
        *self.0.lock().expect("clock") += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock")
    }
}

/// A standalone store: admin, the demo units and five demo clients, maija
/// (a worker of Itä) with a temporary password, idle lock 3 minutes.
fn store(dir: &Path, now: DateTime<Utc>) {
    Workspace::init_with(dir, "admin", PW, now, KdfParams::INSECURE_FOR_TESTS).expect("init");
    let mut admin = Workspace::open(dir)
        .and_then(|w| w.login("admin", PW, now))
        .expect("login");
    admin.add_demo(5, 1, now).expect("demo");
    admin
        .add_user(
            UserInput {
                login: "maija".into(),
                display_name: None,
                role: Role::Worker,
                units: vec!["Itä".into()],
            },
            TEMP,
            now,
        )
        .expect("user");
    admin
        .set_setting(SettingKey::IdleLockMinutes, 3, now)
        .expect("setting");
    admin.close_at(now).expect("close");
}

fn desk(dir: &Path) -> (Desk, Arc<ManualClock>) {
    let now = Utc::now();
    store(dir, now);
    let clock = Arc::new(ManualClock(Mutex::new(now)));
    let desk = Desk::with_clock(DeskConfig::new(dir), clock.clone());
    (desk, clock)
}

fn login(login: &str, password: &str) -> LoginArgs {
    LoginArgs {
        login: login.into(),
        password: password.into(),
    }
}

fn code<T: std::fmt::Debug>(r: DeskResult<T>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.code,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_desk_locks_after_the_organisations_idle_time_and_unlocks_with_the_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (desk, clock) = desk(dir.path());
    let me = desk.login(login("admin", PW)).await.expect("login");
    assert_eq!(me.idle_lock_minutes, 3);
    assert_eq!(desk.session_state().await.state, "open");

    // A command is activity: 2 + 2 minutes with a command between stay open.
    clock.advance(Duration::minutes(2));
    desk.client_list(Default::default()).await.expect("list");
    clock.advance(Duration::minutes(2));
    assert_eq!(desk.session_state().await.state, "open");
    desk.touch().await.expect("touch");
    // Polling the state and the sync status is not activity.
    clock.advance(Duration::minutes(2));
    desk.sync_status().await.expect("status");
    assert_eq!(desk.session_state().await.state, "open");
    clock.advance(Duration::minutes(1));
    let state = desk.session_state().await;
    assert_eq!(
        (state.state, state.login.as_deref()),
        ("locked", Some("admin"))
    );
    assert_eq!(
        code(desk.client_list(Default::default()).await),
        "session.locked"
    );

    // A wrong password keeps it locked; the right one opens it again.
    assert_eq!(
        code(
            desk.unlock(UnlockArgs {
                password: "wrong-password".into()
            })
            .await
        ),
        "auth.wrong_password"
    );
    assert_eq!(desk.session_state().await.state, "locked");
    desk.unlock(UnlockArgs {
        password: PW.into(),
    })
    .await
    .expect("unlock");
    assert_eq!(
        desk.client_list(Default::default())
            .await
            .expect("list")
            .len(),
        5
    );

    // The lock was audited as a lock, the failed unlock as a failed login.
    desk.logout().await.expect("logout");
    let mut s = Workspace::open(dir.path())
        .and_then(|w| w.login("admin", PW, Utc::now()))
        .expect("login");
    let rows = s
        .audit_list(&Default::default(), Utc::now())
        .expect("audit");
    assert!(
        rows.iter()
            .any(|r| r.action == "logout" && r.detail == "lock")
    );
    assert!(rows.iter().any(|r| r.action == "failed_login"));
    s.close().expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_command_is_refused_and_locks_instead_of_running() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (desk, clock) = desk(dir.path());
    desk.login(login("admin", PW)).await.expect("login");
    clock.advance(Duration::minutes(3));
    // The command that arrives after the idle time does not run.
    assert_eq!(
        code(
            desk.client_add(ClientAddArgs {
                input: polku_api::ClientInput {
                    first_name: "Aino".into(),
                    ..Default::default()
                },
            })
            .await
        ),
        "session.locked"
    );
    desk.unlock(UnlockArgs {
        password: PW.into(),
    })
    .await
    .expect("unlock");
    assert_eq!(
        desk.client_list(Default::default())
            .await
            .expect("list")
            .len(),
        5
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shorter_test_cap_shortens_the_lock_but_never_lengthens_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = Utc::now();
    store(dir.path(), now);
    let clock = Arc::new(ManualClock(Mutex::new(now)));
    let mut config = DeskConfig::new(dir.path());
    config.idle_lock_cap = Some(std::time::Duration::from_secs(10));
    let desk = Desk::with_clock(config.clone(), clock.clone());
    desk.login(login("admin", PW)).await.expect("login");
    assert_eq!(desk.session_state().await.idle_lock_minutes, 1);
    clock.advance(Duration::seconds(11));
    assert_eq!(desk.session_state().await.state, "locked");

    config.idle_lock_cap = Some(std::time::Duration::from_secs(3600));
    let desk = Desk::with_clock(config, clock.clone());
    desk.login(login("admin", PW)).await.expect("login");
    clock.advance(Duration::minutes(3));
    assert_eq!(desk.session_state().await.state, "locked");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_temporary_password_opens_only_the_password_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (desk, _) = desk(dir.path());
    let me = desk.login(login("maija", TEMP)).await.expect("login");
    assert!(me.must_change_password);
    assert!(desk.session_state().await.must_change_password);
    assert_eq!(
        code(desk.client_list(Default::default()).await),
        "auth.must_change_password"
    );
    assert_eq!(code(desk.codes().await), "auth.must_change_password");
    assert_eq!(code(desk.sync_now().await), "auth.must_change_password");
    assert_eq!(
        code(desk.contact_list(RangeArgs::default()).await),
        "auth.must_change_password"
    );
    assert_eq!(
        code(
            desk.change_password(ChangePasswordArgs {
                current: "not-the-password".into(),
                new: "uusi-salasana-2026".into(),
            })
            .await
        ),
        "auth.wrong_password"
    );
    assert_eq!(
        code(
            desk.change_password(ChangePasswordArgs {
                current: TEMP.into(),
                new: "short".into(),
            })
            .await
        ),
        "password.too_short"
    );
    let me = desk
        .change_password(ChangePasswordArgs {
            current: TEMP.into(),
            new: "uusi-salasana-2026".into(),
        })
        .await
        .expect("change");
    assert!(!me.must_change_password);
    assert_eq!(me.units.len(), 1);
    assert_eq!(me.units[0].name, "Itä");
    desk.client_list(Default::default()).await.expect("list");
    desk.codes().await.expect("codes");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_locked_or_absent_session_refuses_every_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (desk, _) = desk(dir.path());
    assert_eq!(
        code(desk.client_list(Default::default()).await),
        "session.none"
    );
    assert_eq!(desk.session_state().await.state, "none");
    desk.login(login("admin", PW)).await.expect("login");
    let id = desk.client_list(Default::default()).await.expect("list")[0].id;
    desk.lock().await.expect("lock");
    let c = ClientArgs { id };
    assert_eq!(
        code(desk.client_list(Default::default()).await),
        "session.locked"
    );
    assert_eq!(code(desk.client_view(c).await), "session.locked");
    assert_eq!(code(desk.client_history(c).await), "session.locked");
    assert_eq!(code(desk.codes().await), "session.locked");
    assert_eq!(code(desk.touch().await), "session.locked");
    assert_eq!(code(desk.sync_status().await), "session.locked");
    assert_eq!(code(desk.sync_now().await), "session.locked");
    assert_eq!(
        code(
            desk.memo_add(MemoAddArgs {
                id,
                text: "x".into(),
                kind: None,
            })
            .await
        ),
        "session.locked"
    );
    assert_eq!(code(desk.attachment_list(c).await), "session.locked");
    assert_eq!(
        code(desk.activity_list(RangeArgs::default()).await),
        "session.locked"
    );
    // Logging out of a locked session leaves none; logging in again works.
    desk.logout().await.expect("logout");
    assert_eq!(desk.session_state().await.state, "none");
    desk.login(login("admin", PW)).await.expect("login");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_record_flows_through_the_desk_and_a_restart_keeps_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (desk, _) = desk(dir.path());
    desk.login(login("maija", TEMP)).await.expect("login");
    desk.change_password(ChangePasswordArgs {
        current: TEMP.into(),
        new: PW.into(),
    })
    .await
    .expect("change");
    let id = desk
        .client_add(ClientAddArgs {
            input: polku_api::ClientInput {
                first_name: "Aino".into(),
                last_name: "Virtanen".into(),
                ..Default::default()
            },
        })
        .await
        .expect("add")
        .id;
    let v = desk
        .memo_add(MemoAddArgs {
            id,
            text: "Tavattiin kirjastossa".into(),
            kind: Some("meeting".into()),
        })
        .await
        .expect("memo");
    assert_eq!(v.view.client.memos.len(), 1);
    let v = desk
        .period_open(PeriodOpenArgs {
            id,
            input: Default::default(),
        })
        .await
        .expect("period");
    let period = *v.view.client.periods.keys().next().expect("period");
    let v = desk
        .measure_add(MeasureAddArgs {
            id,
            period,
            kind: "guidance".into(),
            start: None,
        })
        .await
        .expect("measure");
    assert_eq!(v.view.client.periods[&period].measures.len(), 1);
    assert!(v.missing.iter().any(|m| m.what == "period.arrival_route"));
    let today = Utc::now().date_naive();
    desk.contact_add(ContactAddArgs {
        input: serde_json::from_value(json!({"date": today, "channel": "street"}))
            .expect("contact"),
    })
    .await
    .expect("contact");
    let history = desk
        .client_history(ClientArgs { id })
        .await
        .expect("history");
    let what: Vec<&str> = history.iter().map(|h| h.what.as_str()).collect();
    assert!(
        what.contains(&"memo_add") && what.contains(&"measure_add"),
        "{what:?}"
    );
    let bytes = base64::engine::general_purpose::STANDARD.encode(b"liite");
    let rows = desk
        .attachment_add(AttachmentAddArgs {
            id,
            name: "todistus.txt".into(),
            bytes_base64: bytes.clone(),
        })
        .await
        .expect("attachment");
    let got = desk
        .attachment_get(AttachmentArgs {
            id,
            attachment: rows[0].id,
        })
        .await
        .expect("get");
    assert_eq!(got.bytes_base64, bytes);
    desk.logout().await.expect("logout");

    // A new desk over the same store (the app restarted) finds it all.
    let desk = Desk::new(DeskConfig::new(dir.path()));
    desk.login(login("maija", PW)).await.expect("login");
    let v = desk.client_view(ClientArgs { id }).await.expect("view");
    assert_eq!(v.view.client.memos.len(), 1);
    assert_eq!(v.view.client.periods[&period].measures.len(), 1);
    assert_eq!(
        desk.contact_list(RangeArgs::default())
            .await
            .expect("contacts")
            .len(),
        1
    );
    let rows = desk
        .client_list(serde_json::from_value(json!({"query": "virt", "scope": "own"})).expect("q"))
        .await
        .expect("list");
    assert_eq!(rows.len(), 1);
    desk.logout().await.expect("logout");

    // The admin's client of Keskusta is not maija's to see.
    let desk = Desk::new(DeskConfig::new(dir.path()));
    desk.login(login("maija", PW)).await.expect("login");
    let all = desk.client_list(Default::default()).await.expect("list");
    assert!(
        all.iter().all(|r| r.unit.as_deref() == Some("Itä")),
        "{all:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_on_a_standalone_store_says_not_enrolled_and_blocks_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (desk, _) = desk(dir.path());
    desk.login(login("admin", PW)).await.expect("login");
    let status = desk.sync_status().await.expect("status");
    assert!(!status.enrolled && !status.running);
    assert_eq!(code(desk.sync_now().await), "sync.not_enrolled");
}

/// The JSON the UI reads and sends (docs/app-commands.md), compared with
/// `tests/contract/desk.json`; regenerate with `POLKU_UPDATE_CONTRACT=1`.
#[test]
fn the_desk_contract_shapes() {
    let t = Utc
        .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
        .single()
        .expect("time");
    let day = NaiveDate::from_ymd_opt(2026, 1, 2).expect("date");
    let uuid = |n: u8| uuid::Uuid::from_bytes([n; 16]);
    let me = Me {
        login: "maija".into(),
        role: Role::Worker,
        units: vec![UnitRef {
            id: polku_core::UnitId(uuid(1)),
            name: "Keskusta".into(),
        }],
        must_change_password: false,
        idle_lock_minutes: 10,
        offline_lease_expires: Some(t),
        may: May {
            view_record: true,
            memos: true,
            admin: false,
            statistics: false,
        },
    };
    let status = SyncStatus {
        enrolled: true,
        running: false,
        last_sync: Some(t),
        waiting_changes: 3,
        hub_reachable: Some(true),
        last_error: Some(DeskError::Locked.to_dto()),
        refused: vec![SyncProblemDto {
            doc: "record".into(),
            code: "sync.refused.rights".into(),
            at: Some(t),
        }],
        quarantined: vec![],
    };
    let client = polku_core::model::Client::new(polku_core::ClientId(uuid(4)), t);
    let view = ClientViewDto {
        view: polku_api::ClientView {
            client,
            record: polku_api::Part::Shown,
            memos: polku_api::Part::HiddenByRights,
        },
        missing: vec![polku_api::MissingItem {
            what: "period.outcome",
            period: Some(polku_core::PeriodId(uuid(5))),
            snapshot: None,
        }],
        conflicts: vec![polku_api::ConflictRow {
            field: "basic.phone".into(),
            values: vec![
                polku_api::ConflictChoice {
                    value: json!("040 1"),
                    by: None,
                },
                polku_api::ConflictChoice {
                    value: json!("040 2"),
                    by: Some("maija".into()),
                },
            ],
        }],
        people: [(polku_core::UserId(uuid(9)), "maija".to_owned())].into(),
    };
    let row = polku_api::ClientRow {
        id: polku_core::ClientId(uuid(4)),
        first_name: "Aino".into(),
        last_name: "Virtanen".into(),
        birth_date: Some(day),
        unit: Some("Keskusta".into()),
        responsible: vec!["maija".into()],
        active: true,
        missing: 2,
        record: polku_api::Part::Shown,
    };
    let value = json!({
        "app_info": AppInfo {
            version: "0.1.0".into(),
            store: "laptop",
            organisation: Some("Etsivät ry".into()),
            demo_users: Some(vec![polku_api::DemoUser {
                login: "worker1".into(),
                password: "demo-password".into(),
                role: Role::Worker,
                unit: Some("Keskusta".into()),
            }]),
        },
        "session_state": SessionState {
            state: "open",
            login: Some("maija".into()),
            must_change_password: false,
            idle_lock_minutes: 10,
            me: Some(me.clone()),
        },
        "me": me,
        "codes": CodesDto::from([("gender".to_owned(), vec![CodeDto {
            code: "female".into(),
            label: polku_core::codes::Labels {
                fi: "nainen".into(),
                sv: "kvinna".into(),
                en: "female".into(),
            },
            retired: false,
        }])]),
        "client_row": row,
        "client_view": view,
        "created": Created { id: polku_core::ClientId(uuid(4)) },
        "history_row": polku_api::HistoryRow {
            at: t,
            user: Some("maija".into()),
            action: "update".into(),
            what: "memo_add".into(),
        },
        "attachment_row": AttachmentRow {
            id: polku_core::AttachmentId(uuid(6)),
            name: "todistus.pdf".into(),
            size: 1234,
            added_at: t,
            added_by: None,
        },
        "attachment_data": AttachmentData {
            name: "todistus.pdf".into(),
            bytes_base64: "bGlpdGU=".into(),
        },
        "contact_row": ContactRow {
            id: polku_core::BriefContactId(uuid(7)),
            unit: Some("Keskusta".into()),
            date: day,
            channel: "street".into(),
            gender: Some("female".into()),
            age_group: Some("16-17".into()),
            topic: None,
            text: String::new(),
        },
        "activity_row": ActivityRow {
            id: polku_core::ActivityMemoId(uuid(8)),
            unit: Some("Keskusta".into()),
            kind: "street_work".into(),
            date: day,
            duration_minutes: 90,
            place: "Kauppatori".into(),
            workers: vec!["maija".into()],
            met_total: 3,
        },
        "activity": ActivityDto {
            id: polku_core::ActivityMemoId(uuid(8)),
            unit: Some("Keskusta".into()),
            kind: "street_work".into(),
            date: day,
            duration_minutes: 90,
            place: "Kauppatori".into(),
            workers: vec!["maija".into()],
            met: vec![MetDto { gender: "female".into(), age_group: "16-17".into(), count: 3 }],
            text: String::new(),
        },
        "sync_status": status,
        "errors": [
            DeskError::NoSession.to_dto(),
            DeskError::Locked.to_dto(),
            DeskError::BadArgument("bytes_base64").to_dto(),
            DeskError::TooLarge { max: 10 }.to_dto(),
            DeskError::Internal.to_dto(),
        ],
    });
    let path =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/contract/desk.json");
    let text = serde_json::to_string_pretty(&value).expect("json") + "\n";
    if std::env::var_os("POLKU_UPDATE_CONTRACT").is_some() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("dir");
        std::fs::write(&path, &text).expect("write");
        return;
    }
    let stored = std::fs::read_to_string(&path).expect("desk.json (POLKU_UPDATE_CONTRACT=1)");
    assert_eq!(stored, text, "the desk contract changed");
}

/// Every command's arguments as the UI sends them (the examples of
/// docs/app-commands.md) are read.
#[test]
fn the_arguments_of_every_command_parse() {
    let id = "04040404-0404-0404-0404-040404040404";
    fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) {
        if let Err(e) = serde_json::from_value::<T>(v.clone()) {
            panic!("{} does not read {v}: {e}", std::any::type_name::<T>());
        }
    }
    parse::<LoginArgs>(json!({"login": "maija", "password": "x"}));
    parse::<ChangePasswordArgs>(json!({"current": "a", "new": "b"}));
    parse::<UnlockArgs>(json!({"password": "x"}));
    parse::<polku_api::ClientListQuery>(
        json!({"query": "", "scope": "own", "status": "active", "missing_only": false}),
    );
    parse::<ClientArgs>(json!({ "id": id }));
    parse::<ClientAddArgs>(json!({"input": {"first_name": "A", "last_name": "B",
        "birth_date": "2008-05-01", "gender": "female", "mother_tongue": "fi", "unit": null}}));
    parse::<EditBasicArgs>(json!({"id": id, "basic": {"phone": "040", "gender": null}}));
    parse::<ResolveConflictArgs>(json!({"id": id, "field": "basic.phone", "value": "040"}));
    parse::<BackgroundArgs>(json!({"id": id, "field": "health", "text": "…"}));
    parse::<SituationArgs>(
        json!({"id": id, "input": {"date": "2026-01-02", "phase": "start",
        "period": null, "highest_education": "basic", "education_status": null,
        "main_activity": null, "livelihood": null, "housing": null}}),
    );
    parse::<PeriodOpenArgs>(
        json!({"id": id, "input": {"start": null, "arrival_route": "young_person",
        "referral": null, "goals": ""}}),
    );
    parse::<PeriodTextArgs>(
        json!({"id": id, "period": id, "which": "final_assessment", "text": "…"}),
    );
    parse::<PeriodCloseArgs>(
        json!({"id": id, "period": id, "input": {"end": "2026-01-02",
        "outcome": "vocational", "final_assessment": null}}),
    );
    parse::<MeasureAddArgs>(json!({"id": id, "period": id, "kind": "guidance"}));
    parse::<MeasureStatusArgs>(
        json!({"id": id, "period": id, "measure": id, "status": "completed"}),
    );
    parse::<MemoAddArgs>(json!({"id": id, "text": "…", "kind": "meeting"}));
    parse::<MemoEditArgs>(json!({"id": id, "memo": id, "text": "…"}));
    parse::<MemoArgs>(json!({"id": id, "memo": id}));
    parse::<ReferralArgs>(
        json!({"id": id, "input": {"source": "basic_education", "received": null,
        "follow_up": "", "follow_up_decided": null}}),
    );
    parse::<ConsentAddArgs>(json!({"id": id, "topic": "follow_up"}));
    parse::<ConsentWithdrawArgs>(json!({"id": id, "consent": id}));
    parse::<DisclosureArgs>(json!({"id": id, "input": {"what": "a", "recipient": "b",
        "date": null, "basis": "c"}}));
    parse::<AttachmentAddArgs>(json!({"id": id, "name": "a.pdf", "bytes_base64": "bGlpdGU="}));
    parse::<AttachmentArgs>(json!({"id": id, "attachment": id}));
    parse::<ContactAddArgs>(json!({"input": {"date": "2026-01-02", "channel": "street",
        "gender": null, "age_group": "16-17", "topic": null, "text": "", "unit": null}}));
    parse::<RangeArgs>(json!({}));
    parse::<RangeArgs>(json!({"from": "2026-01-01", "to": null}));
    parse::<ActivityAddArgs>(
        json!({"input": {"kind": "street_work", "date": "2026-01-02",
        "duration_minutes": 90, "place": "Tori", "unit": null, "workers": [],
        "met": [{"gender": "female", "age_group": "16-17", "count": 3}], "text": ""}}),
    );
    parse::<ActivityArgs>(json!({ "activity": id }));
    parse::<ActivityEditArgs>(json!({"activity": id, "edit": {"text": "…", "met": []}}));
}

#[tokio::test(flavor = "multi_thread")]
async fn session_state_carries_the_logged_in_user_only_while_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (desk, _) = desk(dir.path());
    assert_eq!(desk.session_state().await.me, None);
    let me = desk.login(login("admin", PW)).await.expect("login");
    let state = desk.session_state().await;
    assert_eq!(state.me.as_ref().map(|m| m.login.as_str()), Some("admin"));
    assert_eq!(state.me, Some(me));
    desk.lock().await.expect("lock");
    let state = desk.session_state().await;
    assert_eq!((state.state, state.me), ("locked", None));
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_due_lists_a_client_past_retention_for_the_reminder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (desk, clock) = desk(dir.path());
    desk.login(login("admin", PW)).await.expect("login");
    let id = desk
        .client_add(ClientAddArgs {
            input: polku_api::ClientInput {
                first_name: "Aino".into(),
                last_name: "Vanhanen".into(),
                ..Default::default()
            },
        })
        .await
        .expect("add")
        .id;
    let due = desk.retention_due().await.expect("due");
    assert!(
        !due.iter().any(|r| r.client == id),
        "not due on the day it was added"
    );
    // Three years on (the default retention is one year after the year's end).
    clock.advance(Duration::days(3 * 366));
    assert_eq!(desk.session_state().await.state, "locked");
    desk.unlock(UnlockArgs {
        password: PW.into(),
    })
    .await
    .expect("unlock");
    let due = desk.retention_due().await.expect("due");
    let row = due
        .iter()
        .find(|r| r.client == id)
        .expect("the client is due");
    assert_eq!(row.last_name, "Vanhanen");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_quick_memo_is_saved_with_one_audited_write_and_no_views() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (desk, _) = desk(dir.path());
    desk.login(login("admin", PW)).await.expect("login");
    let id = desk
        .client_add(ClientAddArgs {
            input: polku_api::ClientInput {
                first_name: "Aino".into(),
                last_name: "Pikanen".into(),
                ..Default::default()
            },
        })
        .await
        .expect("add")
        .id;
    let audited = |dir: &Path| {
        let mut s = Workspace::open(dir)
            .and_then(|w| w.login("admin", PW, Utc::now()))
            .expect("login");
        let rows = s
            .audit_list(&Default::default(), Utc::now())
            .expect("audit");
        s.close().expect("close");
        rows.into_iter()
            .filter(|r| r.target == Some(id.0))
            .map(|r| (r.action, r.detail))
            .collect::<Vec<_>>()
    };
    let memo = desk
        .memo_add_quick(MemoAddArgs {
            id,
            text: "Soitettiin.".into(),
            kind: Some("phone".into()),
        })
        .await
        .expect("quick memo")
        .id;
    desk.logout().await.expect("logout");
    let after = audited(dir.path());
    let views = after.iter().filter(|(a, _)| a == "view").count();
    assert_eq!(views, 0, "no view audited for the quick memo: {after:?}");
    assert!(
        after.iter().any(|(a, d)| a == "update" && d == "memo_add"),
        "{after:?}"
    );
    desk.login(login("admin", PW)).await.expect("login");
    let v = desk.client_view(ClientArgs { id }).await.expect("view");
    assert_eq!(v.view.client.memos[&memo].text, "Soitettiin.");
}

#[tokio::test(flavor = "multi_thread")]
async fn client_names_are_the_clients_of_the_list_by_name_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (desk, _) = desk(dir.path());
    desk.login(login("admin", PW)).await.expect("login");
    let list = desk
        .client_list(polku_api::ClientListQuery {
            query: String::new(),
            scope: polku_api::ListScope::All,
            status: polku_api::ListStatus::Any,
            missing_only: false,
        })
        .await
        .expect("list");
    let names = desk.client_names().await.expect("names");
    assert_eq!(names.len(), 5);
    assert_eq!(
        names
            .iter()
            .map(|n| (n.id, n.last_name.clone(), n.birth_date))
            .collect::<Vec<_>>(),
        list.iter()
            .map(|r| (r.id, r.last_name.clone(), r.birth_date))
            .collect::<Vec<_>>()
    );
}
