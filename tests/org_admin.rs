//! The organisation's administration through the hub (issue 9): per-user
//! rights adjustments (PAR's check boxes) decide what the hub offers and
//! accepts; units, own codes and settings changed on the hub reach laptops
//! at their next sync, and a laptop does not change the organisation
//! document itself.

use std::path::Path;

use chrono::{Datelike, Utc};
use polku_api::{ApiError, ClientInput, Session, StatsQuery, SyncReplica};
use polku_core::codes::{CodeList, Labels};
use polku_core::model::{OwnCode, SettingKey, record_doc_id};
use polku_core::rights::{AdminRight, MissingRight, RightsAdjustment, Scope};
use polku_core::{ClientId, DocKind};
use polku_scenarios::{
    PASSWORD, add_worker, demo_hub, enrol_as, enrol_in_process, login, sync_in_memory,
};
use polku_stats::ReportPeriod;

const MAIJA_PW: &str = "maijan-salasana-1";
const RAILI_PW: &str = "railin-salasana-1";

/// A hub with demo clients, worker maija in Keskusta and one client of
/// hers there; maija's laptop enrolled and synced once.
fn hub_and_maija(hub_dir: &Path, maija_dir: &Path, secret: u8) -> (SyncReplica, ClientId) {
    let mut admin = demo_hub(hub_dir, 6);
    add_worker(&mut admin, hub_dir, "maija", "Keskusta", MAIJA_PW);
    enrol_in_process(&mut admin, "maija", MAIJA_PW, maija_dir, [secret; 32]);
    let mut hub = admin.into_replica().expect("hub");
    sync(&mut hub, maija_dir, "maija", MAIJA_PW);
    let now = Utc::now();
    let mut maija = login(maija_dir, "maija", MAIJA_PW);
    let id = maija
        .add_client(
            ClientInput {
                first_name: "Aino".into(),
                last_name: "Testinen".into(),
                ..Default::default()
            },
            now,
        )
        .expect("client");
    maija
        .add_memo(id, "Ensitapaaminen.", None, now)
        .expect("memo");
    maija.close().expect("close");
    sync(&mut hub, maija_dir, "maija", MAIJA_PW);
    (hub, id)
}

fn sync(hub: &mut SyncReplica, dir: &Path, user: &str, pw: &str) -> polku_sync::SyncReport {
    let mut laptop = login(dir, user, pw).into_replica().expect("replica");
    let (h, l) = sync_in_memory(hub, &mut laptop);
    h.expect("hub side");
    let report = l.expect("laptop side");
    laptop.into_session().close().expect("close");
    report
}

fn docs(s: &Session, kind: DocKind) -> Vec<polku_core::DocId> {
    s.store().list_docs(kind).expect("list")
}

#[test]
fn a_worker_whose_memo_right_is_removed_is_refused_locally_and_by_the_hub() {
    let hub_dir = tempfile::tempdir().expect("hub");
    let maija_dir = tempfile::tempdir().expect("maija");
    let (mut hub, id) = hub_and_maija(hub_dir.path(), maija_dir.path(), 51);
    let now = Utc::now();

    // Offline, maija still has her memo right and writes a memo; meanwhile
    // the admin takes the memo right away on the hub.
    let mut maija = login(maija_dir.path(), "maija", MAIJA_PW);
    maija
        .add_memo(id, "Kirjoitettu ilman oikeutta.", None, now)
        .expect("memo while the right was there");
    maija.close().expect("close");
    hub.session_mut()
        .adjust_user_rights(
            "maija",
            &RightsAdjustment {
                memos: Some(false),
                ..Default::default()
            },
            now,
        )
        .expect("adjust");

    let report = sync(&mut hub, maija_dir.path(), "maija", MAIJA_PW);
    assert!(
        report
            .refused_by_peer
            .iter()
            .any(|r| r.doc == record_doc_id(id)),
        "the hub refused the memo: {report:?}"
    );
    let on_hub = hub.session_mut().show_client(id, now).expect("hub show");
    assert!(
        !on_hub
            .memos
            .values()
            .any(|m| m.text.contains("ilman oikeutta")),
        "the memo did not reach the hub"
    );
    assert!(
        on_hub.memos.values().any(|m| m.text == "Ensitapaaminen."),
        "control: the earlier memo is there"
    );

    // The adjustment reached the laptop: a memo is refused there now.
    let mut maija = login(maija_dir.path(), "maija", MAIJA_PW);
    assert!(!maija.rights().memos);
    match maija.add_memo(id, "Toinen yritys.", None, now) {
        Err(ApiError::Denied(d)) => assert_eq!(d.missing, MissingRight::Memos),
        other => panic!("expected a refusal, got {other:?}"),
    }
    maija.close().expect("close");
}

