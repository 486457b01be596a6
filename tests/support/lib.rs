//! Shared helpers for scenario tests.

use std::path::{Path, PathBuf};

/// The password every scenario store uses (synthetic data only).
pub const PASSWORD: &str = "scenario-password-1";

/// Every regular file under `dir`, recursively (database, WAL, journal, attachments, temp files).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Whether `haystack` contains `needle` as a byte sequence.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

use polku_api::{KdfParams, Session, UserInput, Workspace};
use polku_core::model::Role;

/// A fresh store with demo data (two units "Keskusta" and "Itä") and an admin.
/// Cheap argon2 parameters keep scenario tests fast; they are not what users get.
pub fn demo_workspace(dir: &Path, clients: usize) -> Session {
    let now = chrono::Utc::now();
    Workspace::init_with(dir, "admin", PASSWORD, now, KdfParams::INSECURE_FOR_TESTS).expect("init");
    let mut admin = login(dir, "admin", PASSWORD);
    admin.add_demo(clients, 5, now).expect("demo");
    admin
}

/// Like [`demo_workspace`], but a hub store (laptops enrol with and sync to it).
pub fn demo_hub(dir: &Path, clients: usize) -> Session {
    let now = chrono::Utc::now();
    Workspace::init_hub_with(dir, "admin", PASSWORD, now, KdfParams::INSECURE_FOR_TESTS)
        .expect("init hub");
    let mut admin = login(dir, "admin", PASSWORD);
    admin.add_demo(clients, 5, now).expect("demo");
    admin
}

/// Log in or panic.
pub fn login(dir: &Path, user: &str, password: &str) -> Session {
    Workspace::open(dir)
        .and_then(|w| w.login(user, password, chrono::Utc::now()))
        .unwrap_or_else(|e| panic!("login failed: {e}"))
}

/// The temporary password every scenario user is added with.
pub const TEMPORARY: &str = "temporary-password-1";

/// Add `login_name` with `role` (in `unit`, else the admin's first unit) and
/// the [`TEMPORARY`] password, or panic.
pub fn add_user(admin: &mut Session, login_name: &str, role: Role, unit: Option<&str>) {
    admin
        .add_user(
            UserInput {
                login: login_name.to_owned(),
                display_name: None,
                role,
                units: unit.map(str::to_owned).into_iter().collect(),
            },
            TEMPORARY,
            chrono::Utc::now(),
        )
        .expect("add user");
}

/// The verifier of a password chosen while joining (what the laptop sends the
/// hub instead of the new password itself).
pub fn chosen(password: &str) -> Option<polku_api::PasswordVerifier> {
    Some(
        polku_api::PasswordVerifier::create(password, KdfParams::INSECURE_FOR_TESTS)
            .expect("verifier"),
    )
}

/// Add a worker in `unit`. On a standalone store the temporary password is
/// changed to `password` at once; on a hub (where a worker has no login) it
/// stays [`TEMPORARY`] until the worker joins with a laptop and chooses
/// `password` there.
pub fn add_worker(admin: &mut Session, dir: &Path, login_name: &str, unit: &str, password: &str) {
    let now = chrono::Utc::now();
    add_user(admin, login_name, Role::Worker, Some(unit));
    if admin.is_hub().expect("role") {
        return;
    }
    let mut s = login(dir, login_name, TEMPORARY);
    assert!(s.must_change_password());
    s.change_password(password, now).expect("change password");
    s.close().expect("close");
}

/// Enrol a laptop for `login_name` (added with [`add_worker`] on a hub, so
/// still on [`TEMPORARY`]) with the hub whose admin session is `admin` (the
/// hub's checks run in-process), choosing `password` while joining, and
/// create its store in `dir`.
pub fn enrol_in_process(
    admin: &mut Session,
    login_name: &str,
    password: &str,
    dir: &Path,
    secret: [u8; 32],
) {
    enrol_as(admin, login_name, (TEMPORARY, Some(password)), dir, secret);
}

