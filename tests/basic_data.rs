//! What a device holds follows its user's rights (security review, issue 8
//! item 2): a user with the basic-data right only (PAR "vain asiakkaiden
//! perustietojen käsittely", the coordinator's default) receives each client's
//! basic-data document and never the record document (memos, background,
//! health, family, periods, attachments); narrowing a worker's rights to that
//! removes the records from the laptop at its next sync, bytes included.

use std::path::Path;

use automerge::ReadDoc;
use chrono::{Datelike, Utc};
use polku_api::{ClientInput, Session, SyncReplica};
use polku_core::anonymised::stats_extract_doc_id;
use polku_core::doc::ClientDoc;
use polku_core::model::{Role, record_doc_id};
use polku_core::{ClientId, DocKind};
use polku_scenarios::{
    add_user, add_worker, contains_bytes, demo_hub, enrol_in_process, files_under, login,
    sync_in_memory,
};
use polku_store::Store;

const MAIJA_PW: &str = "maijan-salasana-1";
const KALLE_PW: &str = "kallen-salasana-1";
/// Words of one client's record that a basic-data user must never hold.
const MEMO_WORD: &str = "Kirsikkapuukuja";
const HEALTH_WORD: &str = "Astmalääkitys";
const FAMILY_WORD: &str = "Isoäiti-Hilkka";
const NEEDLES: [&str; 3] = [MEMO_WORD, HEALTH_WORD, FAMILY_WORD];
/// The client's first name: basic data, which the coordinator may see.
const NAME: &str = "Vilhelmiina";

/// A hub with demo clients, a worker (maija) and a coordinator (kalle) in
/// unit Keskusta, and one client there with a memo, health and family text.
fn hub_with_client(hub_dir: &Path) -> (Session, ClientId) {
    let mut admin = demo_hub(hub_dir, 6);
    add_worker(&mut admin, hub_dir, "maija", "Keskusta", MAIJA_PW);
    add_user(&mut admin, "kalle", Role::Coordinator, Some("Keskusta"));
    let now = Utc::now();
    let id = admin
        .add_client(
            ClientInput {
                first_name: NAME.into(),
                last_name: "Testinen".into(),
                birth_date: None,
                gender: None,
                mother_tongue: None,
                unit: Some("Keskusta".into()),
            },
            now,
        )
        .expect("client");
    admin
        .add_memo(id, &format!("Tavattiin {MEMO_WORD}lla."), None, now)
        .expect("memo");
    // Background through the documents (the API for it is issue 9's).
    let store = admin.store();
    let mut doc = ClientDoc::from_parts(
        store.load_doc(id.into()).expect("basic"),
        Some(store.load_doc(record_doc_id(id)).expect("record")),
    )
    .expect("doc");
    doc.update(|c| {
        c.background.health = format!("{HEALTH_WORD} käytössä.");
        c.background.family = format!("Asuu: {FAMILY_WORD}.");
    })
    .expect("background");
    for part in doc.save_changes() {
        assert!(!part.new);
        store
            .append_change(part.id, &part.bytes, &part.heads)
            .expect("append");
    }
    (admin, id)
}

/// Every memo text and health and family text of every client on the hub
/// (whole texts: the demo clients' too).
fn record_texts(hub: &mut Session) -> Vec<String> {
    let mut out = Vec::new();
    for c in hub.all_clients(Utc::now()).expect("clients") {
        out.extend(c.memos.values().map(|m| m.text.clone()));
        out.push(c.background.health.clone());
        out.push(c.background.family.clone());
    }
    out.retain(|t| t.chars().count() >= 8);
    assert!(
        out.len() >= 10,
        "the hub's clients have records to look for"
    );
    out
}

fn sync(hub: &mut SyncReplica, dir: &Path, user: &str, pw: &str) -> polku_sync::SyncReport {
    let mut laptop = login(dir, user, pw).into_replica().expect("replica");
    let (h, l) = sync_in_memory(hub, &mut laptop);
    h.expect("hub side");
    let report = l.expect("laptop side");
    laptop.into_session().close().expect("close");
    report
}

