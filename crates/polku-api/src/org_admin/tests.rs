use chrono::Utc;
use polku_core::codes::{CodeList, Labels};
use polku_core::limits::{TextField, TooLong};
use polku_core::model::{OwnCode, Role, SettingKey, SettingOutOfRange};
use polku_core::rights::{AdminRight, MissingRight, RightsAdjustment, Scope};

use super::*;
use crate::{AuditQuery, ClientInput, KdfParams, StatsQuery, UserInput, Workspace};

const PASSWORD: &str = "org-admin-test-password";

fn login(dir: &std::path::Path, user: &str) -> Session {
    Workspace::open(dir)
        .and_then(|w| w.login(user, PASSWORD, Utc::now()))
        .unwrap_or_else(|e| panic!("login failed: {e}"))
}

/// A standalone store with demo data, and a worker maija in unit Itä.
fn store(dir: &std::path::Path) {
    let now = Utc::now();
    Workspace::init_with(dir, "admin", PASSWORD, now, KdfParams::INSECURE_FOR_TESTS).expect("init");
    let mut admin = login(dir, "admin");
    admin.add_demo(10, 3, now).expect("demo");
    admin
        .add_user(
            UserInput {
                login: "maija".to_owned(),
                display_name: None,
                role: Role::Worker,
                units: vec!["Itä".to_owned()],
            },
            "temporary-1",
            now,
        )
        .expect("add user");
    admin.close().expect("close");
    let mut s = Workspace::open(dir)
        .and_then(|w| w.login("maija", "temporary-1", now))
        .expect("login");
    s.change_password(PASSWORD, now).expect("change password");
    s.close().expect("close");
}

fn client(name: &str, unit: Option<&str>) -> ClientInput {
    ClientInput {
        first_name: name.to_owned(),
        last_name: "Testinen".to_owned(),
        unit: unit.map(str::to_owned),
        ..Default::default()
    }
}

fn denied_entries(admin: &mut Session, user: &str) -> usize {
    admin
        .audit_list(
            &AuditQuery {
                user: Some(user.into()),
                ..Default::default()
            },
            Utc::now(),
        )
        .expect("audit")
        .iter()
        .filter(|r| r.action == "denied")
        .count()
}

fn own_code(code: &str) -> OwnCode {
    OwnCode {
        code: code.to_owned(),
        labels: Labels {
            fi: "Kävely".into(),
            sv: "Promenad".into(),
            en: "Walk".into(),
        },
        parent: None,
    }
}