/// Enrol a laptop for `login_name` whose current password on the hub is
/// `current`, choosing `new` while joining if given (required when `current`
/// is temporary), and create its store in `dir` (the hub's checks in-process).
pub fn enrol_as(
    admin: &mut Session,
    login_name: &str,
    (current, new): (&str, Option<&str>),
    dir: &Path,
    secret: [u8; 32],
) {
    let now = chrono::Utc::now();
    let hub = polku_audit::NodeKey::from_bytes(&admin.node_secret().expect("node key")).node_id();
    let addrs = vec![std::net::SocketAddr::from(([127, 0, 0, 1], 7777))];
    let ticket = admin
        .create_ticket(login_name, *hub.as_bytes(), addrs.clone(), now)
        .expect("ticket");
    let node = polku_audit::NodeKey::from_bytes(&secret).node_id();
    let grant = admin
        .redeem_ticket(
            &ticket.secret,
            node,
            login_name,
            current,
            new.and_then(chosen),
            "laptop",
            now,
        )
        .expect("redeem")
        .expect("enrolled");
    let pin = polku_api::HubPin {
        node: ticket.hub,
        addrs,
    };
    let password = new.unwrap_or(current);
    Workspace::join(dir, &grant, login_name, password, &secret, &pin, now).expect("join");
}

/// One sync session between a hub and a laptop replica, frames passed in
/// memory (no network). Returns each side's report or error.
pub fn sync_in_memory(
    hub: &mut polku_api::SyncReplica,
    laptop: &mut polku_api::SyncReplica,
) -> (
    Result<polku_sync::SyncReport, polku_sync::SyncError>,
    Result<polku_sync::SyncReport, polku_sync::SyncError>,
) {
    sync_in_memory_with(hub, laptop, &mut |frames| frames)
}

/// [`sync_in_memory`] with the laptop's frames passed through `rewrite`,
/// one call per answer of its session (a whole turn), before the hub gets
/// them: a hostile laptop.
pub fn sync_in_memory_with(
    hub: &mut polku_api::SyncReplica,
    laptop: &mut polku_api::SyncReplica,
    rewrite: &mut dyn FnMut(Vec<Vec<u8>>) -> Vec<Vec<u8>>,
) -> (
    Result<polku_sync::SyncReport, polku_sync::SyncError>,
    Result<polku_sync::SyncReport, polku_sync::SyncError>,
) {
    use std::collections::VecDeque;
    let mut hs = polku_sync::Session::new(hub.session_config(laptop.node_id()));
    let mut ls = polku_sync::Session::new(laptop.session_config(hub.node_id()));
    let bytes = |fs: Vec<polku_sync::Frame>| -> Vec<Vec<u8>> {
        fs.into_iter().map(polku_sync::Frame::into_bytes).collect()
    };
    let mut to_laptop: VecDeque<Vec<u8>> = bytes(hs.start(hub).expect("start")).into();
    let mut to_hub: VecDeque<Vec<u8>> = rewrite(bytes(ls.start(laptop).expect("start"))).into();
    let (mut hub_err, mut laptop_err) = (None, None);
    // Each side handles what the other sent until nothing moves.
    loop {
        let a = pump(
            &mut ls,
            laptop,
            &mut to_laptop,
            &mut to_hub,
            &mut laptop_err,
            rewrite,
        );
        let b = pump(
            &mut hs,
            hub,
            &mut to_hub,
            &mut to_laptop,
            &mut hub_err,
            &mut |f| f,
        );
        if !a && !b {
            break;
        }
    }
    let outcome = |s: &polku_sync::Session, err: Option<polku_sync::SyncError>| match err {
        Some(e) => Err(e),
        None if s.is_done() => Ok(s.report().clone()),
        None => Err(polku_sync::SyncError::Ended),
    };
    (outcome(&hs, hub_err), outcome(&ls, laptop_err))
}

/// Feed `session` every frame in `inbox`, queueing its answers; whether any moved.
fn pump(
    session: &mut polku_sync::Session,
    replica: &mut polku_api::SyncReplica,
    inbox: &mut std::collections::VecDeque<Vec<u8>>,
    outbox: &mut std::collections::VecDeque<Vec<u8>>,
    err: &mut Option<polku_sync::SyncError>,
    rewrite: &mut dyn FnMut(Vec<Vec<u8>>) -> Vec<Vec<u8>>,
) -> bool {
    let mut moved = false;
    while let Some(f) = inbox.pop_front() {
        moved = true;
        if session.is_done() || session.is_failed() {
            continue;
        }
        match session.handle(replica, &f) {
            Ok(out) => outbox.extend(rewrite(
                out.into_iter().map(polku_sync::Frame::into_bytes).collect(),
            )),
            Err(e) => {
                if let Some(fw) = session.farewell() {
                    outbox.push_back(fw.as_bytes().to_vec());
                }
                *err = Some(e);
            }
        }
    }
    moved
}