/// Everything a store holds, decrypted: every document's whole value, every
/// view, index entry and key/value pair, as text to search.
fn decrypted_contents(store: &Store) -> String {
    let mut out = String::new();
    for kind in [
        DocKind::Client,
        DocKind::ClientRecord,
        DocKind::ActivityMemo,
        DocKind::Organisation,
        DocKind::Credential,
    ] {
        for (_, doc) in store.load_all(kind).expect("load") {
            render(
                &doc.hydrate(automerge::ROOT, None).expect("hydrate"),
                &mut out,
            );
        }
        for (_, view) in store.load_views(kind).expect("views") {
            out.push_str(&String::from_utf8_lossy(&view.unwrap_or_default()));
        }
    }
    for (_, entry) in store.index_entries().expect("index") {
        out.push_str(&String::from_utf8_lossy(&entry));
    }
    for key in store.list_meta_keys().expect("meta keys") {
        let value = store.get_meta(&key).expect("meta").unwrap_or_default();
        out.push_str(&String::from_utf8_lossy(&value));
    }
    out
}

/// Every string and text in a document's value, one per line.
fn render(value: &automerge::hydrate::Value, out: &mut String) {
    use automerge::hydrate::Value;
    match value {
        Value::Scalar(automerge::ScalarValue::Str(s)) => out.push_str(s),
        Value::Scalar(automerge::ScalarValue::Bytes(b)) => {
            out.push_str(&String::from_utf8_lossy(b))
        }
        Value::Scalar(_) => {}
        Value::Text(t) => out.push_str(&String::from(t)),
        Value::Map(m) => {
            for (k, v) in m.iter() {
                out.push_str(k);
                out.push('\n');
                render(&v.value, out);
            }
        }
        Value::List(l) => {
            for v in l.iter() {
                render(&v.value, out);
            }
        }
    }
    out.push('\n');
}

/// The raw bytes of every file of a store (database, WAL, attachments).
fn raw_files(dir: &Path) -> Vec<Vec<u8>> {
    files_under(dir)
        .into_iter()
        .map(|f| std::fs::read(f).expect("read"))
        .collect()
}

#[test]
fn a_basic_data_only_user_receives_no_record_and_its_store_holds_none_of_it() {
    let hub_dir = tempfile::tempdir().expect("hub");
    let (maija_dir, kalle_dir) = (
        tempfile::tempdir().expect("maija"),
        tempfile::tempdir().expect("kalle"),
    );
    let (mut admin, id) = hub_with_client(hub_dir.path());
    let texts = record_texts(&mut admin);
    enrol_in_process(&mut admin, "maija", MAIJA_PW, maija_dir.path(), [41; 32]);
    enrol_in_process(&mut admin, "kalle", KALLE_PW, kalle_dir.path(), [42; 32]);
    let mut hub = admin.into_replica().expect("hub");
    sync(&mut hub, maija_dir.path(), "maija", MAIJA_PW);
    sync(&mut hub, kalle_dir.path(), "kalle", KALLE_PW);

    // The worker holds the record: the search below can see these words.
    let mut maija = login(maija_dir.path(), "maija", MAIJA_PW);
    assert!(
        !maija
            .store()
            .list_docs(DocKind::ClientRecord)
            .expect("list")
            .is_empty()
    );
    let shown = maija.show_client(id, Utc::now()).expect("show");
    assert!(shown.memos.values().any(|m| m.text.contains(MEMO_WORD)));
    let contents = decrypted_contents(maija.store());
    for needle in NEEDLES.iter().chain([&NAME]) {
        assert!(
            contents.contains(needle),
            "control: the worker holds {needle}"
        );
    }
    maija.close().expect("close");

    // The coordinator holds the unit's basic data and no record at all.
    let mut kalle = login(kalle_dir.path(), "kalle", KALLE_PW);
    let store = kalle.store();
    assert!(
        store
            .list_docs(DocKind::ClientRecord)
            .expect("list")
            .is_empty()
    );
    assert!(
        store
            .list_docs(DocKind::Client)
            .expect("list")
            .contains(&id.into())
    );
    let contents = decrypted_contents(store);
    assert!(contents.contains(NAME), "the basic data arrived");
    for needle in NEEDLES {
        assert!(
            !contents.contains(needle),
            "a basic-data user holds {needle}"
        );
    }
    for text in &texts {
        assert!(
            !contents.contains(text.as_str()),
            "a basic-data user holds a record text"
        );
    }
    let view = kalle.client_view(id, Utc::now()).expect("view");
    assert_eq!(
        view.record,
        polku_api::Part::HiddenByRights,
        "a hidden part says so"
    );
    let shown = view.client;
    assert_eq!(shown.basic.first_name, NAME);
    assert!(shown.memos.is_empty() && shown.background.health.is_empty());
    kalle.close().expect("close");
    for bytes in raw_files(kalle_dir.path()) {
        for needle in NEEDLES.iter().chain([&NAME]) {
            assert!(
                !contains_bytes(&bytes, needle.as_bytes()),
                "plaintext {needle}"
            );
        }
    }
}

