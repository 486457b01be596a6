//! One transaction per operation (security review, issue 8 item 6): a child
//! process runs `user add`, a password change, a password reset, ticket
//! creation, ticket redemption and `init`, and is killed with SIGKILL at
//! every row write the operation makes (before its commit). After each kill
//! the store verifies, its audit log verifies, and the operation either
//! happened whole or not at all: never a login without its user, a changed
//! password without its audit entry, or a used ticket without its device.

use std::path::Path;
use std::process::Command;

use chrono::Utc;
use polku_api::{AuditQuery, KdfParams, Session, Workspace};
use polku_core::model::Role;
use polku_scenarios::{PASSWORD, TEMPORARY, add_user, chosen, files_under, login};

const NEW: &str = "fault-new-password";
const RESET: &str = "fault-reset-password";

struct Run {
    before: Option<u64>,
    after: Option<u64>,
    ticket: Option<String>,
    killed: bool,
}

fn run(op: &str, dir: &Path, extra: Option<&str>, kill_at: Option<u64>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fault-op"));
    cmd.arg(op).arg(dir);
    if let Some(x) = extra {
        cmd.arg(x);
    }
    if let Some(k) = kill_at {
        cmd.env("POLKU_FAULT_KILL_AT_WRITE", k.to_string());
    }
    let out = cmd.output().expect("run fault-op");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
    };
    let killed = {
        use std::os::unix::process::ExitStatusExt;
        out.status.signal() == Some(9)
    };
    assert!(
        killed || out.status.success(),
        "{op} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Run {
        before: field("before ").and_then(|v| v.parse().ok()),
        after: field("after ").and_then(|v| v.parse().ok()),
        ticket: field("ticket "),
        killed,
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for f in files_under(from) {
        let rel = f.strip_prefix(from).expect("under");
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&f, &dest).expect("copy");
    }
    std::fs::create_dir_all(to.join(polku_store::ATTACHMENTS_DIR)).expect("attachments");
}

/// The store and its audit log verify, and every local login belongs to a
/// user of the organisation.
fn verifies(dir: &Path) {
    let mut admin = login(dir, "admin", PASSWORD);
    admin.store().verify().expect("store verifies");
    for l in admin.store().list_users().expect("logins") {
        assert!(
            admin.organisation().users.contains_key(&l.user_id),
            "a login without its user"
        );
    }
    admin
        .audit_verify(Utc::now())
        .expect("runs")
        .expect("audit log verifies");
    admin.close().expect("close");
}

fn audit_has(admin: &mut Session, detail: &str) -> bool {
    admin
        .audit_list(&AuditQuery::default(), Utc::now())
        .expect("audit")
        .iter()
        .any(|r| r.detail == detail)
}

fn logs_in(dir: &Path, user: &str, password: &str) -> Option<bool> {
    Workspace::open(dir)
        .and_then(|w| w.login(user, password, Utc::now()))
        .ok()
        .map(|s| {
            let must = s.must_change_password();
            s.close().expect("close");
            must
        })
}

/// Run `op` once without a fault to learn the row writes it makes, then once
/// killed at each of them on a fresh copy of `base`; `check` gets each copy
/// after the kill.
fn kill_at_every_write(op: &str, base: &Path, extra: Option<&str>, check: impl Fn(&Path)) -> u64 {
    let dry = tempfile::tempdir().expect("tempdir");
    copy_tree(base, dry.path());
    let r = run(op, dry.path(), extra, None);
    let (before, after) = (r.before.expect("before"), r.after.expect("after"));
    assert!(after > before, "{op} writes nothing?");
    for k in before + 1..=after {
        let copy = tempfile::tempdir().expect("tempdir");
        copy_tree(base, copy.path());
        let r = run(op, copy.path(), extra, Some(k));
        assert!(r.killed, "{op} was not killed at write {k}");
        assert!(r.after.is_none());
        if copy.path().join(polku_api::DB_FILE).exists() {
            verifies(copy.path());
        }
        check(copy.path());
    }
    after - before
}

fn standalone(with_maija: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    Workspace::init_with(
        dir.path(),
        "admin",
        PASSWORD,
        Utc::now(),
        KdfParams::INSECURE_FOR_TESTS,
    )
    .expect("init");
    let mut admin = login(dir.path(), "admin", PASSWORD);
    admin.add_demo(2, 1, Utc::now()).expect("demo");
    if with_maija {
        add_user(&mut admin, "maija", Role::Worker, None);
    }
    admin.close().expect("close");
    dir
}

