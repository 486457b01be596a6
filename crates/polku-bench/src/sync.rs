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
use polku_net::{HubLimits, HubReplicas, SessionLog, SyncProtocol};

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
    _dirs: Vec<tempfile::TempDir>,
    /// The first laptop's store (the one the single-laptop figures use).
    laptop_dir: std::path::PathBuf,
    /// Every enrolled laptop's store, the first included.
    laptop_dirs: Vec<std::path::PathBuf>,
    router: Router,
    hub_addr: iroh::EndpointAddr,
    saved_bytes: u64,
    /// Every hub document as a full save (the naive baseline and the floor).
    docs: Arc<Vec<Vec<u8>>>,
}

/// A hub store with `clients` demo clients, `laptops` laptops enrolled for a
/// user who may see every client, and a router serving sync and the naive
/// baseline.
async fn setup(clients: usize, laptops: usize) -> Result<Setup> {
    let now = Utc::now();
    let (hub_dir, mut admin) = hub_store(clients, now)?;
    let hub_secret = admin.transport_secret()?;
    let hub_node = admin.node_id()?;
    let endpoint = polku_net::bind(
        hub_secret.for_transport(),
        LOOPBACK.parse()?,
        vec![polku_net::SYNC_ALPN.to_vec(), NAIVE_ALPN.to_vec()],
    )
    .await?;
    let addrs = endpoint.bound_sockets();
    let mut dirs = vec![hub_dir];
    let mut laptop_dirs = Vec::new();
    for _ in 0..laptops.max(1) {
        let laptop_dir = tempfile::tempdir()?;
        enrol(&mut admin, &hub_node, &addrs, laptop_dir.path(), now)?;
        laptop_dirs.push(laptop_dir.path().to_path_buf());
        dirs.push(laptop_dir);
    }
    let docs = Arc::new(saved_docs(&admin)?);
    let saved_bytes = docs.iter().map(|d| d.len() as u64).sum();
    let org = admin.org_id();
    let hub = hub_replicas(admin.into_replica()?)?;
    let log: SessionLog = Arc::new(|_, _| {});
    let router = Router::builder(endpoint)
        .accept(
            polku_net::SYNC_ALPN,
            SyncProtocol::over(hub, org, hub_node, log, HubLimits::default()),
        )
        .accept(NAIVE_ALPN, Naive(docs.clone()))
        .spawn();
    Ok(Setup {
        laptop_dir: laptop_dirs[0].clone(),
        laptop_dirs,
        _dirs: dirs,
        router,
        hub_addr: polku_net::hub_addr(*hub_node.as_bytes(), &addrs)?,
        saved_bytes,
        docs,
    })
}

/// The hub's replicas, as `polku hub` serves on: one per core, each warmed
/// before anyone is served.
fn hub_replicas(first: SyncReplica) -> Result<Arc<HubReplicas<SyncReplica>>> {
    let mut first = first;
    first.warm()?;
    Ok(HubReplicas::build(
        first,
        HubReplicas::<SyncReplica>::per_core(),
        SyncReplica::another,
    )?)
}

/// A new hub store of `clients` demo clients and a user `bench` who may see
/// every client; its admin logged in.
fn hub_store(clients: usize, now: chrono::DateTime<Utc>) -> Result<(tempfile::TempDir, Session)> {
    let hub_dir = tempfile::tempdir()?;
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
    Ok((hub_dir, admin))
}

/// Enrols one more laptop of the user `bench` with its store in `dir`.
fn enrol(
    admin: &mut Session,
    hub_node: &polku_audit::NodeId,
    addrs: &[std::net::SocketAddr],
    dir: &std::path::Path,
    now: chrono::DateTime<Utc>,
) -> Result<()> {
    let ticket = admin.create_ticket("bench", *hub_node.as_bytes(), addrs.to_vec(), now)?;
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
        addrs: addrs.to_vec(),
    };
    Workspace::join(dir, &grant, "bench", PASSWORD, &laptop_secret, &pin, now)?;
    Ok(())
}

/// Longest a measured sync may take before the benchmark gives up.
const SYNC_TIMEOUT: Duration = Duration::from_secs(300);

