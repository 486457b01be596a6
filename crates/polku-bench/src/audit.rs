//! `polku-bench audit`: appending and verifying signed audit entries, and what
//! auditing costs a read, each beside a baseline measured in the same run.

use std::fmt;
use std::time::{Duration, Instant};

use polku_audit::{Action, ChainWriter, Detail, Entry, NodeKey};
use polku_core::ClientId;

use crate::store::Scratch;
use polku_api::{ApiError, KdfParams, Result, Workspace};

/// Figures of one audit benchmark run.
#[derive(Debug, Clone)]
pub struct AuditBenchReport {
    /// Entries appended and verified.
    pub entries: usize,
    /// Signing and hashing `entries` entries in memory.
    pub append_memory: Duration,
    /// Sealing and storing them (1,000 per transaction).
    pub append_stored: Duration,
    /// Entries written one durable transaction each (what an audited action costs).
    pub single_writes: usize,
    /// Time for those single writes.
    pub append_single: Duration,
    /// Reading, decrypting and decoding every stored entry.
    pub read_stored: Duration,
    /// Verifying every chain (signatures, back-links, sequence numbers, forks).
    pub verify: Duration,
    /// Reads compared.
    pub reads: usize,
    /// Reads through the session: rights check, view decode, durable audit entry.
    pub audited_reads: Duration,
    /// The same reads without rights or audit (view decode only).
    pub unaudited_reads: Duration,
}

fn per_sec(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

impl fmt::Display for AuditBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.entries;
        writeln!(f, "polku-bench audit: {n} entries")?;
        writeln!(
            f,
            "append, sign + hash in memory        {:>10.0} entries/s",
            per_sec(n, self.append_memory)
        )?;
        writeln!(
            f,
            "append, seal + store (1000 per tx)   {:>10.0} entries/s  (sign + seal + store: {:.0}/s)",
            per_sec(n, self.append_stored),
            per_sec(n, self.append_memory + self.append_stored)
        )?;
        writeln!(
            f,
            "append, one durable tx each          {:>10.0} entries/s  ({} entries)",
            per_sec(self.single_writes, self.append_single),
            self.single_writes
        )?;
        writeln!(
            f,
            "verify every chain                   {:>10.0} entries/s",
            per_sec(n, self.verify)
        )?;
        writeln!(
            f,
            "read + decrypt + decode stored       {:>10.0} entries/s",
            per_sec(n, self.read_stored)
        )?;
        writeln!(
            f,
            "verify incl. reading the store       {:>10.0} entries/s",
            per_sec(n, self.verify + self.read_stored)
        )?;
        let audited = self.audited_reads.as_secs_f64() * 1e3 / self.reads.max(1) as f64;
        let plain = self.unaudited_reads.as_secs_f64() * 1e3 / self.reads.max(1) as f64;
        write!(
            f,
            "client read, audited / unaudited     {audited:.3} ms / {plain:.3} ms = {:.1} x  ({} reads)",
            audited / plain.max(1e-9),
            self.reads
        )
    }
}

/// Run the audit benchmark on a scratch store.
pub fn run(login: &str, password: &str, entries: usize) -> Result<AuditBenchReport> {
    let scratch = Scratch::new()?;
    let dir = scratch.path();
    let now = chrono::Utc::now();
    Workspace::init_with(dir, login, password, now, KdfParams::default())?;
    let mut session = Workspace::open(dir)?.login(login, password, now)?;
    session.add_demo(200, 1, now)?;

    // Append in memory: sign and hash.
    let mut writer = ChainWriter::resume(NodeKey::from_bytes(&[7; 32]), None)
        .map_err(|_| ApiError::Invalid("benchmark key"))?;
    let target = Some(uuid::Uuid::now_v7());
    let t = Instant::now();
    let chain: Vec<Entry> = (0..entries)
        .map(|i| {
            writer.append(
                now,
                Some(session.user().id),
                if i % 3 == 0 {
                    Action::View
                } else {
                    Action::Update
                },
                target,
                Detail::Count(i as u32),
            )
        })
        .collect();
    let append_memory = t.elapsed();

    // Seal and store them, 1,000 per transaction.
    let node = *chain[0].node.as_bytes();
    let t = Instant::now();
    for part in chain.chunks(1000) {
        polku_api::bench_hooks::store(&session).batch(|b| {
            for e in part {
                b.append_audit(&node, e.seq, &e.encode())?;
            }
            Ok(())
        })?;
    }
    let append_stored = t.elapsed();

    // One durable transaction per entry, as an audited action writes it.
    let single_writes = 200;
    let t = Instant::now();
    for _ in 0..single_writes {
        polku_api::bench_hooks::record(&mut session, now, Action::View, target, Detail::None)?;
    }
    let append_single = t.elapsed();

    // Read everything back, then verify.
    let t = Instant::now();
    let stored: Vec<Entry> = polku_api::bench_hooks::store(&session)
        .audit_entries()?
        .into_iter()
        .map(|(_, seq, b)| Entry::decode(&b).map_err(|_| ApiError::AuditDamaged { seq }))
        .collect::<Result<_>>()?;
    let read_stored = t.elapsed();
    let t = Instant::now();
    polku_audit::verify_log(&stored).map_err(|e| ApiError::AuditDamaged { seq: e.entry().seq })?;
    let verify = t.elapsed();

    // Audited against unaudited reads of the same clients.
    let ids: Vec<ClientId> = session.list_clients(now)?.iter().map(|c| c.id).collect();
    let reads = ids.len();
    for id in &ids {
        polku_api::bench_hooks::read_client(&mut session, *id)?; // warm the page cache
    }
    let t = Instant::now();
    for id in &ids {
        polku_api::bench_hooks::read_client(&mut session, *id)?;
    }
    let unaudited_reads = t.elapsed();
    let t = Instant::now();
    for id in &ids {
        session.show_client(*id, now)?;
    }
    let audited_reads = t.elapsed();
    session.close()?;

    Ok(AuditBenchReport {
        entries,
        append_memory,
        append_stored,
        single_writes,
        append_single,
        read_stored,
        verify,
        reads,
        audited_reads,
        unaudited_reads,
    })
}
