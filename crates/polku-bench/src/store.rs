//! `polku-bench store`: unlock, open-and-decode and storage figures for a store of N
//! clients × M memos, each beside a baseline measured in the same run.
//!
//! The benchmark builds its own scratch store in the system's temporary directory
//! (deleted afterwards) so that a real store is never filled with benchmark data.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use polku_core::ClientId;
use polku_core::DocKind;
use polku_core::doc::ClientDoc;
use polku_core::model::record_doc_id;
use polku_store::{AgePerBlobStats, KdfParams, LockedStore, RawDecryptStats};

use polku_api::{ApiError, Result, Workspace};

/// Figures of one benchmark run.
#[derive(Debug, Clone)]
pub struct BenchReport {
    /// Clients in the store.
    pub clients: usize,
    /// Memos per client.
    pub memos_per_client: usize,
    /// Time to write the demo data (one transaction).
    pub populate: Duration,
    /// argon2id parameters used.
    pub kdf: KdfParams,
    /// Unlock: open and check the database file.
    pub unlock_open: Duration,
    /// Unlock: argon2id.
    pub unlock_kdf: Duration,
    /// Unlock: unwrap the store key, decrypt the data key, organisation document and search index.
    pub unlock_rest: Duration,
    /// Open and decode every client the way the app does: sealed views.
    pub open_views: Duration,
    /// Baseline for `open_views`: raw SQLite reads + decryption of the same view bytes.
    pub views_raw: Duration,
    /// Plaintext bytes of all views.
    pub views_bytes: u64,
    /// Read + decrypt + Automerge-load every client document.
    pub load_all: Duration,
    /// Hydrate every loaded document into the domain model.
    pub hydrate: Duration,
    /// Baseline: raw SQLite reads plus decryption of the same bytes (envelope AEAD).
    pub raw: RawDecryptStats,
    /// Baseline: the same blobs with one age X25519 decryption each.
    pub age_per_blob: AgePerBlobStats,
    /// Bytes of all files of the store on disk (after a checkpoint).
    pub disk_bytes: u64,
    /// Bytes of the domain data as JSON (the plaintext a worker typed, roughly).
    pub json_bytes: u64,
}

impl BenchReport {
    /// Loading every client's Automerge document and hydrating it.
    pub fn automerge_all(&self) -> Duration {
        self.load_all + self.hydrate
    }
    /// The raw baseline: SQLite reads + decryption.
    pub fn raw_total(&self) -> Duration {
        self.raw.read + self.raw.decrypt
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let age_total = self.raw.read + self.age_per_blob.decrypt;
        writeln!(
            f,
            "polku-bench store: {} clients x {} memos ({} threads available)",
            self.clients,
            self.memos_per_client,
            std::thread::available_parallelism().map_or(1, |n| n.get())
        )?;
        writeln!(
            f,
            "  populate (one transaction)        {:9.1} ms",
            ms(self.populate)
        )?;
        writeln!(
            f,
            "unlock                              {:9.1} ms",
            ms(self.unlock_open + self.unlock_kdf + self.unlock_rest)
        )?;
        writeln!(
            f,
            "  argon2id (m={} KiB, t={}, p={})  {:9.1} ms",
            self.kdf.m_cost_kib,
            self.kdf.t_cost,
            self.kdf.p_cost,
            ms(self.unlock_kdf)
        )?;
        writeln!(
            f,
            "  open + check database             {:9.1} ms",
            ms(self.unlock_open)
        )?;
        writeln!(
            f,
            "  keys, org document, search index  {:9.1} ms",
            ms(self.unlock_rest)
        )?;
        writeln!(
            f,
            "open and decode every client        {:9.1} ms  (sealed views, {:.1} MiB)",
            ms(self.open_views),
            mib(self.views_bytes)
        )?;
        writeln!(
            f,
            "  baseline: SQLite + decryption     {:9.1} ms  (same view bytes, no decoding)",
            ms(self.views_raw)
        )?;
        writeln!(
            f,
            "  ratio open / baseline             {:9.2} x",
            ratio(self.open_views, self.views_raw)
        )?;
        writeln!(
            f,
            "Automerge load + hydrate, every client {:6.1} ms  (edit and sync path)",
            ms(self.automerge_all())
        )?;
        writeln!(
            f,
            "  read + decrypt + Automerge load   {:9.1} ms",
            ms(self.load_all)
        )?;
        writeln!(
            f,
            "  hydrate into the domain model     {:9.1} ms",
            ms(self.hydrate)
        )?;
        writeln!(
            f,
            "  baseline: SQLite + decryption     {:9.1} ms  ({} blobs, {:.1} MiB)",
            ms(self.raw_total()),
            self.raw.blobs,
            mib(self.raw.plaintext_bytes)
        )?;
        writeln!(
            f,
            "  baseline: SQLite + age per blob   {:9.1} ms  (one X25519 per blob)",
            ms(age_total)
        )?;
        writeln!(
            f,
            "  ratio Automerge / raw baseline    {:9.2} x",
            ratio(self.automerge_all(), self.raw_total())
        )?;
        writeln!(
            f,
            "ratio age-per-blob / envelope decryption {:4.2} x",
            ratio(self.age_per_blob.decrypt, self.raw.decrypt)
        )?;
        writeln!(
            f,
            "store size on disk                  {:9.2} MiB",
            mib(self.disk_bytes)
        )?;
        writeln!(
            f,
            "  Automerge plaintext               {:9.2} MiB  (disk / Automerge {:.2} x)",
            mib(self.raw.plaintext_bytes),
            self.disk_bytes as f64 / (self.raw.plaintext_bytes as f64).max(1.0)
        )?;
        write!(
            f,
            "  domain data as JSON               {:9.2} MiB  (disk / JSON {:.2} x)",
            mib(self.json_bytes),
            self.disk_bytes as f64 / (self.json_bytes as f64).max(1.0)
        )
    }
}

