//! A child process writing memos is killed with SIGKILL at random moments; after
//! each kill the store opens and every memo whose write returned is there.

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
    let mut kills_mid_write = 0;
    for round in 0..KILLS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash-writer"))
            .arg(dir.path())
            .arg("admin")
            .arg(client.to_string())
            .arg(next_n.to_string())
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
        // Wait until the child has unlocked the store, then let it write for a random time.
        let first = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("child ready");
        assert_eq!(first, "ready", "round {round}: unexpected first line");
        std::thread::sleep(Duration::from_millis(rng.random_range(5..250)));
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait");
        assert!(
            !status.success(),
            "round {round}: child should have been killed"
        );
        reader.join().expect("reader");

        while let Ok(line) = rx.try_recv() {
            let n: u64 = line
                .strip_prefix("ack ")
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("round {round}: bad line {line:?}"));
            acked.insert(n);
            next_n = next_n.max(n + 1);
        }
        // Numbers written but not acknowledged are skipped next round.
        next_n += 1;

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
        if texts.len() > acked.len() {
            kills_mid_write += 1;
        }
        // Closing compacts: recovery must also survive compaction of a crashed log.
        session.close().expect("close");
    }
    assert!(
        acked.len() >= KILLS,
        "too few writes acknowledged: {}",
        acked.len()
    );
    eprintln!(
        "{} memos acknowledged over {KILLS} kills; {kills_mid_write} kills landed after a write committed but before its ack",
        acked.len()
    );
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
