//! A password change reaches every device (security review, issue 8 item 1):
//! changed on one laptop, it reaches the hub at the next sync and the user's
//! other laptop at its next one, where the old password stops opening the
//! store; a reset on the hub reaches the laptops as a temporary password that
//! must be changed. Nobody else's devices receive the user's password record.

use std::path::Path;

use chrono::Utc;
use polku_api::{EnrolRefused, Session, SyncReplica};
use polku_audit::NodeKey;
use polku_core::DocKind;
use polku_scenarios::{TEMPORARY, add_worker, chosen, demo_hub, enrol_as, login, sync_in_memory};
use polku_store::{LockedStore, StoreError};

const FIRST: &str = "ainon-salasana-1";
const CHANGED: &str = "ainon-uusi-salasana";

fn enrol(admin: &mut Session, user: &str, pw: &str, new: Option<&str>, dir: &Path, secret: u8) {
    enrol_as(admin, user, (pw, new), dir, [secret; 32]);
}

fn sync(hub: &mut SyncReplica, dir: &Path, user: &str, pw: &str) {
    let mut laptop = login(dir, user, pw).into_replica().expect("replica");
    let (h, l) = sync_in_memory(hub, &mut laptop);
    h.expect("hub side");
    l.expect("laptop side");
    laptop.into_session().close().expect("close");
}

fn opens(dir: &Path, user: &str, pw: &str) -> Result<(), StoreError> {
    LockedStore::open(dir)?.derive_key(user, pw).map(|_| ())
}

#[test]
fn a_password_changed_on_one_laptop_stops_the_old_one_everywhere() {
    let hub_dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let mut admin = demo_hub(hub_dir.path(), 4);
    add_worker(&mut admin, hub_dir.path(), "aino", "Itä", FIRST);
    add_worker(
        &mut admin,
        hub_dir.path(),
        "eero",
        "Itä",
        "eeron-salasana-1",
    );
    enrol(&mut admin, "aino", TEMPORARY, Some(FIRST), a.path(), 11);
    enrol(&mut admin, "aino", FIRST, None, b.path(), 12);
    let eero = tempfile::tempdir().expect("eero");
    enrol(
        &mut admin,
        "eero",
        TEMPORARY,
        Some("eeron-salasana-1"),
        eero.path(),
        13,
    );
    let mut hub = admin.into_replica().expect("hub");
    sync(&mut hub, a.path(), "aino", FIRST);
    sync(&mut hub, b.path(), "aino", FIRST);
    sync(&mut hub, eero.path(), "eero", "eeron-salasana-1");
    // Only aino's devices hold aino's password record.
    let credentials = |dir: &Path, user: &str, pw: &str| {
        let s = login(dir, user, pw);
        let n = s
            .store()
            .list_docs(DocKind::Credential)
            .expect("list")
            .len();
        s.close().expect("close");
        n
    };
    assert_eq!(credentials(a.path(), "aino", FIRST), 1);
    assert_eq!(credentials(eero.path(), "eero", "eeron-salasana-1"), 1);

    // Changed on laptop A, which syncs.
    let mut s = login(a.path(), "aino", FIRST);
    s.change_password(CHANGED, Utc::now()).expect("change");
    s.close().expect("close");
    sync(&mut hub, a.path(), "aino", CHANGED);
    // The hub checks enrolments against the new password now.
    let mut admin = hub.into_session();
    let c = tempfile::tempdir().expect("c");
    let ticket = admin
        .create_ticket("aino", [1; 32], vec![], Utc::now())
        .expect("ticket");
    let node = NodeKey::from_bytes(&[14; 32]).node_id();
    let r = admin
        .redeem_ticket(&ticket.secret, node, "aino", FIRST, None, "L", Utc::now())
        .expect("runs");
    assert_eq!(r.err(), Some(EnrolRefused::WrongPassword));
    enrol(&mut admin, "aino", CHANGED, None, c.path(), 15);
    let mut hub = admin.into_replica().expect("hub");

    // Laptop B still opens with the old password until it syncs; after, only
    // the new one opens it.
    opens(b.path(), "aino", FIRST).expect("before the sync");
    sync(&mut hub, b.path(), "aino", FIRST);
    assert!(matches!(
        opens(b.path(), "aino", FIRST),
        Err(StoreError::WrongPassword)
    ));
    let s = login(b.path(), "aino", CHANGED);
    assert!(!s.must_change_password());
    s.close().expect("close");
    // Eero's laptop is untouched.
    opens(eero.path(), "eero", "eeron-salasana-1").expect("eero");

    // A reset on the hub reaches laptop A as a temporary password.
    let mut admin = hub.into_session();
    admin
        .reset_password("aino", "nollattu-salasana-1", Utc::now())
        .expect("reset");
    let mut hub = admin.into_replica().expect("hub");
    sync(&mut hub, a.path(), "aino", CHANGED);
    assert!(matches!(
        opens(a.path(), "aino", CHANGED),
        Err(StoreError::WrongPassword)
    ));
    let s = login(a.path(), "aino", "nollattu-salasana-1");
    assert!(s.must_change_password());
    s.close().expect("close");
    hub.into_session().close().expect("close");
}

