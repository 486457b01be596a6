//! Sync between a hub store and a laptop store through [`SyncReplica`]: two
//! `polku_sync::Session`s exchange frames in-process (no network).

use std::collections::{BTreeSet, VecDeque};
use std::path::Path;
use std::sync::{Arc, Barrier, Mutex};

use chrono::Utc;
use polku_api::{ClientInput, HubPin, Session, SyncReplica, UserInput, Workspace};
use polku_audit::{NodeId, NodeKey};
use polku_core::doc::ClientDoc;
use polku_core::model::{Memo, Role, record_doc_id};
use polku_core::{ClientId, DocId, DocKind, MemoId, UnitId};
use polku_sync::protocol::{ErrorCode, RefusedReason};
use polku_sync::{Denial, Replica, SyncError, SyncReport};

const ADMIN_PW: &str = "hub-admin-password-1";
const MAIJA_PW: &str = "maijan-salasana-1";
const LAPTOP_SECRET: [u8; 32] = [7; 32];

fn login(dir: &Path, user: &str, password: &str) -> Session {
    Workspace::open(dir)
        .and_then(|w| w.login(user, password, Utc::now()))
        .unwrap_or_else(|e| panic!("login failed: {e}"))
}

struct World {
    hub_dir: tempfile::TempDir,
    _laptop_dir: tempfile::TempDir,
    hub: SyncReplica,
    laptop: SyncReplica,
    laptop_node: NodeId,
    ita: UnitId,
    keskusta: UnitId,
}

/// A hub with demo data (units "Keskusta" and "Itä") and a laptop enrolled
/// for the worker "maija" of "Itä".
fn world() -> World {
    let now = Utc::now();
    let hub_dir = tempfile::tempdir().expect("tempdir");
    let laptop_dir = tempfile::tempdir().expect("tempdir");
    Workspace::init_hub(hub_dir.path(), "admin", ADMIN_PW, now).expect("init hub");
    let mut admin = login(hub_dir.path(), "admin", ADMIN_PW);
    admin.add_demo(16, 5, now).expect("demo");
    admin
        .add_user(
            UserInput {
                login: "maija".into(),
                display_name: None,
                role: Role::Worker,
                units: vec!["Itä".into()],
            },
            "temporary-1",
            now,
        )
        .expect("add user");
    // A worker has no login on the hub: the temporary password is changed
    // while joining (the laptop sends only the new password's verifier).
    let chosen = polku_api::PasswordVerifier::create(MAIJA_PW, polku_api::KdfParams::default())
        .expect("verifier");

    let hub_node = NodeKey::from_bytes(&admin.node_secret().expect("secret")).node_id();
    let addrs = vec!["127.0.0.1:7777".parse().expect("addr")];
    let ticket = admin
        .create_ticket("maija", *hub_node.as_bytes(), addrs.clone(), now)
        .expect("ticket");
    let laptop_node = NodeKey::from_bytes(&LAPTOP_SECRET).node_id();
    let grant = admin
        .redeem_ticket(
            &ticket.secret,
            laptop_node,
            "maija",
            "temporary-1",
            Some(chosen),
            "L1",
            now,
        )
        .expect("runs")
        .expect("enrolled");
    let pin = HubPin {
        node: ticket.hub,
        addrs,
    };
    Workspace::join(
        laptop_dir.path(),
        &grant,
        "maija",
        MAIJA_PW,
        &LAPTOP_SECRET,
        &pin,
        now,
    )
    .expect("join");
    let unit = |name: &str| {
        admin
            .organisation()
            .units
            .values()
            .find(|u| u.name == name)
            .map(|u| u.id)
            .expect("unit")
    };
    let (ita, keskusta) = (unit("Itä"), unit("Keskusta"));
    let laptop = login(laptop_dir.path(), "maija", MAIJA_PW);
    World {
        hub: admin.into_replica().expect("hub replica"),
        laptop: laptop.into_replica().expect("laptop replica"),
        hub_dir,
        _laptop_dir: laptop_dir,
        laptop_node,
        ita,
        keskusta,
    }
}

type Outcome = Result<SyncReport, SyncError>;

/// One session between hub and laptop, frames ping-ponged in memory.
fn sync(hub: &mut SyncReplica, laptop: &mut SyncReplica) -> (Outcome, Outcome) {
    let mut hs = polku_sync::Session::new(hub.session_config(laptop.node_id()));
    let mut ls = polku_sync::Session::new(laptop.session_config(hub.node_id()));
    let bytes = |fs: Vec<polku_sync::Frame>| -> Vec<Vec<u8>> {
        fs.iter().map(|f| f.as_bytes().to_vec()).collect()
    };
    let mut to_laptop: VecDeque<Vec<u8>> = bytes(hs.start(hub).expect("start")).into();
    let mut to_hub: VecDeque<Vec<u8>> = bytes(ls.start(laptop).expect("start")).into();
    let (mut hub_err, mut laptop_err) = (None, None);
    for _ in 0..10_000 {
        let mut moved = false;
        while let Some(f) = to_laptop.pop_front() {
            moved = true;
            if ls.is_done() || ls.is_failed() {
                continue;
            }
            match ls.handle(laptop, &f) {
                Ok(out) => to_hub.extend(bytes(out)),
                Err(e) => {
                    if let Some(fw) = ls.farewell() {
                        to_hub.push_back(fw.as_bytes().to_vec());
                    }
                    laptop_err = Some(e);
                }
            }
        }
        while let Some(f) = to_hub.pop_front() {
            moved = true;
            if hs.is_done() || hs.is_failed() {
                continue;
            }
            match hs.handle(hub, &f) {
                Ok(out) => to_laptop.extend(bytes(out)),
                Err(e) => {
                    if let Some(fw) = hs.farewell() {
                        to_laptop.push_back(fw.as_bytes().to_vec());
                    }
                    hub_err = Some(e);
                }
            }
        }
        if !moved {
            break;
        }
    }
    let outcome = |s: &polku_sync::Session, err: Option<SyncError>| match err {
        Some(e) => Err(e),
        None => {
            assert!(s.is_done(), "session neither done nor failed");
            Ok(s.report().clone())
        }
    };
    (outcome(&hs, hub_err), outcome(&ls, laptop_err))
}

fn sync_ok(w: &mut World) -> (SyncReport, SyncReport) {
    let (h, l) = sync(&mut w.hub, &mut w.laptop);
    (h.expect("hub side"), l.expect("laptop side"))
}

fn docs_of(r: &SyncReplica, kind: DocKind) -> BTreeSet<DocId> {
    r.session()
        .store()
        .list_docs(kind)
        .expect("list")
        .into_iter()
        .collect()
}

/// Client documents of the hub in `unit`.
fn hub_clients_in(w: &World, unit: UnitId) -> BTreeSet<DocId> {
    clients_in(&w.hub, unit)
}

