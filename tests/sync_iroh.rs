//! A hub and three laptops of two units, each with its own encrypted store,
//! syncing over real iroh endpoints on loopback (relays disabled).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use polku_api::{ClientInput, HubPin, Session, SyncReplica, Workspace};
use polku_audit::NodeKey;
use polku_core::{DocId, DocKind, UnitId};
use polku_net::{SessionLog, SyncProtocol};
use polku_scenarios::{TEMPORARY, add_worker, chosen, demo_hub, login};

const LOOPBACK: &str = "127.0.0.1:0";

struct Laptop {
    login: &'static str,
    unit: &'static str,
    password: &'static str,
    dir: tempfile::TempDir,
}

fn heads(session: &Session) -> BTreeMap<DocId, (DocKind, [u8; 32])> {
    session
        .store()
        .list_doc_heads()
        .expect("heads")
        .into_iter()
        .map(|(id, kind, h)| (id, (kind, h.0)))
        .collect()
}

fn unit(session: &Session, name: &str) -> UnitId {
    session
        .organisation()
        .units
        .values()
        .find(|u| u.name == name)
        .expect("unit")
        .id
}

async fn sync(
    dir: &Path,
    login_name: &str,
    password: &str,
    hub: &iroh::EndpointAddr,
) -> polku_sync::SyncReport {
    let session = login(dir, login_name, password);
    let secret = session.node_secret().expect("secret");
    let org = session.org_id();
    let replica = Mutex::new(session.into_replica().expect("replica"));
    let endpoint = polku_net::bind(&secret, LOOPBACK.parse().expect("addr"), vec![])
        .await
        .expect("bind");
    let report = polku_net::sync_with_hub(&endpoint, hub.clone(), &replica, org)
        .await
        .expect("sync");
    endpoint.close().await;
    let replica: SyncReplica = replica.into_inner().expect("lock");
    replica.into_session().close().expect("close");
    report
}

/// The hub's endpoint, bound before tickets are made (they carry its address).
struct HubNet {
    endpoint: iroh::Endpoint,
    node: polku_audit::NodeId,
    addrs: Vec<std::net::SocketAddr>,
    addr: iroh::EndpointAddr,
}

async fn bind_hub(admin: &Session) -> HubNet {
    let secret = admin.node_secret().expect("secret");
    let node = NodeKey::from_bytes(&secret).node_id();
    let endpoint = polku_net::bind(
        &secret,
        LOOPBACK.parse().expect("addr"),
        vec![polku_net::SYNC_ALPN.to_vec()],
    )
    .await
    .expect("bind hub");
    let addrs = endpoint.bound_sockets();
    let addr = polku_net::hub_addr(*node.as_bytes(), &addrs).expect("addr");
    HubNet {
        endpoint,
        node,
        addrs,
        addr,
    }
}

/// Enrol a laptop for `login` (the hub's checks run in-process here; `polku join`
/// carries the same exchange over iroh) and create its store in `dir`.
/// `password` is the user's current password on the hub; `new_password`
/// the one chosen while joining (required when `password` is temporary).
fn enrol(
    admin: &mut Session,
    hub: &HubNet,
    login_name: &str,
    (password, new_password): (&str, Option<&str>),
    dir: &Path,
    secret: [u8; 32],
) {
    let now = Utc::now();
    let ticket = admin
        .create_ticket(login_name, *hub.node.as_bytes(), hub.addrs.clone(), now)
        .expect("ticket");
    let node = NodeKey::from_bytes(&secret).node_id();
    let grant = admin
        .redeem_ticket(
            &ticket.secret,
            node,
            login_name,
            password,
            new_password.and_then(chosen),
            "laptop",
            now,
        )
        .expect("redeem")
        .expect("enrolled");
    let pin = HubPin {
        node: ticket.hub,
        addrs: hub.addrs.clone(),
    };
    let password = new_password.unwrap_or(password);
    Workspace::join(dir, &grant, login_name, password, &secret, &pin, now).expect("join");
}

