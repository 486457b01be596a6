//! Activity memos, brief contacts and attachments through the API (issue 9):
//! each kind of change is refused (and the refusal audited) for a user
//! without the right, and syncs between two laptops through the hub; brief
//! contacts are counted by the statistics, also from a coordinator's
//! statistics extract.

use std::io::Read;
use std::path::Path;

use chrono::{NaiveDate, Utc};
use polku_api::{
    ActivityEdit, ActivityFilter, ActivityInput, ApiError, AuditQuery, ClientInput, ContactEdit,
    ContactInput, Session, StatsQuery, SyncReplica,
};
use polku_core::model::Role;
use polku_core::rights::MissingRight;
use polku_scenarios::{add_user, add_worker, demo_hub, enrol_in_process, login, sync_in_memory};
use polku_stats::{Cell, GroupKind, ReportPeriod, TableKey};

const MAIJA_PW: &str = "maijan-salasana-1";
const PEKKA_PW: &str = "pekan-salasana-1";
const KALLE_PW: &str = "kallen-salasana-1";

struct Net {
    hub: SyncReplica,
    maija: tempfile::TempDir,
    pekka: tempfile::TempDir,
    kalle: tempfile::TempDir,
    _hub_dir: tempfile::TempDir,
}

/// A hub with demo data; workers maija and pekka and coordinator kalle in
/// Keskusta, each with an enrolled laptop that has synced once.
fn net() -> Net {
    let hub_dir = tempfile::tempdir().expect("hub");
    let (maija, pekka, kalle) = (
        tempfile::tempdir().expect("maija"),
        tempfile::tempdir().expect("pekka"),
        tempfile::tempdir().expect("kalle"),
    );
    let mut admin = demo_hub(hub_dir.path(), 4);
    add_worker(&mut admin, hub_dir.path(), "maija", "Keskusta", MAIJA_PW);
    add_worker(&mut admin, hub_dir.path(), "pekka", "Keskusta", PEKKA_PW);
    add_user(&mut admin, "kalle", Role::Coordinator, Some("Keskusta"));
    enrol_in_process(&mut admin, "maija", MAIJA_PW, maija.path(), [61; 32]);
    enrol_in_process(&mut admin, "pekka", PEKKA_PW, pekka.path(), [62; 32]);
    enrol_in_process(&mut admin, "kalle", KALLE_PW, kalle.path(), [63; 32]);
    let mut n = Net {
        hub: admin.into_replica().expect("hub"),
        maija,
        pekka,
        kalle,
        _hub_dir: hub_dir,
    };
    n.sync("maija");
    n.sync("pekka");
    n
}

impl Net {
    fn dir(&self, user: &str) -> (&Path, &'static str) {
        match user {
            "maija" => (self.maija.path(), MAIJA_PW),
            "pekka" => (self.pekka.path(), PEKKA_PW),
            _ => (self.kalle.path(), KALLE_PW),
        }
    }

    fn open(&self, user: &str) -> Session {
        let (dir, pw) = self.dir(user);
        login(dir, user, pw)
    }

    /// One sync of `user`'s laptop with the hub; nothing may be refused.
    fn sync(&mut self, user: &str) {
        let mut laptop = self.open(user).into_replica().expect("replica");
        let (h, l) = sync_in_memory(&mut self.hub, &mut laptop);
        let (h, l) = (h.expect("hub side"), l.expect("laptop side"));
        assert!(h.refused_here.is_empty(), "{:?}", h.refused_here);
        assert!(l.refused_by_peer.is_empty(), "{l:?}");
        laptop.into_session().close().expect("close");
    }

