//! Hostile peers cannot exhaust or stall the hub: 200 unenrolled connections
//! sending junk and an enrolled peer trickling a 16 MiB frame one byte a
//! second, while two honest laptops sync. Real iroh endpoints on loopback
//! (relays disabled), real encrypted stores, the hub in this process.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use polku_api::{HubPin, Session, SyncReplica, Workspace};
use polku_audit::NodeKey;
use polku_net::{HubCounters, HubLimits, NetError, SessionLog, SyncProtocol};
use polku_scenarios::{add_worker, demo_hub, login};
use polku_sync::protocol::{ErrorCode, MAX_FRAME_LEN, Message};
use polku_sync::{Role, SessionConfig};

const LOOPBACK: &str = "127.0.0.1:0";

/// Generous bound on any wait in these tests (they finish in seconds).
const PATIENCE: Duration = Duration::from_secs(120);

struct Hub {
    protocol: SyncProtocol<SyncReplica>,
    router: iroh::protocol::Router,
    addr: iroh::EndpointAddr,
    errors: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

struct Laptop {
    login: &'static str,
    password: &'static str,
    dir: tempfile::TempDir,
}

fn laptop(login: &'static str, password: &'static str) -> Laptop {
    Laptop {
        login,
        password,
        dir: tempfile::tempdir().expect("tempdir"),
    }
}

/// A hub store with demo data and `laptops` enrolled (workers of unit Itä),
/// serving sync under `limits`.
async fn hub(laptops: &[&Laptop], limits: HubLimits) -> Hub {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut admin = demo_hub(dir.path(), 12);
    for l in laptops {
        add_worker(&mut admin, dir.path(), l.login, "Itä", l.password);
    }
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
    for (i, l) in laptops.iter().enumerate() {
        enrol(&mut admin, node, &addrs, l, [60 + i as u8; 32]);
    }
    let org = admin.org_id();
    let replica = Arc::new(Mutex::new(admin.into_replica().expect("replica")));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let seen = errors.clone();
    let log: SessionLog = Arc::new(move |_, result: &Result<_, NetError>| {
        if let Err(e) = result {
            seen.lock().expect("lock").push(format!("{e:?}"));
        }
    });
    let protocol = SyncProtocol::with_limits(replica, org, node, log, limits);
    let router = iroh::protocol::Router::builder(endpoint)
        .accept(polku_net::SYNC_ALPN, protocol.clone())
        .spawn();
    Hub {
        protocol,
        router,
        addr,
        errors,
        _dir: dir,
    }
}

/// Enrol a laptop (the hub's checks in-process) and create its store.
fn enrol(
    admin: &mut Session,
    hub: polku_audit::NodeId,
    addrs: &[std::net::SocketAddr],
    l: &Laptop,
    secret: [u8; 32],
) {
    let now = Utc::now();
    let ticket = admin
        .create_ticket(l.login, *hub.as_bytes(), addrs.to_vec(), now)
        .expect("ticket");
    let node = NodeKey::from_bytes(&secret).node_id();
    let grant = admin
        .redeem_ticket(&ticket.secret, node, l.login, l.password, "laptop", now)
        .expect("redeem")
        .expect("enrolled");
    let pin = HubPin {
        node: ticket.hub,
        addrs: addrs.to_vec(),
    };
    Workspace::join(
        l.dir.path(),
        &grant,
        l.login,
        l.password,
        &secret,
        &pin,
        now,
    )
    .expect("join");
}

/// One honest sync of a laptop with the hub.
async fn sync(l: &Laptop, hub: &iroh::EndpointAddr) -> polku_sync::SyncReport {
    let session = login(l.dir.path(), l.login, l.password);
    let secret = session.node_secret().expect("secret");
    let org = session.org_id();
    let replica = Mutex::new(session.into_replica().expect("replica"));
    let endpoint = polku_net::bind(&secret, LOOPBACK.parse().expect("addr"), vec![])
        .await
        .expect("bind");
    let report = polku_net::sync_with_hub(&endpoint, hub.clone(), &replica, org)
        .await
        .expect("honest sync");
    endpoint.close().await;
    let replica: SyncReplica = replica.into_inner().expect("lock");
    replica.into_session().close().expect("close");
    report
}

/// An enrolled laptop that sends a proper first turn (hello), then the header
/// of a `MAX_FRAME_LEN` frame and one byte of it a second, forever. `sent`
/// counts the body bytes written; the task ends when the hub stops it.
async fn trickle(dir: &Path, who: (&str, &str), hub: iroh::EndpointAddr, sent: Arc<AtomicUsize>) {
    send_frame(dir, who, hub, sent, 0).await;
}

/// Like [`trickle`], but first sends `burst` bytes of the frame at once.
async fn send_frame(
    dir: &Path,
    (user, password): (&str, &str),
    hub: iroh::EndpointAddr,
    sent: Arc<AtomicUsize>,
    burst: usize,
) {
    let session = login(dir, user, password);
    let secret = session.node_secret().expect("secret");
    let org = session.org_id();
    let mut replica = session.into_replica().expect("replica");
    let endpoint = polku_net::bind(&secret, LOOPBACK.parse().expect("addr"), vec![])
        .await
        .expect("bind");
    let hub_id = polku_audit::NodeId::from_bytes(*hub.id.as_bytes());
    let conn = endpoint
        .connect(hub, polku_net::SYNC_ALPN)
        .await
        .expect("connect");
    let (mut send, mut recv) = conn.open_bi().await.expect("stream");
    let mut session = polku_sync::Session::new(SessionConfig::new(
        Role::Laptop,
        org,
        polku_net::node_id(&endpoint),
        hub_id,
    ));
    for f in session.start(&mut replica).expect("hello") {
        send.write_all(f.as_bytes()).await.expect("write hello");
    }
    drop(replica);
    // Read (and drop) whatever the hub answers.
    let drain = tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(Some(_)) = recv.read(&mut buf).await {}
    });
    let len = u32::try_from(MAX_FRAME_LEN).expect("fits");
    if send.write_all(&len.to_le_bytes()).await.is_ok()
        && send.write_all(&vec![1u8; burst]).await.is_ok()
    {
        sent.fetch_add(burst, Ordering::SeqCst);
        loop {
            if send.write_all(&[1]).await.is_err() {
                break;
            }
            sent.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    drain.abort();
    conn.close(0u32.into(), b"done");
    endpoint.close().await;
}

/// An unenrolled node's endpoint. It keeps little unacknowledged data in
/// memory, so that what this process holds is the hub's doing.
async fn junk_endpoint(secret: [u8; 32]) -> iroh::Endpoint {
    use iroh::endpoint::{QuicTransportConfig, presets};
    iroh::Endpoint::builder(presets::Minimal)
        .relay_mode(iroh::RelayMode::Disabled)
        .secret_key(iroh::SecretKey::from_bytes(&secret))
        .transport_config(
            QuicTransportConfig::builder()
                .send_window(128 * 1024)
                .build(),
        )
        .bind_addr(LOOPBACK.parse::<std::net::SocketAddr>().expect("addr"))
        .expect("bind addr")
        .bind()
        .await
        .expect("bind")
}

/// An unenrolled node's connection: claims a `MAX_FRAME_LEN` frame, then
/// sends 2 MiB of junk as fast as the hub takes it, and waits for the hub to
/// close. Returns whether the hub closed it.
async fn junk(endpoint: iroh::Endpoint, hub: iroh::EndpointAddr) -> bool {
    let Ok(conn) = endpoint.connect(hub, polku_net::SYNC_ALPN).await else {
        return false;
    };
    let Ok((mut send, _recv)) = conn.open_bi().await else {
        return false;
    };
    let len = u32::try_from(MAX_FRAME_LEN).expect("fits");
    let chunk = vec![0xa5u8; 64 * 1024];
    if send.write_all(&len.to_le_bytes()).await.is_ok() {
        for _ in 0..32 {
            if send.write_all(&chunk).await.is_err() {
                break;
            }
        }
    }
    let _ = send.finish();
    tokio::time::timeout(PATIENCE, conn.closed()).await.is_ok()
}

/// The process's peak resident set, in kB.
fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(PATIENCE, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn junk_and_a_trickling_peer_neither_exhaust_nor_stall_the_hub() {
    let aino = laptop("aino", "ainon-salasana");
    let eero = laptop("eero", "eeron-salasana");
    let slow = laptop("hidas", "hitaan-salasana");
    // The rate rule would drop the trickler after its grace; keep it
    // trickling for the whole test (the rule has its own test below).
    let limits = HubLimits {
        rate_grace: PATIENCE * 3,
        ..HubLimits::default()
    };
    let hub = hub(&[&aino, &eero, &slow], limits).await;
    eprintln!("peak RSS at start {} MB", peak_rss_kb() / 1024);

    // The enrolled peer starts trickling.
    let sent = Arc::new(AtomicUsize::new(0));
    let trickler = {
        let (addr, sent) = (hub.addr.clone(), sent.clone());
        let dir = slow.dir.path().to_path_buf();
        let who = (slow.login, slow.password);
        tokio::spawn(async move { trickle(&dir, who, addr, sent).await })
    };
    wait_for("the trickler to be in its frame", || {
        sent.load(Ordering::SeqCst) >= 2
    })
    .await;

    eprintln!("peak RSS before the junk {} MB", peak_rss_kb() / 1024);
    // 200 unenrolled connections from 10 endpoints send junk...
    let mut junk_tasks = Vec::new();
    let mut endpoints = Vec::new();
    for e in 0..10u8 {
        let endpoint = junk_endpoint([200 + e; 32]).await;
        for _ in 0..20 {
            junk_tasks.push(tokio::spawn(junk(endpoint.clone(), hub.addr.clone())));
        }
        endpoints.push(endpoint);
    }
    // ...while two honest laptops sync.
    let (a, e) = tokio::join!(sync(&aino, &hub.addr), sync(&eero, &hub.addr));
    assert!(a.completed && a.docs_created > 0, "{a:?}");
    assert!(e.completed && e.docs_created > 0, "{e:?}");

    let mut closed = 0;
    for t in junk_tasks {
        if t.await.expect("junk task") {
            closed += 1;
        }
    }
    assert_eq!(closed, 200, "the hub closed every junk connection");
    let peak = peak_rss_kb();
    eprintln!(
        "peak RSS {} MB, counters {:?}",
        peak / 1024,
        hub.protocol.counters()
    );
    assert!(peak < 300 * 1024, "peak RSS {} MB", peak / 1024);
    wait_for("the hub to count both honest syncs", || {
        hub.protocol.counters().completed == 2
    })
    .await;
    let c: HubCounters = hub.protocol.counters();
    assert_eq!(c.refused_not_admitted, 200, "{c:?}");
    // The trickler is still in its frame, holding one session and next to
    // no buffer.
    assert!(!trickler.is_finished(), "the trickler was not dropped");
    assert_eq!(c.sessions, 1, "{c:?}");
    assert!(c.buffered_bytes <= 128 * 1024, "{c:?}");
    let sent_now = sent.load(Ordering::SeqCst);
    assert!(sent_now < 1024, "it is trickling ({sent_now} bytes)");

    let refusals = || {
        hub.errors
            .lock()
            .expect("lock")
            .iter()
            .filter(|e| e.contains("NotEnrolled"))
            .count()
    };
    wait_for("the hub to log 200 refusals", || refusals() == 200).await;
    assert_eq!(
        hub.errors.lock().expect("lock").len(),
        200,
        "nothing else failed"
    );

    trickler.abort();
    for e in endpoints {
        e.close().await;
    }
    hub.router.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_trickling_below_the_minimum_rate_is_dropped_and_others_go_on() {
    let aino = laptop("aino", "ainon-salasana");
    let slow = laptop("hidas", "hitaan-salasana");
    let limits = HubLimits {
        rate_grace: Duration::from_secs(2),
        ..HubLimits::default()
    };
    let hub = hub(&[&aino, &slow], limits).await;
    let sent = Arc::new(AtomicUsize::new(0));
    let trickler = {
        let (addr, sent) = (hub.addr.clone(), sent.clone());
        let dir = slow.dir.path().to_path_buf();
        let who = (slow.login, slow.password);
        tokio::spawn(async move { trickle(&dir, who, addr, sent).await })
    };
    wait_for("the hub to drop the trickler", || {
        hub.protocol.counters().dropped_slow == 1
    })
    .await;
    let errors = hub.errors.lock().expect("lock").clone();
    assert!(errors.iter().any(|e| e == "TooSlow"), "{errors:?}");
    let c = hub.protocol.counters();
    assert_eq!((c.sessions, c.buffered_bytes), (0, 0), "{c:?}");
    let r = sync(&aino, &hub.addr).await;
    assert!(r.completed, "{r:?}");
    tokio::time::timeout(PATIENCE, trickler)
        .await
        .expect("the trickler was stopped")
        .expect("trickler task");
    hub.router.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolled_peer_whose_first_frame_is_not_a_small_hello_is_refused_unread() {
    let slow = laptop("hidas", "hitaan-salasana");
    let hub = hub(&[&slow], HubLimits::default()).await;
    let session = login(slow.dir.path(), slow.login, slow.password);
    let secret = session.node_secret().expect("secret");
    session.close().expect("close");
    let endpoint = polku_net::bind(&secret, LOOPBACK.parse().expect("addr"), vec![])
        .await
        .expect("bind");
    let conn = endpoint
        .connect(hub.addr.clone(), polku_net::SYNC_ALPN)
        .await
        .expect("connect");
    let (mut send, mut recv) = conn.open_bi().await.expect("stream");
    let len = u32::try_from(MAX_FRAME_LEN).expect("fits");
    send.write_all(&len.to_le_bytes()).await.expect("header");
    let _ = send.write_all(&vec![1u8; 256 * 1024]).await;
    // The hub answers with an error frame and stops reading.
    let answer = tokio::time::timeout(PATIENCE, recv.read_to_end(1024))
        .await
        .expect("answer in time")
        .expect("the hub's answer");
    assert_eq!(
        polku_sync::protocol::decode_frame(&answer).ok(),
        Some(Message::Error(ErrorCode::LimitExceeded))
    );
    wait_for("the hub to log the refusal", || {
        !hub.errors.lock().expect("lock").is_empty()
    })
    .await;
    let errors = hub.errors.lock().expect("lock").clone();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("FrameTooLarge"), "{errors:?}");
    assert_eq!(hub.protocol.counters().buffered_bytes, 0);
    conn.close(0u32.into(), b"done");
    endpoint.close().await;
    hub.router.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_over_the_session_cap_waits_then_is_told_the_hub_is_busy() {
    let aino = laptop("aino", "ainon-salasana");
    let slow = laptop("hidas", "hitaan-salasana");
    let limits = HubLimits {
        max_sessions: 1,
        session_wait: Duration::from_secs(1),
        rate_grace: PATIENCE * 3,
        ..HubLimits::default()
    };
    let hub = hub(&[&aino, &slow], limits).await;
    let sent = Arc::new(AtomicUsize::new(0));
    let trickler = {
        let (addr, sent) = (hub.addr.clone(), sent.clone());
        let dir = slow.dir.path().to_path_buf();
        let who = (slow.login, slow.password);
        tokio::spawn(async move { trickle(&dir, who, addr, sent).await })
    };
    wait_for("the trickler to hold the only session", || {
        sent.load(Ordering::SeqCst) >= 1 && hub.protocol.counters().sessions == 1
    })
    .await;

    let session = login(aino.dir.path(), aino.login, aino.password);
    let secret = session.node_secret().expect("secret");
    let org = session.org_id();
    let replica = Mutex::new(session.into_replica().expect("replica"));
    let endpoint = polku_net::bind(&secret, LOOPBACK.parse().expect("addr"), vec![])
        .await
        .expect("bind");
    let err = polku_net::sync_with_hub(&endpoint, hub.addr.clone(), &replica, org)
        .await
        .expect_err("the hub is full");
    assert!(format!("{err:?}").contains("hub busy"), "{err:?}");
    let c = hub.protocol.counters();
    assert_eq!(
        (c.refused_busy, c.sessions, c.completed),
        (1, 1, 0),
        "{c:?}"
    );

    endpoint.close().await;
    trickler.abort();
    replica
        .into_inner()
        .expect("lock")
        .into_session()
        .close()
        .expect("close");
    hub.router.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_peers_send_is_buffered_within_the_global_budget() {
    let fast = laptop("nopea", "nopean-salasana");
    let budget = 256 * 1024;
    let limits = HubLimits {
        max_buffered_bytes: budget,
        read_timeout: Duration::from_secs(2),
        rate_grace: PATIENCE * 3,
        ..HubLimits::default()
    };
    let hub = hub(&[&fast], limits).await;
    let sent = Arc::new(AtomicUsize::new(0));
    let sender = {
        let (addr, sent) = (hub.addr.clone(), sent.clone());
        let dir = fast.dir.path().to_path_buf();
        let who = (fast.login, fast.password);
        tokio::spawn(async move { send_frame(&dir, who, addr, sent, 1024 * 1024).await })
    };
    wait_for("the hub to give up on the frame", || {
        hub.protocol.counters().failed == 1
    })
    .await;
    let errors = hub.errors.lock().expect("lock").clone();
    assert_eq!(
        errors,
        vec!["Busy".to_owned()],
        "the frame did not fit the budget"
    );
    let c = hub.protocol.counters();
    assert_eq!((c.sessions, c.buffered_bytes), (0, 0), "{c:?}");
    sender.abort();
    hub.router.shutdown().await.expect("shutdown");
}
