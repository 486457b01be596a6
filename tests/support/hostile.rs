//! Helpers of the hostile-peer scenarios (`hostile_peers`, `hostile_limits`):
//! a served hub with enrolled laptops, honest syncs, a trickling peer, junk.

#![allow(dead_code)]

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use polku_api::{HubPin, Session, SyncReplica, Workspace};
use polku_audit::NodeKey;
use polku_net::{HubLimits, NetError, SessionLog, SyncProtocol};
use polku_scenarios::{add_worker, demo_hub, login};
use polku_sync::protocol::MAX_FRAME_LEN;
use polku_sync::{Role, SessionConfig};

pub(crate) const LOOPBACK: &str = "127.0.0.1:0";

/// Generous bound on any wait in these tests (they finish in seconds).
pub(crate) const PATIENCE: Duration = Duration::from_secs(120);

pub(crate) struct Hub {
    pub(crate) protocol: SyncProtocol<SyncReplica>,
    pub(crate) router: iroh::protocol::Router,
    pub(crate) addr: iroh::EndpointAddr,
    pub(crate) errors: Arc<Mutex<Vec<String>>>,
    pub(crate) _dir: tempfile::TempDir,
}

pub(crate) struct Laptop {
    pub(crate) login: &'static str,
    pub(crate) password: &'static str,
    pub(crate) dir: tempfile::TempDir,
}

pub(crate) fn laptop(login: &'static str, password: &'static str) -> Laptop {
    Laptop {
        login,
        password,
        dir: tempfile::tempdir().expect("tempdir"),
    }
}

/// A hub store with demo data and `laptops` enrolled (workers of unit Itä),
/// serving sync under `limits`.
pub(crate) async fn hub(laptops: &[&Laptop], limits: HubLimits) -> Hub {
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

/// Enrol a laptop for a user added with `add_worker` on the hub (still on
/// the temporary password; `l.password` is chosen while joining; the hub's
/// checks in-process) and create its store.
pub(crate) fn enrol(
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
        .redeem_ticket(
            &ticket.secret,
            node,
            l.login,
            polku_scenarios::TEMPORARY,
            polku_scenarios::chosen(l.password),
            "laptop",
            now,
        )
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
pub(crate) async fn sync(l: &Laptop, hub: &iroh::EndpointAddr) -> polku_sync::SyncReport {
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
pub(crate) async fn trickle(
    dir: &Path,
    who: (&str, &str),
    hub: iroh::EndpointAddr,
    sent: Arc<AtomicUsize>,
) {
    send_frame(dir, who, hub, sent, 0).await;
}

/// Like [`trickle`], but first sends `burst` bytes of the frame at once.
pub(crate) async fn send_frame(
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
pub(crate) async fn junk_endpoint(secret: [u8; 32]) -> iroh::Endpoint {
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
pub(crate) async fn junk(endpoint: iroh::Endpoint, hub: iroh::EndpointAddr) -> bool {
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
pub(crate) fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

pub(crate) async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(PATIENCE, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting for {what}");
}