/// Client documents of `r` in `unit`.
fn clients_in(r: &SyncReplica, unit: UnitId) -> BTreeSet<DocId> {
    r.session()
        .store()
        .load_all(DocKind::Client)
        .expect("load")
        .into_iter()
        .filter(|(_, doc)| {
            let c = polku_core::doc::BasicDoc::from_automerge(doc.clone()).expect("client doc");
            c.summary().expect("summary").unit == Some(unit)
        })
        .map(|(id, _)| id)
        .collect()
}

/// A new (synthetic) client added through the API, in `unit` (`None`: the
/// user's first).
fn new_client(r: &mut SyncReplica, unit: Option<&str>, now: chrono::DateTime<Utc>) -> ClientId {
    r.session_mut()
        .add_client(
            ClientInput {
                first_name: "Testi".into(),
                last_name: "Nuori".into(),
                unit: unit.map(Into::into),
                ..ClientInput::default()
            },
            now,
        )
        .expect("add client")
}

/// Edits a client's documents directly in a store (bypassing the API's rights).
fn edit_in_store(r: &SyncReplica, id: DocId, f: impl FnOnce(&mut polku_core::model::Client)) {
    edit_in(r.session().store(), id, f);
}

/// Edits a client's documents directly in `store`.
fn edit_in(store: &polku_store::Store, id: DocId, f: impl FnOnce(&mut polku_core::model::Client)) {
    let record = store.load_doc(record_doc_id(ClientId::from(id.0))).ok();
    let mut doc = ClientDoc::from_parts(store.load_doc(id).expect("load"), record).expect("doc");
    doc.update(f).expect("update");
    for part in doc.save_changes() {
        if part.new {
            store
                .create_doc(part.id, part.kind, &part.bytes)
                .expect("create");
        } else {
            store
                .append_change(part.id, &part.bytes, &part.heads)
                .expect("append");
        }
    }
}

#[test]
fn first_sync_is_scoped_and_a_resync_moves_nothing() {
    let mut w = world();
    let now = Utc::now();
    let ita = hub_clients_in(&w, w.ita);
    let keskusta = hub_clients_in(&w, w.keskusta);
    assert!(
        !ita.is_empty() && !keskusta.is_empty(),
        "demo data in both units"
    );

    let (hub, laptop) = sync_ok(&mut w);
    assert!(hub.completed && laptop.completed);
    assert_eq!(docs_of(&w.laptop, DocKind::Client), ita);
    assert_eq!(
        docs_of(&w.laptop, DocKind::Organisation),
        docs_of(&w.hub, DocKind::Organisation)
    );
    // Heads equal to the hub's copy.
    for id in &ita {
        assert_eq!(
            w.laptop.session().store().heads_hash_of(*id).expect("hh"),
            w.hub.session().store().heads_hash_of(*id).expect("hh")
        );
    }
    // The app on the laptop sees the synced clients (index refreshed).
    let listed: BTreeSet<DocId> = w
        .laptop
        .session_mut()
        .list_clients(now)
        .expect("list")
        .into_iter()
        .map(|s| DocId::from(s.id))
        .collect();
    assert_eq!(listed, ita);
    let any = ClientId::from(ita.iter().next().expect("one").0);
    w.laptop
        .session_mut()
        .show_client(any, now)
        .expect("show synced client");

    // Nothing changed: nothing moves.
    let (hub, laptop) = sync_ok(&mut w);
    assert_eq!(hub.docs_sent + hub.docs_received, 0, "{hub:?}");
    assert_eq!(laptop.docs_sent + laptop.docs_received, 0, "{laptop:?}");
    assert!(!hub.full_set_exchanged);
}

#[test]
fn laptop_work_reaches_the_hub_and_refused_changes_stay_on_the_laptop() {
    let mut w = world();
    let now = Utc::now();
    sync_ok(&mut w);

    // Maija adds a client (her own) with a memo on the laptop.
    let own = new_client(&mut w.laptop, None, now);
    w.laptop
        .session_mut()
        .add_memo(own, "Tavattu kirjastolla.", None, now)
        .expect("memo");

    // A change to a unit client she is not responsible for, written behind
    // the API (a stale or tampered laptop): the hub must refuse it.
    let other = *hub_clients_in(&w, w.ita).iter().next().expect("client");
    let author = w.laptop.session().user().id;
    edit_in_store(&w.laptop, other, |c| {
        let memo = Memo {
            id: MemoId::new(),
            date: now.date_naive(),
            author,
            kind: "meeting".into(),
            text: "Ei oikeutta tähän.".into(),
            deleted: None,
        };
        c.memos.insert(memo.id, memo);
    });
    // The memo is in the client's record document.
    let other_record = record_doc_id(ClientId::from(other.0));
    let laptop_heads = w
        .laptop
        .session()
        .store()
        .heads_hash_of(other_record)
        .expect("hh");

    let (hub, laptop) = sync_ok(&mut w);
    // The new client and its memo reached the hub.
    let shown = w.hub.session_mut().show_client(own, now).expect("on hub");
    assert!(
        shown
            .memos
            .values()
            .any(|m| m.text == "Tavattu kirjastolla.")
    );
    // The refused change is reported, recorded, and kept on the laptop.
    let refusal = polku_sync::protocol::Refusal {
        doc: other_record,
        reason: RefusedReason::NotPermitted,
    };
    assert!(hub.refused_here.contains(&refusal), "{hub:?}");
    assert!(laptop.refused_by_peer.contains(&refusal), "{laptop:?}");
    assert!(
        w.laptop
            .refusals()
            .expect("refusals")
            .iter()
            .any(|(_, r)| *r == refusal)
    );
    assert_eq!(
        w.laptop
            .session()
            .store()
            .heads_hash_of(other_record)
            .expect("hh"),
        laptop_heads
    );
    let hub_copy = w
        .hub
        .session_mut()
        .show_client(ClientId::from(other.0), now)
        .expect("hub");
    assert!(
        !hub_copy
            .memos
            .values()
            .any(|m| m.text == "Ei oikeutta tähän.")
    );

    // The laptop's audit chain reached the hub and verifies there.
    let laptop_node = w.laptop_node;
    let laptop_last = w
        .laptop
        .session()
        .store()
        .audit_last(laptop_node.as_bytes())
        .expect("audit")
        .expect("entries")
        .0;
    let on_hub = w
        .hub
        .session()
        .store()
        .audit_heads()
        .expect("heads")
        .into_iter()
        .find(|(n, _)| n == laptop_node.as_bytes())
        .expect("laptop chain on hub")
        .1;
    // The laptop may have written entries after its audit heads were sent
    // (the memo and client entries were before the sync, so all are there).
    assert_eq!(on_hub, laptop_last);
    let summary = w
        .hub
        .session_mut()
        .audit_verify(now)
        .expect("runs")
        .expect("verifies");
    assert!(summary.nodes >= 2);
}