#[test]
fn a_reporting_only_user_holds_no_client_document_but_gets_the_hubs_statistics() {
    let hub_dir = tempfile::tempdir().expect("hub");
    let raili_dir = tempfile::tempdir().expect("raili");
    let mut admin = demo_hub(hub_dir.path(), 12);
    add_worker(&mut admin, hub_dir.path(), "raili", "Keskusta", RAILI_PW);
    let now = Utc::now();
    admin
        .set_user_rights(
            "raili",
            Some(RightsAdjustment {
                admin: Some([AdminRight::Statistics].into()),
                view: Some(Scope::None),
                modify: Some(Scope::None),
                basic_data_only: None,
                memos: Some(false),
            }),
            now,
        )
        .expect("reporting only");
    enrol_in_process(&mut admin, "raili", RAILI_PW, raili_dir.path(), [52; 32]);
    let query = StatsQuery::new(ReportPeriod::Year(now.date_naive().year()));
    let mut hub = admin.into_replica().expect("hub");
    sync(&mut hub, raili_dir.path(), "raili", RAILI_PW);
    let on_hub = hub.session_mut().stats(&query, now).expect("hub stats");
    assert!(
        !hub.session_mut()
            .list_clients(now)
            .expect("list")
            .is_empty(),
        "control: the hub has clients to leave out"
    );

    let mut raili = login(raili_dir.path(), "raili", RAILI_PW);
    for kind in [
        DocKind::Client,
        DocKind::ClientRecord,
        DocKind::ActivityMemo,
    ] {
        assert!(docs(&raili, kind).is_empty(), "raili holds a {kind:?}");
    }
    assert_eq!(docs(&raili, DocKind::StatsExtract).len(), 1);
    assert!(raili.list_clients(now).expect("list").is_empty());
    let on_laptop = raili.stats(&query, now).expect("laptop stats");
    // The hub's admin also has supervisor reports (per-worker tables),
    // which raili's rights do not give; every other table is the same.
    let not_per_worker = |r: &polku_stats::Report| -> Vec<polku_stats::Group> {
        r.groups
            .iter()
            .filter(|g| g.kind != polku_stats::GroupKind::Worker)
            .cloned()
            .collect()
    };
    assert!(
        on_laptop
            .groups
            .iter()
            .all(|g| g.kind != polku_stats::GroupKind::Worker)
    );
    assert!(
        not_per_worker(&on_laptop).len() > 1,
        "organisation and units"
    );
    assert_eq!(not_per_worker(&on_hub), on_laptop.groups);
    raili.close().expect("close");
}

#[test]
fn narrowing_a_users_adjustment_removes_the_clients_at_the_next_sync() {
    let hub_dir = tempfile::tempdir().expect("hub");
    let maija_dir = tempfile::tempdir().expect("maija");
    let (mut hub, id) = hub_and_maija(hub_dir.path(), maija_dir.path(), 53);
    let now = Utc::now();
    {
        let maija = login(maija_dir.path(), "maija", MAIJA_PW);
        assert!(docs(&maija, DocKind::Client).contains(&id.into()));
        assert!(docs(&maija, DocKind::ClientRecord).contains(&record_doc_id(id)));
        maija.close().expect("close");
    }

    // First to basic data only: the records go, the basic data stay.
    hub.session_mut()
        .adjust_user_rights(
            "maija",
            &RightsAdjustment {
                basic_data_only: Some(true),
                ..Default::default()
            },
            now,
        )
        .expect("basic only");
    let report = sync(&mut hub, maija_dir.path(), "maija", MAIJA_PW);
    assert!(report.revoked.contains(&record_doc_id(id)), "{report:?}");
    {
        let maija = login(maija_dir.path(), "maija", MAIJA_PW);
        assert!(docs(&maija, DocKind::ClientRecord).is_empty());
        assert!(docs(&maija, DocKind::Client).contains(&id.into()));
        maija.close().expect("close");
    }

    // Then to no clients at all: the basic data go too.
    hub.session_mut()
        .adjust_user_rights(
            "maija",
            &RightsAdjustment {
                view: Some(Scope::None),
                ..Default::default()
            },
            now,
        )
        .expect("view none");
    let report = sync(&mut hub, maija_dir.path(), "maija", MAIJA_PW);
    assert!(report.revoked.contains(&id.into()), "{report:?}");
    let mut maija = login(maija_dir.path(), "maija", MAIJA_PW);
    assert!(docs(&maija, DocKind::Client).is_empty());
    assert!(docs(&maija, DocKind::ClientRecord).is_empty());
    assert!(maija.list_clients(now).expect("list").is_empty());
    maija.close().expect("close");

    // A reset gives them back.
    hub.session_mut()
        .set_user_rights("maija", None, now)
        .expect("reset");
    sync(&mut hub, maija_dir.path(), "maija", MAIJA_PW);
    let maija = login(maija_dir.path(), "maija", MAIJA_PW);
    assert!(docs(&maija, DocKind::ClientRecord).contains(&record_doc_id(id)));
    maija.close().expect("close");
}

