//! A child process writing memos is killed with SIGKILL in the middle of a
//! write, every round: after a chosen number of acknowledged memos, while the
//! next memo's transaction is written but not committed, or committed but not
//! yet returned. After each kill the store opens and verifies, every memo
//! whose write returned is there, the uncommitted one is not and the committed
//! one is.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use polku_api::{ClientInput, Workspace};
use polku_scenarios::PASSWORD;
use rand::{Rng, SeedableRng};

const KILLS: usize = 24;

#[test]
fn memos_whose_write_returned_survive_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now();
    Workspace::init(dir.path(), "admin", PASSWORD, now).expect("init");
    let mut session = Workspace::open(dir.path())
        .and_then(|w| w.login("admin", PASSWORD, now))
        .expect("login");
    let client = session
        .add_client(
            ClientInput {
                first_name: "Testi".into(),
                last_name: "Kaatuja".into(),
                ..ClientInput::default()
            },
            now,
        )
        .expect("add client");
    session.close().expect("close");

    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    let mut acked: BTreeSet<u64> = BTreeSet::new();
    let mut next_n = 0u64;
    let mut committed_in_flight: BTreeSet<u64> = BTreeSet::new();
    for round in 0..KILLS {
        let stop_after = rng.random_range(0..4u64);
        let committed = round % 2 == 1;
        let point = if committed {
            "after-commit"
        } else {
            "before-commit"
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash-writer"))
            .arg(dir.path())
            .arg("admin")
            .arg(client.to_string())
            .arg(next_n.to_string())
            .arg(stop_after.to_string())
            .arg(point)
            .env("POLKU_PASSWORD", PASSWORD)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn crash-writer");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // The child acknowledges `stop_after` memos, then stops inside the
        // next write and says so: only then is it killed. (The timeout only
        // keeps a hung child from hanging the test.)
        let next = |what: &str| {
            rx.recv_timeout(Duration::from_secs(120))
                .unwrap_or_else(|e| panic!("round {round}: no {what} from the child: {e}"))
        };
        assert_eq!(
            next("ready"),
            "ready",
            "round {round}: unexpected first line"
        );
        for i in 0..stop_after {
            let line = next("ack");
            assert_eq!(line, format!("ack {}", next_n + i), "round {round}");
            acked.insert(next_n + i);
        }
        let in_flight = next_n + stop_after;
        assert_eq!(
            next("in-write"),
            format!("in-write {in_flight}"),
            "round {round}"
        );
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait");
        assert!(
            !status.success(),
            "round {round}: child should have been killed"
        );
        reader.join().expect("reader");
        assert!(
            rx.try_recv().is_err(),
            "round {round}: output after the stop"
        );
        // The in-flight number is never reused.
        next_n = in_flight + 1;

        // The store opens and holds every acknowledged memo.
        let mut session = Workspace::open(dir.path())
            .and_then(|w| w.login("admin", PASSWORD, chrono::Utc::now()))
            .unwrap_or_else(|e| panic!("round {round}: store does not open after SIGKILL: {e}"));
        session
            .store()
            .verify()
            .unwrap_or_else(|e| panic!("round {round}: store damaged after SIGKILL: {e}"));
        let shown = session
            .show_client(client, chrono::Utc::now())
            .unwrap_or_else(|e| panic!("round {round}: client unreadable: {e}"));
        let texts: BTreeSet<String> = shown.memos.values().map(|m| m.text.clone()).collect();
        for n in &acked {
            assert!(
                texts.contains(&format!("crash-memo-{n}")),
                "round {round}: acknowledged memo {n} lost"
            );
        }
        // The memo killed in flight: gone if its transaction had not
        // committed, there if it had.
        assert_eq!(
            texts.contains(&format!("crash-memo-{in_flight}")),
            committed,
            "round {round}: the memo killed {point}"
        );
        if committed {
            committed_in_flight.insert(in_flight);
        }
        assert_eq!(texts.len(), acked.len() + committed_in_flight.len());
        // Closing compacts: recovery must also survive compaction of a crashed log.
        session.close().expect("close");
    }
    assert!(!acked.is_empty(), "no write was acknowledged");
    assert_eq!(committed_in_flight.len(), KILLS / 2);
}

