//! Lost devices and the offline lease (security review, issue 8 item 8, and
//! the argon2 minimum of item 10): a laptop whose last-contact record is gone,
//! or whose clock is set back, must sync before anything opens; the hub
//! refuses a new password protected more weakly than its policy; the sync
//! audit entry names the peer.

use chrono::{Duration, Utc};
use polku_api::{ApiError, EnrolRefused, HubPin, KdfParams, Workspace};
use polku_audit::NodeKey;
use polku_core::model::Role;
use polku_scenarios::{PASSWORD, TEMPORARY, add_user, chosen, demo_workspace, login};

/// A laptop store joined from a standalone "hub" store, for lease tests.
fn laptop(hub: &std::path::Path, laptop: &std::path::Path) {
    let mut admin = demo_workspace(hub, 2);
    let now = Utc::now();
    add_user(&mut admin, "maija", Role::Worker, Some("Itä"));
    let ticket = admin
        .create_ticket("maija", [1; 32], vec![], now)
        .expect("ticket");
    let node = NodeKey::from_bytes(&[2; 32]).node_id();
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
    admin.close().expect("close");
    let pin = HubPin {
        node: [1; 32],
        addrs: vec![],
    };
    Workspace::join(
        laptop,
        &grant,
        "maija",
        "maijan-oma-salasana",
        &[2; 32],
        &pin,
        now,
    )
    .expect("join");
}

#[test]
fn a_laptop_without_its_last_contact_record_must_sync_first() {
    let (h, l) = (
        tempfile::tempdir().expect("t"),
        tempfile::tempdir().expect("t"),
    );
    laptop(h.path(), l.path());
    login(l.path(), "maija", "maijan-oma-salasana")
        .close()
        .expect("close");
    // Someone with the key deletes the record (or it is lost): the lease
    // counts as expired, not as never started.
    {
        let store =
            polku_store::Store::unlock(l.path(), "maija", "maijan-oma-salasana").expect("unlock");
        assert!(
            store
                .delete_meta(b"polku/last-hub-contact/v1")
                .expect("delete")
        );
        store.close().expect("close");
    }
    let err = Workspace::open(l.path())
        .and_then(|w| w.login("maija", "maijan-oma-salasana", Utc::now()))
        .expect_err("must sync first");
    assert!(matches!(err, ApiError::ReauthRequired), "{err:?}");
    let s = Workspace::open(l.path())
        .and_then(|w| w.login_to_sync("maija", "maijan-oma-salasana", Utc::now()))
        .expect("a sync may log in");
    assert!(s.offline_lease_expired(Utc::now()).expect("lease"));
    s.close().expect("close");
}

#[test]
fn a_clock_set_back_behind_the_latest_time_seen_expires_the_lease() {
    let (h, l) = (
        tempfile::tempdir().expect("t"),
        tempfile::tempdir().expect("t"),
    );
    laptop(h.path(), l.path());
    let now = Utc::now();
    // A login a week on: within the lease.
    Workspace::open(l.path())
        .and_then(|w| w.login("maija", "maijan-oma-salasana", now + Duration::days(7)))
        .expect("within the lease")
        .close_at(now + Duration::days(7))
        .expect("close");
    // The clock is set back a day (more than the tolerance): refused.
    let back = now + Duration::days(6);
    let err = Workspace::open(l.path())
        .and_then(|w| w.login("maija", "maijan-oma-salasana", back))
        .expect_err("clock set back");
    assert!(matches!(err, ApiError::ReauthRequired), "{err:?}");
    // A few minutes back (a time server's correction) is tolerated.
    let nudged =
        now + Duration::days(7) - Duration::minutes(polku_api::CLOCK_BACK_TOLERANCE_MINUTES - 1);
    Workspace::open(l.path())
        .and_then(|w| w.login("maija", "maijan-oma-salasana", nudged))
        .expect("a small correction is fine")
        .close_at(nudged)
        .expect("close");
}

#[test]
fn the_hub_refuses_a_new_password_protected_more_weakly_than_its_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A store with the real (RFC 9106) policy.
    Workspace::init(dir.path(), "admin", PASSWORD, Utc::now()).expect("init");
    let mut admin = login(dir.path(), "admin", PASSWORD);
    add_user(&mut admin, "maija", Role::Worker, None);
    let now = Utc::now();
    let ticket = admin
        .create_ticket("maija", [1; 32], vec![], now)
        .expect("ticket");
    let node = NodeKey::from_bytes(&[2; 32]).node_id();
    // `chosen` makes the verifier with test-only parameters (64 KiB).
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
    assert_eq!(r.err(), Some(EnrolRefused::WeakVerifier));
    let strong = polku_api::PasswordVerifier::create("maijan-oma-salasana", KdfParams::default())
        .expect("verifier");
    admin
        .redeem_ticket(
            &ticket.secret,
            node,
            "maija",
            TEMPORARY,
            Some(strong),
            "L",
            now,
        )
        .expect("runs")
        .expect("enrolled");
    admin.close().expect("close");
}