/// Serve the sync protocol on the hub's endpoint over the admin's store.
fn serve(
    admin: Session,
    endpoint: iroh::Endpoint,
) -> (Arc<Mutex<SyncReplica>>, iroh::protocol::Router) {
    let org = admin.org_id();
    let node = NodeKey::from_bytes(&admin.node_secret().expect("secret")).node_id();
    let replica = Arc::new(Mutex::new(admin.into_replica().expect("replica")));
    let log: SessionLog = Arc::new(|_, _| {});
    let router = iroh::protocol::Router::builder(endpoint)
        .accept(
            polku_net::SYNC_ALPN,
            SyncProtocol::new(replica.clone(), org, node, log),
        )
        .spawn();
    (replica, router)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_and_three_laptops_of_two_units_converge_to_their_scopes() {
    let hub_dir = tempfile::tempdir().expect("tempdir");
    let mut admin = demo_hub(hub_dir.path(), 24);
    let now = Utc::now();
    let laptops = vec![
        Laptop {
            login: "aino",
            unit: "Itä",
            password: "ainon-salasana",
            dir: tempfile::tempdir().expect("tempdir"),
        },
        Laptop {
            login: "eero",
            unit: "Itä",
            password: "eeron-salasana",
            dir: tempfile::tempdir().expect("tempdir"),
        },
        Laptop {
            login: "kalle",
            unit: "Keskusta",
            password: "kallen-salasana",
            dir: tempfile::tempdir().expect("tempdir"),
        },
    ];
    for l in &laptops {
        add_worker(&mut admin, hub_dir.path(), l.login, l.unit, l.password);
    }
    let hub = bind_hub(&admin).await;
    let hub_addr = hub.addr.clone();
    for (i, l) in laptops.iter().enumerate() {
        enrol(
            &mut admin,
            &hub,
            l.login,
            (TEMPORARY, Some(l.password)),
            l.dir.path(),
            [40 + i as u8; 32],
        );
    }
    let ita = unit(&admin, "Itä");
    let keskusta = unit(&admin, "Keskusta");
    let ita_client = admin
        .list_clients(now)
        .expect("list")
        .into_iter()
        .find(|c| c.unit == Some(ita))
        .expect("client")
        .id;

    // Serve.
    let (replica, router) = serve(admin, hub.endpoint);

    // First sync of every laptop, then offline edits everywhere.
    for l in &laptops {
        let r = sync(l.dir.path(), l.login, l.password, &hub_addr).await;
        assert!(r.completed && r.docs_created > 0, "{r:?}");
    }
    let mut own_clients = Vec::new();
    for l in &laptops {
        let mut s = login(l.dir.path(), l.login, l.password);
        let id = s
            .add_client(
                ClientInput {
                    first_name: "Uusi".into(),
                    last_name: l.login.into(),
                    ..Default::default()
                },
                now,
            )
            .expect("add client offline");
        s.add_memo(id, "Kirjattu kentällä ilman verkkoa.", None, now)
            .expect("memo offline");
        own_clients.push(id);
        s.close().expect("close");
    }
    {
        let mut r = replica.lock().expect("lock");
        r.session_mut()
            .add_memo(ita_client, "Toimistolla lisätty muistio.", None, now)
            .expect("hub memo");
    }

    // Sync in several orders until a whole round is quiet.
    let orders: [[usize; 3]; 4] = [[2, 0, 1], [1, 2, 0], [0, 1, 2], [2, 1, 0]];
    let mut quiet = false;
    for order in orders {
        let mut moved = 0;
        for i in order {
            let l = &laptops[i];
            let r = sync(l.dir.path(), l.login, l.password, &hub_addr).await;
            assert!(r.completed);
            moved += r.docs_sent + r.docs_received;
        }
        if moved == 0 {
            quiet = true;
            break;
        }
    }
    assert!(quiet, "sync did not become quiet");

    // Every laptop holds exactly what its user may see, with the hub's heads.
    let hub_heads = {
        let r = replica.lock().expect("lock");
        heads(r.session())
    };
    let hub_units: BTreeMap<DocId, Option<UnitId>> = {
        let mut r = replica.lock().expect("lock");
        r.session_mut()
            .list_clients(now)
            .expect("list")
            .into_iter()
            .map(|c| (DocId::from(c.id), c.unit))
            .collect()
    };
    for (l, own) in laptops.iter().zip(&own_clients) {
        let s = login(l.dir.path(), l.login, l.password);
        let mine = heads(&s);
        let my_unit = if l.unit == "Itä" { ita } else { keskusta };
        let expected_clients: BTreeSet<DocId> = hub_units
            .iter()
            .filter(|(_, u)| **u == Some(my_unit))
            .map(|(id, _)| *id)
            .collect();
        let got_clients: BTreeSet<DocId> = mine
            .iter()
            .filter(|(_, (k, _))| *k == DocKind::Client)
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(
            got_clients, expected_clients,
            "{}: clients differ from the unit's",
            l.login
        );
        assert!(got_clients.contains(&DocId::from(*own)));
        for (id, (_, h)) in &mine {
            assert_eq!(
                hub_heads.get(id).map(|(_, h)| h),
                Some(h),
                "{}: heads differ from the hub's",
                l.login
            );
        }
        assert!(mine.values().any(|(k, _)| *k == DocKind::Organisation));
    }
    // Offline memos made it to the hub; the hub's memo reached the Itä laptops.
    {
        let mut r = replica.lock().expect("lock");
        for own in &own_clients {
            let c = r.session_mut().show_client(*own, now).expect("on hub");
            assert!(c.memos.values().any(|m| m.text.contains("ilman verkkoa")));
        }
    }
    for l in laptops.iter().filter(|l| l.unit == "Itä") {
        let mut s = login(l.dir.path(), l.login, l.password);
        let c = s.show_client(ita_client, now).expect("synced client");
        assert!(c.memos.values().any(|m| m.text.contains("Toimistolla")));
    }

    // The hub is stopped (its store closed) and started again: nothing is lost,
    // and sync goes on where it left off.
    router.shutdown().await.expect("shutdown");
    drop(router);
    let replica = Arc::try_unwrap(replica)
        .expect("hub replica still shared")
        .into_inner()
        .expect("lock");
    replica.into_session().close().expect("close hub");
    let restarted = login(hub_dir.path(), "admin", polku_scenarios::PASSWORD);
    assert_eq!(
        heads(&restarted),
        hub_heads,
        "the restarted hub lost or changed documents"
    );
    let hub = bind_hub(&restarted).await;
    let hub_addr = hub.addr.clone();
    let (replica, router) = serve(restarted, hub.endpoint);
    let l = &laptops[0];
    {
        let mut s = login(l.dir.path(), l.login, l.password);
        s.add_memo(
            own_clients[0],
            "Muistio hubin uudelleenkäynnistyksen jälkeen.",
            None,
            now,
        )
        .expect("memo");
        s.close().expect("close");
    }
    let r = sync(l.dir.path(), l.login, l.password, &hub_addr).await;
    assert!(r.completed);
    assert_eq!(
        r.docs_sent, 1,
        "only the changed document moves after a restart: {r:?}"
    );
    {
        let mut r = replica.lock().expect("lock");
        let c = r
            .session_mut()
            .show_client(own_clients[0], now)
            .expect("on hub");
        assert!(
            c.memos
                .values()
                .any(|m| m.text.contains("uudelleenkäynnistyksen"))
        );
        assert!(c.memos.values().any(|m| m.text.contains("ilman verkkoa")));
    }
    router.shutdown().await.expect("shutdown");
}

/// An administrator's laptop user (may modify every client).
fn add_admin_user(admin: &mut Session, dir: &Path, login_name: &str, password: &str) {
    let now = Utc::now();
    admin
        .add_user(
            polku_api::UserInput {
                login: login_name.to_owned(),
                display_name: None,
                role: polku_core::model::Role::Admin,
                units: vec![],
            },
            TEMPORARY,
            now,
        )
        .expect("add user");
    let mut s = login(dir, login_name, TEMPORARY);
    s.change_password(password, now).expect("change password");
    s.close().expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_field_edited_on_two_laptops_is_a_conflict_on_both_and_text_merges() {
    let hub_dir = tempfile::tempdir().expect("tempdir");
    let mut admin = demo_hub(hub_dir.path(), 4);
    let now = Utc::now();
    let users = [("paavo", "paavon-salasana"), ("liisa", "liisan-salasana")];
    for (u, p) in users {
        add_admin_user(&mut admin, hub_dir.path(), u, p);
    }
    let hub = bind_hub(&admin).await;
    let hub_addr = hub.addr.clone();
    let dirs = [
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    ];
    for (i, (u, p)) in users.iter().enumerate() {
        enrol(
            &mut admin,
            &hub,
            u,
            (p, None),
            dirs[i].path(),
            [60 + i as u8; 32],
        );
    }
    let client = admin.list_clients(now).expect("list")[0].id;
    let memo = *admin
        .show_client(client, now)
        .expect("show")
        .memos
        .keys()
        .next()
        .expect("a memo");
    let original = admin.show_client(client, now).expect("show").memos[&memo]
        .text
        .clone();
    let (replica, router) = serve(admin, hub.endpoint);
    for (i, (u, p)) in users.iter().enumerate() {
        sync(dirs[i].path(), u, p, &hub_addr).await;
    }

    // Offline on both laptops: the same field, and the same memo's text.
    let edits = [
        ("040 111 1111", format!("{original} (A)")),
        ("040 222 2222", format!("(B) {original}")),
    ];
    for (i, (u, p)) in users.iter().enumerate() {
        let mut s = login(dirs[i].path(), u, p);
        let phone = edits[i].0.to_owned();
        s.update_basic(client, now, |b| b.phone = phone)
            .expect("edit phone");
        s.edit_memo(client, memo, &edits[i].1, now)
            .expect("edit memo");
        s.close().expect("close");
    }
    for order in [[0, 1], [0, 1]] {
        for i in order {
            let (u, p) = users[i];
            sync(dirs[i].path(), u, p, &hub_addr).await;
        }
    }

    // Both values are visible as a conflict on both laptops; both text edits are kept.
    for (i, (u, p)) in users.iter().enumerate() {
        let mut s = login(dirs[i].path(), u, p);
        let conflicts = s.client_conflicts(client, now).expect("conflicts");
        let phone = conflicts
            .iter()
            .find(|c| c.path.last().map(String::as_str) == Some("phone"))
            .unwrap_or_else(|| panic!("{u}: no phone conflict in {conflicts:?}"));
        assert_eq!(phone.values.len(), 2, "{u}: {phone:?}");
        let text = &s.show_client(client, now).expect("show").memos[&memo].text;
        assert!(
            text.contains("(A)") && text.contains("(B)"),
            "{u}: text edits lost: {text}"
        );
        s.close().expect("close");
    }
    // The hub holds the same conflict.
    let on_hub = replica
        .lock()
        .expect("lock")
        .session_mut()
        .client_conflicts(client, now)
        .expect("conflicts");
    assert!(
        on_hub
            .iter()
            .any(|c| c.path.last().map(String::as_str) == Some("phone") && c.values.len() == 2),
        "hub: {on_hub:?}"
    );
    router.shutdown().await.expect("shutdown");
}

/// The memo texts of client `id` in `session`'s store.
fn memo_texts(session: &mut Session, id: polku_core::ClientId) -> BTreeSet<String> {
    session
        .show_client(id, Utc::now())
        .expect("client")
        .memos
        .values()
        .map(|m| m.text.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_cut_at_chosen_messages_on_both_sides_lose_nothing_acknowledged() {
    use polku_net::Cut;
    let hub_dir = tempfile::tempdir().expect("tempdir");
    let mut admin = demo_hub(hub_dir.path(), 6);
    let now = Utc::now();
    add_worker(&mut admin, hub_dir.path(), "aino", "Itä", "ainon-salasana");
    let hub = bind_hub(&admin).await;
    let hub_addr = hub.addr.clone();
    let laptop_dir = tempfile::tempdir().expect("tempdir");
    enrol(
        &mut admin,
        &hub,
        "aino",
        (TEMPORARY, Some("ainon-salasana")),
        laptop_dir.path(),
        [77u8; 32],
    );
    let org = admin.org_id();
    let (replica, router) = serve(admin, hub.endpoint);
    let own = {
        let mut s = login(laptop_dir.path(), "aino", "ainon-salasana");
        let id = s
            .add_client(
                ClientInput {
                    first_name: "Katko".into(),
                    last_name: "Testi".into(),
                    ..Default::default()
                },
                now,
            )
            .expect("client");
        s.close().expect("close");
        id
    };
    // The first sync brings the client to the hub.
    assert!(
        sync(laptop_dir.path(), "aino", "ainon-salasana", &hub_addr)
            .await
            .completed
    );

    // Exactly 20 cuts at chosen frames: alternately while the hub's frames
    // are read (the laptop drops the connection after reading 0..3 of them)
    // and while the laptop writes its opening frames (hello, document set,
    // turn end: the hub's stream ends after 0..3 whole frames and inside the
    // next one). Every fifth round a clean sync follows.
    let cuts = (0..20).map(|round| {
        let n = (round / 2) % 3;
        if round % 2 == 0 {
            Cut::AfterReading(n)
        } else {
            Cut::InsideWrite {
                frames: n,
                keep: [1, 5, 40][round % 3],
            }
        }
    });
    // Memos on the laptop (acknowledged to the user when written) and memos
    // the hub held after a completed sync (acknowledged by the hub).
    let mut written = BTreeSet::new();
    let mut on_hub: BTreeSet<String> = BTreeSet::new();
    for (round, cut) in cuts.enumerate() {
        let text = format!("Muistio {round} ennen katkosta.");
        let mut s = login(laptop_dir.path(), "aino", "ainon-salasana");
        s.add_memo(own, &text, None, now).expect("memo");
        written.insert(text);
        let secret = s.node_secret().expect("secret");
        let replica_l = Mutex::new(s.into_replica().expect("replica"));
        let ep = polku_net::bind(&secret, LOOPBACK.parse().expect("addr"), vec![])
            .await
            .expect("bind");
        let result =
            polku_net::sync_with_hub_cut_at(&ep, hub_addr.clone(), &replica_l, org, Some(cut))
                .await;
        assert!(
            result.is_err(),
            "round {round}: {cut:?} did not cut: {result:?}"
        );
        ep.close().await;
        // Right after the cut: both stores verify, the laptop still has all
        // it wrote, the hub all it had.
        let mut session = replica_l.into_inner().expect("lock").into_session();
        session
            .store()
            .verify()
            .unwrap_or_else(|e| panic!("round {round}: laptop store damaged: {e}"));
        let laptop_has = memo_texts(&mut session, own);
        assert!(
            written.is_subset(&laptop_has),
            "round {round}: the laptop lost a memo"
        );
        session.close().expect("close");
        let hub_has = {
            let mut hub = replica.lock().expect("lock");
            hub.session()
                .store()
                .verify()
                .unwrap_or_else(|e| panic!("round {round}: hub store damaged: {e}"));
            memo_texts(hub.session_mut(), own)
        };
        assert!(
            on_hub.is_subset(&hub_has),
            "round {round}: the hub lost a memo"
        );
        if round % 5 == 4 {
            let r = sync(laptop_dir.path(), "aino", "ainon-salasana", &hub_addr).await;
            assert!(r.completed, "round {round}: the next sync completes");
            let mut hub = replica.lock().expect("lock");
            on_hub = memo_texts(hub.session_mut(), own);
            assert!(
                written.is_subset(&on_hub),
                "round {round}: not all on the hub"
            );
        }
    }
    assert_eq!(on_hub, written);
    router.shutdown().await.expect("shutdown");
}

/// An attachment file of several MiB (many pieces, several turns) goes from
/// one laptop to the hub and on to a second laptop over iroh, byte for byte;
/// deleting it on the second laptop deletes it everywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_file_travels_laptop_to_laptop_over_iroh_and_its_deletion_too() {
    use std::io::Read;
    let hub_dir = tempfile::tempdir().expect("tempdir");
    let mut admin = demo_hub(hub_dir.path(), 2);
    let now = Utc::now();
    let users = [("paavo", "paavon-salasana"), ("liisa", "liisan-salasana")];
    for (u, p) in users {
        add_admin_user(&mut admin, hub_dir.path(), u, p);
    }
    let hub = bind_hub(&admin).await;
    let hub_addr = hub.addr.clone();
    let dirs = [
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    ];
    for (i, (u, p)) in users.iter().enumerate() {
        enrol(
            &mut admin,
            &hub,
            u,
            (p, None),
            dirs[i].path(),
            [70 + i as u8; 32],
        );
    }
    let client = admin.list_clients(now).expect("list")[0].id;
    let (replica, router) = serve(admin, hub.endpoint);
    for (i, (u, p)) in users.iter().enumerate() {
        sync(dirs[i].path(), u, p, &hub_addr).await;
    }

    // 17 MiB and a bit: three turns of pieces on each leg.
    let body: Vec<u8> = (0..17 * 1024 * 1024 + 4321u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut paavo = login(dirs[0].path(), users[0].0, users[0].1);
    let id = paavo
        .add_attachment(client, body.as_slice(), "lausunto.pdf", now)
        .expect("add");
    paavo.close().expect("close");
    let up = sync(dirs[0].path(), users[0].0, users[0].1, &hub_addr).await;
    assert_eq!((up.blobs_sent, up.blob_bytes_sent), (1, body.len() as u64));
    let down = sync(dirs[1].path(), users[1].0, users[1].1, &hub_addr).await;
    assert_eq!(down.blobs_received, 1, "{down:?}");

    let mut liisa = login(dirs[1].path(), users[1].0, users[1].1);
    let (_, mut reader) = liisa.open_attachment(client, id, now).expect("open");
    let mut back = Vec::new();
    reader.read_to_end(&mut back).expect("read");
    assert!(back == body, "the file differs after two hops");
    liisa.delete_attachment(client, id, now).expect("delete");
    liisa.close().expect("close");
    sync(dirs[1].path(), users[1].0, users[1].1, &hub_addr).await;
    sync(dirs[0].path(), users[0].0, users[0].1, &hub_addr).await;
    let paavo = login(dirs[0].path(), users[0].0, users[0].1);
    assert!(paavo.store().list_attachments().expect("files").is_empty());
    paavo.close().expect("close");
    assert!(
        replica
            .lock()
            .expect("lock")
            .session()
            .store()
            .list_attachments()
            .expect("files")
            .is_empty()
    );
    router.shutdown().await.expect("shutdown");
}