/// One laptop sync; returns (time of the session, bytes both ways, documents
/// received). Fails after [`SYNC_TIMEOUT`].
async fn laptop_sync(
    laptop_dir: &std::path::Path,
    hub: &iroh::EndpointAddr,
) -> Result<(Duration, u64, usize)> {
    let laptop = Laptop::open(laptop_dir).await?;
    let (took, report) = laptop.sync(hub.clone()).await?;
    laptop.close().await?;
    Ok((
        took,
        report.bytes_sent + report.bytes_received,
        report.docs_received,
    ))
}

/// A laptop logged in and bound, ready to sync (so that what is timed is the
/// session alone).
struct Laptop {
    replica: Mutex<SyncReplica>,
    endpoint: iroh::Endpoint,
    org: polku_core::OrgId,
}

impl Laptop {
    async fn open(dir: &std::path::Path) -> Result<Laptop> {
        let session = Workspace::open(dir)?.login("bench", PASSWORD, Utc::now())?;
        let secret = session.transport_secret()?;
        let org = session.org_id();
        let replica = Mutex::new(session.into_replica()?);
        let endpoint = polku_net::bind(secret.for_transport(), LOOPBACK.parse()?, vec![]).await?;
        Ok(Laptop {
            replica,
            endpoint,
            org,
        })
    }

    /// One session with the hub: its time and report. Fails after
    /// [`SYNC_TIMEOUT`].
    async fn sync(&self, hub: iroh::EndpointAddr) -> Result<(Duration, polku_sync::SyncReport)> {
        let t = Instant::now();
        let report = tokio::time::timeout(
            SYNC_TIMEOUT,
            polku_net::sync_with_hub(&self.endpoint, hub, &self.replica, self.org),
        )
        .await
        .context("the sync did not finish in time")??;
        Ok((t.elapsed(), report))
    }

    async fn close(self) -> Result<()> {
        self.endpoint.close().await;
        self.replica
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .into_session()
            .close()?;
        Ok(())
    }
}

/// Whether a session completed with nothing refused or quarantined.
fn clean(r: &polku_sync::SyncReport) -> bool {
    r.completed
        && r.refused_by_peer.is_empty()
        && r.refused_here.is_empty()
        && r.quarantined.is_empty()
}

/// Plain Automerge per-document sync of `docs` in memory, the floor under any
/// store-backed sync: each document loaded from its save and synced into an
/// empty one until neither side has more to send. No storage, no network, no
/// encryption. Returns (time, bytes of the sync messages).
fn automerge_floor(docs: &[Vec<u8>]) -> Result<(Duration, u64)> {
    use automerge::sync::State;
    let t = Instant::now();
    let mut bytes = 0u64;
    for saved in docs {
        let mut a = automerge::AutoCommit::load(saved)?;
        let mut b = automerge::AutoCommit::new();
        let (mut sa, mut sb) = (State::new(), State::new());
        loop {
            let ab = send(&mut a, &mut sa, &mut b, &mut sb)?;
            let ba = send(&mut b, &mut sb, &mut a, &mut sa)?;
            if ab.is_none() && ba.is_none() {
                break;
            }
            bytes += ab.unwrap_or(0) + ba.unwrap_or(0);
        }
        if a.get_heads() != b.get_heads() {
            bail!("the in-memory floor did not converge");
        }
    }
    Ok((t.elapsed(), bytes))
}

/// One sync message from `from` to `to`, encoded and decoded as on a wire;
/// its length, or `None` if `from` had nothing to send.
fn send(
    from: &mut automerge::AutoCommit,
    from_state: &mut automerge::sync::State,
    to: &mut automerge::AutoCommit,
    to_state: &mut automerge::sync::State,
) -> Result<Option<u64>> {
    use automerge::sync::{Message, SyncDoc};
    let Some(m) = from.sync().generate_sync_message(from_state) else {
        return Ok(None);
    };
    let enc = m.encode();
    to.sync()
        .receive_sync_message(to_state, Message::decode(&enc)?)?;
    Ok(Some(enc.len() as u64))
}

/// This process's peak resident set (VmHWM) in KiB, if the kernel tells.
fn peak_rss_kib() -> Option<u64> {
    peak_rss_of("/proc/self/status")
}

