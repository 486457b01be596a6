//! `polku-bench sync`: first sync of a store and an incremental resync, on real
//! stores over iroh on loopback, each beside a naive baseline that sends every
//! document whole over the same kind of connection, measured in the same run.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use iroh::endpoint::Connection;
use iroh::protocol::{AcceptError, ProtocolHandler, Router};
use polku_api::{HubPin, KdfParams, Session, SyncReplica, UserInput, Workspace};
use polku_audit::NodeKey;
use polku_core::model::Role;
use polku_net::{SessionLog, SyncProtocol};

const NAIVE_ALPN: &[u8] = b"polku/bench-naive/1";
const LOOPBACK: &str = "127.0.0.1:0";
const PASSWORD: &str = "bench-password-1";

/// Sends every document of the hub store whole, length-prefixed.
#[derive(Debug, Clone)]
struct Naive(Arc<Vec<Vec<u8>>>);

impl ProtocolHandler for Naive {
    async fn accept(&self, connection: Connection) -> Result<(), AcceptError> {
        // A bidirectional stream the client opens (polku_net's endpoints allow
        // no unidirectional ones); its first byte makes the stream visible.
        let (mut send, mut recv) = connection.accept_bi().await?;
        let mut hello = [0u8; 1];
        recv.read_exact(&mut hello)
            .await
            .map_err(AcceptError::from_err)?;
        for doc in self.0.iter() {
            send.write_all(&(doc.len() as u32).to_le_bytes())
                .await
                .map_err(AcceptError::from_err)?;
            send.write_all(doc).await.map_err(AcceptError::from_err)?;
        }
        send.finish().map_err(AcceptError::from_err)?;
        connection.closed().await;
        Ok(())
    }
}

/// Every document of `session`'s store as a full Automerge save.
fn saved_docs(session: &Session) -> Result<Vec<Vec<u8>>> {
    let store = polku_api::bench_hooks::store(session);
    let mut out = Vec::new();
    for (id, _, _) in store.list_doc_heads()? {
        out.push(store.load_doc(id)?.save());
    }
    Ok(out)
}

/// Receive and load every document whole; returns (time, bytes).
async fn naive_fetch(
    endpoint: &iroh::Endpoint,
    hub: iroh::EndpointAddr,
) -> Result<(Duration, u64)> {
    let t = Instant::now();
    let conn = endpoint
        .connect(hub, NAIVE_ALPN)
        .await
        .context("naive connect")?;
    let (mut send, mut recv) = conn.open_bi().await.context("naive stream")?;
    send.write_all(&[1]).await.context("naive hello")?;
    let mut bytes = 0u64;
    loop {
        let mut len = [0u8; 4];
        match recv.read_exact(&mut len).await {
            Ok(()) => {}
            Err(_) => break,
        }
        let mut doc = vec![0u8; u32::from_le_bytes(len) as usize];
        recv.read_exact(&mut doc).await.context("naive read")?;
        bytes += 4 + doc.len() as u64;
        automerge::AutoCommit::load(&doc).context("naive load")?;
    }
    conn.close(0u32.into(), b"done");
    Ok((t.elapsed(), bytes))
}

struct Setup {
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    laptop_dir: std::path::PathBuf,
    router: Router,
    hub_addr: iroh::EndpointAddr,
    hub: Arc<Mutex<SyncReplica>>,
    saved_bytes: u64,
}

/// A hub store with `clients` demo clients, a laptop enrolled for a user who may
/// see every client, and a router serving sync and the naive baseline.
async fn setup(clients: usize) -> Result<Setup> {
    let now = Utc::now();
    let hub_dir = tempfile::tempdir()?;
    let laptop_dir = tempfile::tempdir()?;
    Workspace::init_hub_with(
        hub_dir.path(),
        "admin",
        PASSWORD,
        now,
        KdfParams::INSECURE_FOR_TESTS,
    )?;
    let mut admin = Workspace::open(hub_dir.path())?.login("admin", PASSWORD, now)?;
    admin.add_demo(clients, 1, now)?;
    admin.add_user(
        UserInput {
            login: "bench".into(),
            display_name: None,
            role: Role::Admin,
            units: vec![],
        },
        PASSWORD,
        now,
    )?;
    let hub_secret = admin.transport_secret()?;
    let hub_node = admin.node_id()?;
    let endpoint = polku_net::bind(
        hub_secret.for_transport(),
        LOOPBACK.parse()?,
        vec![polku_net::SYNC_ALPN.to_vec(), NAIVE_ALPN.to_vec()],
    )
    .await?;
    let addrs = endpoint.bound_sockets();
    let ticket = admin.create_ticket("bench", *hub_node.as_bytes(), addrs.clone(), now)?;
    let laptop_secret: [u8; 32] = rand::random();
    let laptop_node = NodeKey::from_bytes(&laptop_secret).node_id();
    // The temporary password is changed (to itself) while joining.
    let chosen = polku_api::PasswordVerifier::create(PASSWORD, KdfParams::INSECURE_FOR_TESTS)
        .map_err(polku_api::ApiError::from)?;
    let grant = match admin.redeem_ticket(
        &ticket.secret,
        laptop_node,
        "bench",
        PASSWORD,
        Some(chosen),
        "bench",
        now,
    )? {
        Ok(g) => g,
        Err(e) => bail!("enrolment refused: {e}"),
    };
    let pin = HubPin {
        node: ticket.hub,
        addrs: addrs.clone(),
    };
    Workspace::join(
        laptop_dir.path(),
        &grant,
        "bench",
        PASSWORD,
        &laptop_secret,
        &pin,
        now,
    )?;
    let docs = saved_docs(&admin)?;
    let saved_bytes = docs.iter().map(|d| d.len() as u64).sum();
    let org = admin.org_id();
    let hub = Arc::new(Mutex::new(admin.into_replica()?));
    let log: SessionLog = Arc::new(|_, _| {});
    let router = Router::builder(endpoint)
        .accept(
            polku_net::SYNC_ALPN,
            SyncProtocol::new(hub.clone(), org, hub_node, log),
        )
        .accept(NAIVE_ALPN, Naive(Arc::new(docs)))
        .spawn();
    Ok(Setup {
        laptop_dir: laptop_dir.path().to_path_buf(),
        _dirs: (hub_dir, laptop_dir),
        router,
        hub_addr: polku_net::hub_addr(*hub_node.as_bytes(), &addrs)?,
        hub,
        saved_bytes,
    })
}