/// A scratch store directory in the system's temporary directory, removed
/// when dropped.
#[derive(Debug)]
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    pub(crate) fn new() -> Result<Scratch> {
        let dir = std::env::temp_dir().join(format!("polku-bench-{}", uuid::Uuid::now_v7()));
        Ok(Scratch(dir))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run the benchmark with `login`/`password` as the scratch store's admin.
/// `near` only names where the real store lives; the scratch store is created in
/// the system's temporary directory.
pub fn run(
    _near: &Path,
    login: &str,
    password: &str,
    clients: usize,
    memos_per_client: usize,
) -> Result<BenchReport> {
    let scratch =
        Scratch(std::env::temp_dir().join(format!("polku-bench-{}", uuid::Uuid::now_v7())));
    let dir = scratch.0.as_path();
    let now = chrono::Utc::now();
    let kdf = KdfParams::default();
    Workspace::init_with(dir, login, password, now, kdf)?;

    let mut session = Workspace::open(dir)?.login(login, password, now)?;
    let t = Instant::now();
    session.add_demo_with(clients, 1, Some(memos_per_client), now)?;
    let populate = t.elapsed();
    session.close()?;

    // Unlock, step by step.
    let t = Instant::now();
    let locked = LockedStore::open(dir)?;
    let unlock_open = t.elapsed();
    let t = Instant::now();
    let key = locked.derive_key(login, password)?;
    let unlock_kdf = t.elapsed();
    let t = Instant::now();
    let store = locked.unlock(key)?;
    let session = polku_api::bench_hooks::start(store, now)?;
    let unlock_rest = t.elapsed();

    // Open and decode every client as the app does (views), beside the raw
    // read + decryption of the same bytes. A first pass warms the page cache.
    let _ = polku_api::bench_hooks::store(&session).load_views(DocKind::Client)?;
    let t = Instant::now();
    let raw_views = polku_api::bench_hooks::store(&session).load_views(DocKind::Client)?;
    let views_raw = t.elapsed();
    let views_bytes = raw_views
        .iter()
        .map(|(_, v)| v.as_ref().map_or(0, |v| v.len() as u64))
        .sum();
    drop(raw_views);
    let mut session = session;
    let t = Instant::now();
    let opened = session.all_clients(now)?;
    let open_views = t.elapsed();
    if opened.len() != clients {
        return Err(ApiError::Invalid("benchmark store lost documents"));
    }
    drop(opened);

    // The Automerge path: load and hydrate every client document.
    let t = Instant::now();
    let docs = polku_api::bench_hooks::store(&session).load_all(DocKind::Client)?;
    let mut records: std::collections::BTreeMap<_, _> = polku_api::bench_hooks::store(&session)
        .load_all(DocKind::ClientRecord)?
        .into_iter()
        .collect();
    let load_all = t.elapsed();
    let t = Instant::now();
    let mut decoded = Vec::with_capacity(docs.len());
    for (id, am) in docs {
        let record = records.remove(&record_doc_id(ClientId::from(id.0)));
        decoded.push(ClientDoc::from_parts(am, record)?.client()?);
    }
    let hydrate = t.elapsed();
    if decoded.len() != clients {
        return Err(ApiError::Invalid("benchmark store lost documents"));
    }
    let memos: usize = decoded.iter().map(|c| c.memos.len()).sum();
    if memos != clients * memos_per_client {
        return Err(ApiError::Invalid("benchmark store lost memos"));
    }
    let json_bytes = decoded
        .iter()
        .map(|c| serde_json::to_vec(c).map_or(0, |v| v.len() as u64))
        .sum();

    // Baselines over the same rows.
    let raw = polku_api::bench_hooks::store(&session).bench_raw_decrypt(DocKind::Client)?;
    let age_per_blob =
        polku_api::bench_hooks::store(&session).bench_age_per_blob(DocKind::Client)?;
    polku_api::bench_hooks::store(&session).checkpoint()?;
    let disk_bytes = dir_size(dir);
    drop(session);

    Ok(BenchReport {
        clients,
        memos_per_client,
        populate,
        kdf,
        unlock_open,
        unlock_kdf,
        unlock_rest,
        open_views,
        views_raw,
        views_bytes,
        load_all,
        hydrate,
        raw,
        age_per_blob,
        disk_bytes,
        json_bytes,
    })
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}
