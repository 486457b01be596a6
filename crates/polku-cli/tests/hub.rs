//! The hub daemon as a process: enrolment with a ticket, syncs, a SIGKILL and a
//! restart between syncs (nothing lost), and a clean stop on SIGTERM.

mod common;

use common::{free_udp_port, ok};
use std::path::Path;
use std::process::{Child, Command, Output};

const ADMIN_PW: &str = "hub-admin-password";
const USER_PW: &str = "maijan-aloitussalasana";

/// `polku` with `password`, and `USER_PW` as the password chosen while joining.
fn polku(store: &Path, password: &str, args: &[&str]) -> Output {
    common::polku_with(store, password, Some(USER_PW), None, args)
}

/// Start `polku hub` as the administrator and wait until it listens.
fn start_hub(store: &Path, port: u16) -> Child {
    common::start_hub(store, ADMIN_PW, port)
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

/// Which side's documents are on the wire when the hub is killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pushing {
    Laptop,
    Hub,
}

/// Runs a laptop session (in this process, over the laptop store in `dir`)
/// with the hub process `hub`, and SIGKILLs the hub in the middle of it:
/// once the first document frame in the `pushing` direction has been
/// written (laptop) or read (hub), after reading `then_read` more frames
/// from the hub. Returns the number of frames the laptop had read; panics
/// if the session ended before the kill.
fn sync_and_kill_hub(
    dir: &Path,
    user: &str,
    pushing: Pushing,
    then_read: usize,
    hub: &mut Child,
) -> usize {
    use polku_sync::protocol::{FRAME_HEADER_LEN, Message, decode_frame, frame_len};
    let session = polku_api::Workspace::open(dir)
        .and_then(|w| w.login(user, USER_PW, chrono::Utc::now()))
        .expect("laptop login");
    let pin = session.hub_pin().expect("pin").expect("enrolled");
    let secret = session.node_secret().expect("secret");
    let mut replica = session.into_replica().expect("replica");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let read = rt.block_on(async {
        let ep = polku_net::bind(&secret, "127.0.0.1:0".parse().expect("addr"), vec![])
            .await
            .expect("bind");
        let addr = polku_net::hub_addr(pin.node, &pin.addrs).expect("hub addr");
        let conn = ep
            .connect(addr, polku_net::SYNC_ALPN)
            .await
            .expect("connect");
        let (mut send, mut recv) = conn.open_bi().await.expect("stream");
        let hub_node = polku_audit::NodeId::from_bytes(pin.node);
        let mut s = polku_sync::Session::new(replica.session_config(hub_node));
        let is_docs = |bytes: &[u8]| matches!(decode_frame(bytes), Ok(Message::DocSync(_)));
        let mut pushed = false;
        let mut read_after = 0usize;
        let mut read = 0usize;
        let mut out: Vec<Vec<u8>> = s
            .start(&mut replica)
            .expect("start")
            .iter()
            .map(|f| f.as_bytes().to_vec())
            .collect();
        loop {
            for f in out.drain(..) {
                send.write_all(&f).await.expect("write");
                if pushing == Pushing::Laptop && is_docs(&f) {
                    pushed = true;
                }
            }
            if pushed && read_after >= then_read {
                break;
            }
            assert!(!s.is_done(), "the session ended before the hub was killed");
            let mut header = [0u8; FRAME_HEADER_LEN];
            recv.read_exact(&mut header).await.expect("read");
            let len = frame_len(header).expect("frame length");
            let mut frame = vec![0u8; FRAME_HEADER_LEN + len];
            frame[..FRAME_HEADER_LEN].copy_from_slice(&header);
            recv.read_exact(&mut frame[FRAME_HEADER_LEN..])
                .await
                .expect("read");
            read += 1;
            if pushed {
                read_after += 1;
            } else if pushing == Pushing::Hub && is_docs(&frame) {
                pushed = true;
            }
            out = s
                .handle(&mut replica, &frame)
                .expect("handle")
                .iter()
                .map(|f| f.as_bytes().to_vec())
                .collect();
            if pushed && read_after >= then_read {
                // Whatever the laptop would answer stays unsent.
                break;
            }
        }
        assert!(!s.is_done(), "the session ended before the hub was killed");
        hub.kill().expect("SIGKILL the hub mid-sync");
        hub.wait().expect("wait");
        // The laptop gives up on the session (nothing is committed for it).
        conn.close(1u32.into(), b"hub gone");
        ep.close().await;
        read
    });
    replica.into_session().close().expect("close laptop");
    read
}

/// The memo texts of client `id` as `user` sees them in `store`.
fn memos(store: &Path, password: &str, user: &str, id: &str) -> String {
    ok(polku(
        store,
        password,
        &["--user", user, "client", "show", id],
    ))
}