    /// The hub's audit rows written by `user`.
    fn audit_of(&mut self, user: &str) -> Vec<polku_api::AuditRow> {
        self.hub
            .session_mut()
            .audit_list(
                &AuditQuery {
                    user: Some(user.into()),
                    ..Default::default()
                },
                Utc::now(),
            )
            .expect("audit")
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn denied(r: Result<impl std::fmt::Debug, ApiError>) -> MissingRight {
    match r {
        Err(ApiError::Denied(d)) => d.missing,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn activity_memos_sync_between_two_laptops_and_a_refusal_is_audited() {
    let mut n = net();
    let now = Utc::now();
    let mut maija = n.open("maija");
    let input = ActivityInput {
        kind: "street_work".into(),
        date: date(2026, 3, 9),
        duration_minutes: 120,
        place: "Kauppatori".into(),
        unit: None,
        workers: vec!["pekka".into()],
        met: vec![
            ("female".into(), "16-17".into(), 3),
            ("male".into(), "18-20".into(), 2),
        ],
        text: "Kauppatorilla tavattiin nuoria.".into(),
    };
    let id = maija.add_activity(input.clone(), now).expect("add");
    // Not her unit: refused (and audited).
    let other_unit = ActivityInput {
        unit: Some("Itä".into()),
        ..input
    };
    assert_eq!(
        denied(maija.add_activity(other_unit, now)),
        MissingRight::Modify
    );
    maija.close().expect("close");
    n.sync("maija");
    n.sync("pekka");

    let mut pekka = n.open("pekka");
    let m = pekka.show_activity(id, now).expect("on pekka's laptop");
    assert_eq!(m.place, "Kauppatori");
    assert_eq!(m.met.total(), 5);
    pekka
        .edit_activity(
            id,
            ActivityEdit {
                text: Some("Kauppatorilla ja asemalla tavattiin nuoria.".into()),
                met: vec![("female".into(), "16-17".into(), 4)],
                ..Default::default()
            },
            now,
        )
        .expect("edit");
    pekka.close().expect("close");
    n.sync("pekka");
    n.sync("maija");

    let mut maija = n.open("maija");
    let m = maija.show_activity(id, now).expect("show");
    assert_eq!(m.text, "Kauppatorilla ja asemalla tavattiin nuoria.");
    assert_eq!(m.met.get("female", "16-17"), 4);
    let listed = maija
        .list_activities(&ActivityFilter::default(), now)
        .expect("list");
    assert!(listed.iter().any(|a| a.id == id));
    maija.close().expect("close");

    // A coordinator may see the unit's activity but not record any.
    n.sync("kalle");
    let mut kalle = n.open("kalle");
    assert!(kalle.show_activity(id, now).is_ok());
    assert_eq!(
        denied(kalle.edit_activity(id, ActivityEdit::default(), now)),
        MissingRight::Modify
    );
    kalle.close().expect("close");
    n.sync("kalle");
    assert!(
        n.audit_of("kalle").iter().any(|r| r.action == "denied"),
        "the coordinator's refused edit is audited"
    );

    let rows = n.audit_of("maija");
    assert!(
        rows.iter()
            .any(|r| r.action == "create" && r.detail == "activity_add" && r.target == Some(id.0)),
        "{rows:#?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.action == "denied" && r.detail == "not_permitted"),
        "the refusal reached the hub's audit log: {rows:#?}"
    );
    let rows = n.audit_of("pekka");
    assert!(
        rows.iter()
            .any(|r| r.action == "update" && r.detail == "activity_edit" && r.target == Some(id.0))
    );
}

fn contact(d: NaiveDate, gender: Option<&str>, age: Option<&str>) -> ContactInput {
    ContactInput {
        date: d,
        channel: "street".into(),
        gender: gender.map(Into::into),
        age_group: age.map(Into::into),
        topic: Some("housing".into()),
        text: String::new(),
        unit: None,
    }
}

/// The brief-contact column of a person table, `(row key, count)` for the
/// rows that are not zero.
fn brief_column(report: &polku_stats::Report, key: TableKey) -> Vec<(String, u64)> {
    let table = report
        .group(GroupKind::Organisation, None)
        .expect("org")
        .table(key)
        .expect("table");
    table
        .rows
        .iter()
        .filter_map(|r| match table.cell(&r.key, "brief_contacts") {
            Some(Cell::Count(0)) => None,
            Some(Cell::Count(v)) => Some((r.key.clone(), v)),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn brief_contacts_made_offline_on_two_laptops_merge_and_are_counted() {
    let mut n = net();
    let now = Utc::now();
    // Both laptops start the same unit's March log while offline.
    let mut maija = n.open("maija");
    maija
        .add_contact(
            contact(date(2026, 3, 2), Some("female"), Some("16-17")),
            now,
        )
        .expect("contact");
    maija
        .add_contact(
            ContactInput {
                text: "Kysyi asumisneuvonnasta.".into(),
                ..contact(date(2026, 3, 20), Some("female"), Some("16-17"))
            },
            now,
        )
        .expect("contact");
    maija
        .add_contact(contact(date(2026, 4, 1), None, None), now)
        .expect("April");
    let mut other_unit = contact(date(2026, 3, 3), None, None);
    other_unit.unit = Some("Itä".into());
    assert_eq!(
        denied(maija.add_contact(other_unit, now)),
        MissingRight::Modify
    );
    maija.close().expect("close");
    let mut pekka = n.open("pekka");
    pekka
        .add_contact(contact(date(2026, 3, 31), Some("male"), Some("18-20")), now)
        .expect("contact");
    pekka.close().expect("close");

    n.sync("maija");
    n.sync("pekka");
    n.sync("maija");
    for user in ["maija", "pekka"] {
        let mut s = n.open(user);
        let all = s
            .list_contacts(&ActivityFilter::default(), now)
            .expect("list");
        assert_eq!(all.len(), 4, "{user} holds every contact");
        let march = s
            .list_contacts(
                &ActivityFilter {
                    from: Some(date(2026, 3, 1)),
                    to: Some(date(2026, 3, 31)),
                    unit: Some("Keskusta".into()),
                },
                now,
            )
            .expect("list");
        assert_eq!(march.len(), 3);
        assert!(
            march
                .iter()
                .any(|e| e.contact.text == "Kysyi asumisneuvonnasta.")
        );
        s.close().expect("close");
    }
    // Two months: two documents, whatever the number of contacts.
    let hub_docs = n
        .hub
        .session()
        .store()
        .list_docs(polku_core::DocKind::BriefContacts)
        .expect("docs");
    assert_eq!(hub_docs.len(), 2);

    // Worked out by hand: March 2 (female, 16-17), March 20 (female, 16-17),
    // March 31 (male, 18-20), April 1 (unknown): four in the year, three in
    // March, none in the refused Itä log.
    let hub = n.hub.session_mut();
    let year = hub
        .stats(&StatsQuery::new(ReportPeriod::Year(2026)), now)
        .expect("stats");
    let s = |v: &[(&str, u64)]| -> Vec<(String, u64)> {
        v.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
    };
    assert_eq!(
        brief_column(&year, TableKey::Gender),
        s(&[("male", 1), ("female", 2), ("_missing", 1), ("_total", 4)])
    );
    assert_eq!(
        brief_column(&year, TableKey::AgeGroup),
        s(&[("16-17", 2), ("18-20", 1), ("_missing", 1), ("_total", 4)])
    );
    let org = year.group(GroupKind::Organisation, None).expect("org");
    assert_eq!(
        org.table(TableKey::Summary)
            .expect("summary")
            .cell("brief_contacts", "count"),
        Some(Cell::Count(4))
    );
    let march = hub
        .stats(
            &StatsQuery::new(ReportPeriod::Custom(polku_stats::DateRange {
                from: date(2026, 3, 1),
                to: date(2026, 3, 31),
            })),
            now,
        )
        .expect("stats");
    assert_eq!(
        brief_column(&march, TableKey::Gender),
        s(&[("male", 1), ("female", 2), ("_total", 3)])
    );

    // A coordinator counts them from the hub's extract: the same report.
    let on_hub = n
        .hub
        .session_mut()
        .stats(&StatsQuery::new(ReportPeriod::Year(2026)), now)
        .expect("hub");
    n.sync("kalle");
    let mut kalle = n.open("kalle");
    let on_laptop = kalle
        .stats(&StatsQuery::new(ReportPeriod::Year(2026)), now)
        .expect("laptop");
    assert_eq!(brief_column(&on_laptop, TableKey::Gender).len(), 4);
    assert_eq!(on_hub.groups, on_laptop.groups);
    kalle.close().expect("close");

    let rows = n.audit_of("pekka");
    assert!(
        rows.iter()
            .any(|r| r.action == "create" && r.detail == "contact_add")
    );
    let rows = n.audit_of("maija");
    assert!(rows.iter().any(|r| r.action == "denied"), "{rows:#?}");
}

#[test]
fn attachments_follow_the_record_right_and_their_references_sync() {
    let mut n = net();
    let now = Utc::now();
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut maija = n.open("maija");
    let client = maija
        .add_client(
            ClientInput {
                first_name: "Liitteinen".into(),
                last_name: "Nuori".into(),
                ..Default::default()
            },
            now,
        )
        .expect("client");
    let id = maija
        .add_attachment(client, body.as_slice(), "lausunto.pdf", now)
        .expect("add");
    let list = maija.list_attachments(client, now).expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].size, body.len() as u64);
    assert_eq!(list[0].media_type, "application/pdf");
    let (_, mut reader) = maija.open_attachment(client, id, now).expect("open");
    let mut back = Vec::new();
    reader.read_to_end(&mut back).expect("read");
    assert_eq!(back, body);
    maija.close().expect("close");
    n.sync("maija");
    n.sync("pekka");

    // The file followed its reference to the hub and on to Pekka's laptop
    // (same unit, not responsible): he may view the record, not change it.
    assert_eq!(
        n.hub
            .session()
            .store()
            .attachment_info(id)
            .expect("on the hub")
            .size,
        body.len() as u64
    );
    let mut pekka = n.open("pekka");
    let list = pekka.list_attachments(client, now).expect("list");
    assert_eq!(list.iter().map(|a| a.id).collect::<Vec<_>>(), [id]);
    let (_, mut reader) = pekka.open_attachment(client, id, now).expect("open");
    let mut back = Vec::new();
    reader.read_to_end(&mut back).expect("read");
    assert_eq!(back, body, "the same bytes on the second laptop");
    assert_eq!(
        denied(pekka.add_attachment(client, &b"x"[..], "muistio.txt", now)),
        MissingRight::Modify
    );
    assert_eq!(
        denied(pekka.delete_attachment(client, id, now)),
        MissingRight::Modify
    );
    assert_eq!(
        pekka.store().list_attachments().expect("blobs"),
        vec![id],
        "a refused add leaves no file"
    );
    pekka.close().expect("close");
    n.sync("pekka");
    // The coordinator gets no record documents, so no files either.
    n.sync("kalle");
    assert!(
        n.open("kalle")
            .store()
            .list_attachments()
            .expect("blobs")
            .is_empty()
    );

    let mut maija = n.open("maija");
    maija.delete_attachment(client, id, now).expect("delete");
    assert!(
        maija
            .list_attachments(client, now)
            .expect("list")
            .is_empty()
    );
    assert!(maija.store().list_attachments().expect("blobs").is_empty());
    assert!(matches!(
        maija.open_attachment(client, id, now),
        Err(ApiError::AttachmentNotFound(_))
    ));
    maija.close().expect("close");
    n.sync("maija");
    n.sync("pekka");
    // The deletion reached the hub's and Pekka's files too.
    assert!(matches!(
        n.hub.session().store().attachment_info(id),
        Err(polku_store::StoreError::AttachmentNotFound(_))
    ));
    let mut pekka = n.open("pekka");
    assert!(
        pekka
            .list_attachments(client, now)
            .expect("list")
            .is_empty()
    );
    assert!(pekka.store().list_attachments().expect("blobs").is_empty());
    pekka.close().expect("close");

    let rows = n.audit_of("maija");
    for detail in ["attachment_add", "attachment_rm"] {
        assert!(
            rows.iter()
                .any(|r| r.action == "update" && r.detail == detail && r.target == Some(client.0)),
            "{detail}: {rows:#?}"
        );
    }
    assert!(
        rows.iter()
            .any(|r| r.action == "view" && r.detail == "attachment_open")
    );
    let rows = n.audit_of("pekka");
    assert_eq!(
        rows.iter().filter(|r| r.action == "denied").count(),
        2,
        "{rows:#?}"
    );
}

/// A file damaged on the hub's disk is not offered: the laptop's sync
/// completes without it and asks again next time; the laptop keeps saying
/// the file is not on this device; a file of another unit never reaches a
/// laptop, and several files in one session all arrive.
#[test]
fn a_damaged_file_is_not_offered_and_files_travel_only_within_scope() {
    let mut n = net();
    let now = Utc::now();
    let mut maija = n.open("maija");
    let client = maija
        .add_client(
            ClientInput {
                first_name: "Tiedostoton".into(),
                last_name: "Nuori".into(),
                ..Default::default()
            },
            now,
        )
        .expect("client");
    let files: Vec<Vec<u8>> = (0..3u8)
        .map(|k| {
            (0..(300_000 + u32::from(k) * 1000))
                .map(|i| (i % 249) as u8 ^ k)
                .collect()
        })
        .collect();
    let ids: Vec<_> = files
        .iter()
        .enumerate()
        .map(|(k, f)| {
            maija
                .add_attachment(client, f.as_slice(), &format!("liite{k}.pdf"), now)
                .expect("add")
        })
        .collect();
    maija.close().expect("close");
    n.sync("maija");

    // One of the three is damaged on the hub's disk.
    let damaged = n
        ._hub_dir
        .path()
        .join(polku_store::ATTACHMENTS_DIR)
        .join(ids[1].to_string());
    let mut raw = std::fs::read(&damaged).expect("read");
    let mid = raw.len() / 2;
    raw[mid] ^= 0x20;
    std::fs::write(&damaged, raw).expect("write");

    let mut laptop = n.open("pekka").into_replica().expect("replica");
    let (h, l) = sync_in_memory(&mut n.hub, &mut laptop);
    let (h, l) = (h.expect("hub side"), l.expect("laptop side"));
    assert_eq!((h.blobs_sent, l.blobs_received), (2, 2), "{h:?}");
    assert_eq!(l.blobs_unavailable, 1);
    let mut pekka = laptop.into_session();
    for (k, id) in ids.iter().enumerate() {
        match pekka.open_attachment(client, *id, now) {
            Ok((_, mut reader)) => {
                assert_ne!(k, 1, "the damaged file arrived");
                let mut back = Vec::new();
                reader.read_to_end(&mut back).expect("read");
                assert_eq!(back, files[k]);
            }
            Err(ApiError::AttachmentNotOnThisDevice(x)) => assert_eq!((k, x), (1, *id)),
            Err(e) => panic!("{e:?}"),
        }
    }
    pekka.close().expect("close");

    // Nothing of Keskusta's files reaches a worker of Itä.
    let ita_dir = tempfile::tempdir().expect("ita");
    {
        let admin = n.hub.session_mut();
        add_worker(admin, n._hub_dir.path(), "iida", "Itä", "iidan-salasana-1");
        enrol_in_process(admin, "iida", "iidan-salasana-1", ita_dir.path(), [77; 32]);
    }
    let mut laptop = login(ita_dir.path(), "iida", "iidan-salasana-1")
        .into_replica()
        .expect("replica");
    let (h, l) = sync_in_memory(&mut n.hub, &mut laptop);
    let (h, l) = (h.expect("hub side"), l.expect("laptop side"));
    assert_eq!((h.blobs_sent, l.blobs_received), (0, 0));
    // Not even when her laptop asks for them by id (a hostile laptop): the
    // hub says it cannot give them.
    let want = polku_sync::protocol::Message::BlobWant(vec![ids[0], ids[2]])
        .encode()
        .into_bytes();
    let mut turns = 0;
    let (h, l) = polku_scenarios::sync_in_memory_with(&mut n.hub, &mut laptop, &mut |mut f| {
        if !f.is_empty() {
            turns += 1;
            if turns == 2 {
                f.insert(0, want.clone());
            }
        }
        f
    });
    let (h, l) = (h.expect("hub side"), l.expect("laptop side"));
    assert_eq!(
        (h.blobs_sent, h.blob_bytes_sent, l.blobs_received),
        (0, 0, 0),
        "{h:?}"
    );
    let iida = laptop.into_session();
    assert!(iida.store().list_attachments().expect("blobs").is_empty());
    iida.close().expect("close");
}

/// A laptop that writes a brief-contact log of a unit its user does not work
/// in (bypassing the API) is refused by the hub, which keeps nothing of it.
#[test]
fn the_hub_refuses_a_brief_contact_log_of_another_unit() {
    use polku_core::doc::BriefDoc;
    use polku_core::model::BriefContact;
    let mut n = net();
    let maija = n.open("maija");
    let ita = maija
        .organisation()
        .units
        .values()
        .find(|u| u.name == "Itä")
        .expect("unit")
        .id;
    let mut doc = BriefDoc::genesis(ita, date(2026, 3, 9)).expect("log");
    let author = maija.user().id;
    doc.update(|l| {
        let c = BriefContact {
            id: polku_core::BriefContactId::new(),
            date: date(2026, 3, 9),
            channel: "street".into(),
            gender: None,
            age_group: None,
            topic: None,
            author,
            text: String::new(),
            deleted: None,
        };
        l.contacts.insert(c.id, c);
    })
    .expect("contact");
    let id = doc.doc_id().expect("id");
    maija
        .store()
        .create_doc(id, polku_core::DocKind::BriefContacts, &doc.save())
        .expect("forged log");
    let mut laptop = maija.into_replica().expect("replica");
    let (h, l) = sync_in_memory(&mut n.hub, &mut laptop);
    let (h, l) = (h.expect("hub side"), l.expect("laptop side"));
    laptop.into_session().close().expect("close");
    assert!(!h.refused_here.is_empty(), "{h:?}");
    assert!(!l.refused_by_peer.is_empty(), "{l:?}");
    assert!(
        n.hub
            .session()
            .store()
            .list_docs(polku_core::DocKind::BriefContacts)
            .expect("docs")
            .is_empty()
    );
}

/// The organisation's count of brief contacts and of young people met in
/// activity memos in 2026, on the hub.
fn counted(n: &mut Net) -> (u64, u64) {
    let year = n
        .hub
        .session_mut()
        .stats(&StatsQuery::new(ReportPeriod::Year(2026)), Utc::now())
        .expect("stats");
    let org = year.group(GroupKind::Organisation, None).expect("org");
    let summary = org.table(TableKey::Summary).expect("summary");
    let count = |row: &str| match summary.cell(row, "count") {
        Some(Cell::Count(v)) => v,
        other => panic!("{row}: {other:?}"),
    };
    (count("brief_contacts"), count("activity_memos"))
}

#[test]
fn brief_contacts_and_activity_memos_are_edited_deleted_and_restored_across_laptops() {
    let mut n = net();
    let now = Utc::now();
    let (contacts0, memos0) = counted(&mut n);
    let mut maija = n.open("maija");
    let a = maija
        .add_contact(
            contact(date(2026, 3, 10), Some("female"), Some("16-17")),
            now,
        )
        .expect("a");
    let b = maija
        .add_contact(contact(date(2026, 3, 12), None, None), now)
        .expect("b");
    let memo = maija
        .add_activity(
            ActivityInput {
                kind: "street_work".into(),
                date: date(2026, 3, 9),
                duration_minutes: 60,
                place: "Asema".into(),
                unit: None,
                workers: vec![],
                met: vec![("male".into(), "18-20".into(), 2)],
                text: String::new(),
            },
            now,
        )
        .expect("memo");
    maija.close().expect("close");
    n.sync("maija");
    n.sync("pekka");
    assert_eq!(counted(&mut n), (contacts0 + 2, memos0 + 1));

    // Offline at the same time: maija deletes contact A, pekka corrects it.
    let mut maija = n.open("maija");
    maija.delete_contact(a, now).expect("delete");
    assert!(
        maija
            .list_contacts(&ActivityFilter::default(), now)
            .expect("list")
            .iter()
            .all(|e| e.contact.id != a),
        "a deleted contact is not listed"
    );
    maija.close().expect("close");
    let mut pekka = n.open("pekka");
    pekka
        .edit_contact(
            a,
            ContactEdit {
                gender: Some(Some("male".into())),
                text: Some("Korjattu.".into()),
                ..Default::default()
            },
            now,
        )
        .expect("edit");
    // B moves to April: another month's log.
    pekka
        .edit_contact(
            b,
            ContactEdit {
                date: Some(date(2026, 4, 2)),
                topic: Some(None),
                ..Default::default()
            },
            now,
        )
        .expect("move");
    // An unknown code is refused, as for a new contact.
    assert!(matches!(
        pekka.edit_contact(
            b,
            ContactEdit {
                channel: Some("no_such_channel".into()),
                ..Default::default()
            },
            now
        ),
        Err(ApiError::UnknownCode(_))
    ));
    pekka.close().expect("close");
    for user in ["maija", "pekka", "maija"] {
        n.sync(user);
    }
    // Deleted wins over the concurrent edit, and the edit is not lost: it
    // is there once the contact is restored.
    assert_eq!(counted(&mut n), (contacts0 + 1, memos0 + 1));
    for user in ["maija", "pekka"] {
        let mut s = n.open(user);
        let list = s
            .list_contacts(&ActivityFilter::default(), now)
            .expect("list");
        assert!(list.iter().all(|e| e.contact.id != a), "{user}");
        let moved: Vec<_> = list.iter().filter(|e| e.contact.id == b).collect();
        assert_eq!(moved.len(), 1, "{user}: B once, in April");
        assert_eq!(moved[0].contact.date, date(2026, 4, 2));
        assert_eq!(moved[0].contact.topic, None);
        s.close().expect("close");
    }
    let mut maija = n.open("maija");
    maija.restore_contact(a, now).expect("restore");
    let restored = maija
        .list_contacts(&ActivityFilter::default(), now)
        .expect("list")
        .into_iter()
        .find(|e| e.contact.id == a)
        .expect("restored");
    assert_eq!(restored.contact.gender.as_deref(), Some("male"));
    assert_eq!(restored.contact.text, "Korjattu.");
    // The activity memo: deleted here, gone from pekka's list after a sync.
    maija.delete_activity(memo, now).expect("delete memo");
    maija.close().expect("close");
    n.sync("maija");
    n.sync("pekka");
    assert_eq!(counted(&mut n), (contacts0 + 2, memos0));
    let mut pekka = n.open("pekka");
    assert!(
        pekka
            .list_activities(&ActivityFilter::default(), now)
            .expect("list")
            .iter()
            .all(|m| m.id != memo)
    );
    pekka.restore_activity(memo, now).expect("restore memo");
    pekka.close().expect("close");
    n.sync("pekka");
    assert_eq!(counted(&mut n), (contacts0 + 2, memos0 + 1));

    // A coordinator sees the unit's work but may change none of it.
    n.sync("kalle");
    let mut kalle = n.open("kalle");
    assert_eq!(
        denied(kalle.edit_contact(a, ContactEdit::default(), now)),
        MissingRight::Modify
    );
    assert_eq!(denied(kalle.delete_contact(a, now)), MissingRight::Modify);
    assert_eq!(
        denied(kalle.delete_activity(memo, now)),
        MissingRight::Modify
    );
    kalle.close().expect("close");
    n.sync("kalle");
    let denials = n
        .audit_of("kalle")
        .iter()
        .filter(|r| r.action == "denied")
        .count();
    assert!(denials >= 3, "each refusal is audited: {denials}");

    // Every change is in the hub's audit trail, with its id only.
    let mut rows = n.audit_of("maija");
    rows.extend(n.audit_of("pekka"));
    for (detail, target) in [
        ("contact_delete", a.0),
        ("contact_edit", a.0),
        ("contact_edit", b.0),
        ("contact_restore", a.0),
        ("activity_delete", memo.0),
        ("activity_restore", memo.0),
    ] {
        assert!(
            rows.iter()
                .any(|r| r.action == "update" && r.detail == detail && r.target == Some(target)),
            "{detail} of {target} audited"
        );
    }
}