#[test]
fn narrowing_a_worker_to_coordinator_removes_the_records_at_the_next_sync() {
    let hub_dir = tempfile::tempdir().expect("hub");
    let maija_dir = tempfile::tempdir().expect("maija");
    let (mut admin, id) = hub_with_client(hub_dir.path());
    let texts = record_texts(&mut admin);
    enrol_in_process(&mut admin, "maija", MAIJA_PW, maija_dir.path(), [43; 32]);
    let mut hub = admin.into_replica().expect("hub");
    sync(&mut hub, maija_dir.path(), "maija", MAIJA_PW);

    // The sealed bytes of the records maija holds now.
    let sealed: Vec<Vec<u8>> = {
        let s = login(maija_dir.path(), "maija", MAIJA_PW);
        assert!(
            s.store()
                .list_docs(DocKind::ClientRecord)
                .expect("list")
                .contains(&record_doc_id(id))
        );
        s.close().expect("close");
        let db = rusqlite::Connection::open(maija_dir.path().join(polku_store::DB_FILE))
            .expect("open db");
        let mut stmt = db
            .prepare("SELECT snapshot FROM docs WHERE kind = ?1")
            .expect("prepare");
        stmt.query_map([i64::from(DocKind::ClientRecord.code())], |r| r.get(0))
            .expect("query")
            .map(|r| r.expect("row"))
            .collect()
    };
    assert!(!sealed.is_empty());

    hub.session_mut()
        .set_role("maija", Role::Coordinator, Utc::now())
        .expect("role");
    let mut laptop = login(maija_dir.path(), "maija", MAIJA_PW)
        .into_replica()
        .expect("replica");
    let (h, l) = sync_in_memory(&mut hub, &mut laptop);
    h.expect("hub side");
    let report = l.expect("laptop side");
    assert!(report.revoked.contains(&record_doc_id(id)), "{report:?}");
    // Not even the ciphertext of a record is left in the database or its
    // WAL, already while the laptop's session goes on.
    let probes: Vec<&[u8]> = sealed
        .iter()
        .map(|blob| &blob[blob.len() / 2..blob.len() / 2 + 48.min(blob.len() / 2)])
        .collect();
    let wal = maija_dir
        .path()
        .join(format!("{}-wal", polku_store::DB_FILE));
    assert!(wal.exists(), "the WAL is part of the scan");
    for bytes in raw_files(maija_dir.path()) {
        for probe in &probes {
            assert!(
                !contains_bytes(&bytes, probe),
                "a record's ciphertext remains"
            );
        }
    }
    laptop.into_session().close().expect("close");

    let mut maija = login(maija_dir.path(), "maija", MAIJA_PW);
    assert!(
        maija
            .store()
            .list_docs(DocKind::ClientRecord)
            .expect("list")
            .is_empty()
    );
    let contents = decrypted_contents(maija.store());
    assert!(contents.contains(NAME), "basic data stays");
    for needle in NEEDLES {
        assert!(!contents.contains(needle), "still holds {needle}");
    }
    for text in &texts {
        assert!(
            !contents.contains(text.as_str()),
            "still holds a record text"
        );
    }
    let shown = maija.show_client(id, Utc::now()).expect("show");
    assert!(shown.memos.is_empty());
    maija.close().expect("close");
    for bytes in raw_files(maija_dir.path()) {
        for probe in &probes {
            assert!(
                !contains_bytes(&bytes, probe),
                "a record's ciphertext remains"
            );
        }
    }
}

