//! The whole record through the API (issue 9): every kind of change to a
//! client's record — background, situations, periods, measures, referrals,
//! consents, disclosures, follow-ups, memo deletion — made on one laptop
//! reaches another through the hub; a user without the right is refused each
//! and every refusal is audited; a memo deleted on one laptop while another
//! edits it keeps the edit.

use std::path::Path;

use chrono::{Days, NaiveDate, Utc};
use polku_api::{
    AuditQuery, ClientInput, DisclosureInput, PeriodClose, PeriodInput, PeriodText, ReferralInput,
    Session, SituationInput, SyncReplica,
};
use polku_core::ClientId;
use polku_core::model::{
    BackgroundField, ConsentTopic, FollowUpInterval, MeasureStatus, Role, SnapshotPhase,
};
use polku_scenarios::{add_user, add_worker, demo_hub, enrol_in_process, login, sync_in_memory};

const MAIJA_PW: &str = "maijan-salasana-1";
const LIISA_PW: &str = "liisan-salasana-1";
const KALLE_PW: &str = "kallen-salasana-1";

fn sync(hub: &mut SyncReplica, dir: &Path, user: &str, pw: &str) {
    let mut laptop = login(dir, user, pw).into_replica().expect("replica");
    let (h, l) = sync_in_memory(hub, &mut laptop);
    let h = h.expect("hub side");
    l.expect("laptop side");
    assert!(h.refused_here.is_empty(), "{:?}", h.refused_here);
    laptop.into_session().close().expect("close");
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// One of each change to a client's record, as a closure over the session.
type Change = (
    &'static str,
    Box<dyn Fn(&mut Session, ClientId) -> polku_api::Result<()>>,
);

fn every_change(ids: &Ids) -> Vec<Change> {
    let now = Utc::now();
    let (p, m, k, memo) = (ids.period, ids.measure, ids.consent, ids.memo);
    vec![
        (
            "background",
            Box::new(move |s, c| s.set_background(c, BackgroundField::Skills, "Toinen.", now)),
        ),
        (
            "situation",
            Box::new(move |s, c| {
                s.add_situation(c, SituationInput::default(), now)
                    .map(|_| ())
            }),
        ),
        (
            "period open",
            Box::new(move |s, c| s.open_period(c, PeriodInput::default(), now).map(|_| ())),
        ),
        (
            "period goals",
            Box::new(move |s, c| s.set_period_text(c, p, PeriodText::Goals, "Muu.", now)),
        ),
        (
            "measure add",
            Box::new(move |s, c| s.add_measure(c, p, "guidance", None, now).map(|_| ())),
        ),
        (
            "measure end",
            Box::new(move |s, c| {
                s.set_measure_status(c, p, m, MeasureStatus::Discontinued, None, now)
            }),
        ),
        (
            "referral",
            Box::new(move |s, c| {
                s.add_referral(
                    c,
                    ReferralInput {
                        source: "social_services".into(),
                        ..ReferralInput::default()
                    },
                    now,
                )
                .map(|_| ())
            }),
        ),
        (
            "consent",
            Box::new(move |s, c| {
                s.add_consent(c, ConsentTopic::Other, None, "", now)
                    .map(|_| ())
            }),
        ),
        (
            "consent withdraw",
            Box::new(move |s, c| s.withdraw_consent(c, k, None, now)),
        ),
        (
            "disclosure",
            Box::new(move |s, c| {
                s.add_disclosure(
                    c,
                    DisclosureInput {
                        what: "x".into(),
                        recipient: "y".into(),
                        basis: "z".into(),
                        date: None,
                    },
                    now,
                )
                .map(|_| ())
            }),
        ),
        (
            "period close",
            Box::new(move |s, c| s.close_period(c, p, PeriodClose::default(), now)),
        ),
        (
            "memo delete",
            Box::new(move |s, c| s.delete_memo(c, memo, now)),
        ),
    ]
}

struct Ids {
    period: polku_core::PeriodId,
    measure: polku_core::MeasureId,
    consent: polku_core::RecordId,
    memo: polku_core::MemoId,
}

#[test]
fn every_record_change_syncs_between_laptops_and_is_refused_and_audited_without_the_right() {
    let hub_dir = tempfile::tempdir().expect("hub");
    let (maija_dir, liisa_dir, kalle_dir) = (
        tempfile::tempdir().expect("maija"),
        tempfile::tempdir().expect("liisa"),
        tempfile::tempdir().expect("kalle"),
    );
    let mut admin = demo_hub(hub_dir.path(), 2);
    add_worker(&mut admin, hub_dir.path(), "maija", "Keskusta", MAIJA_PW);
    add_worker(&mut admin, hub_dir.path(), "liisa", "Keskusta", LIISA_PW);
    add_user(&mut admin, "kalle", Role::Coordinator, Some("Keskusta"));
    enrol_in_process(&mut admin, "maija", MAIJA_PW, maija_dir.path(), [51; 32]);
    enrol_in_process(&mut admin, "liisa", LIISA_PW, liisa_dir.path(), [52; 32]);
    enrol_in_process(&mut admin, "kalle", KALLE_PW, kalle_dir.path(), [53; 32]);
    let mut hub = admin.into_replica().expect("hub");
    for (dir, user, pw) in [
        (maija_dir.path(), "maija", MAIJA_PW),
        (liisa_dir.path(), "liisa", LIISA_PW),
        (kalle_dir.path(), "kalle", KALLE_PW),
    ] {
        sync(&mut hub, dir, user, pw);
    }

    // Maija records a young person's year on her laptop.
    let now = Utc::now();
    let start = day(2026, 1, 12);
    let mut maija = login(maija_dir.path(), "maija", MAIJA_PW);
    let c = maija
        .add_client(
            ClientInput {
                first_name: "Onni".into(),
                last_name: "Testinen".into(),
                birth_date: Some(day(2008, 5, 4)),
                gender: Some("male".into()),
                mother_tongue: Some("fi".into()),
                unit: None,
            },
            now,
        )
        .expect("client");
    let referral = maija
        .add_referral(
            c,
            ReferralInput {
                source: "basic_education".into(),
                received: Some(day(2026, 1, 5)),
                follow_up: "Soitetaan nuorelle.".into(),
                follow_up_decided: Some(day(2026, 1, 6)),
            },
            now,
        )
        .expect("referral");
    let period = maija
        .open_period(
            c,
            PeriodInput {
                start: Some(start),
                arrival_route: Some("basic_education".into()),
                referral: Some(referral),
                goals: "Opiskelupaikka syksyksi.".into(),
            },
            now,
        )
        .expect("period");
    let measure = maija
        .add_measure(c, period, "education_application", Some(start), now)
        .expect("measure");
    maija
        .add_situation(
            c,
            SituationInput {
                date: Some(start),
                phase: Some(SnapshotPhase::Start),
                period: Some(period),
                highest_education: Some("basic".into()),
                education_status: Some("not_studying".into()),
                main_activity: Some("outside".into()),
                livelihood: Some("parents".into()),
                housing: Some("with_parents".into()),
            },
            now,
        )
        .expect("situation");
    maija
        .set_background(c, BackgroundField::Health, "Ei erityistä.", now)
        .expect("background");
    let consent = maija
        .add_consent(c, ConsentTopic::FollowUp, Some(start), "", now)
        .expect("consent");
    maija
        .add_disclosure(
            c,
            DisclosureInput {
                what: "Yhteystiedot".into(),
                recipient: "Työllisyyspalvelut".into(),
                date: Some(day(2026, 3, 1)),
                basis: "Suostumus".into(),
            },
            now,
        )
        .expect("disclosure");
    let memo = maija
        .add_memo(c, "Tavattiin koululla.", None, now)
        .expect("memo");
    let deleted = maija
        .add_memo(c, "Väärä asiakas.", None, now)
        .expect("memo");
    maija.delete_memo(c, deleted, now).expect("delete");
    maija
        .set_measure_status(
            c,
            period,
            measure,
            MeasureStatus::Completed,
            Some(day(2026, 5, 30)),
            now,
        )
        .expect("measure end");
    maija
        .close_period(
            c,
            period,
            PeriodClose {
                end: Some(day(2026, 6, 1)),
                outcome: Some("vocational".into()),
                final_assessment: Some("Pääsi opiskelemaan.".into()),
            },
            now,
        )
        .expect("close");
    let follow_up = maija
        .add_follow_up(c, period, FollowUpInterval::OneYear, now)
        .expect("follow-up");
    assert!(maija.missing_fields(c, now).expect("missing").is_empty());
    maija.close().expect("close");

    // Through the hub to Liisa's laptop (same unit: she may view all of it).
    sync(&mut hub, maija_dir.path(), "maija", MAIJA_PW);
    sync(&mut hub, liisa_dir.path(), "liisa", LIISA_PW);
    let mut liisa = login(liisa_dir.path(), "liisa", LIISA_PW);
    let seen = liisa.show_client(c, now).expect("show");
    let p = &seen.periods[&period];
    assert_eq!(p.start, Some(start));
    assert_eq!(p.end, Some(day(2026, 6, 1)));
    assert_eq!(p.outcome.as_deref(), Some("vocational"));
    assert_eq!(p.referral, Some(referral));
    assert_eq!(p.goals, "Opiskelupaikka syksyksi.");
    assert_eq!(p.final_assessment, "Pääsi opiskelemaan.");
    assert_eq!(p.measures[&measure].status, MeasureStatus::Completed);
    assert_eq!(seen.snapshots.len(), 1);
    assert_eq!(seen.background.health, "Ei erityistä.");
    assert_eq!(seen.referrals[&referral].follow_up, "Soitetaan nuorelle.");
    assert!(seen.consents[&consent].is_active_on(day(2026, 7, 1)));
    assert_eq!(seen.disclosures.len(), 1);
    assert_eq!(
        seen.follow_ups[&follow_up].due,
        day(2026, 6, 1)
            .checked_add_days(Days::new(365))
            .expect("due")
    );
    assert!(seen.memos[&deleted].deleted.is_some());
    assert!(seen.memos[&memo].deleted.is_none());

    // Liisa is not responsible for the client (a worker modifies her own
    // clients only) and Kalle is a coordinator: each change is refused.
    let ids = Ids {
        period,
        measure,
        consent,
        memo,
    };
    let before = liisa.show_client(c, now).expect("show");
    let changes = every_change(&ids);
    for (what, change) in &changes {
        let err = change(&mut liisa, c).expect_err(what);
        assert!(
            matches!(err, polku_api::ApiError::Denied(_)),
            "{what}: {err:?}"
        );
    }
    assert_eq!(
        liisa.show_client(c, now).expect("show"),
        before,
        "nothing changed"
    );
    liisa.close().expect("close");
    sync(&mut hub, kalle_dir.path(), "kalle", KALLE_PW);
    let mut kalle = login(kalle_dir.path(), "kalle", KALLE_PW);
    for (what, change) in &changes {
        let err = change(&mut kalle, c).expect_err(what);
        assert!(
            matches!(err, polku_api::ApiError::Denied(_)),
            "{what}: {err:?}"
        );
    }
    kalle.close().expect("close");

    // Every refusal is in the audit log the hub holds after sync.
    sync(&mut hub, liisa_dir.path(), "liisa", LIISA_PW);
    sync(&mut hub, kalle_dir.path(), "kalle", KALLE_PW);
    for user in ["liisa", "kalle"] {
        let denied = hub
            .session_mut()
            .audit_list(
                &AuditQuery {
                    client: Some(c),
                    user: Some(user.into()),
                    since: None,
                },
                now,
            )
            .expect("audit")
            .into_iter()
            .filter(|r| r.action == "denied")
            .count();
        assert!(denied >= changes.len(), "{user}: {denied} refusals audited");
    }
}

#[test]
fn a_memo_deleted_on_one_laptop_while_another_edits_it_keeps_the_edit() {
    let hub_dir = tempfile::tempdir().expect("hub");
    let (maija_dir, liisa_dir) = (
        tempfile::tempdir().expect("maija"),
        tempfile::tempdir().expect("liisa"),
    );
    let mut admin = demo_hub(hub_dir.path(), 2);
    add_worker(&mut admin, hub_dir.path(), "maija", "Keskusta", MAIJA_PW);
    add_worker(&mut admin, hub_dir.path(), "liisa", "Keskusta", LIISA_PW);
    enrol_in_process(&mut admin, "maija", MAIJA_PW, maija_dir.path(), [54; 32]);
    enrol_in_process(&mut admin, "liisa", LIISA_PW, liisa_dir.path(), [55; 32]);
    let now = Utc::now();
    let c = admin
        .add_client(
            ClientInput {
                first_name: "Aada".into(),
                last_name: "Testinen".into(),
                unit: Some("Keskusta".into()),
                ..ClientInput::default()
            },
            now,
        )
        .expect("client");
    let memo = admin.add_memo(c, "Tavattiin.", None, now).expect("memo");
    for login_name in ["maija", "liisa"] {
        admin
            .set_responsible(c, login_name, true, now)
            .expect("responsible");
    }
    let mut hub = admin.into_replica().expect("hub");
    sync(&mut hub, maija_dir.path(), "maija", MAIJA_PW);
    sync(&mut hub, liisa_dir.path(), "liisa", LIISA_PW);

    // Offline at the same time: Maija deletes the memo, Liisa edits it.
    let mut maija = login(maija_dir.path(), "maija", MAIJA_PW);
    maija.delete_memo(c, memo, now).expect("delete");
    maija.close().expect("close");
    let mut liisa = login(liisa_dir.path(), "liisa", LIISA_PW);
    liisa
        .edit_memo(c, memo, "Tavattiin kirjastossa, sovittiin uusi aika.", now)
        .expect("edit");
    liisa.close().expect("close");
    for (dir, user, pw) in [
        (maija_dir.path(), "maija", MAIJA_PW),
        (liisa_dir.path(), "liisa", LIISA_PW),
        (maija_dir.path(), "maija", MAIJA_PW),
    ] {
        sync(&mut hub, dir, user, pw);
    }
    for (dir, user, pw) in [
        (maija_dir.path(), "maija", MAIJA_PW),
        (liisa_dir.path(), "liisa", LIISA_PW),
    ] {
        let mut s = login(dir, user, pw);
        let m = &s.show_client(c, now).expect("show").memos[&memo];
        assert!(m.deleted.is_some(), "{user}: the deletion holds");
        assert_eq!(
            m.text, "Tavattiin kirjastossa, sovittiin uusi aika.",
            "{user}"
        );
        s.close().expect("close");
    }
    // Restored, it comes back with the edit.
    let mut maija = login(maija_dir.path(), "maija", MAIJA_PW);
    maija.restore_memo(c, memo, now).expect("restore");
    let m = &maija.show_client(c, now).expect("show").memos[&memo];
    assert!(m.deleted.is_none());
    assert_eq!(m.text, "Tavattiin kirjastossa, sovittiin uusi aika.");
    maija.close().expect("close");
}

/// A change that arrives by sync is held to the limits the API holds its
/// own writes to: a laptop that writes a 10,000-character name behind the
/// API (a damaged or hostile one) is refused, and keeps its copy.
#[test]
fn the_hub_refuses_texts_past_their_limits_that_arrive_by_sync() {
    use polku_core::doc::ClientDoc;
    use polku_core::model::record_doc_id;
    use polku_sync::protocol::RefusedReason;
    let hub_dir = tempfile::tempdir().expect("hub");
    let maija_dir = tempfile::tempdir().expect("maija");
    let mut admin = demo_hub(hub_dir.path(), 2);
    add_worker(&mut admin, hub_dir.path(), "maija", "Keskusta", MAIJA_PW);
    enrol_in_process(&mut admin, "maija", MAIJA_PW, maija_dir.path(), [56; 32]);
    let mut hub = admin.into_replica().expect("hub");
    sync(&mut hub, maija_dir.path(), "maija", MAIJA_PW);

    let now = Utc::now();
    let mut maija = login(maija_dir.path(), "maija", MAIJA_PW);
    let c = maija
        .add_client(
            ClientInput {
                first_name: "Pitkä".into(),
                last_name: "Testinen".into(),
                ..ClientInput::default()
            },
            now,
        )
        .expect("client");
    maija.add_memo(c, "Tavattiin.", None, now).expect("memo");
    // Behind the API: a 10,000-character first name and health text.
    let store = maija.store();
    let mut doc = ClientDoc::from_parts(
        store.load_doc(c.into()).expect("basic"),
        store.load_doc(record_doc_id(c)).ok(),
    )
    .expect("doc");
    doc.update(|x| {
        x.basic.first_name = "a".repeat(10_000);
        x.background.health = "b".repeat(30_000);
    })
    .expect("update");
    for part in doc.save_changes() {
        if part.new {
            store
                .create_doc(part.id, part.kind, &part.bytes)
                .expect("create");
        } else {
            store
                .append_change(part.id, &part.bytes, &part.heads)
                .expect("append");
        }
    }
    let mut laptop = maija.into_replica().expect("replica");
    let (h, l) = sync_in_memory(&mut hub, &mut laptop);
    let (h, _) = (h.expect("hub side"), l.expect("laptop side"));
    for doc in [c.into(), record_doc_id(c)] {
        assert!(
            h.refused_here
                .iter()
                .any(|r| r.doc == doc && r.reason == RefusedReason::Invalid),
            "{:?}",
            h.refused_here
        );
    }
    laptop.into_session().close().expect("close");
    // The laptop keeps its copy; the hub holds nothing of it.
    let mut s = login(maija_dir.path(), "maija", MAIJA_PW);
    assert_eq!(
        s.show_client(c, now).expect("show").basic.first_name.len(),
        10_000
    );
    s.close().expect("close");
    assert!(hub.session_mut().show_client(c, now).is_err());
}