#[test]
fn units_codes_and_settings_changed_on_the_hub_reach_the_laptops_which_do_not_change_them() {
    let hub_dir = tempfile::tempdir().expect("hub");
    let maija_dir = tempfile::tempdir().expect("maija");
    let admin_dir = tempfile::tempdir().expect("admin laptop");
    let (mut hub, id) = hub_and_maija(hub_dir.path(), maija_dir.path(), 54);
    enrol_as(
        hub.session_mut(),
        "admin",
        (PASSWORD, None),
        admin_dir.path(),
        [55; 32],
    );
    let now = Utc::now();
    let s = hub.session_mut();
    let unit = s.add_unit("Pohjoinen", Some("091"), now).expect("unit");
    s.retire_unit("Keskusta", now).expect("retire");
    s.add_own_code(
        CodeList::MemoType,
        OwnCode {
            code: "walk".into(),
            labels: Labels {
                fi: "Kävely".into(),
                sv: "Promenad".into(),
                en: "Walk".into(),
            },
            parent: None,
        },
        now,
    )
    .expect("own code");
    s.retire_code(CodeList::MemoType, "phone", now)
        .expect("retire code");
    s.set_setting(SettingKey::SmallCellThreshold, 8, now)
        .expect("threshold");
    s.set_setting(SettingKey::OfflineLeaseDays, 3, now)
        .expect("lease");

    sync(&mut hub, maija_dir.path(), "maija", MAIJA_PW);
    let mut maija = login(maija_dir.path(), "maija", MAIJA_PW);
    let org = maija.organisation().clone();
    assert_eq!(org.units[&unit].name, "Pohjoinen");
    assert_eq!(org.settings.small_cell_threshold(), 8);
    // The lease follows the hub's setting: four days without contact expire
    // it (the default would be 14), two do not.
    assert!(
        !maija
            .offline_lease_expired(now + chrono::Duration::days(2))
            .expect("lease")
    );
    assert!(
        maija
            .offline_lease_expired(now + chrono::Duration::days(4))
            .expect("lease")
    );
    maija
        .add_memo(id, "Kävelyllä.", Some("walk"), now)
        .expect("the own code is offered");
    let r = maija.add_memo(id, "Soitettiin.", Some("phone"), now);
    assert!(matches!(r, Err(ApiError::CodeRetired { .. })), "{r:?}");
    // Keskusta is retired: maija's client keeps it, no new client goes there.
    assert!(!org.units.values().any(|u| u.name == "Keskusta" && u.active));
    let shown = maija.show_client(id, now).expect("show");
    assert!(shown.unit.is_some_and(|u| org.units[&u].name == "Keskusta"));
    let r = maija.add_client(
        ClientInput {
            first_name: "Uusi".into(),
            last_name: "Nuori".into(),
            unit: Some("Keskusta".into()),
            ..Default::default()
        },
        now,
    );
    assert!(matches!(r, Err(ApiError::UnitRetired)), "{r:?}");
    // A worker may not change the organisation (refused, audited).
    let r = maija.set_setting(SettingKey::OfflineLeaseDays, 30, now);
    assert!(matches!(r, Err(ApiError::Denied(_))), "{r:?}");
    maija.close().expect("close");

    // The admin's laptop receives the changes and leaves the document to the hub.
    sync(&mut hub, admin_dir.path(), "admin", PASSWORD);
    let mut laptop_admin = login(admin_dir.path(), "admin", PASSWORD);
    assert_eq!(laptop_admin.organisation().units[&unit].name, "Pohjoinen");
    let r = laptop_admin.add_unit("Etelä", None, now);
    assert!(matches!(r, Err(ApiError::OrgChangeOnHubOnly)), "{r:?}");
    let r = laptop_admin.set_setting(SettingKey::OfflineLeaseDays, 30, now);
    assert!(matches!(r, Err(ApiError::OrgChangeOnHubOnly)), "{r:?}");
    laptop_admin.close().expect("close");

    // The memo with the own code reached the hub, where its label resolves.
    sync(&mut hub, maija_dir.path(), "maija", MAIJA_PW);
    let s = hub.session_mut();
    let c = s.show_client(id, now).expect("hub show");
    let memo = c
        .memos
        .values()
        .find(|m| m.text == "Kävelyllä.")
        .expect("memo synced");
    assert_eq!(
        s.codes()
            .expect("codes")
            .label(CodeList::MemoType, &memo.kind, polku_core::codes::Lang::Fi)
            .expect("label"),
        "Kävely"
    );
    // The worker's refusal is in the hub's audit log after the sync.
    let rows = s
        .audit_list(
            &polku_api::AuditQuery {
                user: Some("maija".into()),
                ..Default::default()
            },
            now,
        )
        .expect("audit");
    assert!(rows.iter().any(|r| r.action == "denied"), "{rows:#?}");
}
