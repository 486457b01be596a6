//! The hub daemon as a process: enrolment with a ticket, syncs, a SIGKILL and a
//! restart between syncs (nothing lost), and a clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

const ADMIN_PW: &str = "hub-admin-password";
const USER_PW: &str = "maijan-aloitussalasana";

fn polku(store: &Path, password: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polku"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env("POLKU_PASSWORD", password)
        .env("POLKU_NEW_PASSWORD", USER_PW)
        .env_remove("POLKU_USER")
        .env_remove("POLKU_STORE")
        .stdin(Stdio::null())
        .output()
        .expect("run polku")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "polku failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Start `polku hub` and wait until it listens.
fn start_hub(store: &Path, port: u16) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_polku"))
        .arg("--store")
        .arg(store)
        .args([
            "--user",
            "admin",
            "hub",
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .env("POLKU_PASSWORD", ADMIN_PW)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hub");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Keep draining the hub's log after the first line has been seen.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the hub did not start");
    assert!(line.contains("listening"), "unexpected first line: {line}");
    child
}

#[test]
fn hub_process_enrols_syncs_survives_sigkill_and_stops_on_sigterm() {
    let hub = tempfile::tempdir().expect("tempdir");
    let laptop = tempfile::tempdir().expect("tempdir");
    ok(polku(
        hub.path(),
        ADMIN_PW,
        &["init", "--admin", "admin", "--hub"],
    ));
    ok(polku(
        hub.path(),
        ADMIN_PW,
        &["--user", "admin", "demo", "--clients", "8", "--seed", "3"],
    ));
    ok(polku(
        hub.path(),
        ADMIN_PW,
        &["--user", "admin", "user", "add", "maija", "--unit", "Itä"],
    ));
    let port = free_udp_port();
    let mut child = start_hub(hub.path(), port);

    let ticket = ok(polku(
        hub.path(),
        ADMIN_PW,
        &[
            "--user",
            "admin",
            "device",
            "ticket",
            "--for-user",
            "maija",
            "--addr",
            &format!("127.0.0.1:{port}"),
        ],
    ));
    // A wrong password is refused by the hub and creates no store.
    let out = polku(
        laptop.path(),
        "wrong-password",
        &["join", ticket.trim(), "--user", "maija"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong password"));
    assert!(!laptop.path().join("polku.db").exists());
    let joined = ok(polku(
        laptop.path(),
        USER_PW,
        &["join", ticket.trim(), "--user", "maija"],
    ));
    assert!(joined.contains("Synced"), "{joined}");

    let id = ok(polku(
        laptop.path(),
        USER_PW,
        &[
            "--user",
            "maija",
            "client",
            "add",
            "--first-name",
            "Kenttä",
            "--last-name",
            "Asiakas",
        ],
    ));
    let id = id.trim().to_owned();
    ok(polku(
        laptop.path(),
        USER_PW,
        &["--user", "maija", "memo", "add", &id, "Ennen kaatumista."],
    ));
    ok(polku(laptop.path(), USER_PW, &["--user", "maija", "sync"]));

    // The hub is killed, not stopped; it restarts on the same address.
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    let mut child = start_hub(hub.path(), port);
    ok(polku(
        laptop.path(),
        USER_PW,
        &["--user", "maija", "memo", "add", &id, "Kaatumisen jälkeen."],
    ));
    let synced = ok(polku(laptop.path(), USER_PW, &["--user", "maija", "sync"]));
    assert!(synced.contains("documents sent 1"), "{synced}");

    // SIGTERM stops it cleanly.
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let status = child.wait().expect("wait");
    assert!(status.success(), "the hub did not stop cleanly: {status:?}");

    let shown = ok(polku(
        hub.path(),
        ADMIN_PW,
        &["--user", "admin", "client", "show", &id],
    ));
    assert!(
        shown.contains("Ennen kaatumista.") && shown.contains("Kaatumisen jälkeen."),
        "{shown}"
    );
    let verified = ok(polku(
        hub.path(),
        ADMIN_PW,
        &["--user", "admin", "audit", "verify"],
    ));
    assert!(verified.contains("verified"), "{verified}");
    let devices = ok(polku(
        hub.path(),
        ADMIN_PW,
        &["--user", "admin", "device", "list"],
    ));
    assert!(
        devices.contains("maija") && devices.contains("active"),
        "{devices}"
    );
}
