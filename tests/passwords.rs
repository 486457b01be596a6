//! Who can unlock what (security review, issue 8 item 1 and 7): a worker's
//! password never opens the hub; temporary passwords are changed before
//! anything is shown, also while joining, and expire; the password policy;
//! wrong passwords at enrolment count per ticket, not on the hub's logins.

use chrono::{Duration, Utc};
use polku_api::{
    ApiError, EnrolRefused, KdfParams, Session, TICKET_MAX_WRONG_PASSWORDS, UserInput, Workspace,
};
use polku_audit::NodeKey;
use polku_core::model::Role;
use polku_core::password::PasswordRejected;
use polku_scenarios::{PASSWORD, TEMPORARY, add_user, chosen, demo_hub, demo_workspace, login};
use polku_store::{LockedStore, StoreError};

fn add(admin: &mut Session, login: &str, role: Role) {
    add_user(admin, login, role, Some("Itä"));
}

/// Copy the store's files (as a thief with the hub's disk or a backup would).
fn copy_of(dir: &std::path::Path) -> tempfile::TempDir {
    let copy = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let p = entry.expect("entry").path();
        if p.is_file() {
            std::fs::copy(&p, copy.path().join(p.file_name().expect("name"))).expect("copy");
        }
    }
    copy
}

fn unlocks(dir: &std::path::Path, login: &str, password: &str) -> Result<(), StoreError> {
    LockedStore::open(dir)?
        .derive_key(login, password)
        .map(|_| ())
}

fn enrol(
    admin: &mut Session,
    login: &str,
    password: &str,
    new_password: Option<&str>,
    node_byte: u8,
) -> Result<polku_api::EnrolGrant, EnrolRefused> {
    let now = Utc::now();
    let ticket = admin
        .create_ticket(login, [1; 32], vec![], now)
        .expect("ticket");
    let node = NodeKey::from_bytes(&[node_byte; 32]).node_id();
    admin
        .redeem_ticket(
            &ticket.secret,
            node,
            login,
            password,
            new_password.and_then(chosen),
            "L",
            now,
        )
        .expect("runs")
}

#[test]
fn a_workers_password_temporary_or_changed_cannot_unlock_a_copy_of_the_hub_an_admins_can() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut admin = demo_hub(dir.path(), 3);
    add(&mut admin, "maija", Role::Worker);
    add(&mut admin, "kalle", Role::Coordinator);

    // The temporary password opens nothing on the hub.
    let copy = copy_of(dir.path());
    for login_name in ["maija", "kalle"] {
        assert!(
            matches!(
                unlocks(copy.path(), login_name, TEMPORARY),
                Err(StoreError::UnknownUser)
            ),
            "{login_name}"
        );
    }
    // Nor the password maija chose while joining.
    enrol(
        &mut admin,
        "maija",
        TEMPORARY,
        Some("maijan-oma-salasana"),
        9,
    )
    .expect("enrolled");
    let copy = copy_of(dir.path());
    assert!(matches!(
        unlocks(copy.path(), "maija", "maijan-oma-salasana"),
        Err(StoreError::UnknownUser)
    ));
    assert!(matches!(
        unlocks(copy.path(), "maija", TEMPORARY),
        Err(StoreError::UnknownUser)
    ));
    // The administrator's does.
    unlocks(copy.path(), "admin", PASSWORD).expect("the admin opens the hub");

    // Promoted to administrator, maija's own password opens the hub (the hub
    // wraps its key to her password record without knowing the password);
    // demoted again, it does not.
    admin
        .set_role("maija", Role::Admin, Utc::now())
        .expect("promote");
    let copy = copy_of(dir.path());
    unlocks(copy.path(), "maija", "maijan-oma-salasana").expect("an admin opens the hub");
    admin
        .set_role("maija", Role::Worker, Utc::now())
        .expect("demote");
    let copy = copy_of(dir.path());
    assert!(matches!(
        unlocks(copy.path(), "maija", "maijan-oma-salasana"),
        Err(StoreError::UnknownUser)
    ));
    // A deactivated administrator's password stops opening the hub too.
    add(&mut admin, "pirjo", Role::Admin);
    let copy = copy_of(dir.path());
    unlocks(copy.path(), "pirjo", TEMPORARY).expect("a new admin opens the hub");
    admin
        .set_active("pirjo", false, Utc::now())
        .expect("deactivate");
    let copy = copy_of(dir.path());
    assert!(matches!(
        unlocks(copy.path(), "pirjo", TEMPORARY),
        Err(StoreError::UnknownUser)
    ));
    admin.close().expect("close");
}