#[test]
fn a_client_moved_to_another_unit_leaves_the_laptop() {
    let mut w = world();
    let now = Utc::now();
    sync_ok(&mut w);
    let moved = *hub_clients_in(&w, w.ita).iter().next().expect("client");
    assert!(docs_of(&w.laptop, DocKind::Client).contains(&moved));

    let keskusta = w.keskusta;
    edit_in_store(&w.hub, moved, |c| c.unit = Some(keskusta));
    let (hub, laptop) = sync_ok(&mut w);
    assert!(laptop.revoked.contains(&moved), "{laptop:?}");
    assert!(hub.revoked_at_peer.contains(&moved), "{hub:?}");
    assert!(!docs_of(&w.laptop, DocKind::Client).contains(&moved));
    let listed = w.laptop.session_mut().list_clients(now).expect("list");
    assert!(listed.iter().all(|s| DocId::from(s.id) != moved));
    // And a further sync is quiet.
    let (hub, _) = sync_ok(&mut w);
    assert_eq!(hub.docs_sent + hub.docs_received, 0, "{hub:?}");
}

#[test]
fn a_hub_that_served_unchanged_resyncs_sees_another_process_move_a_client() {
    let mut w = world();
    sync_ok(&mut w);
    // Unchanged resyncs: the hub answers them from what it read before.
    let (hub, _) = sync_ok(&mut w);
    assert_eq!(hub.docs_sent + hub.docs_received, 0, "{hub:?}");
    let moved = *hub_clients_in(&w, w.ita).iter().next().expect("client");
    assert!(docs_of(&w.laptop, DocKind::Client).contains(&moved));

    // Another process (the admin's CLI) moves the client to another unit.
    let admin = login(w.hub_dir.path(), "admin", ADMIN_PW);
    let keskusta = w.keskusta;
    edit_in(admin.store(), moved, |c| c.unit = Some(keskusta));
    admin.close().expect("close");

    let (hub, laptop) = sync_ok(&mut w);
    assert!(laptop.revoked.contains(&moved), "{laptop:?}");
    assert!(hub.revoked_at_peer.contains(&moved), "{hub:?}");
    assert!(!docs_of(&w.laptop, DocKind::Client).contains(&moved));
    // An unchanged resync again, then the laptop's own new client (written
    // after the laptop answered from what it read before) still goes up.
    let (hub, _) = sync_ok(&mut w);
    assert_eq!(hub.docs_sent + hub.docs_received, 0, "{hub:?}");
    let now = Utc::now();
    let own = new_client(&mut w.laptop, None, now);
    let (hub, _) = sync_ok(&mut w);
    assert!(hub.docs_received > 0, "{hub:?}");
    assert!(docs_of(&w.hub, DocKind::Client).contains(&DocId::from(own)));
}

/// The document set a hub replica just logged in offers the laptop: worked
/// out in full, from nothing it read before.
fn offered_in_full(w: &World) -> Vec<polku_sync::DocEntry> {
    let mut fresh = login(w.hub_dir.path(), "admin", ADMIN_PW)
        .into_replica()
        .expect("replica");
    let peer = polku_sync::Peer {
        node: w.laptop_node,
        role: polku_sync::Role::Laptop,
    };
    fresh.admit(&peer).expect("admitted");
    let set = fresh.doc_set(&peer).expect("set");
    fresh.into_session().close().expect("close");
    set
}

#[test]
fn the_hubs_set_worked_out_from_the_last_one_is_the_set_worked_out_in_full() {
    let mut w = world();
    let now = Utc::now();
    sync_ok(&mut w);
    let peer = polku_sync::Peer {
        node: w.laptop_node,
        role: polku_sync::Role::Laptop,
    };
    let mut ita = hub_clients_in(&w, w.ita).into_iter();
    let (moved, memo_for, gone) = (
        ita.next().expect("client"),
        ita.next().expect("client"),
        ita.next().expect("client"),
    );
    let into_ita = *hub_clients_in(&w, w.keskusta)
        .iter()
        .next()
        .expect("client");
    // A client leaves the unit, another comes in, one gets a memo (its
    // record document), and a new one is added.
    let (ita_unit, keskusta) = (w.ita, w.keskusta);
    edit_in_store(&w.hub, moved, |c| c.unit = Some(keskusta));
    edit_in_store(&w.hub, into_ita, |c| c.unit = Some(ita_unit));
    w.hub
        .session_mut()
        .add_memo(ClientId::from(memo_for.0), "Tavattu.", None, now)
        .expect("memo");
    new_client(&mut w.hub, Some("Itä"), now);
    w.hub.admit(&peer).expect("admitted");
    let worked_out = w.hub.doc_set(&peer).expect("set");
    assert_eq!(worked_out, offered_in_full(&w));
    let ids: BTreeSet<DocId> = worked_out.iter().map(|e| e.id).collect();
    assert!(!ids.contains(&moved) && ids.contains(&into_ita) && ids.contains(&gone));
    assert!(!ids.contains(&record_doc_id(ClientId::from(moved.0))));
    assert!(ids.contains(&record_doc_id(ClientId::from(into_ita.0))));

    // An erasure (which drops what the hub kept): the same again.
    sync_ok(&mut w);
    assert!(w.hub.erase_doc(gone, now).expect("erase"));
    w.hub.admit(&peer).expect("admitted");
    let worked_out = w.hub.doc_set(&peer).expect("set");
    assert_eq!(worked_out, offered_in_full(&w));
    assert!(worked_out.iter().all(|e| e.id != gone));

    // Sync, then a change of the organisation document (the user's role):
    // worked out in full again, and the same.
    sync_ok(&mut w);
    w.hub
        .session_mut()
        .set_role("maija", Role::Admin, now)
        .expect("role");
    w.hub.admit(&peer).expect("admitted");
    let worked_out = w.hub.doc_set(&peer).expect("set");
    assert_eq!(worked_out, offered_in_full(&w));
    assert!(worked_out.iter().any(|e| e.id == moved));
}

