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
    admin
        .add_user(
            UserInput {
                login: login_name.to_owned(),
                display_name: None,
                role: Role::Worker,
                units: vec![unit.to_owned()],
            },
            TEMPORARY,
            now,
        )
        .expect("add user");
    if admin.is_hub().expect("role") {
        return;
    }
    let mut s = login(dir, login_name, TEMPORARY);
    assert!(s.must_change_password());
    s.change_password(password, now).expect("change password");
    s.close().expect("close");
}
