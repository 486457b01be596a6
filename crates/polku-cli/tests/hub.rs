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

/// `polku` for `user` on `store` (password `USER_PW`).
fn as_user(store: &Path, user: &str, args: &[&str]) -> Output {
    let mut all = vec!["--user", user];
    all.extend_from_slice(args);
    polku(store, USER_PW, &all)
}

fn admin(store: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--user", "admin"];
    all.extend_from_slice(args);
    polku(store, ADMIN_PW, &all)
}

/// A refused sync exits with code 7 and says why. A revoked laptop deletes
/// its client data (`wiped`); any other refusal leaves the data as it was.
fn assert_refused(laptop: &Path, user: &str, why: &str, wiped: bool) {
    let before = ok(as_user(laptop, user, &["client", "list", "--json"]));
    let out = as_user(laptop, user, &["sync"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(7), "{user}: {err}");
    assert!(err.contains(why), "{user}: {err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Synced"));
    let after = ok(as_user(laptop, user, &["client", "list", "--json"]));
    if wiped {
        assert_eq!(
            after.trim(),
            "[]",
            "{user}: a revoked laptop kept its clients"
        );
    } else {
        assert_eq!(before, after, "{user}: a refused sync changed the laptop");
    }
}

#[test]
fn refused_syncs_exit_with_code_7_revoked_deactivated_unenrolled_and_another_hub() {
    let hub = tempfile::tempdir().expect("tempdir");
    let maija_laptop = tempfile::tempdir().expect("tempdir");
    let ville_laptop = tempfile::tempdir().expect("tempdir");
    ok(polku(
        hub.path(),
        ADMIN_PW,
        &["init", "--admin", "admin", "--hub"],
    ));
    ok(admin(
        hub.path(),
        &["demo", "--clients", "4", "--seed", "5"],
    ));
    for user in ["maija", "ville"] {
        ok(admin(hub.path(), &["user", "add", user, "--unit", "Itä"]));
    }
    let port = free_udp_port();
    let mut child = start_hub(hub.path(), port);
    let addr = format!("127.0.0.1:{port}");
    for (user, dir) in [("maija", &maija_laptop), ("ville", &ville_laptop)] {
        let ticket = ok(admin(
            hub.path(),
            &["device", "ticket", "--for-user", user, "--addr", &addr],
        ));
        let joined = ok(polku(
            dir.path(),
            USER_PW,
            &["join", ticket.trim(), "--user", user],
        ));
        assert!(joined.contains("Synced"), "{joined}");
        // Both sync fine before anything is refused.
        ok(as_user(dir.path(), user, &["sync"]));
    }

    // Another hub (another organisation, another node key) on the pinned
    // address: the laptop will not sync with it.
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    let other = tempfile::tempdir().expect("tempdir");
    ok(polku(
        other.path(),
        ADMIN_PW,
        &["init", "--admin", "admin", "--hub"],
    ));
    let mut impostor = start_hub(other.path(), port);
    let out = as_user(maija_laptop.path(), "maija", &["sync"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "synced with another hub: {err}");
    assert!(err.contains("hub"), "{err}");
    let another_hub_code = out.status.code();
    impostor.kill().expect("SIGKILL");
    impostor.wait().expect("wait");

    // Back to the real hub: revoke Maija's laptop, deactivate Ville.
    let mut child = start_hub(hub.path(), port);
    let devices = ok(admin(hub.path(), &["device", "list"]));
    let maija_node = devices
        .lines()
        .find(|l| l.contains("maija"))
        .and_then(|l| l.split_whitespace().next())
        .expect("maija's device")
        .to_owned();
    ok(admin(hub.path(), &["device", "revoke", &maija_node]));
    ok(admin(hub.path(), &["user", "deactivate", "ville"]));
    assert_refused(maija_laptop.path(), "maija", "revoked", true);
    assert_refused(ville_laptop.path(), "ville", "deactivated", false);

    // A store that never joined a hub.
    let alone = tempfile::tempdir().expect("tempdir");
    ok(polku(alone.path(), ADMIN_PW, &["init", "--admin", "admin"]));
    let out = admin(alone.path(), &["sync"]);
    assert_eq!(out.status.code(), Some(7));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not enrolled"));

    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    // The impostor's refusal is a connection that cannot be made (the
    // pinned key does not answer there), not a hub's refusal: exit code 1.
    assert_eq!(another_hub_code, Some(1));
}
