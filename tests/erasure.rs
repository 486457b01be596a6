//! Erasure (issue 11): a client erased on a laptop is gone, byte for byte,
//! from every store once hub and the other laptop have synced, every device
//! acknowledges it, the statistics do not change (the anonymised record is
//! counted instead), and a stale copy that offers the client again is
//! refused and reports it; the retention run's dry run changes nothing and
//! its real run erases exactly what it listed; erasure is audited and a
//! user without the right cannot erase.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use polku_api::{
    ApiError, AuditQuery, ClientInput, ErasureReason, PeriodClose, PeriodInput, Session,
    StatsQuery, SyncReplica,
};
use polku_core::model::record_doc_id;
use polku_core::{ClientId, DocId, DocKind};
use polku_scenarios::{
    PASSWORD, add_worker, contains_bytes, demo_hub, enrol_as, enrol_in_process, files_under, login,
    sync_in_memory,
};
use polku_stats::ReportPeriod;

const MAIJA_PW: &str = "maijan-salasana-1";

const LAST_NAME: &str = "Hävitettävä";
const FIRST_NAME: &str = "Poistonen";
const MEMO_WORD: &str = "Ammattikoulutuksesta";

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// A client of Keskusta with a birth date, a period (arrival route,
/// measure, outcome), a memo and an attachment.
fn rich_client(s: &mut Session, last_name: &str, now: DateTime<Utc>) -> ClientId {
    let id = s
        .add_client(
            ClientInput {
                first_name: FIRST_NAME.into(),
                last_name: last_name.into(),
                birth_date: Some(date(2007, 3, 14)),
                gender: Some("female".into()),
                unit: Some("Keskusta".into()),
                ..ClientInput::default()
            },
            now,
        )
        .expect("client");
    let period = s
        .open_period(
            id,
            PeriodInput {
                start: Some(date(2026, 2, 2)),
                arrival_route: Some("young_person".into()),
                ..PeriodInput::default()
            },
            now,
        )
        .expect("period");
    s.add_measure(id, period, "guidance", Some(date(2026, 2, 3)), now)
        .expect("measure");
    s.close_period(
        id,
        period,
        PeriodClose {
            end: Some(date(2026, 5, 29)),
            outcome: Some("vocational".into()),
            final_assessment: None,
        },
        now,
    )
    .expect("close");
    s.add_memo(
        id,
        &format!("Keskusteltiin {MEMO_WORD} ja jatkosuunnitelmasta."),
        None,
        now,
    )
    .expect("memo");
    s.add_attachment(id, &b"lausunnon sisalto"[..], "lausunto.txt", now)
        .expect("attachment");
    id
}