#[test]
fn unchanged_resyncs_share_the_offered_maps_and_a_change_gives_new_ones() {
    use std::sync::Arc;
    let mut w = world();
    sync_ok(&mut w);
    let peer = polku_sync::Peer {
        node: w.laptop_node,
        role: polku_sync::Role::Laptop,
    };
    let hub_peer = polku_sync::Peer {
        node: w.hub.node_id(),
        role: polku_sync::Role::Hub,
    };
    w.hub.admit(&peer).expect("admitted");
    let first = w.hub.offered_set(&peer).expect("set");
    assert_eq!(first.entries(), w.hub.doc_set(&peer).expect("set"));
    let on_laptop = w.laptop.offered_set(&hub_peer).expect("set");
    assert_eq!(
        on_laptop.entries(),
        w.laptop.doc_set(&hub_peer).expect("set")
    );

    // Unchanged resyncs, each audited on both sides as the apps do (the
    // laptop's last hub contact with it): every session is handed the same
    // maps (nothing copied, nothing freed), and the agreed set is shared
    // likewise.
    for _ in 0..2 {
        let (hub, laptop) = sync_ok(&mut w);
        assert_eq!(hub.docs_sent + hub.docs_received, 0, "{hub:?}");
        w.hub.record_sync(&hub, Utc::now()).expect("audited");
        w.laptop.record_sync(&laptop, Utc::now()).expect("audited");
    }
    let again = w.hub.offered_set(&peer).expect("set");
    assert!(Arc::ptr_eq(&first.heads, &again.heads));
    assert!(Arc::ptr_eq(&first.kinds, &again.kinds));
    let laptop_again = w.laptop.offered_set(&hub_peer).expect("set");
    assert!(Arc::ptr_eq(&on_laptop.heads, &laptop_again.heads));
    let record = w.hub.peer_record(&peer).expect("record");
    let record_again = w.hub.peer_record(&peer).expect("record");
    assert!(Arc::ptr_eq(&record.agreed, &record_again.agreed));
    assert_eq!(*record.agreed, *again.heads);
    // What is shared is what a replica logged in afresh works out.
    assert_eq!(first.entries(), offered_in_full(&w));

    // A memo on the hub: new maps, the set worked out in full, and the
    // maps a session held before are as they were.
    let client = *hub_clients_in(&w, w.ita).iter().next().expect("client");
    w.hub
        .session_mut()
        .add_memo(ClientId::from(client.0), "Soitettu.", None, Utc::now())
        .expect("memo");
    let after = w.hub.offered_set(&peer).expect("set");
    assert!(!Arc::ptr_eq(&first.heads, &after.heads));
    assert_ne!(after.heads, first.heads);
    assert_eq!(first.entries(), again.entries());
    assert_eq!(after.entries(), offered_in_full(&w));
    let (_, laptop) = sync_ok(&mut w);
    assert_eq!(laptop.docs_received, 1, "{laptop:?}");
}

#[test]
fn a_device_revoked_by_another_process_is_refused() {
    let mut w = world();
    sync_ok(&mut w);
    // Another process (the admin's CLI) revokes the laptop on the hub store.
    let mut admin = login(w.hub_dir.path(), "admin", ADMIN_PW);
    admin
        .revoke_device(&w.laptop_node.to_string(), Utc::now())
        .expect("revoke");
    admin.close().expect("close");

    let (hub, laptop) = sync(&mut w.hub, &mut w.laptop);
    assert!(
        matches!(hub, Err(SyncError::Denied(Denial::DeviceRevoked))),
        "{hub:?}"
    );
    assert!(
        matches!(laptop, Err(SyncError::Remote(ErrorCode::DeviceRevoked))),
        "{laptop:?}"
    );
}

#[test]
fn a_laptop_talks_only_to_its_pinned_hub() {
    let mut w = world();
    let stranger = NodeKey::from_bytes(&[9; 32]).node_id();
    let peer = polku_sync::Peer {
        node: stranger,
        role: polku_sync::Role::Hub,
    };
    assert_eq!(w.laptop.admit(&peer), Err(Denial::HubMismatch));
    let unknown = polku_sync::Peer {
        node: stranger,
        role: polku_sync::Role::Laptop,
    };
    assert_eq!(w.hub.admit(&unknown), Err(Denial::NotEnrolled));
}

#[test]
fn erased_ids_are_refused_and_propagate() {
    let mut w = world();
    sync_ok(&mut w);
    let gone = *hub_clients_in(&w, w.ita).iter().next().expect("client");
    assert!(w.hub.erase_doc(gone, Utc::now()).expect("erase"));
    assert_eq!(
        w.hub.doc_status(gone).expect("status"),
        polku_sync::DocStatus::Erased
    );
    let (_, laptop) = sync_ok(&mut w);
    assert!(laptop.erased.contains(&gone), "{laptop:?}");
    assert!(!docs_of(&w.laptop, DocKind::Client).contains(&gone));
    assert!(w.laptop.is_erased(gone).expect("erased"));
    // Quiet afterwards.
    let (hub, _) = sync_ok(&mut w);
    assert_eq!(hub.docs_sent + hub.docs_received, 0, "{hub:?}");
}

/// Enrols a second laptop for "maija" (device secret `secret`) with the
/// hub of `w`, returning its replica and its directory.
fn second_laptop(w: &mut World, secret: [u8; 32]) -> (SyncReplica, tempfile::TempDir) {
    let now = Utc::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let hub_node = w.hub.node_id();
    let addrs = vec!["127.0.0.1:7777".parse().expect("addr")];
    let admin = w.hub.session_mut();
    let ticket = admin
        .create_ticket("maija", *hub_node.as_bytes(), addrs.clone(), now)
        .expect("ticket");
    let node = NodeKey::from_bytes(&secret).node_id();
    let grant = admin
        .redeem_ticket(&ticket.secret, node, "maija", MAIJA_PW, None, "L2", now)
        .expect("runs")
        .expect("enrolled");
    let pin = HubPin {
        node: ticket.hub,
        addrs,
    };
    Workspace::join(dir.path(), &grant, "maija", MAIJA_PW, &secret, &pin, now).expect("join");
    let replica = login(dir.path(), "maija", MAIJA_PW)
        .into_replica()
        .expect("replica");
    (replica, dir)
}

/// One session between the shared hub replica and `laptop`, on the calling
/// thread, locking the hub only while its session works on one frame (as
/// the hub daemon does). Waits at `opened` after starting, so that every
/// session is open on the hub before any of them proceeds.
fn sync_shared(
    hub: &Mutex<SyncReplica>,
    laptop: &mut SyncReplica,
    opened: &Barrier,
) -> (SyncReport, SyncReport) {
    let lock = || hub.lock().expect("hub lock");
    let mut hs = polku_sync::Session::new(lock().session_config(laptop.node_id()));
    let mut ls = polku_sync::Session::new(laptop.session_config(lock().node_id()));
    let bytes = |fs: Vec<polku_sync::Frame>| -> Vec<Vec<u8>> {
        fs.iter().map(|f| f.as_bytes().to_vec()).collect()
    };
    let mut to_laptop: VecDeque<Vec<u8>> = bytes(hs.start(&mut *lock()).expect("start")).into();
    let mut to_hub: VecDeque<Vec<u8>> = bytes(ls.start(laptop).expect("start")).into();
    opened.wait();
    while !(to_laptop.is_empty() && to_hub.is_empty()) {
        while let Some(f) = to_laptop.pop_front() {
            to_hub.extend(bytes(ls.handle(laptop, &f).expect("laptop side")));
        }
        while let Some(f) = to_hub.pop_front() {
            let out = hs.handle(&mut *lock(), &f).expect("hub side");
            to_laptop.extend(bytes(out));
            // Let the other thread's session take the hub between frames.
            std::thread::yield_now();
        }
    }
    assert!(hs.is_done() && ls.is_done(), "both sessions finished");
    (hs.report().clone(), ls.report().clone())
}

