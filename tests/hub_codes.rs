//! The hub holds changes arriving by sync to the organisation's codes and
//! units as the API holds its own writes: a laptop that writes (behind the
//! API) a retired or unknown code, or a retired or unknown unit, into a
//! client, a record, an activity memo or a brief-contact log is refused; the
//! laptop keeps its copy and records the refusal. A record that used a code
//! before it was retired stays valid, and so do later changes that keep
//! that use as it was.

use std::path::Path;

use automerge::AutoCommit;
use chrono::Utc;
use polku_api::{ActivityInput, ClientInput, ContactInput, Session, SyncReplica};
use polku_core::codes::CodeList;
use polku_core::doc::{ActivityMemoDoc, BriefDoc, ClientDoc, Doc, DocModel};
use polku_core::model::{
    BriefContact, SituationSnapshot, SnapshotPhase, brief_log_doc_id, record_doc_id,
};
use polku_core::{BriefContactId, ClientId, DocId, SnapshotId, UnitId};
use polku_scenarios::{add_worker, demo_hub, enrol_in_process, login, sync_in_memory};
use polku_sync::protocol::RefusedReason;

const MAIJA_PW: &str = "maijan-salasana-1";

/// Syncs the laptop in `dir` with the hub; returns what the hub refused.
fn sync(hub: &mut SyncReplica, dir: &Path) -> Vec<polku_sync::protocol::Refusal> {
    let mut laptop = login(dir, "maija", MAIJA_PW)
        .into_replica()
        .expect("replica");
    let (h, l) = sync_in_memory(hub, &mut laptop);
    l.expect("laptop side");
    laptop.into_session().close().expect("close");
    h.expect("hub side").refused_here
}

/// Writes a client's change straight into the store (behind the API).
fn edit_client(s: &Session, c: ClientId, f: impl FnOnce(&mut polku_core::model::Client)) {
    let store = s.store();
    let mut doc = ClientDoc::from_parts(
        store.load_doc(c.into()).expect("basic"),
        store.load_doc(record_doc_id(c)).ok(),
    )
    .expect("doc");
    doc.update(f).expect("update");
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
}

/// Writes a change of a single-part document straight into the store.
fn edit_doc<T: DocModel>(
    s: &Session,
    id: DocId,
    wrap: fn(AutoCommit) -> Doc<T>,
    f: impl FnOnce(&mut T),
) {
    let store = s.store();
    let mut doc = wrap(store.load_doc(id).expect("load"));
    let old = doc.heads();
    doc.update(f).expect("update");
    let new = doc.heads();
    let bytes = doc.as_automerge_mut().save_after(&old);
    store.append_change(id, &bytes, &new).expect("append");
}

fn unit_id(s: &Session, name: &str) -> UnitId {
    s.organisation()
        .units
        .values()
        .find(|u| u.name == name)
        .map(|u| u.id)
        .expect("unit")
}