/// Sealed bytes of `docs` as stored (snapshots, changes, views, search
/// index entries), read with a connection of its own that is closed again
/// before returning.
fn ciphertexts(dir: &Path, docs: &[DocId]) -> Vec<Vec<u8>> {
    let db = rusqlite::Connection::open_with_flags(
        dir.join(polku_api::DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open db");
    let mut out = Vec::new();
    for doc in docs {
        let id = doc.0.as_bytes().to_vec();
        for sql in [
            "SELECT snapshot FROM docs WHERE id = ?1",
            "SELECT change FROM doc_changes WHERE doc_id = ?1",
            "SELECT view FROM doc_views WHERE doc_id = ?1",
            "SELECT entry FROM search_index WHERE doc_id = ?1",
        ] {
            let mut stmt = db.prepare(sql).expect("prepare");
            let rows = stmt
                .query_map([&id], |r| r.get::<_, Vec<u8>>(0))
                .expect("query");
            out.extend(rows.map(|r| r.expect("row")));
        }
    }
    out
}

/// 32-byte samples (start, middle, end) of each ciphertext.
fn samples(blobs: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for b in blobs.iter().filter(|b| b.len() >= 64) {
        for at in [0, b.len() / 2 - 16, b.len() - 32] {
            out.push(b[at..at + 32].to_vec());
        }
    }
    out
}

/// The files under `dir` that contain any of `needles`, with the needle's
/// index.
fn found(dir: &Path, needles: &[Vec<u8>]) -> Vec<(PathBuf, usize)> {
    let mut out = Vec::new();
    for f in files_under(dir) {
        let Ok(bytes) = std::fs::read(&f) else {
            continue;
        };
        for (i, n) in needles.iter().enumerate() {
            if contains_bytes(&bytes, n) {
                out.push((f.clone(), i));
            }
        }
    }
    out
}

fn plaintext_needles() -> Vec<Vec<u8>> {
    [
        LAST_NAME.to_owned(),
        FIRST_NAME.to_owned(),
        MEMO_WORD.to_owned(),
        "14.3.2007".to_owned(),
        "14.03.2007".to_owned(),
        "2007-03-14".to_owned(),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect()
}

fn report(s: &mut Session, now: DateTime<Utc>) -> polku_stats::Report {
    s.stats(&StatsQuery::new(ReportPeriod::Year(2026)), now)
        .expect("stats")
}

struct Net {
    hub: SyncReplica,
    hub_dir: tempfile::TempDir,
    admin_laptop: tempfile::TempDir,
    maija: tempfile::TempDir,
}

impl Net {
    fn new() -> Net {
        let hub_dir = tempfile::tempdir().expect("hub");
        let (admin_laptop, maija) = (
            tempfile::tempdir().expect("admin laptop"),
            tempfile::tempdir().expect("maija"),
        );
        let mut admin = demo_hub(hub_dir.path(), 3);
        add_worker(&mut admin, hub_dir.path(), "maija", "Keskusta", MAIJA_PW);
        enrol_as(
            &mut admin,
            "admin",
            (PASSWORD, None),
            admin_laptop.path(),
            [71; 32],
        );
        enrol_in_process(&mut admin, "maija", MAIJA_PW, maija.path(), [72; 32]);
        Net {
            hub: admin.into_replica().expect("hub"),
            hub_dir,
            admin_laptop,
            maija,
        }
    }

    fn dir(&self, who: &str) -> &Path {
        match who {
            "admin" => self.admin_laptop.path(),
            _ => self.maija.path(),
        }
    }

    fn open(&self, who: &str) -> Session {
        match who {
            "admin" => login(self.dir(who), "admin", PASSWORD),
            _ => login(self.dir(who), "maija", MAIJA_PW),
        }
    }

    /// One sync of `who`'s laptop (or a store at `dir`) with the hub.
    fn sync_dir(
        &mut self,
        dir: &Path,
        login_name: &str,
        password: &str,
    ) -> (polku_sync::SyncReport, polku_sync::SyncReport, Session) {
        let mut laptop = login(dir, login_name, password)
            .into_replica()
            .expect("replica");
        let (h, l) = sync_in_memory(&mut self.hub, &mut laptop);
        let (h, l) = (h.expect("hub side"), l.expect("laptop side"));
        assert!(h.completed && l.completed);
        (h, l, laptop.into_session())
    }

    /// One sync of `who`'s laptop; nothing may be refused.
    fn sync(&mut self, who: &str) {
        let (login_name, pw) = match who {
            "admin" => ("admin", PASSWORD),
            _ => ("maija", MAIJA_PW),
        };
        let dir = self.dir(who).to_path_buf();
        let (h, l, s) = self.sync_dir(&dir, login_name, pw);
        assert!(h.refused_here.is_empty(), "{:?}", h.refused_here);
        assert!(l.refused_by_peer.is_empty(), "{:?}", l.refused_by_peer);
        s.close().expect("close");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for f in files_under(from) {
        let rel = f.strip_prefix(from).expect("under");
        let target = to.join(rel);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&f, &target).expect("copy");
    }
}

#[test]
fn a_client_erased_on_a_laptop_is_gone_from_every_store_and_the_statistics_do_not_change() {
    let mut n = Net::new();
    let now = Utc::now();
    let client = {
        let s = n.hub.session_mut();
        rich_client(s, LAST_NAME, now)
    };
    let docs = [DocId::from(client), record_doc_id(client)];
    n.sync("admin");
    n.sync("maija");
    n.sync("admin");
    let before_hub = report(n.hub.session_mut(), now);
    let before_admin = {
        let mut s = n.open("admin");
        let r = report(&mut s, now);
        s.close().expect("close");
        r
    };
    // A copy of Maija's store as it was before the erasure (a backup put
    // back, a disk image): it still holds the client.
    let stale = tempfile::tempdir().expect("stale");
    copy_dir(n.maija.path(), stale.path());

    // The sealed bytes of the client's documents in each store, and the
    // scan's positive control: before the erasure it finds them.
    let dirs: Vec<PathBuf> = vec![
        n.hub_dir.path().to_path_buf(),
        n.admin_laptop.path().to_path_buf(),
        n.maija.path().to_path_buf(),
    ];
    let sealed: Vec<Vec<Vec<u8>>> = dirs
        .iter()
        .map(|d| samples(&ciphertexts(d, &docs)))
        .collect();
    for (d, s) in dirs.iter().zip(&sealed) {
        assert!(s.len() >= 6, "the client's sealed documents in {d:?}");
        assert!(!found(d, s).is_empty(), "the control finds them in {d:?}");
    }
    let files_before = [
        n.hub
            .session()
            .store()
            .list_attachments()
            .expect("files")
            .len(),
        login_store_attachments(n.admin_laptop.path(), "admin"),
        login_store_attachments(n.maija.path(), "maija"),
    ];
    assert_eq!(files_before, [1, 1, 1]);

    // Erased on the administrator's laptop, for the refusal of help.
    let mut admin = n.open("admin").into_replica().expect("replica");
    let e = admin
        .erase_client(client, ErasureReason::Refused, now)
        .expect("erase");
    assert_eq!((e.documents, e.attachments), (2, 1));
    assert!(admin.is_erased(client.into()).expect("erased"));
    admin.into_session().close().expect("close");
    n.sync("admin");
    n.sync("maija");
    n.sync("admin");

    // Gone from every store: no plaintext, no sealed byte of the client's
    // documents in any file (database, WAL), no attachment file.
    for (d, s) in dirs.iter().zip(&sealed) {
        assert_eq!(found(d, &plaintext_needles()), vec![], "plaintext in {d:?}");
        assert_eq!(found(d, s), vec![], "sealed bytes of the client in {d:?}");
    }
    for d in &dirs[1..] {
        let who = if d == n.maija.path() {
            "maija"
        } else {
            "admin"
        };
        assert_eq!(login_store_attachments(d, who), 0, "files in {d:?}");
    }
    // The anonymised record reached the hub and the other laptop.
    assert_eq!(anonymised_in(n.hub.session()), 1);
    for who in ["admin", "maija"] {
        let s = n.open(who);
        assert_eq!(anonymised_in(&s), 1, "on {who}'s laptop");
        s.close().expect("close");
    }
    assert!(
        n.hub
            .session()
            .store()
            .list_attachments()
            .expect("files")
            .is_empty()
    );

    // The statistics are the same before and after, on the hub and on the
    // administrator's laptop: the anonymised record counts instead.
    assert_eq!(report(n.hub.session_mut(), now), before_hub);
    let mut s = n.open("admin");
    assert_eq!(report(&mut s, now), before_admin);
    s.close().expect("close");

    // Every device acknowledged it: 2 of 2.
    let status = n.hub.session_mut().erasure_status(now).expect("status");
    let row = status
        .iter()
        .find(|r| r.doc == DocId::from(client))
        .expect("listed");
    assert_eq!(row.kind, DocKind::Client);
    assert_eq!(row.devices(), 2, "{row:?}");
    assert!(row.missing.is_empty(), "{row:?}");

    // The stale copy offers the client again: the hub refuses it, and the
    // refusal is reported in the session and in the copy's sync problems.
    let (h, l, s) = n.sync_dir(stale.path(), "maija", MAIJA_PW);
    let refused: BTreeSet<DocId> = l
        .refused_by_peer
        .iter()
        .filter(|r| r.reason == polku_sync::protocol::RefusedReason::Erased)
        .map(|r| r.doc)
        .collect();
    assert!(refused.contains(&DocId::from(client)), "{l:?}");
    assert!(!h.refused_here.is_empty());
    let problems = s.sync_problems().expect("problems");
    assert!(
        problems.iter().any(|p| p.code == "sync.refused.erased"),
        "{problems:?}"
    );
    // The copy gave up the client: nothing of it is left there either.
    for doc in docs {
        assert!(matches!(
            s.store().doc_info(doc),
            Err(polku_store::StoreError::DocNotFound(_))
        ));
    }
    assert!(s.store().list_attachments().expect("files").is_empty());
    s.close().expect("close");
    assert_eq!(found(stale.path(), &plaintext_needles()), vec![]);
    assert_eq!(
        found(stale.path(), &sealed[2]),
        vec![],
        "sealed bytes in the copy"
    );
    // And the hub still holds nothing of it.
    assert_eq!(
        found(n.hub_dir.path(), &plaintext_needles()),
        vec![],
        "after the stale offer"
    );
    assert!(matches!(
        n.hub.session().store().doc_info(DocId::from(client)),
        Err(polku_store::StoreError::DocNotFound(_))
    ));
    assert_eq!(report(n.hub.session_mut(), now), before_hub);
}

fn anonymised_in(s: &Session) -> usize {
    s.store()
        .list_docs(DocKind::Anonymised)
        .expect("anonymised")
        .len()
}

/// The attachment files a store holds (logged in as `who`).
fn login_store_attachments(dir: &Path, who: &str) -> usize {
    let pw = if who == "maija" { MAIJA_PW } else { PASSWORD };
    let s = login(dir, who, pw);
    let n = s.store().list_attachments().expect("files").len();
    s.close().expect("close");
    n
}

#[test]
fn an_erasure_is_audited_with_the_random_id_and_a_user_without_the_right_cannot_erase() {
    let mut n = Net::new();
    let now = Utc::now();
    let client = rich_client(n.hub.session_mut(), LAST_NAME, now);
    n.sync("maija");

    let mut maija = n.open("maija");
    let refused = maija.erase_client(client, ErasureReason::Request, now);
    assert!(matches!(refused, Err(ApiError::Denied(_))), "{refused:?}");
    // Nothing was erased.
    assert!(maija.store().doc_info(client.into()).is_ok());
    maija.close().expect("close");
    n.sync("maija");

    let s = n.hub.session_mut();
    let denied = s
        .audit_list(
            &AuditQuery {
                user: Some("maija".into()),
                ..Default::default()
            },
            now,
        )
        .expect("audit");
    assert!(
        denied
            .iter()
            .any(|r| r.action == "denied" && r.target == Some(client.0)),
        "{denied:?}"
    );
    assert!(matches!(
        s.erasure_status(now),
        Ok(ref v) if v.is_empty()
    ));
    s.erase_client(client, ErasureReason::Request, now)
        .expect("erase");
    let rows = s
        .audit_list(
            &AuditQuery {
                user: Some("admin".into()),
                ..Default::default()
            },
            now,
        )
        .expect("audit");
    let erase: Vec<_> = rows.iter().filter(|r| r.action == "erase").collect();
    assert_eq!(erase.len(), 1, "{rows:?}");
    assert_eq!(erase[0].target, Some(client.0));
    assert_eq!(erase[0].detail, "erase");
    let text = format!("{rows:?}");
    assert!(!text.contains(LAST_NAME) && !text.contains(FIRST_NAME));
    // Erased once only.
    assert!(matches!(
        s.erase_client(client, ErasureReason::Request, now),
        Err(ApiError::ClientNotFound(_))
    ));
    // The refusal of help is recorded as its own code.
    let other = rich_client(s, "Toinen", now);
    s.erase_client(other, ErasureReason::Refused, now)
        .expect("erase");
    let rows = s
        .audit_list(
            &AuditQuery {
                user: Some("admin".into()),
                ..Default::default()
            },
            now,
        )
        .expect("audit");
    assert!(
        rows.iter().any(|r| r.action == "erase"
            && r.target == Some(other.0)
            && r.detail == "erase_refused"),
        "{rows:?}"
    );
}

/// A client of Keskusta whose only period ran from `start` to `end`.
fn ended_client(s: &mut Session, last_name: &str, start: NaiveDate, end: NaiveDate) -> ClientId {
    let now = Utc::now();
    let id = s
        .add_client(
            ClientInput {
                first_name: "Säilytys".into(),
                last_name: last_name.into(),
                unit: Some("Keskusta".into()),
                ..ClientInput::default()
            },
            now,
        )
        .expect("client");
    let period = s
        .open_period(
            id,
            PeriodInput {
                start: Some(start),
                arrival_route: Some("young_person".into()),
                ..PeriodInput::default()
            },
            now,
        )
        .expect("period");
    s.close_period(
        id,
        period,
        PeriodClose {
            end: Some(end),
            outcome: Some("vocational".into()),
            final_assessment: None,
        },
        now,
    )
    .expect("close");
    id
}

/// Everything the store holds but its audit log: documents and heads, the
/// tombstone log, attachment files.
type Contents = (Vec<(DocId, DocKind, Vec<u8>)>, u64, usize);

fn contents(s: &Session) -> Contents {
    let store = s.store();
    (
        store
            .list_doc_heads()
            .expect("heads")
            .into_iter()
            .map(|(id, k, h)| (id, k, h.0.to_vec()))
            .collect(),
        store.tombstone_count().expect("tombstones"),
        store.list_attachments().expect("files").len(),
    )
}

#[test]
fn the_retention_dry_run_changes_nothing_and_the_real_run_erases_exactly_what_it_listed() {
    let mut n = Net::new();
    let now = Utc::now();
    let s = n.hub.session_mut();
    let old_a = ended_client(s, "Vanhaa", date(2022, 1, 10), date(2022, 6, 1));
    let old_b = ended_client(s, "Vanhab", date(2023, 2, 1), date(2023, 9, 30));
    // Past retention too, but ended after the date given to the run.
    let later = ended_client(s, "Myohempi", date(2024, 1, 8), date(2024, 3, 1));
    // Not past retention.
    let recent = ended_client(s, "Tuore", date(2026, 1, 5), date(2026, 4, 1));
    let stats_before = s
        .stats(&StatsQuery::new(ReportPeriod::Year(2023)), now)
        .expect("stats");
    let due: BTreeSet<ClientId> = s
        .retention_due(now)
        .expect("due")
        .into_iter()
        .map(|r| r.client)
        .collect();
    assert!(due.contains(&later) && !due.contains(&recent));

    let before = contents(s);
    let plan = s
        .retention_apply(date(2024, 1, 1), true, now)
        .expect("dry run");
    assert!(plan.dry_run);
    let listed: BTreeSet<ClientId> = plan.clients.iter().map(|r| r.client).collect();
    assert_eq!(listed, BTreeSet::from([old_a, old_b]));
    assert_eq!(contents(s), before, "the dry run changed the store");

    let run = s
        .retention_apply(date(2024, 1, 1), false, now)
        .expect("run");
    assert!(!run.dry_run);
    assert_eq!(
        run.clients, plan.clients,
        "the run erased what the dry run listed"
    );
    let after = contents(s);
    let gone: BTreeSet<DocId> = before
        .0
        .iter()
        .map(|(id, ..)| *id)
        .filter(|id| !after.0.iter().any(|(a, ..)| a == id))
        .collect();
    let expected: BTreeSet<DocId> = [old_a, old_b]
        .into_iter()
        .flat_map(|c| [DocId::from(c), record_doc_id(c)])
        .collect();
    assert_eq!(gone, expected, "exactly the listed clients' documents");
    assert_eq!(after.1, before.1 + 2, "one tombstone each");
    let anonymised = after
        .0
        .iter()
        .filter(|(_, k, _)| *k == DocKind::Anonymised)
        .count();
    assert_eq!(anonymised, 2);
    assert!(s.store().doc_info(later.into()).is_ok());
    assert!(s.store().doc_info(recent.into()).is_ok());
    assert_eq!(
        s.stats(&StatsQuery::new(ReportPeriod::Year(2023)), now)
            .expect("stats"),
        stats_before
    );
    let rows = s
        .audit_list(
            &AuditQuery {
                user: Some("admin".into()),
                ..Default::default()
            },
            now,
        )
        .expect("audit");
    assert_eq!(
        rows.iter()
            .filter(|r| r.action == "erase" && r.detail == "erase_retention")
            .count(),
        2
    );
    assert!(
        rows.iter()
            .any(|r| r.action == "retention_run" && r.detail == "2")
    );
    // Nothing left to erase before that date.
    assert!(
        s.retention_apply(date(2024, 1, 1), true, now)
            .expect("again")
            .clients
            .is_empty()
    );
}

#[test]
fn the_hub_takes_no_anonymised_record_from_a_user_who_may_not_erase() {
    use polku_core::anonymised::{AnonymisedEntry, AnonymisedId, AnonymisedRecord};
    let mut n = Net::new();
    let now = Utc::now();
    rich_client(n.hub.session_mut(), LAST_NAME, now);
    n.sync("maija");
    let before = report(n.hub.session_mut(), now);
    // Maija's laptop makes up a record (statistics to inflate).
    let record = AnonymisedRecord {
        id: AnonymisedId::from_random(rand::random()),
        unit: None,
        responsible: BTreeSet::new(),
        gender: Some("female".into()),
        mother_tongue: None,
        periods: Vec::new(),
        contacts: Vec::new(),
        referrals: Vec::new(),
    };
    let entry = AnonymisedEntry::of(&record);
    let mut doc = polku_core::doc::AnonymisedDoc::new(&entry).expect("doc");
    let bytes = doc.save();
    let maija = n.open("maija");
    maija
        .store()
        .batch(|b| b.create_doc(entry.id, DocKind::Anonymised, &bytes))
        .expect("write");
    maija.close().expect("close");
    let dir = n.maija.path().to_path_buf();
    let (h, l, s) = n.sync_dir(&dir, "maija", MAIJA_PW);
    s.close().expect("close");
    assert!(
        h.refused_here
            .iter()
            .any(|r| r.doc == entry.id
                && r.reason == polku_sync::protocol::RefusedReason::NotPermitted),
        "{h:?}"
    );
    assert!(l.refused_by_peer.iter().any(|r| r.doc == entry.id));
    assert_eq!(anonymised_in(n.hub.session()), 0);
    assert_eq!(report(n.hub.session_mut(), now), before);
}