/// CPU time this process used so far (user and system, all threads), from
/// `/proc/self/stat` (clock ticks of 10 ms).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Cores busy on average over `wall`, given the CPU time used in it.
fn cores(cpu: Option<Duration>, wall: Duration) -> String {
    cpu.map_or_else(
        || "?".to_owned(),
        |c| format!("{:.2}", c.as_secs_f64() / wall.as_secs_f64().max(1e-9)),
    )
}

/// The peak resident set (VmHWM) in KiB in a `/proc/…/status` file.
fn peak_rss_of(status: &str) -> Option<u64> {
    status_kib(status, "VmHWM:")
}

/// A `… kB` line of a `/proc/…/status` file.
fn status_kib(status: &str, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(status).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Time to the client list on a laptop that has just synced: the login and
/// the first full list (what the app shows after login).
fn time_to_client_list(dir: &std::path::Path) -> Result<(Duration, Duration, usize)> {
    let t = Instant::now();
    let mut session = Workspace::open(dir)?.login("bench", PASSWORD, Utc::now())?;
    let login = t.elapsed();
    let t = Instant::now();
    let n = session.list_clients(Utc::now())?.len();
    let list = t.elapsed();
    session.close()?;
    Ok((login, list, n))
}

/// First syncs of `laptops` laptops against one hub of `clients` clients:
/// one after another (the baseline), then as many other laptops at once.
async fn many_laptops(clients: usize, laptops: usize) -> Result<()> {
    let s = setup(clients, 2 * laptops).await?;
    let (one_by_one, at_once) = s.laptop_dirs.split_at(laptops);
    let mut sequential = Duration::ZERO;
    let mut sequential_cpu = Some(Duration::ZERO);
    let mut problems = 0usize;
    for dir in one_by_one {
        let laptop = Laptop::open(dir).await?;
        let before = cpu_time();
        let (took, report) = laptop.sync(s.hub_addr.clone()).await?;
        sequential_cpu = sequential_cpu
            .zip(cpu_time().zip(before))
            .map(|(sum, (after, before))| sum + after.saturating_sub(before));
        sequential += took;
        problems += usize::from(!clean(&report));
        laptop.close().await?;
    }
    let mut opened = Vec::new();
    for dir in at_once {
        opened.push(Arc::new(Laptop::open(dir).await?));
    }
    let t = Instant::now();
    let cpu_before = cpu_time();
    let tasks: Vec<_> = opened
        .iter()
        .map(|l| {
            let (l, hub) = (Arc::clone(l), s.hub_addr.clone());
            tokio::spawn(async move { l.sync(hub).await })
        })
        .collect();
    let mut completed = 0usize;
    let mut failed = 0usize;
    for task in tasks {
        match task.await? {
            Ok((_, report)) => {
                completed += usize::from(report.completed);
                problems += usize::from(!clean(&report));
            }
            Err(e) => {
                failed += 1;
                eprintln!("  a concurrent sync failed: {e:#}");
            }
        }
    }
    let concurrent = t.elapsed();
    let concurrent_cpu = cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    for l in opened {
        let l = Arc::try_unwrap(l).map_err(|_| anyhow::anyhow!("laptop still shared"))?;
        l.close().await?;
    }
    println!("{laptops} laptops, first sync of {clients} clients each");
    println!(
        "  one after another {:9.1} ms  (hub and laptops in this process: {} cores busy on average)",
        ms(sequential),
        cores(sequential_cpu, sequential)
    );
    println!(
        "  all at once       {:9.1} ms  ({completed} of {laptops} completed, {failed} failed, {problems} with a refusal or quarantine; ratio at once/one after another: {:.2} x; {} cores busy on average, of {})",
        ms(concurrent),
        concurrent.as_secs_f64() / sequential.as_secs_f64().max(1e-9),
        cores(concurrent_cpu, concurrent),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    s.router.shutdown().await?;
    Ok(())
}

/// A connection to the naive server that reads nothing of it: connect, one
/// stream, the first byte of the answer, close. What any session pays before
/// its first frame.
async fn connection_alone(server: &iroh::EndpointAddr) -> Result<Duration> {
    let endpoint = polku_net::bind(&rand::random(), LOOPBACK.parse()?, vec![]).await?;
    let t = Instant::now();
    let conn = endpoint
        .connect(server.clone(), NAIVE_ALPN)
        .await
        .context("connect")?;
    let (mut send, mut recv) = conn.open_bi().await.context("stream")?;
    send.write_all(&[1]).await.context("hello")?;
    let mut first = [0u8; 1];
    recv.read_exact(&mut first).await.context("answer")?;
    let took = t.elapsed();
    conn.close(0u32.into(), b"done");
    endpoint.close().await;
    Ok(took)
}

async fn naive(hub: &iroh::EndpointAddr) -> Result<(Duration, u64)> {
    let endpoint = polku_net::bind(&rand::random(), LOOPBACK.parse()?, vec![]).await?;
    let r = tokio::time::timeout(SYNC_TIMEOUT, naive_fetch(&endpoint, hub.clone()))
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
pub fn run(opts: &Options) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let Options {
        clients: first_clients,
        first_runs,
        of,
        changed,
        incrementals,
        resyncs,
        laptops,
        laptop_clients,
    } = *opts;
    rt.block_on(async {
        println!("polku-bench sync: real stores, iroh on loopback, relays off");
        let runs = first_runs.max(1);
        let s = setup(first_clients, runs).await?;
        eprintln!("  (set up; first syncs…)");
        // Each run: a new laptop's first sync, then the naive baseline; the
        // machine's noise moves both, and the medians are compared.
        let (mut times, mut naive_times) = (Vec::new(), Vec::new());
        let (mut bytes, mut docs, mut nbytes) = (0, 0, 0);
        for dir in &s.laptop_dirs {
            let (t, b, d) = laptop_sync(dir, &s.hub_addr).await?;
            let (nt, nb) = naive(&s.hub_addr).await?;
            times.push(t);
            naive_times.push(nt);
            (bytes, docs, nbytes) = (b, d, nb);
        }
        let (login, list, listed) = time_to_client_list(&s.laptop_dir)?;
        let (ft, fbytes) = automerge_floor(&s.docs)?;
        let (times_in_order, naive_in_order) = (times.clone(), naive_times.clone());
        times.sort();
        naive_times.sort();
        let (t, nt) = (times[times.len() / 2], naive_times[naive_times.len() / 2]);
        println!("first sync, {first_clients} clients ({docs} documents; medians of {runs} runs, each a new laptop then the naive baseline)");
        println!(
            "  polku sync       {:9.1} ms  {:>10} bytes  ({:.2} x the saved size of the documents, {:.1} MiB)",
            ms(t),
            bytes,
            bytes as f64 / s.saved_bytes.max(1) as f64,
            s.saved_bytes as f64 / 1048576.0
        );
        println!("  naive, all whole {:9.1} ms  {:>10} bytes  (ratio polku/naive: time {:.2} x, bytes {:.2} x)", ms(nt), nbytes, t.as_secs_f64() / nt.as_secs_f64().max(1e-9), bytes as f64 / nbytes.max(1) as f64);
        println!(
            "  each run, polku / naive: {}",
            times_in_order
                .iter()
                .zip(&naive_in_order)
                .map(|(p, n)| format!("{:.0}/{:.0} ms", ms(*p), ms(*n)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!("  automerge floor  {:9.1} ms  {:>10} bytes  (plain per-document sync in memory; ratio polku/floor: time {:.2} x, bytes {:.2} x)", ms(ft), fbytes, t.as_secs_f64() / ft.as_secs_f64().max(1e-9), bytes as f64 / fbytes.max(1) as f64);
        println!(
            "  then on the laptop: login {:.1} ms, client list of {listed} {:.1} ms ({:.2} x the naive sync's time)",
            ms(login),
            ms(list),
            (login + list).as_secs_f64() / nt.as_secs_f64().max(1e-9)
        );
        s.router.shutdown().await?;

        let mut s = ChildHub::setup(of).await?;
        eprintln!("  (hub of {of} documents in its own process; first sync…)");
        laptop_sync(&s.laptop_dir, &s.hub_addr).await?;
        let after_first = s.hub.peak_rss_kib();
        // The worker's app stays logged in between its syncs (the desk keeps
        // one replica open): the laptop is opened once for what follows.
        let laptop = Laptop::open(&s.laptop_dir).await?;
        // One unchanged resync first: the laptop's first session after
        // login reads its store's sets once.
        laptop.sync(s.hub_addr.clone()).await?;
        // Each round: `changed` documents changed on the hub, then the
        // laptop's sync; the median round is printed.
        let mut rounds = Vec::new();
        for _ in 0..incrementals.max(1) {
            s.hub.command(&format!("memos {changed}"))?;
            let (t, report) = laptop.sync(s.hub_addr.clone()).await?;
            anyhow::ensure!(
                report.docs_received == changed,
                "the incremental sync received {} documents, not {changed}",
                report.docs_received
            );
            rounds.push((t, report.bytes_sent + report.bytes_received));
        }
        let each = rounds
            .iter()
            .map(|(t, b)| format!("{:.0} ms/{b} B", ms(*t)))
            .collect::<Vec<_>>()
            .join(", ");
        rounds.sort();
        let (t, bytes) = rounds[rounds.len() / 2];
        let (nt, nbytes) = naive(&s.naive_addr).await?;
        println!("incremental sync, {changed} of {of} documents changed on the hub (median of {} rounds; the laptop logged in, as in the app)", rounds.len());
        println!("  polku sync       {:9.1} ms  {:>10} bytes  (each round: {each})", ms(t), bytes);
        println!("  naive, all whole {:9.1} ms  {:>10} bytes  (ratio naive/polku: time {:.0} x, bytes {:.0} x)", ms(nt), nbytes, nt.as_secs_f64() / t.as_secs_f64().max(1e-9), nbytes as f64 / bytes.max(1) as f64);
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..resyncs.max(1) {
            let (t, r) = laptop.sync(s.hub_addr.clone()).await?;
            times.push(t);
            bytes = r.bytes_sent + r.bytes_received;
        }
        laptop.close().await?;
        times.sort();
        let t = times[times.len() / 2];
        println!("  nothing changed  {:9.1} ms  {:>10} bytes  (median of {}; ratio naive/polku: time {:.0} x)", ms(t), bytes, times.len(), nt.as_secs_f64() / t.as_secs_f64().max(1e-9));
        let mut conns = Vec::new();
        for _ in 0..resyncs.max(1) {
            conns.push(connection_alone(&s.naive_addr).await?);
        }
        conns.sort();
        let q = conns[conns.len() / 2];
        println!("  of which a QUIC connection alone (handshake, one stream, one byte each way) {:.1} ms (median of {}; {:.2} x the unchanged resync)", ms(q), conns.len(), q.as_secs_f64() / t.as_secs_f64().max(1e-9));
        // As the worker's app syncs: its session shared behind a mutex, an
        // endpoint bound for each sync, the sync audited and the offline
        // lease renewed on the laptop (`polku_service::sync_shared`).
        let app = Arc::new(Mutex::new(
            Workspace::open(&s.laptop_dir)?
                .login("bench", PASSWORD, Utc::now())?
                .into_replica()?,
        ));
        polku_service::sync_shared(&app).await?;
        let mut as_app = Vec::new();
        for _ in 0..resyncs.max(1) {
            let t = Instant::now();
            let outcome = tokio::time::timeout(SYNC_TIMEOUT, polku_service::sync_shared(&app))
                .await
                .context("the sync did not finish in time")??;
            anyhow::ensure!(clean(&outcome.report), "the app's resync was not clean");
            as_app.push(t.elapsed());
        }
        Arc::try_unwrap(app)
            .map_err(|_| anyhow::anyhow!("the app's session is still shared"))?
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .into_session()
            .close()?;
        as_app.sort();
        let a = as_app[as_app.len() / 2];
        let mut binds = Vec::new();
        for _ in 0..resyncs.max(1) {
            let t = Instant::now();
            let secret: [u8; 32] = rand::random();
            let endpoint = polku_net::bind(&secret, "0.0.0.0:0".parse()?, vec![]).await?;
            endpoint.close().await;
            binds.push(t.elapsed());
        }
        binds.sort();
        let b = binds[binds.len() / 2];
        println!("  nothing changed, as the app syncs (an endpoint bound per sync, audited on both sides) {:.1} ms  (median of {}; ratio to the logged-in laptop's: {:.1} x; binding and closing an endpoint alone {:.1} ms, {:.2} x of it)", ms(a), as_app.len(), a.as_secs_f64() / t.as_secs_f64().max(1e-9), ms(b), b.as_secs_f64() / a.as_secs_f64().max(1e-9));
        // The same from a laptop logged in just before each sync (its
        // store's sets are read in the session).
        let mut cold = Vec::new();
        for _ in 0..resyncs.max(1) {
            cold.push(laptop_sync(&s.laptop_dir, &s.hub_addr).await?.0);
        }
        cold.sort();
        let c = cold[cold.len() / 2];
        println!("  nothing changed, laptop just logged in {:9.1} ms  (median of {}; ratio to the logged-in laptop's: {:.1} x)", ms(c), cold.len(), c.as_secs_f64() / t.as_secs_f64().max(1e-9));
        match (s.hub.peak_rss_kib(), peak_rss_kib()) {
            (Some(hub), Some(laptop)) => println!(
                "  hub peak RSS while serving the {of}-document store: {:.1} MiB (its own process, from opening the store to the last resync; {:.1} MiB after the laptop's first sync; the bench process with the laptop and the baseline: {:.1} MiB, ratio hub/bench {:.2} x)",
                hub as f64 / 1024.0,
                after_first.unwrap_or(0) as f64 / 1024.0,
                laptop as f64 / 1024.0,
                hub as f64 / laptop.max(1) as f64
            ),
            _ => println!("  peak RSS: not available on this system"),
        }
        s.close().await?;

        if laptops > 0 {
            many_laptops(laptop_clients, laptops).await?;
        }
        anyhow::Ok(())
    })
}

/// What `polku-bench sync` runs.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Clients of the first-sync store.
    pub clients: usize,
    /// First syncs measured (their medians are printed).
    pub first_runs: usize,
    /// Documents of the incremental store.
    pub of: usize,
    /// Documents changed for the incremental sync.
    pub changed: usize,
    /// Incremental syncs measured (their median is printed).
    pub incrementals: usize,
    /// Unchanged resyncs (their median is printed).
    pub resyncs: usize,
    /// Laptops syncing at once (0: skip that part).
    pub laptops: usize,
    /// Clients of the store the many laptops sync.
    pub laptop_clients: usize,
}

/// The incremental part's hub, in a process of its own (`polku-bench
/// sync-hub`), so that its peak RSS is the hub's alone; the naive baseline is
/// served from this process, from the same documents.
struct ChildHub {
    _dirs: Vec<tempfile::TempDir>,
    laptop_dir: std::path::PathBuf,
    hub: HubProcess,
    hub_addr: iroh::EndpointAddr,
    naive: Router,
    naive_addr: iroh::EndpointAddr,
}

impl ChildHub {
    /// A hub store of `clients` clients with one laptop enrolled, its hub
    /// process started and a naive server of the same documents.
    async fn setup(clients: usize) -> Result<ChildHub> {
        let now = Utc::now();
        let (hub_dir, mut admin) = hub_store(clients, now)?;
        let hub_node = admin.node_id()?;
        // A free loopback port for the hub process (taken again at once there).
        let port = std::net::UdpSocket::bind(LOOPBACK)?.local_addr()?.port();
        let addrs = vec![std::net::SocketAddr::from(([127, 0, 0, 1], port))];
        let laptop_dir = tempfile::tempdir()?;
        enrol(&mut admin, &hub_node, &addrs, laptop_dir.path(), now)?;
        let docs = Arc::new(saved_docs(&admin)?);
        admin.close()?;
        let endpoint = polku_net::bind(
            &rand::random(),
            LOOPBACK.parse()?,
            vec![NAIVE_ALPN.to_vec()],
        )
        .await?;
        let naive_addr = polku_net::hub_addr(*endpoint.id().as_bytes(), &endpoint.bound_sockets())?;
        let naive = Router::builder(endpoint)
            .accept(NAIVE_ALPN, Naive(docs))
            .spawn();
        let hub = HubProcess::spawn(hub_dir.path(), port)?;
        if let (Some(kib), Some(peak)) = (hub.rss_kib(), hub.peak_rss_kib()) {
            eprintln!(
                "  (hub process started: {:.1} MiB resident, peak so far {:.1} MiB)",
                kib as f64 / 1024.0,
                peak as f64 / 1024.0
            );
        }
        Ok(ChildHub {
            laptop_dir: laptop_dir.path().to_path_buf(),
            _dirs: vec![hub_dir, laptop_dir],
            hub,
            hub_addr: polku_net::hub_addr(*hub_node.as_bytes(), &addrs)?,
            naive,
            naive_addr,
        })
    }

    async fn close(self) -> Result<()> {
        self.hub.stop()?;
        self.naive.shutdown().await?;
        Ok(())
    }
}

/// A running `polku-bench sync-hub`: commands on its stdin, one line of
/// answer each on its stdout.
struct HubProcess {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl HubProcess {
    fn spawn(dir: &std::path::Path, port: u16) -> Result<HubProcess> {
        use std::process::{Command, Stdio};
        let mut child = Command::new(std::env::current_exe()?)
            .arg("sync-hub")
            .arg("--dir")
            .arg(dir)
            .arg("--port")
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the hub process")?;
        let stdin = child.stdin.take().context("hub stdin")?;
        let stdout = std::io::BufReader::new(child.stdout.take().context("hub stdout")?);
        let mut hub = HubProcess {
            child,
            stdin,
            stdout,
        };
        hub.answer().context("the hub process did not start")?;
        Ok(hub)
    }

    fn answer(&mut self) -> Result<String> {
        use std::io::BufRead;
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        match line.trim_end().strip_prefix("ok") {
            Some(rest) => Ok(rest.trim().to_string()),
            None => bail!("the hub process answered {:?}", line.trim_end()),
        }
    }

    fn command(&mut self, cmd: &str) -> Result<String> {
        use std::io::Write;
        writeln!(self.stdin, "{cmd}")?;
        self.stdin.flush()?;
        self.answer()
    }

    fn peak_rss_kib(&self) -> Option<u64> {
        peak_rss_of(&format!("/proc/{}/status", self.child.id()))
    }

    fn rss_kib(&self) -> Option<u64> {
        status_kib(&format!("/proc/{}/status", self.child.id()), "VmRSS:")
    }

    fn stop(mut self) -> Result<()> {
        self.command("quit")?;
        let status = self.child.wait()?;
        if !status.success() {
            bail!("the hub process ended with {status}");
        }
        Ok(())
    }
}

/// `polku-bench sync-hub`: serve sync from the hub store in `dir` on
/// loopback port `port` until told to quit. Reads commands from stdin, one a
/// line: `memos N` (a memo on each of N clients), `quit`. Answers `ok` on
/// stdout once started and after each command.
pub fn serve_hub(dir: &std::path::Path, port: u16) -> Result<()> {
    use std::io::{BufRead, Write};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let session = Workspace::open(dir)?.login("admin", PASSWORD, Utc::now())?;
    let secret = session.transport_secret()?;
    let node = session.node_id()?;
    let org = session.org_id();
    let hub = hub_replicas(session.into_replica()?)?;
    let router = rt.block_on(async {
        let endpoint = polku_net::bind(
            secret.for_transport(),
            std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            vec![polku_net::SYNC_ALPN.to_vec()],
        )
        .await?;
        // Every completed session audited on the hub, as `polku hub` does.
        let log_replicas = hub.clone();
        let log: SessionLog = Arc::new(move |peer, result| {
            if let Ok(report) = result {
                let _ = log_replicas.shared_for(peer, |r| r.record_sync(report, Utc::now()));
            }
        });
        anyhow::Ok(
            Router::builder(endpoint)
                .accept(
                    polku_net::SYNC_ALPN,
                    SyncProtocol::over(hub.clone(), org, node, log, HubLimits::default()),
                )
                .spawn(),
        )
    })?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "ok")?;
    out.flush()?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("memos"), Some(n)) => {
                let n: usize = n.parse().context("memos N")?;
                hub.exclusive(|hub| -> Result<()> {
                    let now = Utc::now();
                    let ids: Vec<_> = hub
                        .session_mut()
                        .list_clients(now)?
                        .into_iter()
                        .take(n)
                        .map(|c| c.id)
                        .collect();
                    for id in ids {
                        hub.session_mut()
                            .add_memo(id, "Vertailumuistio.", None, now)?;
                    }
                    Ok(())
                })?;
                writeln!(out, "ok")?;
            }
            (Some("quit"), None) => {
                rt.block_on(router.shutdown())?;
                writeln!(out, "ok")?;
                out.flush()?;
                return Ok(());
            }
            _ => writeln!(out, "unknown command")?,
        }
        out.flush()?;
    }
    rt.block_on(router.shutdown())?;
    Ok(())
}