/// A coordinator runs statistics without holding any client's record: the
/// hub sends its statistics extract (anonymised records) instead, and the
/// report made on the laptop equals the hub's.
#[test]
fn a_coordinators_statistics_come_from_the_hubs_extract_and_equal_the_hubs() {
    use polku_api::StatsQuery;
    use polku_stats::ReportPeriod;
    let hub_dir = tempfile::tempdir().expect("hub");
    let (maija_dir, kalle_dir) = (
        tempfile::tempdir().expect("maija"),
        tempfile::tempdir().expect("kalle"),
    );
    let (mut admin, _) = hub_with_client(hub_dir.path());
    enrol_in_process(&mut admin, "maija", MAIJA_PW, maija_dir.path(), [44; 32]);
    enrol_in_process(&mut admin, "kalle", KALLE_PW, kalle_dir.path(), [45; 32]);
    let now = Utc::now();
    let query = StatsQuery::new(ReportPeriod::Year(now.date_naive().year()));
    let before = {
        let mut kalle = login(kalle_dir.path(), "kalle", KALLE_PW);
        let r = kalle.stats(&query, now).expect("stats before");
        kalle.close().expect("close");
        r
    };
    let mut hub = admin.into_replica().expect("hub");
    sync(&mut hub, maija_dir.path(), "maija", MAIJA_PW);
    sync(&mut hub, kalle_dir.path(), "kalle", KALLE_PW);
    let on_hub = hub.session_mut().stats(&query, now).expect("hub stats");
    let hub_clients = hub.session_mut().list_clients(now).expect("list").len();

    let mut kalle = login(kalle_dir.path(), "kalle", KALLE_PW);
    assert_eq!(
        kalle
            .store()
            .list_docs(DocKind::StatsExtract)
            .expect("list")
            .len(),
        1
    );
    assert!(
        kalle
            .store()
            .list_docs(DocKind::ClientRecord)
            .expect("list")
            .is_empty()
    );
    let extract = polku_core::doc::ExtractDoc::from_automerge(
        kalle
            .store()
            .load_doc(stats_extract_doc_id(kalle.org_id()))
            .expect("extract"),
    )
    .expect("extract doc")
    .get()
    .expect("extract value");
    assert_eq!(
        extract.decoded().len(),
        hub_clients,
        "one record per client"
    );
    let on_laptop = kalle.stats(&query, now).expect("laptop stats");
    assert_ne!(before.groups, on_laptop.groups, "the extract arrived");
    assert_eq!(on_hub.groups, on_laptop.groups);
    kalle.close().expect("close");

    // A worker, who runs no statistics, gets no extract.
    let maija = login(maija_dir.path(), "maija", MAIJA_PW);
    assert!(
        maija
            .store()
            .list_docs(DocKind::StatsExtract)
            .expect("list")
            .is_empty()
    );
    maija.close().expect("close");

    // A change on the hub reaches the extract at the next sync, as a change
    // of that one record.
    let mut s = hub.into_session();
    let id = s.list_clients(now).expect("list")[0].id;
    s.add_memo(id, "Uusi tapaaminen.", None, now).expect("memo");
    let mut hub = s.into_replica().expect("hub");
    let report = sync(&mut hub, kalle_dir.path(), "kalle", KALLE_PW);
    assert_eq!(report.docs_received, 1, "{report:?}");
    let on_hub = hub.session_mut().stats(&query, now).expect("hub stats");
    let mut kalle = login(kalle_dir.path(), "kalle", KALLE_PW);
    assert_eq!(
        kalle.stats(&query, now).expect("stats").groups,
        on_hub.groups
    );
    kalle.close().expect("close");
}

/// A client made on a laptop reaches the hub with its record in one sync:
/// the hub judges the record on the client's basic data that arrives in the
/// same turn (ten clients: the order of the two documents' ids varies).
#[test]
fn clients_made_on_a_laptop_arrive_with_their_records_in_one_sync() {
    let hub_dir = tempfile::tempdir().expect("hub");
    let maija_dir = tempfile::tempdir().expect("maija");
    let (mut admin, _) = hub_with_client(hub_dir.path());
    enrol_in_process(&mut admin, "maija", MAIJA_PW, maija_dir.path(), [46; 32]);
    let mut hub = admin.into_replica().expect("hub");
    sync(&mut hub, maija_dir.path(), "maija", MAIJA_PW);

    let now = Utc::now();
    let mut maija = login(maija_dir.path(), "maija", MAIJA_PW);
    let mut made = Vec::new();
    for i in 0..10 {
        let id = maija
            .add_client(
                ClientInput {
                    first_name: format!("Uusi{i}"),
                    last_name: "Nuori".into(),
                    birth_date: None,
                    gender: None,
                    mother_tongue: None,
                    unit: None,
                },
                now,
            )
            .expect("client");
        maija
            .add_memo(id, &format!("Ensitapaaminen {i}."), None, now)
            .expect("memo");
        made.push(id);
    }
    let mut laptop = maija.into_replica().expect("replica");
    let (h, l) = sync_in_memory(&mut hub, &mut laptop);
    let (h, l) = (h.expect("hub side"), l.expect("laptop side"));
    assert!(h.refused_here.is_empty(), "{:?}", h.refused_here);
    assert!(l.refused_by_peer.is_empty(), "{l:?}");
    laptop.into_session().close().expect("close");
    let s = hub.session_mut();
    for (i, id) in made.iter().enumerate() {
        let c = s.show_client(*id, now).expect("on the hub");
        assert!(
            c.memos
                .values()
                .any(|m| m.text == format!("Ensitapaaminen {i}."))
        );
    }
}