#[test]
fn the_hub_refuses_retired_and_unknown_codes_and_units_that_arrive_by_sync() {
    let hub_dir = tempfile::tempdir().expect("hub");
    let maija_dir = tempfile::tempdir().expect("maija");
    let now = Utc::now();
    let today = now.date_naive();
    let mut admin = demo_hub(hub_dir.path(), 2);
    add_worker(&mut admin, hub_dir.path(), "maija", "Keskusta", MAIJA_PW);
    admin.add_unit("Lakkautettu", None, now).expect("unit");
    enrol_in_process(&mut admin, "maija", MAIJA_PW, maija_dir.path(), [57; 32]);
    let keskusta = unit_id(&admin, "Keskusta");
    let closed = unit_id(&admin, "Lakkautettu");
    let mut hub = admin.into_replica().expect("hub");
    assert!(sync(&mut hub, maija_dir.path()).is_empty());

    // Through the API: a client with a memo of kind "home_visit", an
    // activity memo and a brief contact, all with codes in use.
    let mut maija = login(maija_dir.path(), "maija", MAIJA_PW);
    let old = maija
        .add_client(
            ClientInput {
                first_name: "Vanha".into(),
                last_name: "Koodi".into(),
                gender: Some("female".into()),
                ..ClientInput::default()
            },
            now,
        )
        .expect("client");
    maija
        .add_memo(old, "Kotikäynti.", Some("home_visit"), now)
        .expect("memo");
    let activity = maija
        .add_activity(
            ActivityInput {
                kind: "street_work".into(),
                date: today,
                duration_minutes: 60,
                place: "Tori".into(),
                unit: None,
                workers: vec![],
                met: vec![("male".into(), "16-17".into(), 2)],
                text: String::new(),
            },
            now,
        )
        .expect("activity");
    maija
        .add_contact(
            ContactInput {
                date: today,
                channel: "street".into(),
                gender: None,
                age_group: None,
                topic: Some("housing".into()),
                text: String::new(),
                unit: None,
            },
            now,
        )
        .expect("contact");
    maija.close().expect("close");
    assert!(sync(&mut hub, maija_dir.path()).is_empty());

    // The hub's administrator retires codes and a unit afterwards.
    let s = hub.session_mut();
    s.retire_code(CodeList::MemoType, "home_visit", now)
        .expect("retire");
    s.retire_code(CodeList::Gender, "female", now)
        .expect("retire");
    s.retire_code(CodeList::ActivityKind, "event", now)
        .expect("retire");
    s.retire_unit("Lakkautettu", now).expect("retire unit");
    assert!(sync(&mut hub, maija_dir.path()).is_empty());

    // An old record keeps its retired codes valid: a later change through
    // the API that leaves them as they were is taken.
    let mut maija = login(maija_dir.path(), "maija", MAIJA_PW);
    maija
        .add_memo(old, "Puhelu.", Some("phone"), now)
        .expect("memo");
    maija.close().expect("close");
    assert!(sync(&mut hub, maija_dir.path()).is_empty());

    // Behind the API, one bad change per kind of document.
    let maija = login(maija_dir.path(), "maija", MAIJA_PW);
    let mut bad: Vec<(&str, DocId)> = Vec::new();
    let mk = |maija: &Session, first: &str| {
        let c = ClientId::new();
        let mut client = polku_core::model::Client::new(c, now);
        client.basic.first_name = first.into();
        client.basic.last_name = "Testinen".into();
        client.unit = Some(keskusta);
        client.responsible.insert(maija.user().id);
        let mut doc = ClientDoc::new(&client).expect("doc");
        for part in doc.save_changes() {
            maija
                .store()
                .create_doc(part.id, part.kind, &part.bytes)
                .expect("create");
        }
        c
    };
    // A new client with a retired gender.
    let c1 = mk(&maija, "Eläkkeellä");
    edit_client(&maija, c1, |c| c.basic.gender = Some("female".into()));
    bad.push(("retired gender", c1.into()));
    // A client moved into a retired unit.
    let c2 = mk(&maija, "Muuttaja");
    bad.push(("retired unit", c2.into()));
    // A record change bringing in an unknown housing code.
    edit_client(&maija, old, |c| {
        let mut s = SituationSnapshot::new(SnapshotId::new(), today, SnapshotPhase::Interim);
        s.housing = Some("no_such_housing".into());
        c.insert_snapshot(s);
    });
    bad.push(("unknown housing", record_doc_id(old)));
    // An activity memo changed to a retired kind.
    edit_doc(
        &maija,
        activity.into(),
        |am| ActivityMemoDoc::from_automerge(am).expect("memo"),
        |m| m.kind = "event".into(),
    );
    bad.push(("retired activity kind", activity.into()));
    // A brief contact with an unknown topic.
    let log = brief_log_doc_id(keskusta, today);
    edit_doc(
        &maija,
        log,
        |am| BriefDoc::from_automerge(am).expect("log"),
        |l| {
            let id = BriefContactId::new();
            l.contacts.insert(
                id,
                BriefContact {
                    id,
                    date: today,
                    channel: "street".into(),
                    gender: None,
                    age_group: None,
                    topic: Some("no_such_topic".into()),
                    author: maija.user().id,
                    text: String::new(),
                    deleted: None,
                },
            );
        },
    );
    bad.push(("unknown topic", log));
    maija.close().expect("close");
    // The unit move happens after the client first synced (a change, not a
    // new client): sync the new client first.
    let refused = sync(&mut hub, maija_dir.path());
    let maija = login(maija_dir.path(), "maija", MAIJA_PW);
    edit_client(&maija, c2, |c| c.unit = Some(closed));
    maija.close().expect("close");
    let refused_later = sync(&mut hub, maija_dir.path());

    for (what, id) in &bad {
        let seen = if *id == DocId::from(c2) {
            &refused_later
        } else {
            &refused
        };
        assert!(
            seen.iter()
                .any(|r| r.doc == *id && r.reason == RefusedReason::Invalid),
            "{what} not refused: {seen:?}"
        );
    }
    // The new client c2 itself was fine, and so was every good change.
    assert!(
        !refused.iter().any(|r| r.doc == DocId::from(c2)),
        "{refused:?}"
    );
    let refused_docs: std::collections::BTreeSet<DocId> =
        refused_later.iter().map(|r| r.doc).collect();
    assert_eq!(
        refused_docs,
        bad.iter().map(|(_, id)| *id).collect(),
        "{refused_later:?}"
    );

    // The hub holds none of it.
    let h = hub.session_mut();
    assert!(h.show_client(c1, now).is_err());
    let on_hub = h.show_client(old, now).expect("old client");
    assert!(
        on_hub
            .snapshots
            .values()
            .all(|s| s.housing.as_deref() != Some("no_such_housing"))
    );
    assert!(on_hub.memos.values().any(|m| m.kind == "home_visit"));
    assert!(on_hub.memos.values().any(|m| m.kind == "phone"));
    assert_eq!(h.show_client(c2, now).expect("c2").unit, Some(keskusta));

    // The laptop keeps its copies and shows the refusals.
    // (Written behind the API, they are not in its search index: read the
    // stored documents.)
    let maija = login(maija_dir.path(), "maija", MAIJA_PW);
    let basic = |c: ClientId| {
        polku_core::doc::BasicDoc::from_automerge(maija.store().load_doc(c.into()).expect("kept"))
            .expect("doc")
            .get()
            .expect("basic")
    };
    assert_eq!(basic(c1).basic.gender.as_deref(), Some("female"));
    assert_eq!(basic(c2).unit, Some(closed));
    let problems = maija.sync_problems().expect("problems");
    assert_eq!(problems.len(), bad.len(), "{problems:?}");
    for kind in ["activity", "client", "contacts", "record"] {
        assert!(
            problems
                .iter()
                .any(|p| p.doc_kind == kind && p.code == "sync.refused.invalid"),
            "{kind}: {problems:?}"
        );
    }
    // What the hub refused waits for it (the laptop keeps offering it).
    assert_eq!(maija.waiting_changes().expect("waiting"), bad.len());
    maija.close().expect("close");
    hub.into_session().close().expect("close");
}