#[test]
fn one_hub_replica_serves_two_laptops_syncing_at_once_from_two_threads() {
    // The hub daemon keeps one replica in an `Arc<Mutex<_>>` and runs each
    // connection's session on its own task: here two sessions are open on
    // the same replica at once, each driven from its own thread.
    let mut w = world();
    let (laptop2, _dir2) = second_laptop(&mut w, [8; 32]);
    let before = hub_clients_in(&w, w.ita).len();
    assert!(before > 0);
    let hub = Arc::new(Mutex::new(w.hub));
    let opened = Arc::new(Barrier::new(2));
    let threads: Vec<_> = [w.laptop, laptop2]
        .into_iter()
        .map(|mut laptop| {
            let (hub, opened) = (Arc::clone(&hub), Arc::clone(&opened));
            std::thread::spawn(move || {
                let (h, l) = sync_shared(&hub, &mut laptop, &opened);
                (h, l, laptop)
            })
        })
        .collect();
    let join = |threads: Vec<std::thread::JoinHandle<_>>| {
        let mut laptops = Vec::new();
        for t in threads {
            let (h, l, laptop): (SyncReport, SyncReport, SyncReplica) =
                t.join().expect("sync thread");
            assert!(h.completed && l.completed, "{h:?} {l:?}");
            assert_eq!(l.docs_received, h.docs_sent);
            laptops.push(laptop);
        }
        laptops
    };
    let mut laptops = join(threads);
    // Each laptop adds a client of its own; two more rounds of concurrent
    // syncs (the second brings each the other's) converge everything.
    let now = Utc::now();
    for (i, laptop) in laptops.iter_mut().enumerate() {
        laptop
            .session_mut()
            .add_client(
                ClientInput {
                    first_name: format!("Rinnakkais{i}"),
                    last_name: "Nuori".into(),
                    ..ClientInput::default()
                },
                now,
            )
            .expect("add client");
    }
    for _ in 0..2 {
        let threads: Vec<_> = std::mem::take(&mut laptops)
            .into_iter()
            .map(|mut laptop| {
                let (hub, opened) = (Arc::clone(&hub), Arc::clone(&opened));
                std::thread::spawn(move || {
                    let (h, l) = sync_shared(&hub, &mut laptop, &opened);
                    (h, l, laptop)
                })
            })
            .collect();
        laptops = join(threads);
    }
    let ita = clients_in(&hub.lock().expect("hub lock"), w.ita);
    assert_eq!(ita.len(), before + 2, "both new clients reached the hub");
    let hub = Arc::try_unwrap(hub)
        .unwrap_or_else(|_| panic!("threads done"))
        .into_inner()
        .expect("hub lock");
    for laptop in &laptops {
        assert_eq!(docs_of(laptop, DocKind::Client), ita);
        for id in &ita {
            assert_eq!(
                laptop.session().store().heads_hash_of(*id).expect("hh"),
                hub.session().store().heads_hash_of(*id).expect("hh")
            );
        }
    }
    // The hub's own store is intact and its audit trail verifies.
    hub.session().verify_store().expect("hub store");
}