/// The laptop store opens and every row of it verifies.
fn verify_laptop(dir: &Path, round: usize) {
    let s = polku_api::Workspace::open(dir)
        .and_then(|w| w.login("maija", USER_PW, chrono::Utc::now()))
        .unwrap_or_else(|e| panic!("round {round}: laptop store does not open: {e}"));
    s.store()
        .verify()
        .unwrap_or_else(|e| panic!("round {round}: laptop store damaged: {e}"));
    s.close().expect("close");
}

#[test]
fn hub_killed_in_the_middle_of_syncs_both_ways_loses_nothing() {
    let hub = tempfile::tempdir().expect("tempdir");
    let laptop = tempfile::tempdir().expect("tempdir");
    ok(polku(
        hub.path(),
        ADMIN_PW,
        &["init", "--admin", "admin", "--hub"],
    ));
    ok(admin(
        hub.path(),
        &["demo", "--clients", "4", "--seed", "9"],
    ));
    ok(admin(
        hub.path(),
        &["user", "add", "maija", "--unit", "Itä"],
    ));
    let port = free_udp_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = start_hub(hub.path(), port);
    let ticket = ok(admin(
        hub.path(),
        &["device", "ticket", "--for-user", "maija", "--addr", &addr],
    ));
    ok(polku(
        laptop.path(),
        USER_PW,
        &["join", ticket.trim(), "--user", "maija"],
    ));
    let id = ok(as_user(
        laptop.path(),
        "maija",
        &[
            "client",
            "add",
            "--first-name",
            "Kaatuva",
            "--last-name",
            "Keskus",
        ],
    ))
    .trim()
    .to_owned();
    ok(as_user(laptop.path(), "maija", &["sync"]));

    let mut from_laptop: Vec<String> = Vec::new();
    let mut from_hub: Vec<String> = Vec::new();
    for round in 0..6 {
        let pushing = if round % 2 == 0 {
            Pushing::Laptop
        } else {
            Pushing::Hub
        };
        // Something to push; the hub's memo is written while it is stopped
        // (one writer per store).
        match pushing {
            Pushing::Laptop => {
                let text = format!("Kannettavalta {round}.");
                ok(as_user(
                    laptop.path(),
                    "maija",
                    &["memo", "add", &id, &text],
                ));
                from_laptop.push(text);
            }
            Pushing::Hub => {
                child.kill().expect("stop hub");
                child.wait().expect("wait");
                let text = format!("Keskukselta {round}.");
                ok(admin(hub.path(), &["memo", "add", &id, &text]));
                from_hub.push(text);
                child = start_hub(hub.path(), port);
            }
        }
        let read = sync_and_kill_hub(laptop.path(), "maija", pushing, round / 2, &mut child);
        assert!(read > 0, "round {round}: the hub's session had started");

        // Both stores open and verify; everything acknowledged before is
        // still on each side (the memos of the earlier, completed syncs).
        let verified = ok(admin(hub.path(), &["audit", "verify"]));
        assert!(verified.contains("verified"), "round {round}: {verified}");
        verify_laptop(laptop.path(), round);
        let on_hub = memos(hub.path(), ADMIN_PW, "admin", &id);
        let on_laptop = memos(laptop.path(), USER_PW, "maija", &id);
        // This round's memo may or may not have crossed; all others had.
        let this_round = match pushing {
            Pushing::Laptop => from_laptop.last(),
            Pushing::Hub => from_hub.last(),
        };
        for t in &from_laptop {
            assert!(
                on_laptop.contains(t.as_str()),
                "round {round}: laptop lost {t}"
            );
            if Some(t) != this_round {
                assert!(on_hub.contains(t.as_str()), "round {round}: hub lost {t}");
            }
        }
        for t in &from_hub {
            assert!(on_hub.contains(t.as_str()), "round {round}: hub lost {t}");
            if Some(t) != this_round {
                assert!(
                    on_laptop.contains(t.as_str()),
                    "round {round}: laptop lost {t}"
                );
            }
        }

        // The hub restarts and the next sync completes, bringing both sides
        // everything.
        child = start_hub(hub.path(), port);
        let synced = ok(as_user(laptop.path(), "maija", &["sync"]));
        assert!(synced.contains("Synced"), "round {round}: {synced}");
        verify_laptop(laptop.path(), round);
        let on_laptop = memos(laptop.path(), USER_PW, "maija", &id);
        for t in from_laptop.iter().chain(&from_hub) {
            assert!(
                on_laptop.contains(t.as_str()),
                "round {round}: laptop lacks {t}"
            );
        }
        child.kill().expect("stop hub");
        child.wait().expect("wait");
        let on_hub = memos(hub.path(), ADMIN_PW, "admin", &id);
        for t in from_laptop.iter().chain(&from_hub) {
            assert!(on_hub.contains(t.as_str()), "round {round}: hub lacks {t}");
        }
        child = start_hub(hub.path(), port);
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
}