fn expect_denied<T: std::fmt::Debug>(r: Result<T>, right: AdminRight) {
    match r {
        Err(ApiError::Denied(d)) => assert_eq!(d.missing, MissingRight::Admin(right)),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_user_without_the_admin_rights_is_refused_every_change_and_each_refusal_is_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    store(dir.path());
    let now = Utc::now();
    let mut maija = login(dir.path(), "maija");
    let before = maija.organisation().clone();
    let memo_off = RightsAdjustment {
        memos: Some(false),
        ..Default::default()
    };
    expect_denied(
        maija.set_user_rights("maija", Some(memo_off.clone()), now),
        AdminRight::Users,
    );
    expect_denied(
        maija.adjust_user_rights("maija", &memo_off, now),
        AdminRight::Users,
    );
    expect_denied(maija.add_unit("Pohjoinen", None, now), AdminRight::Users);
    expect_denied(maija.rename_unit("Itä", "Länsi", now), AdminRight::Users);
    expect_denied(maija.retire_unit("Itä", now), AdminRight::Users);
    expect_denied(
        maija.set_setting(SettingKey::OfflineLeaseDays, 30, now),
        AdminRight::Users,
    );
    expect_denied(
        maija.add_own_code(CodeList::MemoType, own_code("walk"), now),
        AdminRight::Codes,
    );
    expect_denied(
        maija.retire_code(CodeList::MemoType, "phone", now),
        AdminRight::Codes,
    );
    assert_eq!(maija.organisation(), &before, "nothing changed");
    maija.close().expect("close");
    let mut admin = login(dir.path(), "admin");
    assert_eq!(admin.organisation(), &before, "nothing changed");
    assert_eq!(denied_entries(&mut admin, "maija"), 8);
}

#[test]
fn a_worker_whose_memo_right_is_removed_may_not_write_a_memo_and_a_reset_gives_it_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    store(dir.path());
    let now = Utc::now();
    let mut maija = login(dir.path(), "maija");
    let id = maija.add_client(client("Aino", None), now).expect("client");
    maija.add_memo(id, "Ensimmäinen.", None, now).expect("memo");
    maija.close().expect("close");

    let mut admin = login(dir.path(), "admin");
    admin
        .adjust_user_rights(
            "maija",
            &RightsAdjustment {
                memos: Some(false),
                ..Default::default()
            },
            now,
        )
        .expect("adjust");
    let rows = admin
        .audit_list(&AuditQuery::default(), now)
        .expect("audit");
    assert!(
        rows.iter()
            .any(|r| r.action == "role_change" && r.detail == "rights"),
        "audited as a role change"
    );
    admin.close().expect("close");

    let mut maija = login(dir.path(), "maija");
    assert!(!maija.rights().memos);
    match maija.add_memo(id, "Toinen.", None, now) {
        Err(ApiError::Denied(d)) => assert_eq!(d.missing, MissingRight::Memos),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Without memo rights the memos are hidden, the rest of the record is not.
    assert!(maija.show_client(id, now).expect("show").memos.is_empty());
    maija.close().expect("close");

    let mut admin = login(dir.path(), "admin");
    admin.set_user_rights("maija", None, now).expect("reset");
    assert_eq!(denied_entries(&mut admin, "maija"), 1);
    admin.close().expect("close");
    let mut maija = login(dir.path(), "maija");
    maija
        .add_memo(id, "Toinen.", None, now)
        .expect("memo again");
    maija.close().expect("close");
}

#[test]
fn an_adjustment_keeps_the_fields_it_does_not_name_and_user_management_cannot_be_lost() {
    let dir = tempfile::tempdir().expect("tempdir");
    store(dir.path());
    let now = Utc::now();
    let mut admin = login(dir.path(), "admin");
    admin
        .adjust_user_rights(
            "maija",
            &RightsAdjustment {
                view: Some(Scope::All),
                ..Default::default()
            },
            now,
        )
        .expect("view");
    admin
        .adjust_user_rights(
            "maija",
            &RightsAdjustment {
                admin: Some([AdminRight::Statistics].into()),
                ..Default::default()
            },
            now,
        )
        .expect("admin");
    let maija = admin.organisation().user_by_login("maija").expect("maija");
    let rights = Rights::for_user(maija);
    assert_eq!(rights.view, Scope::All);
    assert_eq!(rights.modify, Scope::Own, "the role's default");
    assert_eq!(rights.admin, [AdminRight::Statistics].into());
    // The only user who manages users cannot take that right from themself.
    let r = admin.set_user_rights(
        "admin",
        Some(RightsAdjustment {
            admin: Some([AdminRight::Codes].into()),
            ..Default::default()
        }),
        now,
    );
    assert!(matches!(r, Err(ApiError::LastAdmin)), "{r:?}");
    assert!(admin.rights().admin.contains(&AdminRight::Users));
    admin.close().expect("close");
}

#[test]
fn a_retired_unit_takes_no_new_clients_and_its_clients_keep_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    store(dir.path());
    let now = Utc::now();
    let mut admin = login(dir.path(), "admin");
    let pohjoinen = admin
        .add_unit("Pohjoinen", Some("091"), now)
        .expect("add unit");
    assert!(matches!(
        admin.add_unit(" pohjoinen ", None, now),
        Err(ApiError::UnitNameTaken)
    ));
    assert!(matches!(
        admin.add_unit("Etelä", Some("91"), now),
        Err(ApiError::Invalid(_))
    ));
    let id = admin
        .add_client(client("Eero", Some("Pohjoinen")), now)
        .expect("client");
    admin
        .rename_unit("Pohjoinen", "Pohjois-Helsinki", now)
        .expect("rename");
    admin.retire_unit("Pohjois-Helsinki", now).expect("retire");
    let r = admin.add_client(client("Uusi", Some("Pohjois-Helsinki")), now);
    assert!(matches!(r, Err(ApiError::UnitRetired)), "{r:?}");
    let r = admin.add_user(
        UserInput {
            login: "uusi".into(),
            display_name: None,
            role: Role::Worker,
            units: vec!["Pohjois-Helsinki".into()],
        },
        "temporary-1",
        now,
    );
    assert!(matches!(r, Err(ApiError::UnitRetired)), "{r:?}");
    // The old client keeps its unit, which still has its (new) name.
    let shown = admin.show_client(id, now).expect("show");
    assert_eq!(shown.unit, Some(pohjoinen));
    let unit = admin
        .units()
        .into_iter()
        .find(|u| u.id == pohjoinen)
        .expect("still listed");
    assert_eq!(
        (
            unit.name.as_str(),
            unit.active,
            unit.municipality.as_deref()
        ),
        ("Pohjois-Helsinki", false, Some("091"))
    );
    let rows = admin
        .audit_list(&AuditQuery::default(), now)
        .expect("audit");
    for code in ["unit_add", "unit_rename", "unit_retire"] {
        assert!(
            rows.iter()
                .any(|r| r.detail == code && r.target == Some(pohjoinen.0)),
            "{code} audited"
        );
    }
    admin.close().expect("close");
}