#[test]
fn joining_with_a_temporary_password_forces_a_new_one_before_anything_is_shown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut admin = demo_hub(dir.path(), 3);
    add(&mut admin, "maija", Role::Worker);
    let now = Utc::now();
    let ticket = admin
        .create_ticket("maija", [1; 32], vec![], now)
        .expect("ticket");
    let node = NodeKey::from_bytes(&[7; 32]).node_id();
    // The temporary password alone enrols nothing, and does not use the ticket.
    let r = admin
        .redeem_ticket(&ticket.secret, node, "maija", TEMPORARY, None, "L", now)
        .expect("runs");
    assert_eq!(r.err(), Some(EnrolRefused::MustChangePassword));
    assert!(!admin.device_allowed(node));
    // With the new password's verifier: enrolled, and the hub's record is the
    // new password from now on.
    let grant = admin
        .redeem_ticket(
            &ticket.secret,
            node,
            "maija",
            TEMPORARY,
            chosen("maijan-oma-salasana"),
            "L",
            now,
        )
        .expect("runs")
        .expect("enrolled");
    assert!(admin.device_allowed(node));
    // The temporary password no longer enrols a second laptop; the new one does.
    assert_eq!(
        enrol(&mut admin, "maija", TEMPORARY, Some("x-salasana-12"), 8).err(),
        Some(EnrolRefused::WrongPassword)
    );
    enrol(&mut admin, "maija", "maijan-oma-salasana", None, 10).expect("second laptop");

    // The laptop's store opens with the new password only.
    let laptop = tempfile::tempdir().expect("tempdir");
    let pin = polku_api::HubPin {
        node: [1; 32],
        addrs: vec![],
    };
    Workspace::join(
        laptop.path(),
        &grant,
        "maija",
        "maijan-oma-salasana",
        &[7; 32],
        &pin,
        now,
    )
    .expect("join");
    assert!(matches!(
        unlocks(laptop.path(), "maija", TEMPORARY),
        Err(StoreError::WrongPassword)
    ));
    let s = login(laptop.path(), "maija", "maijan-oma-salasana");
    assert!(!s.must_change_password());
    s.close().expect("close");
}

#[test]
fn a_temporary_password_shows_nothing_until_changed_and_expires_after_72_hours() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut admin = demo_workspace(dir.path(), 4);
    add(&mut admin, "maija", Role::Worker);
    let client = admin.list_clients(Utc::now()).expect("list")[0].id;
    admin.close().expect("close");

    let now = Utc::now();
    let mut s = login(dir.path(), "maija", TEMPORARY);
    assert!(s.must_change_password());
    assert!(matches!(
        s.list_clients(now),
        Err(ApiError::MustChangePassword)
    ));
    assert!(matches!(
        s.search("a", now),
        Err(ApiError::MustChangePassword)
    ));
    assert!(matches!(
        s.show_client(client, now),
        Err(ApiError::MustChangePassword)
    ));
    assert!(matches!(
        s.all_clients(now),
        Err(ApiError::MustChangePassword)
    ));
    // The new password must satisfy the policy.
    assert!(matches!(
        s.change_password("lyhyt", now),
        Err(ApiError::PasswordRejected(PasswordRejected::TooShort {
            min: 10
        }))
    ));
    assert!(matches!(
        s.change_password("Salasana123", now),
        Err(ApiError::PasswordRejected(PasswordRejected::TooCommon))
    ));
    s.close().expect("close");

    // 73 hours later the temporary password is refused, and the refusal is audited.
    let later = now + Duration::hours(polku_api::TEMPORARY_PASSWORD_HOURS + 1);
    let err = Workspace::open(dir.path())
        .and_then(|w| w.login("maija", TEMPORARY, later))
        .expect_err("expired");
    assert!(matches!(err, ApiError::TemporaryPasswordExpired), "{err:?}");
    assert!(err.is_auth_failure());

    // Within the 72 hours it is changed, and everything opens.
    let mut s = login(dir.path(), "maija", TEMPORARY);
    s.change_password("maijan-oma-salasana", now)
        .expect("change");
    assert!(!s.list_clients(now).expect("list").is_empty());
    s.close().expect("close");
    let mut s = login(dir.path(), "maija", "maijan-oma-salasana");
    assert!(!s.must_change_password());
    s.show_client(client, now).expect("shown");
    s.close().expect("close");

    let mut admin = login(dir.path(), "admin", PASSWORD);
    let rows = admin
        .audit_list(&polku_api::AuditQuery::default(), Utc::now())
        .expect("audit");
    assert!(
        rows.iter()
            .any(|r| r.action == "failed_login" && r.detail.contains("password_expired")),
        "{rows:?}"
    );
    admin.close().expect("close");
}

#[test]
fn new_passwords_follow_the_policy_everywhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    for bad in ["short", "qwertyuiop", "SALASANA123"] {
        let err = Workspace::init_with(
            dir.path(),
            "admin",
            bad,
            Utc::now(),
            KdfParams::INSECURE_FOR_TESTS,
        )
        .expect_err("refused");
        assert!(matches!(err, ApiError::PasswordRejected(_)), "{err:?}");
        assert!(!dir.path().join(polku_api::DB_FILE).exists());
    }
    let mut admin = demo_workspace(dir.path(), 1);
    for bad in ["short", "1234567890"] {
        let err = admin
            .add_user(
                UserInput {
                    login: "ville".into(),
                    display_name: None,
                    role: Role::Worker,
                    units: vec![],
                },
                bad,
                Utc::now(),
            )
            .expect_err("refused");
        assert!(matches!(err, ApiError::PasswordRejected(_)), "{err:?}");
        let err = admin
            .reset_password("admin", bad, Utc::now())
            .expect_err("refused");
        assert!(matches!(err, ApiError::PasswordRejected(_)), "{err:?}");
    }
    assert!(
        !admin
            .organisation()
            .users
            .values()
            .any(|u| u.login == "ville")
    );
    admin.close().expect("close");
}