#[test]
fn two_hub_replicas_on_their_own_connections_serve_two_laptops_at_once() {
    // As `polku hub` serves on several cores: a second replica over its own
    // connection to the hub's store, each laptop's sessions on one of them,
    // truly at once (no lock shared), then crossed over.
    let mut w = world();
    let (laptop2, _dir2) = second_laptop(&mut w, [8; 32]);
    let before = hub_clients_in(&w, w.ita).len();
    let second = w.hub.another().expect("another replica");
    let hubs = [Arc::new(Mutex::new(w.hub)), Arc::new(Mutex::new(second))];
    let opened = Arc::new(Barrier::new(2));
    let round = |laptops: Vec<SyncReplica>, crossed: bool| -> Vec<SyncReplica> {
        let threads: Vec<_> = laptops
            .into_iter()
            .enumerate()
            .map(|(i, mut laptop)| {
                let hub = Arc::clone(&hubs[(i + usize::from(crossed)) % 2]);
                let opened = Arc::clone(&opened);
                std::thread::spawn(move || {
                    let (h, l) = sync_shared(&hub, &mut laptop, &opened);
                    assert!(h.completed && l.completed, "{h:?} {l:?}");
                    assert!(
                        h.refused_here.is_empty() && l.refused_by_peer.is_empty(),
                        "hub refused {:?}, laptop refused {:?} (laptop {i}, crossed {crossed})",
                        h.refused_here,
                        l.refused_here
                    );
                    laptop
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("sync thread"))
            .collect()
    };
    let mut laptops = round(vec![w.laptop, laptop2], false);
    // Each laptop adds a client; then both add a memo to the first one.
    let now = Utc::now();
    let mut added = Vec::new();
    for laptop in &mut laptops {
        added.push(new_client(laptop, Some("Itä"), now));
    }
    laptops = round(laptops, false);
    laptops = round(laptops, true);
    // Then each in turn adds a memo to the first one (its record document
    // is created once, on one laptop).
    let shared = added[0];
    for i in 0..2 {
        laptops[i]
            .session_mut()
            .add_memo(shared, &format!("Muistio {i}."), None, now)
            .expect("memo");
        laptops = round(laptops, false);
        laptops = round(laptops, true);
    }
    let ita = clients_in(&hubs[1].lock().expect("hub"), w.ita);
    assert_eq!(ita.len(), before + 2, "both new clients reached the hub");
    for laptop in &mut laptops {
        assert_eq!(docs_of(laptop, DocKind::Client), ita);
        let memos = laptop
            .session_mut()
            .show_client(shared, now)
            .expect("show")
            .memos;
        for i in 0..2 {
            let text = format!("Muistio {i}.");
            assert!(memos.values().any(|m| m.text == text), "{text} missing");
        }
    }
    // One replica erases a client: the other refuses it as erased at once,
    // and a laptop syncing with that other one loses it too.
    let gone = DocId::from(shared);
    assert!(
        hubs[0]
            .lock()
            .expect("hub")
            .erase_doc(gone, Utc::now())
            .expect("erase")
    );
    assert_eq!(
        hubs[1]
            .lock()
            .expect("hub")
            .doc_status(gone)
            .expect("status"),
        polku_sync::DocStatus::Erased
    );
    laptops = round(laptops, true);
    for laptop in &mut laptops {
        assert!(laptop.is_erased(gone).expect("erased"));
        assert!(!docs_of(laptop, DocKind::Client).contains(&gone));
    }
    drop(laptops);
    let [a, b] = hubs.map(|h| {
        Arc::try_unwrap(h)
            .unwrap_or_else(|_| panic!("threads done"))
            .into_inner()
            .expect("hub lock")
    });
    b.into_session().close().expect("close the second");
    let mut admin = a.into_session();
    admin.verify_store().expect("hub store");
    let verified = admin.audit_verify(Utc::now()).expect("runs");
    assert!(verified.is_ok(), "the hub's audit chain: {verified:?}");
}

#[test]
fn a_sync_renews_the_offline_lease_and_normal_logins_work_again() {
    let w = world();
    let laptop_dir = w._laptop_dir.path().to_path_buf();
    let mut hub = w.hub;
    let mut laptop = w.laptop;
    let now = Utc::now();
    let (_, l) = sync(&mut hub, &mut laptop);
    laptop
        .record_sync(&l.expect("laptop side"), now)
        .expect("record");
    laptop.into_session().close().expect("close");
    let normal = |at| {
        Workspace::open(&laptop_dir)
            .and_then(|ws| ws.login("maija", MAIJA_PW, at))
            .map(|s| s.close().expect("close"))
    };
    // 14 days of lease: 13 days later a normal login works, 15 days later not.
    normal(now + chrono::Duration::days(13)).expect("inside the lease");
    let later = now + chrono::Duration::days(15);
    assert!(matches!(
        normal(later),
        Err(polku_api::ApiError::ReauthRequired)
    ));
    // Only a login to sync; the sync at `later` renews the lease.
    let session = Workspace::open(&laptop_dir)
        .and_then(|ws| ws.login_to_sync("maija", MAIJA_PW, later))
        .expect("a sync may log in");
    assert!(session.offline_lease_expired(later).expect("lease"));
    let mut laptop = session.into_replica().expect("replica");
    let (h, l) = sync(&mut hub, &mut laptop);
    assert!(h.expect("hub side").completed);
    laptop
        .record_sync(&l.expect("laptop side"), later)
        .expect("record");
    assert!(
        !laptop
            .session()
            .offline_lease_expired(later)
            .expect("lease")
    );
    laptop.into_session().close().expect("close");
    // A normal login works again, and the new lease runs from `later`.
    normal(later).expect("a normal login after the sync");
    // (The contact time is kept to the second.)
    normal(later + chrono::Duration::days(14) - chrono::Duration::seconds(1))
        .expect("14 days after the sync");
    assert!(matches!(
        normal(later + chrono::Duration::days(15)),
        Err(polku_api::ApiError::ReauthRequired)
    ));

    // A sync that did not complete (the hub refuses the laptop) renews
    // nothing.
    let much_later = later + chrono::Duration::days(30);
    let node = laptop_node_of(&laptop_dir, much_later);
    hub.session_mut()
        .revoke_device(&node.to_string(), much_later)
        .expect("revoke");
    let mut laptop = Workspace::open(&laptop_dir)
        .and_then(|ws| ws.login_to_sync("maija", MAIJA_PW, much_later))
        .expect("login to sync")
        .into_replica()
        .expect("replica");
    let (h, l) = sync(&mut hub, &mut laptop);
    assert!(h.is_err());
    if let Ok(report) = l {
        laptop.record_sync(&report, much_later).expect("record");
    }
    assert!(
        laptop
            .session()
            .offline_lease_expired(much_later)
            .expect("lease")
    );
}

/// The node id of the laptop store in `dir`.
fn laptop_node_of(dir: &Path, at: chrono::DateTime<Utc>) -> NodeId {
    let s = Workspace::open(dir)
        .and_then(|ws| ws.login_to_sync("maija", MAIJA_PW, at))
        .expect("login");
    let node = NodeKey::from_bytes(&s.node_secret().expect("secret")).node_id();
    s.close().expect("close");
    node
}

const ADMIN_LAPTOP_SECRET: [u8; 32] = [11; 32];

/// Enrols a laptop for the hub's admin user and gives its replica.
fn admin_laptop(w: &mut World) -> (tempfile::TempDir, SyncReplica) {
    let now = Utc::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let hub_node = w.hub.node_id();
    let addrs = vec!["127.0.0.1:7777".parse().expect("addr")];
    let admin = w.hub.session_mut();
    let ticket = admin
        .create_ticket("admin", *hub_node.as_bytes(), addrs.clone(), now)
        .expect("ticket");
    let node = NodeKey::from_bytes(&ADMIN_LAPTOP_SECRET).node_id();
    let grant = admin
        .redeem_ticket(&ticket.secret, node, "admin", ADMIN_PW, None, "A1", now)
        .expect("runs")
        .expect("enrolled");
    let pin = HubPin {
        node: ticket.hub,
        addrs,
    };
    Workspace::join(
        dir.path(),
        &grant,
        "admin",
        ADMIN_PW,
        &ADMIN_LAPTOP_SECRET,
        &pin,
        now,
    )
    .expect("join");
    let replica = login(dir.path(), "admin", ADMIN_PW)
        .into_replica()
        .expect("replica");
    (dir, replica)
}

/// The `erase` entries of a node's own chain, as (target, detail code, user),
/// after checking that every stored chain verifies.
fn erase_entries(r: &SyncReplica) -> Vec<(uuid::Uuid, String, Option<polku_core::UserId>)> {
    let entries: Vec<polku_audit::Entry> = r
        .session()
        .store()
        .audit_entries()
        .expect("entries")
        .into_iter()
        .map(|(_, _, bytes)| polku_audit::Entry::decode(&bytes).expect("decode"))
        .collect();
    polku_audit::verify_log(&entries).expect("every chain verifies");
    entries
        .into_iter()
        .filter(|e| e.node == r.node_id() && e.action == polku_audit::Action::Erase)
        .filter_map(|e| {
            let code = match e.detail {
                polku_audit::Detail::Code(c) => c.as_str().to_owned(),
                _ => String::new(),
            };
            Some((e.target?, code, e.user))
        })
        .collect()
}

#[test]
fn signed_tombstones_are_checked_by_every_receiver() {
    use polku_sync::protocol::Tombstone;
    use polku_sync::{Peer, Role as SyncRole, TombstoneOutcome};
    let mut w = world();
    let now = Utc::now();
    sync_ok(&mut w);
    let (_admin_dir, mut admin_laptop) = admin_laptop(&mut w);
    let (h, a) = sync(&mut w.hub, &mut admin_laptop);
    h.expect("hub side");
    a.expect("admin laptop side");

    let admin_key = NodeKey::from_bytes(&ADMIN_LAPTOP_SECRET);
    let worker_key = NodeKey::from_bytes(&LAPTOP_SECRET);
    let admin_id = w.hub.session().user().id;
    let maija_id = w.laptop.session().user().id;
    let org_id = *docs_of(&w.hub, DocKind::Organisation)
        .iter()
        .next()
        .expect("org doc");
    let client = *hub_clients_in(&w, w.ita).iter().next().expect("client");
    let from = |node| Peer {
        node,
        role: SyncRole::Laptop,
    };
    let refused = TombstoneOutcome::Refused(RefusedReason::NotPermitted);

    // The organisation document is never erased: not locally, and an admin
    // laptop's signed tombstone for it is refused by the hub (also when it
    // lies about the kind).
    assert!(matches!(
        admin_laptop.erase_doc(org_id, now),
        Err(polku_api::ApiError::Rejected(
            polku_api::Rejection::OrgNotErasable
        ))
    ));
    for kind in [DocKind::Organisation, DocKind::Client] {
        let t = Tombstone::sign(&admin_key, org_id, kind, admin_id, now);
        assert!(t.verify());
        assert_eq!(
            w.hub
                .apply_tombstone(&from(admin_key.node_id()), &t)
                .expect("runs"),
            refused,
            "{kind:?}"
        );
    }
    assert!(docs_of(&w.hub, DocKind::Organisation).contains(&org_id));

    // A worker may not erase: not locally (audited refusal), and the hub
    // refuses the worker laptop's signed tombstone for a client.
    assert!(matches!(
        w.laptop.erase_doc(client, now),
        Err(polku_api::ApiError::Denied(_))
    ));
    let t = Tombstone::sign(&worker_key, client, DocKind::Client, maija_id, now);
    assert!(t.verify());
    assert_eq!(
        w.hub
            .apply_tombstone(&from(w.laptop_node), &t)
            .expect("runs"),
        refused
    );
    // Nor may the worker's laptop claim the admin as its user, or forge the
    // admin laptop's signature.
    let t = Tombstone::sign(&worker_key, client, DocKind::Client, admin_id, now);
    assert_eq!(
        w.hub
            .apply_tombstone(&from(w.laptop_node), &t)
            .expect("runs"),
        refused
    );
    let mut forged = Tombstone::sign(&worker_key, client, DocKind::Client, admin_id, now);
    forged.node = admin_key.node_id();
    assert_eq!(
        w.hub
            .apply_tombstone(&from(w.laptop_node), &forged)
            .expect("runs"),
        TombstoneOutcome::Refused(RefusedReason::Invalid)
    );
    assert!(docs_of(&w.hub, DocKind::Client).contains(&client));
    assert!(!w.hub.is_erased(client).expect("erased?"));

    // The admin's laptop erases the client: applied on the hub, then on the
    // worker's laptop, audited on every node, its signature verifying.
    assert!(admin_laptop.erase_doc(client, now).expect("erase"));
    assert_eq!(
        erase_entries(&admin_laptop),
        vec![(client.0, "erase".to_owned(), Some(admin_id))]
    );
    let (hub, _) = sync(&mut w.hub, &mut admin_laptop);
    assert_eq!(hub.expect("hub side").erased, vec![client]);
    let (_, laptop) = sync_ok(&mut w);
    assert_eq!(laptop.erased, vec![client]);
    for (name, r) in [("hub", &w.hub), ("laptop", &w.laptop)] {
        assert!(!docs_of(r, DocKind::Client).contains(&client), "{name}");
        assert_eq!(
            erase_entries(r),
            vec![(client.0, "tombstone".to_owned(), Some(admin_id))],
            "{name}"
        );
    }
    for r in [&mut w.hub, &mut w.laptop, &mut admin_laptop] {
        let tombs = r.tombstones().expect("tombstones");
        let t = tombs.iter().find(|t| t.doc == client).expect("tombstone");
        assert!(t.verify());
        assert_eq!(
            (t.node, t.user, t.kind),
            (admin_key.node_id(), admin_id, DocKind::Client)
        );
    }
}

/// All stored entries of a replica's store.
fn stored_entries(r: &SyncReplica) -> Vec<polku_audit::Entry> {
    r.session()
        .store()
        .audit_entries()
        .expect("entries")
        .into_iter()
        .map(|(_, _, bytes)| polku_audit::Entry::decode(&bytes).expect("decode"))
        .collect()
}

#[test]
fn the_hub_accepts_only_enrolled_devices_entries_with_their_users_and_caps_forks() {
    use polku_audit::{Action, AuditLog, ChainWriter, Detail};
    let mut w = world();
    let now = Utc::now();
    sync_ok(&mut w);
    let (_admin_dir, mut admin_laptop) = admin_laptop(&mut w);
    let (h, a) = sync(&mut w.hub, &mut admin_laptop);
    h.expect("hub side");
    a.expect("admin laptop side");
    let admin_id = w.hub.session().user().id;
    let maija_id = w.laptop.session().user().id;
    let maija_peer = polku_sync::Peer {
        node: w.laptop_node,
        role: polku_sync::Role::Laptop,
    };
    let last_of = |r: &SyncReplica, node: NodeId| {
        r.session()
            .store()
            .audit_last(node.as_bytes())
            .expect("last")
            .map(|(_, b)| polku_audit::Entry::decode(&b).expect("decode"))
    };

    // The laptop's next entry, but in the admin's name: refused.
    let hub_head = last_of(&w.hub, w.laptop_node).expect("hub holds the laptop chain");
    let mut writer =
        ChainWriter::resume(NodeKey::from_bytes(&LAPTOP_SECRET), Some(&hub_head)).expect("resume");
    let forged = writer.append(now, Some(admin_id), Action::View, None, Detail::None);
    let m = w
        .hub
        .merge_audit(&maija_peer, vec![forged.clone()])
        .expect("merge");
    assert_eq!((m.added, m.rejected), (0, 1), "{m:?}");
    // Another node's chain (not enrolled), relayed by the laptop: refused.
    let stranger = NodeKey::from_bytes(&[99; 32]);
    let mut other = AuditLog::new();
    let e = other.append(
        &stranger,
        now,
        Some(maija_id),
        Action::View,
        None,
        Detail::None,
    );
    let m = w.hub.merge_audit(&maija_peer, vec![e]).expect("merge");
    assert_eq!((m.added, m.rejected), (0, 1), "{m:?}");
    // An enrolled device's chain relayed by the laptop verifies: accepted.
    let admin_node = admin_laptop.node_id();
    let held_before = last_of(&w.hub, admin_node).map(|e| e.seq);
    admin_laptop
        .session_mut()
        .list_clients(now)
        .expect("list (audited)");
    let relayed: Vec<_> = stored_entries(&admin_laptop)
        .into_iter()
        .filter(|e| e.node == admin_node && held_before.is_none_or(|h| e.seq > h))
        .collect();
    assert!(!relayed.is_empty());
    let m = w
        .hub
        .merge_audit(&maija_peer, relayed.clone())
        .expect("merge");
    assert_eq!((m.added, m.rejected), (relayed.len(), 0), "{m:?}");

    // Through a real sync: the laptop's own store holds an entry in the
    // admin's name; the hub refuses it (and what follows it).
    w.laptop
        .session()
        .store()
        .append_audit(w.laptop_node.as_bytes(), forged.seq, &forged.encode())
        .expect("plant");
    let (hub, _) = sync_ok(&mut w);
    assert!(hub.audit_rejected >= 1, "{hub:?}");
    assert!(
        last_of(&w.hub, w.laptop_node).is_some_and(|e| e.seq < forged.seq),
        "the forged entry is not on the hub"
    );
    // The laptop's hello announced it: the hub shows the hole.
    let gaps = w.hub.session_mut().audit_gaps(now).expect("gaps");
    assert!(
        gaps.iter()
            .any(|g| g.node == w.laptop_node && g.expected == forged.seq && g.doc.is_none()),
        "{gaps:?}"
    );

    // Fork evidence is capped per node.
    let forks: Vec<_> = (0..polku_api::MAX_FORKS_PER_NODE + 4)
        .map(|i| {
            AuditLog::new().append(
                &NodeKey::from_bytes(&LAPTOP_SECRET),
                now + chrono::Duration::seconds(i as i64 + 1),
                None,
                Action::View,
                None,
                Detail::None,
            )
        })
        .collect();
    let m = w.hub.session_mut().merge_audit(forks, now).expect("merge");
    assert_eq!(
        (m.forks, m.refused),
        (polku_api::MAX_FORKS_PER_NODE, 4),
        "{m:?}"
    );

    // The hub's own chain reaches administrators' devices, and verifies
    // there; a worker's laptop gets none of it.
    sync(&mut w.hub, &mut admin_laptop).0.expect("hub side");
    let hub_node = w.hub.node_id();
    let hub_chain: Vec<_> = stored_entries(&admin_laptop)
        .into_iter()
        .filter(|e| e.node == hub_node)
        .collect();
    assert!(hub_chain.len() > 3, "{}", hub_chain.len());
    assert_eq!(hub_chain[0].seq, 0);
    polku_audit::verify_chain(&hub_chain).expect("the hub chain verifies on the admin laptop");
    assert!(
        !stored_entries(&w.laptop).iter().any(|e| e.node == hub_node),
        "a worker's laptop holds no hub chain"
    );
}

/// The app's sync status: what waits for the hub, and what the hub refused.
#[test]
fn sync_status_counts_waiting_changes_and_shows_refusals_without_ids() {
    let mut w = world();
    let now = Utc::now();
    sync_ok(&mut w);
    let laptop = |w: &World| w.laptop.session().waiting_changes().expect("waiting");
    assert_eq!(laptop(&w), 0, "all agreed after a sync");
    assert!(
        w.laptop
            .session()
            .sync_problems()
            .expect("problems")
            .is_empty()
    );
    assert_eq!(w.hub.session().waiting_changes().expect("hub"), 0);

    // A client of her own: its basic-data document waits for the hub.
    let own = w
        .laptop
        .session_mut()
        .add_client(
            ClientInput {
                first_name: "Odottava".into(),
                last_name: "Nuori".into(),
                ..ClientInput::default()
            },
            now,
        )
        .expect("add client");
    let after_add = laptop(&w);
    assert!(after_add >= 1, "{after_add}");
    w.laptop
        .session_mut()
        .add_memo(own, "Odottaa synkronointia.", None, now)
        .expect("memo");
    assert_eq!(laptop(&w), after_add + 1, "the record document waits too");

    // A change behind the API the hub refuses.
    let other = *hub_clients_in(&w, w.ita).iter().next().expect("client");
    let author = w.laptop.session().user().id;
    edit_in_store(&w.laptop, other, |c| {
        let memo = Memo {
            id: MemoId::new(),
            date: now.date_naive(),
            author,
            kind: "meeting".into(),
            text: "Ei oikeutta tähän.".into(),
            deleted: None,
        };
        c.memos.insert(memo.id, memo);
    });
    let before = Utc::now();
    sync_ok(&mut w);
    // Only the refused change waits now.
    assert_eq!(laptop(&w), 1);
    let problems = w.laptop.session().sync_problems().expect("problems");
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    assert_eq!(p.doc_kind, "record");
    assert_eq!(p.code, "sync.refused.rights");
    assert!(!p.quarantined);
    assert!(p.at >= before && p.at <= Utc::now(), "{p:?}");
    // The DTO names no document (no id, no content).
    let json = serde_json::to_value(p).expect("json");
    let keys: BTreeSet<&str> = json
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["at", "code", "doc_kind", "quarantined"].into());
    assert!(!json.to_string().contains(&other.0.to_string()));

    // The administrator makes her responsible for that client: the change
    // is taken at the next sync, and the problem clears.
    w.hub
        .session_mut()
        .set_responsible(ClientId::from(other.0), "maija", true, now)
        .expect("responsible");
    sync_ok(&mut w);
    sync_ok(&mut w);
    assert!(
        w.laptop
            .session()
            .sync_problems()
            .expect("problems")
            .is_empty(),
        "{:?}",
        w.laptop.session().sync_problems()
    );
    assert_eq!(laptop(&w), 0);
}

#[test]
fn an_agreement_of_a_few_changes_is_appended_to_the_record_and_read_back_whole() {
    let mut w = world();
    sync_ok(&mut w);
    let peer = polku_sync::Peer {
        node: w.laptop_node,
        role: polku_sync::Role::Laptop,
    };
    let node = *w.laptop_node.as_bytes();
    let deltas = |w: &World| w.hub.session().store().peer_deltas(&node).expect("deltas");
    // The first agreement (every document) is written whole.
    assert!(deltas(&w).is_empty());
    let clients: Vec<DocId> = hub_clients_in(&w, w.ita).into_iter().take(3).collect();
    for (n, client) in clients.iter().enumerate() {
        w.hub
            .session_mut()
            .add_memo(ClientId::from(client.0), "Soitettu.", None, Utc::now())
            .expect("memo");
        let (_, laptop) = sync_ok(&mut w);
        assert_eq!(laptop.docs_received, 1, "{laptop:?}");
        // One changed entry: appended, not the whole record again.
        assert_eq!(deltas(&w).len(), n + 1);
    }
    // The record as kept in memory is the record a fresh login reads from
    // the stored one and its changes, and both agree with the laptop's.
    let kept = w.hub.peer_record(&peer).expect("record");
    let mut fresh = login(w.hub_dir.path(), "admin", ADMIN_PW)
        .into_replica()
        .expect("replica");
    let read = fresh.peer_record(&peer).expect("record");
    fresh.into_session().close().expect("close");
    assert_eq!(*kept.agreed, *read.agreed);
    assert_eq!(kept.tombstone_cursor, read.tombstone_cursor);
    let hub_peer = polku_sync::Peer {
        node: w.hub.node_id(),
        role: polku_sync::Role::Hub,
    };
    let on_laptop = w.laptop.peer_record(&hub_peer).expect("record");
    assert_eq!(*on_laptop.agreed, *read.agreed);
    for client in &clients {
        assert!(read.agreed.contains_key(client));
    }
    // Many changes at once: the record is written whole again and its
    // appended changes go.
    for client in hub_clients_in(&w, w.ita) {
        w.hub
            .session_mut()
            .add_memo(ClientId::from(client.0), "Tavattu.", None, Utc::now())
            .expect("memo");
    }
    sync_ok(&mut w);
    assert!(deltas(&w).is_empty());
    let mut fresh = login(w.hub_dir.path(), "admin", ADMIN_PW)
        .into_replica()
        .expect("replica");
    assert_eq!(
        *fresh.peer_record(&peer).expect("record").agreed,
        *w.hub.peer_record(&peer).expect("record").agreed
    );
    fresh.into_session().close().expect("close");
}