/// A laptop applying a tombstone from its hub is killed (SIGKILL) inside the
/// transaction, after the tombstone was recorded and before the document was
/// deleted. The tombstone record, the deletion and the audit entry are one
/// transaction: the reopened store has none of them (and verifies), and the
/// next sync erases the client there for good.
#[test]
fn sigkill_while_applying_a_tombstone_leaves_a_consistent_store() {
    use polku_core::DocKind;
    use polku_scenarios::{add_worker, demo_hub, enrol_in_process, login, sync_in_memory};

    let hub_dir = tempfile::tempdir().expect("tempdir");
    let laptop_dir = tempfile::tempdir().expect("tempdir");
    let mut admin = demo_hub(hub_dir.path(), 6);
    add_worker(&mut admin, hub_dir.path(), "maija", "Itä", PASSWORD);
    enrol_in_process(&mut admin, "maija", PASSWORD, laptop_dir.path(), [21; 32]);
    let mut hub = admin.into_replica().expect("hub replica");
    let mut laptop = login(laptop_dir.path(), "maija", PASSWORD)
        .into_replica()
        .expect("laptop replica");
    let (h, l) = sync_in_memory(&mut hub, &mut laptop);
    h.expect("hub side");
    l.expect("laptop side");
    let held = |r: &polku_api::SyncReplica| -> BTreeSet<polku_core::DocId> {
        r.session()
            .store()
            .list_docs(DocKind::Client)
            .expect("list")
            .into_iter()
            .collect()
    };
    let client = *held(&laptop)
        .iter()
        .next()
        .expect("the laptop holds a client");
    assert!(hub.erase_doc(client, chrono::Utc::now()).expect("erase"));
    hub.into_session().close().expect("close hub");
    laptop.into_session().close().expect("close laptop");

    // The child syncs and stops inside the laptop's tombstone transaction.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tomb-sync"))
        .arg(hub_dir.path())
        .arg(laptop_dir.path())
        .arg("maija")
        .env("POLKU_PASSWORD", PASSWORD)
        .env("POLKU_FAULT_POINT", polku_api::fault::TOMBSTONE_RECORDED)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tomb-sync");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let reached = loop {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(line) if line.contains("polku-fault-point") => break true,
            Ok(_) => {}
            Err(_) => break false,
        }
    };
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    assert!(reached, "the child never reached the fault point");

    // Reopened: the laptop store verifies, and the erasure happened not at all
    // (the tombstone is not recorded, the client is still there, no entry).
    let mut laptop = login(laptop_dir.path(), "maija", PASSWORD)
        .into_replica()
        .expect("laptop replica");
    let entries: Vec<polku_audit::Entry> = laptop
        .session()
        .store()
        .audit_entries()
        .expect("entries")
        .into_iter()
        .map(|(_, _, b)| polku_audit::Entry::decode(&b).expect("decode"))
        .collect();
    polku_audit::verify_log(&entries).expect("the laptop's log verifies");
    let erased = laptop.is_erased(client).expect("erased?");
    let present = held(&laptop).contains(&client);
    assert!(
        erased != present,
        "inconsistent: tombstone recorded {erased}, client still stored {present}"
    );
    assert!(!erased && present, "a killed transaction leaves nothing");
    assert!(
        !entries
            .iter()
            .any(|e| e.action == polku_audit::Action::Erase)
    );

    // The next sync applies it for good.
    let mut hub = login(hub_dir.path(), "admin", PASSWORD)
        .into_replica()
        .expect("hub replica");
    let (h, l) = sync_in_memory(&mut hub, &mut laptop);
    h.expect("hub side");
    assert_eq!(l.expect("laptop side").erased, vec![client]);
    assert!(laptop.is_erased(client).expect("erased?"));
    assert!(!held(&laptop).contains(&client));
}