#[test]
fn wrong_passwords_at_enrolment_void_the_ticket_and_never_lock_out_the_admin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut admin = demo_hub(dir.path(), 2);
    add(&mut admin, "maija", Role::Worker);
    let now = Utc::now();
    let failures_before = admin.store().auth_failures().expect("failures").len();
    // Three wrong passwords void one ticket: the right one is refused after.
    let ticket = admin
        .create_ticket("maija", [1; 32], vec![], now)
        .expect("ticket");
    let node = NodeKey::from_bytes(&[3; 32]).node_id();
    for _ in 0..TICKET_MAX_WRONG_PASSWORDS {
        let r = admin
            .redeem_ticket(
                &ticket.secret,
                node,
                "maija",
                "vaarin-arvattu",
                None,
                "L",
                now,
            )
            .expect("runs");
        assert_eq!(r.err(), Some(EnrolRefused::WrongPassword));
    }
    let r = admin
        .redeem_ticket(
            &ticket.secret,
            node,
            "maija",
            TEMPORARY,
            chosen("maijan-oma-salasana"),
            "L",
            now,
        )
        .expect("runs");
    assert_eq!(r.err(), Some(EnrolRefused::InvalidTicket));
    // Many more wrong joins on fresh tickets: the hub's own login backoff is
    // untouched, so the administrator still logs in at once.
    for i in 0..6u8 {
        assert_eq!(
            enrol(&mut admin, "maija", "vaarin-arvattu", None, 20 + i).err(),
            Some(EnrolRefused::WrongPassword)
        );
    }
    assert_eq!(
        admin.store().auth_failures().expect("failures").len(),
        failures_before
    );
    admin.close().expect("close");
    let admin = login(dir.path(), "admin", PASSWORD);
    admin.close().expect("close");
}

#[test]
fn a_cancelled_ticket_enrols_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut admin = demo_hub(dir.path(), 2);
    add(&mut admin, "maija", Role::Worker);
    let now = Utc::now();
    let ticket = admin
        .create_ticket("maija", [1; 32], vec![], now)
        .expect("ticket");
    admin.cancel_ticket(&ticket, now).expect("cancel");
    let node = NodeKey::from_bytes(&[3; 32]).node_id();
    let r = admin
        .redeem_ticket(
            &ticket.secret,
            node,
            "maija",
            TEMPORARY,
            chosen("maijan-oma-salasana"),
            "L",
            now,
        )
        .expect("runs");
    assert_eq!(r.err(), Some(EnrolRefused::InvalidTicket));
    admin.close().expect("close");
}

#[test]
fn a_user_added_by_another_process_while_the_hub_runs_enrols_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The hub's long-lived session (as `polku hub` holds it).
    let mut hub = demo_hub(dir.path(), 2);
    // Meanwhile `polku user add` and `polku device ticket` run as other
    // processes, each with its own session on the same store.
    let mut other = login(dir.path(), "admin", PASSWORD);
    add(&mut other, "uusi", Role::Worker);
    let now = Utc::now();
    let ticket = other
        .create_ticket("uusi", [1; 32], vec![], now)
        .expect("ticket");
    other.close().expect("close");
    let node = NodeKey::from_bytes(&[4; 32]).node_id();
    let grant = hub
        .redeem_ticket(
            &ticket.secret,
            node,
            "uusi",
            TEMPORARY,
            chosen("uuden-oma-salasana"),
            "L",
            now,
        )
        .expect("runs")
        .expect("enrolled without a restart of the hub");
    assert!(hub.device_allowed(node));
    assert_eq!(
        hub.organisation()
            .users
            .get(&grant.user)
            .map(|u| u.login.as_str()),
        Some("uusi")
    );
    hub.close().expect("close");
}

#[test]
fn a_wrapping_weaker_than_the_policy_is_rewrapped_at_login() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A store whose policy is RFC 9106's default, with a login wrapped with
    // cheaper parameters (as an older version would have made it).
    Workspace::init(dir.path(), "admin", PASSWORD, Utc::now()).expect("init");
    {
        let store = polku_store::Store::unlock(dir.path(), "admin", PASSWORD).expect("unlock");
        let id = store.current_user();
        store
            .change_password(id, PASSWORD, KdfParams::INSECURE_FOR_TESTS)
            .expect("weaken");
        assert_eq!(
            store.list_users().expect("users")[0].kdf,
            KdfParams::INSECURE_FOR_TESTS
        );
        store.close().expect("close");
    }
    login(dir.path(), "admin", PASSWORD).close().expect("close");
    let store = polku_store::Store::unlock(dir.path(), "admin", PASSWORD).expect("unlock");
    assert_eq!(
        store.list_users().expect("users")[0].kdf,
        KdfParams::default()
    );
    store.close().expect("close");
}