#[test]
fn a_laptop_may_not_change_another_users_password_record() {
    let hub_dir = tempfile::tempdir().expect("tempdir");
    let a = tempfile::tempdir().expect("a");
    let mut admin = demo_hub(hub_dir.path(), 2);
    add_worker(&mut admin, hub_dir.path(), "aino", "Itä", FIRST);
    add_worker(
        &mut admin,
        hub_dir.path(),
        "eero",
        "Itä",
        "eeron-salasana-1",
    );
    enrol(&mut admin, "aino", TEMPORARY, Some(FIRST), a.path(), 11);
    let eero_id = admin
        .organisation()
        .users
        .values()
        .find(|u| u.login == "eero")
        .map(|u| u.id)
        .expect("eero");
    let mut hub = admin.into_replica().expect("hub");
    sync(&mut hub, a.path(), "aino", FIRST);
    // Aino's laptop forges a record for eero (a password only aino knows).
    {
        let s = login(a.path(), "aino", FIRST);
        let verifier = chosen("aino-tietaa-taman").expect("verifier");
        let record = postcard_record(verifier);
        let id = polku_core::doc::credential::credential_doc_id(eero_id);
        let mut doc = polku_core::doc::credential::new_credential_doc(eero_id, &record);
        s.store()
            .create_doc(id, DocKind::Credential, &doc.save())
            .expect("forge");
        s.close().expect("close");
    }
    let mut laptop = login(a.path(), "aino", FIRST)
        .into_replica()
        .expect("replica");
    let (h, l) = sync_in_memory(&mut hub, &mut laptop);
    let l = l.expect("laptop side");
    h.expect("hub side");
    assert!(
        !l.refused_by_peer.is_empty(),
        "the hub refuses the forged record"
    );
    laptop.into_session().close().expect("close");
    // Eero's temporary password is still what the hub checks.
    let mut admin = hub.into_session();
    let e = tempfile::tempdir().expect("e");
    enrol(
        &mut admin,
        "eero",
        TEMPORARY,
        Some("eeron-salasana-1"),
        e.path(),
        20,
    );
    admin.close().expect("close");
}

/// The record as the service layer stores it (its private encoding, rebuilt
/// here to play a forger).
fn postcard_record(verifier: polku_api::PasswordVerifier) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Credential {
        verifier: polku_api::PasswordVerifier,
        temporary: bool,
        expires_at: Option<chrono::DateTime<Utc>>,
        set_at: chrono::DateTime<Utc>,
    }
    postcard::to_allocvec(&Credential {
        verifier,
        temporary: false,
        expires_at: None,
        set_at: Utc::now(),
    })
    .expect("encode")
}

#[test]
fn a_record_that_arrived_but_was_not_applied_is_applied_at_the_next_login() {
    let hub_dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let mut admin = demo_hub(hub_dir.path(), 2);
    add_worker(&mut admin, hub_dir.path(), "aino", "Itä", FIRST);
    enrol(&mut admin, "aino", TEMPORARY, Some(FIRST), a.path(), 11);
    enrol(&mut admin, "aino", FIRST, None, b.path(), 12);
    let aino = admin
        .organisation()
        .users
        .values()
        .find(|u| u.login == "aino")
        .map(|u| u.id)
        .expect("aino");
    let mut hub = admin.into_replica().expect("hub");
    sync(&mut hub, a.path(), "aino", FIRST);
    sync(&mut hub, b.path(), "aino", FIRST);
    let mut s = login(a.path(), "aino", FIRST);
    s.change_password(CHANGED, Utc::now()).expect("change");
    s.close().expect("close");
    sync(&mut hub, a.path(), "aino", CHANGED);
    // The new record reaches laptop B's store, but B stops (a crash) before
    // re-wrapping its login: the old password still opens it.
    let id = polku_core::doc::credential::credential_doc_id(aino);
    let mut newer = hub.session().store().load_doc(id).expect("hub's record");
    {
        let store = polku_store::Store::unlock(b.path(), "aino", FIRST).expect("unlock");
        let mut current = store.load_doc(id).expect("b's record");
        let old = current.get_heads();
        current.merge(&mut newer).expect("merge");
        let bytes = current.save_after(&old);
        store
            .append_change(id, &bytes, &current.get_heads())
            .expect("store the record only");
        store.close().expect("close");
    }
    opens(b.path(), "aino", FIRST).expect("not applied yet");
    // The next login applies it: from then on only the new password opens B.
    login(b.path(), "aino", FIRST).close().expect("close");
    assert!(matches!(
        opens(b.path(), "aino", FIRST),
        Err(StoreError::WrongPassword)
    ));
    opens(b.path(), "aino", CHANGED).expect("the new password");
    hub.into_session().close().expect("close");
}