#[test]
fn a_retired_code_keeps_its_label_on_old_records_and_cannot_be_chosen_for_new_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    store(dir.path());
    let now = Utc::now();
    let mut admin = login(dir.path(), "admin");
    admin
        .add_own_code(CodeList::MemoType, own_code("walk"), now)
        .expect("add code");
    assert!(matches!(
        admin.add_own_code(CodeList::MemoType, own_code("walk"), now),
        Err(ApiError::CodeTaken { .. })
    ));
    assert!(matches!(
        admin.add_own_code(CodeList::MemoType, own_code("phone"), now),
        Err(ApiError::OwnCode(_))
    ));
    let offered = |s: &Session, all: bool| -> Vec<(String, bool)> {
        s.code_choices(Some(CodeList::MemoType), all)
            .into_iter()
            .map(|c| (c.code, c.retired))
            .collect()
    };
    assert!(offered(&admin, false).contains(&("walk".to_owned(), false)));
    let id = admin.add_client(client("Aino", None), now).expect("client");
    let memo = admin
        .add_memo(id, "Käveltiin.", Some("walk"), now)
        .expect("memo with the own code");
    admin
        .retire_code(CodeList::MemoType, "walk", now)
        .expect("retire");
    admin
        .retire_code(CodeList::MemoType, "phone", now)
        .expect("retire a national code");
    let r = admin.add_memo(id, "Taas.", Some("walk"), now);
    assert!(
        matches!(
            r,
            Err(ApiError::CodeRetired {
                list: CodeList::MemoType
            })
        ),
        "{r:?}"
    );
    let r = admin.add_memo(id, "Soitto.", Some("phone"), now);
    assert!(matches!(r, Err(ApiError::CodeRetired { .. })), "{r:?}");
    // Not offered, but listed with --all, and the old memo keeps its label.
    let new = offered(&admin, false);
    assert!(!new.iter().any(|(c, _)| c == "walk" || c == "phone"));
    assert!(new.contains(&("meeting".to_owned(), false)));
    let all = offered(&admin, true);
    assert!(all.contains(&("walk".to_owned(), true)));
    assert!(all.contains(&("phone".to_owned(), true)));
    let shown = admin.show_client(id, now).expect("show");
    let kind = &shown.memos[&memo].kind;
    assert_eq!(
        admin
            .codes()
            .expect("codes")
            .label(CodeList::MemoType, kind, polku_core::codes::Lang::Sv)
            .expect("label"),
        "Promenad"
    );
    admin.close().expect("close");
}