#[test]
fn user_add_killed_at_every_write_leaves_no_login_without_its_user() {
    let base = standalone(false);
    let steps = kill_at_every_write("add-user", base.path(), None, |dir| {
        let mut admin = login(dir, "admin", PASSWORD);
        assert!(
            !admin
                .organisation()
                .users
                .values()
                .any(|u| u.login == "maija")
        );
        assert!(!audit_has(&mut admin, "user_add"));
        admin.close().expect("close");
        assert_eq!(
            logs_in(dir, "maija", TEMPORARY),
            None,
            "a login without its user"
        );
    });
    assert!(steps >= 4, "{steps}");
}

#[test]
fn a_password_change_killed_at_every_write_keeps_the_old_password_and_no_audit_entry() {
    let base = standalone(true);
    kill_at_every_write("change-password", base.path(), None, |dir| {
        assert_eq!(logs_in(dir, "maija", TEMPORARY), Some(true));
        assert_eq!(logs_in(dir, "maija", NEW), None);
        let mut admin = login(dir, "admin", PASSWORD);
        assert!(!audit_has(&mut admin, "password_change"));
        admin.close().expect("close");
    });
    // Without the fault it happened whole.
    let done = tempfile::tempdir().expect("tempdir");
    copy_tree(base.path(), done.path());
    run("change-password", done.path(), None, None);
    assert_eq!(logs_in(done.path(), "maija", NEW), Some(false));
    assert_eq!(logs_in(done.path(), "maija", TEMPORARY), None);
}

#[test]
fn a_password_reset_killed_at_every_write_changes_nothing() {
    let base = standalone(true);
    kill_at_every_write("reset-password", base.path(), None, |dir| {
        assert_eq!(logs_in(dir, "maija", TEMPORARY), Some(true));
        assert_eq!(logs_in(dir, "maija", RESET), None);
        let mut admin = login(dir, "admin", PASSWORD);
        assert!(!audit_has(&mut admin, "password_reset"));
        admin.close().expect("close");
    });
}

fn hub_with_maija() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    Workspace::init_hub_with(
        dir.path(),
        "admin",
        PASSWORD,
        Utc::now(),
        KdfParams::INSECURE_FOR_TESTS,
    )
    .expect("init");
    let mut admin = login(dir.path(), "admin", PASSWORD);
    add_user(&mut admin, "maija", Role::Worker, None);
    admin.close().expect("close");
    dir
}

#[test]
fn ticket_creation_killed_at_every_write_leaves_no_ticket_and_no_entry() {
    let base = hub_with_maija();
    kill_at_every_write("ticket", base.path(), None, |dir| {
        let mut admin = login(dir, "admin", PASSWORD);
        assert!(!audit_has(&mut admin, "ticket"));
        admin.close().expect("close");
    });
    let done = tempfile::tempdir().expect("tempdir");
    copy_tree(base.path(), done.path());
    let r = run("ticket", done.path(), None, None);
    assert!(r.ticket.is_some());
    let mut admin = login(done.path(), "admin", PASSWORD);
    assert!(audit_has(&mut admin, "ticket"));
    admin.close().expect("close");
}

#[test]
fn a_redemption_killed_at_every_write_never_uses_the_ticket_without_the_device() {
    let base = hub_with_maija();
    let ticket = {
        let mut admin = login(base.path(), "admin", PASSWORD);
        let t = admin
            .create_ticket("maija", [1; 32], vec![], Utc::now())
            .expect("ticket");
        admin.close().expect("close");
        t
    };
    let text = ticket.encode();
    let node = polku_audit::NodeKey::from_bytes(&[42; 32]).node_id();
    kill_at_every_write("redeem", base.path(), Some(&text), |dir| {
        let mut admin = login(dir, "admin", PASSWORD);
        assert!(!admin.device_allowed(node));
        // The ticket was not used: it still enrols the device, with the
        // temporary password (not changed either).
        admin
            .redeem_ticket(
                &ticket.secret,
                node,
                "maija",
                TEMPORARY,
                chosen(NEW),
                "L",
                Utc::now(),
            )
            .expect("runs")
            .expect("the ticket still works");
        assert!(admin.device_allowed(node));
        admin.close().expect("close");
    });
}

#[test]
fn init_killed_at_every_write_leaves_no_half_made_store() {
    let empty = tempfile::tempdir().expect("tempdir");
    kill_at_every_write("init", empty.path(), None, |dir| {
        assert!(!dir.join(polku_api::DB_FILE).exists(), "a half-made store");
        // `init` again just works.
        Workspace::init_hub_with(
            dir,
            "admin",
            PASSWORD,
            Utc::now(),
            KdfParams::INSECURE_FOR_TESTS,
        )
        .expect("init again");
    });
}
