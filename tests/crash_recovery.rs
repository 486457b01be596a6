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