#[test]
fn settings_are_bounded_and_the_small_cell_threshold_is_the_default_suppression() {
    let dir = tempfile::tempdir().expect("tempdir");
    store(dir.path());
    let now = Utc::now();
    let mut admin = login(dir.path(), "admin");
    let r = admin.set_setting(SettingKey::RetentionYears, 5, now);
    match r {
        Err(ApiError::SettingOutOfRange(e)) => assert_eq!(
            e,
            SettingOutOfRange {
                key: SettingKey::RetentionYears,
                min: 0,
                max: 4
            }
        ),
        other => panic!("expected out of range, got {other:?}"),
    }
    admin
        .set_setting(SettingKey::IdleLockMinutes, 30, now)
        .expect("idle");
    admin
        .set_setting(SettingKey::SmallCellThreshold, 7, now)
        .expect("threshold");
    let rows = admin.settings();
    let get = |k| rows.iter().find(|r| r.key == k).expect("row").value;
    assert_eq!(get(SettingKey::IdleLockMinutes), 30);
    assert_eq!(get(SettingKey::SmallCellThreshold), 7);
    assert_eq!(get(SettingKey::OfflineLeaseDays), 14);

    let year = polku_stats::ReportPeriod::Year(
        now.date_naive()
            .format("%Y")
            .to_string()
            .parse()
            .expect("year"),
    );
    let mut q = StatsQuery::new(year);
    q.suppress_small_cells = true;
    let report = admin.stats(&q, now).expect("stats");
    assert_eq!(report.suppression, Some(7), "the organisation's threshold");
    q.suppress = Some(3);
    let report = admin.stats(&q, now).expect("stats");
    assert_eq!(report.suppression, Some(3), "the user's threshold wins");
    admin.close().expect("close");
}

#[test]
fn names_and_texts_longer_than_their_limits_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    store(dir.path());
    let now = Utc::now();
    let mut admin = login(dir.path(), "admin");
    let long = "a".repeat(10_000);
    let r = admin.add_client(client(&long, None), now);
    assert!(
        matches!(
            r,
            Err(ApiError::TooLong(TooLong {
                field: TextField::FirstName,
                max: 100
            }))
        ),
        "{r:?}"
    );
    let id = admin.add_client(client("Aino", None), now).expect("client");
    let r = admin.add_memo(id, &"b".repeat(20_001), None, now);
    assert!(
        matches!(
            r,
            Err(ApiError::TooLong(TooLong {
                field: TextField::MemoText,
                ..
            }))
        ),
        "{r:?}"
    );
    admin
        .add_memo(id, &"b".repeat(20_000), None, now)
        .expect("at the limit");
    let r = admin.add_unit(&long, None, now);
    assert!(
        matches!(
            r,
            Err(ApiError::TooLong(TooLong {
                field: TextField::UnitName,
                ..
            }))
        ),
        "{r:?}"
    );
    let mut code = own_code("walk");
    code.labels.en = long.clone();
    let r = admin.add_own_code(CodeList::MemoType, code, now);
    assert!(
        matches!(
            r,
            Err(ApiError::TooLong(TooLong {
                field: TextField::CodeLabel,
                ..
            }))
        ),
        "{r:?}"
    );
    let r = admin.add_user(
        UserInput {
            login: "pitka".into(),
            display_name: Some(long.clone()),
            role: Role::Worker,
            units: vec![],
        },
        "temporary-1",
        now,
    );
    assert!(
        matches!(
            r,
            Err(ApiError::TooLong(TooLong {
                field: TextField::DisplayName,
                ..
            }))
        ),
        "{r:?}"
    );
    admin.close().expect("close");
}
