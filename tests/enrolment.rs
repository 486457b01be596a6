//! Enrolment without the network: tickets, the hub's checks, the laptop store
//! created from the grant, revocation.

use chrono::{Duration, Utc};
use polku_api::{EnrolRefused, HubPin, KdfParams, Ticket, Workspace};
use polku_audit::NodeKey;
use polku_scenarios::{PASSWORD, add_worker, login};

fn hub(dir: &std::path::Path) -> polku_api::Session {
    Workspace::init_with(
        dir,
        "admin",
        PASSWORD,
        Utc::now(),
        KdfParams::INSECURE_FOR_TESTS,
    )
    .expect("init");
    let mut admin = login(dir, "admin", PASSWORD);
    admin.add_demo(6, 2, Utc::now()).expect("demo");
    admin
}

#[test]
fn a_ticket_enrols_one_laptop_once_for_its_user() {
    let hub_dir = tempfile::tempdir().expect("tempdir");
    let mut admin = hub(hub_dir.path());
    add_worker(
        &mut admin,
        hub_dir.path(),
        "maija",
        "Itä",
        "maijan-salasana",
    );
    add_worker(
        &mut admin,
        hub_dir.path(),
        "ville",
        "Itä",
        "villen-salasana",
    );
    let now = Utc::now();
    let hub_node = NodeKey::from_bytes(&admin.node_secret().expect("secret")).node_id();
    let addrs = vec!["127.0.0.1:7777".parse().expect("addr")];
    let ticket = admin
        .create_ticket("maija", *hub_node.as_bytes(), addrs.clone(), now)
        .expect("ticket");
    let ticket = Ticket::decode(&ticket.encode()).expect("round trip");
    let laptop_secret = [5u8; 32];
    let laptop_node = NodeKey::from_bytes(&laptop_secret).node_id();

    // Wrong password, wrong user, unknown secret: refused, nothing recorded.
    let r = admin
        .redeem_ticket(
            &ticket.secret,
            laptop_node,
            "maija",
            "wrong",
            None,
            "L1",
            now,
        )
        .expect("runs");
    assert_eq!(r.err(), Some(EnrolRefused::WrongPassword));
    let r = admin
        .redeem_ticket(
            &ticket.secret,
            laptop_node,
            "ville",
            "villen-salasana",
            None,
            "L1",
            now,
        )
        .expect("runs");
    assert_eq!(r.err(), Some(EnrolRefused::InvalidTicket));
    let r = admin
        .redeem_ticket(
            &[0; 32],
            laptop_node,
            "maija",
            "maijan-salasana",
            None,
            "L1",
            now,
        )
        .expect("runs");
    assert_eq!(r.err(), Some(EnrolRefused::InvalidTicket));
    assert!(!admin.device_allowed(laptop_node));

    // The right user and password: enrolled.
    let grant = admin
        .redeem_ticket(
            &ticket.secret,
            laptop_node,
            "maija",
            "maijan-salasana",
            None,
            "Läppäri 1",
            now,
        )
        .expect("runs")
        .expect("enrolled");
    assert!(admin.device_allowed(laptop_node));
    assert_eq!(admin.devices(now).expect("devices").len(), 1);
    // The ticket is one-time.
    let again = admin
        .redeem_ticket(
            &ticket.secret,
            node(6),
            "maija",
            "maijan-salasana",
            None,
            "L2",
            now,
        )
        .expect("runs");
    assert_eq!(again.err(), Some(EnrolRefused::InvalidTicket));

    // The laptop creates its own store from the grant and the user logs in there.
    let laptop_dir = tempfile::tempdir().expect("tempdir");
    let pin = HubPin {
        node: ticket.hub,
        addrs,
    };
    Workspace::join(
        laptop_dir.path(),
        &grant,
        "maija",
        "maijan-salasana",
        &laptop_secret,
        &pin,
        now,
    )
    .expect("join");
    let maija = login(laptop_dir.path(), "maija", "maijan-salasana");
    assert_eq!(maija.hub_pin().expect("pin"), Some(pin));
    assert!(!maija.is_hub().expect("role"));
    assert_eq!(maija.node_secret().expect("secret"), laptop_secret);
    assert_eq!(maija.organisation().id, admin.organisation().id);
    assert!(
        maija
            .organisation()
            .devices
            .contains_key(&laptop_node.to_string())
    );

    maija.close().expect("close");
    // Offline for 13 days: within the lease (14 days), a normal login.
    let day13 = now + Duration::days(13);
    Workspace::open(laptop_dir.path())
        .and_then(|w| w.login("maija", "maijan-salasana", day13))
        .expect("within the lease")
        .close_at(day13)
        .expect("close");
    // Offline for longer than the lease: only a sync may log in.
    let later = now + Duration::days(15);
    let err = Workspace::open(laptop_dir.path())
        .and_then(|w| w.login("maija", "maijan-salasana", later))
        .expect_err("lease expired");
    assert!(
        matches!(err, polku_api::ApiError::ReauthRequired),
        "{err:?}"
    );
    let s = Workspace::open(laptop_dir.path())
        .and_then(|w| w.login_to_sync("maija", "maijan-salasana", later))
        .expect("a sync may log in");
    assert!(s.offline_lease_expired(later).expect("lease"));
    // Setting the clock back behind the latest time the laptop has seen
    // (day 15) does not bring the lease back.
    assert!(s.offline_lease_expired(day13).expect("lease"));
    s.close().expect("close");

    // Revocation takes effect for the next contact.
    admin
        .revoke_device(&laptop_node.to_string()[..12], now)
        .expect("revoke");
    assert!(!admin.device_allowed(laptop_node));
    // Deactivating a user also shuts out their devices.
    let ticket2 = admin
        .create_ticket("ville", *hub_node.as_bytes(), vec![], now)
        .expect("ticket");
    let ville_node = NodeKey::from_bytes(&[8u8; 32]).node_id();
    admin
        .redeem_ticket(
            &ticket2.secret,
            ville_node,
            "ville",
            "villen-salasana",
            None,
            "L3",
            now,
        )
        .expect("runs")
        .expect("enrolled");
    assert!(admin.device_allowed(ville_node));
    admin.set_active("ville", false, now).expect("deactivate");
    assert!(!admin.device_allowed(ville_node));
}

#[test]
fn an_expired_ticket_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut admin = hub(dir.path());
    add_worker(&mut admin, dir.path(), "maija", "Itä", "maijan-salasana");
    let now = Utc::now();
    let ticket = admin
        .create_ticket("maija", [1; 32], vec![], now)
        .expect("ticket");
    let later = now + Duration::hours(polku_api::TICKET_LIFETIME_HOURS + 1);
    let node = NodeKey::from_bytes(&[4u8; 32]).node_id();
    let r = admin
        .redeem_ticket(
            &ticket.secret,
            node,
            "maija",
            "maijan-salasana",
            None,
            "L",
            later,
        )
        .expect("runs");
    assert_eq!(r.err(), Some(EnrolRefused::InvalidTicket));
}

fn node(byte: u8) -> polku_audit::NodeId {
    NodeKey::from_bytes(&[byte; 32]).node_id()
}