/// Longest a measured sync may take before the benchmark gives up.
const SYNC_TIMEOUT: Duration = Duration::from_secs(300);

/// One laptop sync; returns (time of the session, bytes both ways, documents
/// received). Fails after [`SYNC_TIMEOUT`].
async fn laptop_sync(s: &Setup) -> Result<(Duration, u64, usize)> {
    tokio::time::timeout(SYNC_TIMEOUT, laptop_sync_inner(s))
        .await
        .context("the sync did not finish in time")?
}

async fn laptop_sync_inner(s: &Setup) -> Result<(Duration, u64, usize)> {
    let session = Workspace::open(&s.laptop_dir)?.login("bench", PASSWORD, Utc::now())?;
    let secret = session.transport_secret()?;
    let org = session.org_id();
    let replica = Mutex::new(session.into_replica()?);
    let endpoint = polku_net::bind(secret.for_transport(), LOOPBACK.parse()?, vec![]).await?;
    let t = Instant::now();
    let report = polku_net::sync_with_hub(&endpoint, s.hub_addr.clone(), &replica, org).await?;
    let took = t.elapsed();
    endpoint.close().await;
    replica
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_session()
        .close()?;
    Ok((
        took,
        report.bytes_sent + report.bytes_received,
        report.docs_received,
    ))
}

async fn naive(s: &Setup) -> Result<(Duration, u64)> {
    let endpoint = polku_net::bind(&rand::random(), LOOPBACK.parse()?, vec![]).await?;
    let r = tokio::time::timeout(SYNC_TIMEOUT, naive_fetch(&endpoint, s.hub_addr.clone()))
        .await
        .context("the naive fetch did not finish in time")
        .and_then(|r| r);
    endpoint.close().await;
    r
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Run the benchmark and print its figures.
pub fn run(first_clients: usize, of: usize, changed: usize, resyncs: usize) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        println!("polku-bench sync: real stores, iroh on loopback, relays off");
        let s = setup(first_clients).await?;
        eprintln!("  (set up; first sync…)");
        let (t, bytes, docs) = laptop_sync(&s).await?;
        eprintln!("  (first sync done; naive…)");
        let (nt, nbytes) = naive(&s).await?;
        println!("first sync, {first_clients} clients ({docs} documents)");
        println!(
            "  polku sync       {:9.1} ms  {:>10} bytes  ({:.2} x the saved size of the documents, {:.1} MiB)",
            ms(t),
            bytes,
            bytes as f64 / s.saved_bytes.max(1) as f64,
            s.saved_bytes as f64 / 1048576.0
        );
        println!("  naive, all whole {:9.1} ms  {:>10} bytes  (ratio polku/naive: time {:.2} x, bytes {:.2} x)", ms(nt), nbytes, t.as_secs_f64() / nt.as_secs_f64().max(1e-9), bytes as f64 / nbytes.max(1) as f64);
        s.router.shutdown().await?;

        let s = setup(of).await?;
        laptop_sync(&s).await?;
        {
            let mut hub = s.hub.lock().unwrap_or_else(|p| p.into_inner());
            let now = Utc::now();
            let ids: Vec<_> = hub.session_mut().list_clients(now)?.into_iter().take(changed).map(|c| c.id).collect();
            for id in ids {
                hub.session_mut().add_memo(id, "Vertailumuistio.", None, now)?;
            }
        }
        let (t, bytes, docs) = laptop_sync(&s).await?;
        let (nt, nbytes) = naive(&s).await?;
        println!("incremental sync, {changed} of {of} documents changed ({docs} received)");
        println!("  polku sync       {:9.1} ms  {:>10} bytes", ms(t), bytes);
        println!("  naive, all whole {:9.1} ms  {:>10} bytes  (ratio naive/polku: time {:.0} x, bytes {:.0} x)", ms(nt), nbytes, nt.as_secs_f64() / t.as_secs_f64().max(1e-9), nbytes as f64 / bytes.max(1) as f64);
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..resyncs.max(1) {
            let (t, b, _) = laptop_sync(&s).await?;
            times.push(t);
            bytes = b;
        }
        times.sort();
        let t = times[times.len() / 2];
        println!("  nothing changed  {:9.1} ms  {:>10} bytes  (median of {})", ms(t), bytes, times.len());
        s.router.shutdown().await?;
        anyhow::Ok(())
    })
}
