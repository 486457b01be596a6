//! The hub as a running process and its administrator's commands: a user
//! added and given a ticket while the hub runs joins at once; a temporary
//! password is changed while joining; a refused enrolment exits 3; a
//! cancelled ticket enrols nothing; a revoked laptop deletes its client data
//! at its next contact; names and memo text can come from standard input.

mod common;

use common::{free_udp_port, ok, polku_with, start_hub};
use std::path::Path;

const ADMIN_PW: &str = "hub-admin-password";
const TEMP_PW: &str = "aloitussalasana-1";
const OWN_PW: &str = "ainon-oma-salasana";

fn admin(hub: &Path, args: &[&str]) -> String {
    let mut all = vec!["--user", "admin"];
    all.extend_from_slice(args);
    ok(polku_with(hub, ADMIN_PW, None, None, &all))
}

fn ticket(hub: &Path, user: &str, port: u16) -> String {
    admin(
        hub,
        &[
            "device",
            "ticket",
            "--for-user",
            user,
            "--addr",
            &format!("127.0.0.1:{port}"),
        ],
    )
    .trim()
    .to_owned()
}

#[test]
fn a_user_added_while_the_hub_runs_joins_changes_the_password_and_a_revoked_laptop_wipes_itself() {
    let hub = tempfile::tempdir().expect("tempdir");
    let laptop = tempfile::tempdir().expect("tempdir");
    ok(polku_with(
        hub.path(),
        ADMIN_PW,
        None,
        None,
        &["init", "--admin", "admin", "--hub"],
    ));
    admin(hub.path(), &["demo", "--clients", "4", "--seed", "5"]);
    let port = free_udp_port();
    let mut child = start_hub(hub.path(), ADMIN_PW, port);

    // Added, and given a ticket, while the hub runs.
    ok(polku_with(
        hub.path(),
        ADMIN_PW,
        Some(TEMP_PW),
        None,
        &["--user", "admin", "user", "add", "aino", "--unit", "Itä"],
    ));
    let cancelled = ticket(hub.path(), "aino", port);
    admin(hub.path(), &["device", "ticket", "cancel", &cancelled]);
    let out = polku_with(
        laptop.path(),
        TEMP_PW,
        Some(OWN_PW),
        None,
        &["join", &cancelled, "--user", "aino"],
    );
    assert_eq!(out.status.code(), Some(3), "a refused enrolment exits 3");
    assert!(!laptop.path().join("polku.db").exists());

    let t = ticket(hub.path(), "aino", port);
    // A wrong password: refused with exit code 3, no store.
    let out = polku_with(
        laptop.path(),
        "vaara-salasana-1",
        Some(OWN_PW),
        None,
        &["join", &t, "--user", "aino"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong password"));
    assert!(!laptop.path().join("polku.db").exists());
    // The temporary password with a new one: joined and synced.
    let joined = ok(polku_with(
        laptop.path(),
        TEMP_PW,
        Some(OWN_PW),
        None,
        &["join", &t, "--user", "aino"],
    ));
    assert!(joined.contains("Synced"), "{joined}");
    // The laptop opens with the new password, not the temporary one.
    let out = polku_with(
        laptop.path(),
        TEMP_PW,
        None,
        None,
        &["--user", "aino", "client", "list"],
    );
    assert_eq!(out.status.code(), Some(3));

    // Names and memo text from standard input, not the command line.
    let id = ok(polku_with(
        laptop.path(),
        OWN_PW,
        None,
        Some("Syötetty\nNimetön\n"),
        &[
            "--user",
            "aino",
            "client",
            "add",
            "--first-name",
            "-",
            "--last-name",
            "-",
        ],
    ));
    let id = id.trim().to_owned();
    ok(polku_with(
        laptop.path(),
        OWN_PW,
        None,
        Some("Kadulla tavattu, sovittiin uusi tapaaminen.\n"),
        &["--user", "aino", "memo", "add", &id, "-"],
    ));
    let shown = ok(polku_with(
        laptop.path(),
        OWN_PW,
        None,
        None,
        &["--user", "aino", "client", "show", &id],
    ));
    assert!(
        shown.contains("Syötetty") && shown.contains("Nimetön"),
        "{shown}"
    );
    assert!(shown.contains("sovittiin uusi tapaaminen"), "{shown}");
    ok(polku_with(
        laptop.path(),
        OWN_PW,
        None,
        None,
        &["--user", "aino", "sync"],
    ));

    // Revoked: the next sync is refused and the laptop deletes its client data.
    let devices = admin(hub.path(), &["device", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&devices).expect("json");
    let node = list
        .as_array()
        .and_then(|a| a.first())
        .and_then(|d| d.get("node_id"))
        .and_then(|n| n.as_str())
        .expect("a device")
        .to_owned();
    admin(hub.path(), &["device", "revoke", &node]);
    let out = polku_with(
        laptop.path(),
        OWN_PW,
        None,
        None,
        &["--user", "aino", "sync"],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("revoked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = ok(polku_with(
        laptop.path(),
        OWN_PW,
        None,
        None,
        &["--user", "aino", "client", "list", "--json"],
    ));
    let listed: serde_json::Value = serde_json::from_str(&listed).expect("json");
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");
    let out = polku_with(
        laptop.path(),
        OWN_PW,
        None,
        None,
        &["--user", "aino", "client", "show", &id],
    );
    assert!(!out.status.success(), "the client's document is gone");
    let _ = child.kill();
    let _ = child.wait();
}
