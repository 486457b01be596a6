//! Sync benchmark on the in-process network (no transport, no storage): what
//! the sync core itself costs, beside baselines measured in the same run.
//!
//! ```text
//! cargo run --release -p polku-sync --example sync_bench [first_docs] [resync_docs]
//! ```
//!
//! 1. **First sync** of a hub holding `first_docs` (default 2,000) client
//!    documents from `polku-demo` to an empty laptop.
//! 2. **Incremental resync** after a first sync of `resync_docs` (default
//!    10,000) documents, with 10 of them changed (5 on each side).
//!
//! Each beside two baselines:
//! - *naive whole*: every document saved, framed, sent and loaded whole;
//! - *plain Automerge*: per-document Automerge sync with fresh sync states,
//!   document by document, until quiet (what a reconnect without kept
//!   states and without set reconciliation costs).
//!
//! Measured 2026-11 on a 2-vCPU machine shared with other builds (release;
//! times vary ±20 % run to run; the polku-sync time covers both sides, run
//! one after the other in one thread):
//!
//! | case | polku-sync | naive whole | plain Automerge |
//! |---|---|---|---|
//! | first sync, 2,000 clients (3.85 MB saved) | 0.68–0.85 s, 4.09 MB (1.06 × saved), 6 turns | 0.60–0.65 s, 3.89 MB | 0.71–0.81 s, 4.43 MB, 8,000 msgs |
//! | resync, 10 of 10,000 changed | 22–29 ms, 23.7 KB, 8 turns | 2.9–4.2 s, 19.3 MB | 38–57 ms, 1.61 MB, 20,000 msgs |
//!
//! Both first syncs are bound by Automerge's `load` on the receiver (about
//! 0.3 ms per client document). The resync costs ~1 µs per unchanged
//! document per side (set bookkeeping) plus Automerge for the 10.

use std::time::{Duration, Instant};

use automerge::AutoCommit;
use automerge::sync::{self, SyncDoc};
use chrono::NaiveDate;
use polku_core::doc::RecordDoc;
use polku_core::{DocId, DocKind};
use polku_demo::{DemoConfig, generate, staff};
use polku_sync::SyncReport;
use polku_sync::testnet::Net;

struct Figures {
    time: Duration,
    bytes: usize,
    messages: usize,
}

/// Client documents as a store holds them: compacted saves.
fn client_docs(n: usize, seed: u64) -> Vec<(DocId, Vec<u8>)> {
    let staff = staff(seed);
    let config = DemoConfig {
        clients: n,
        seed,
        today: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default(),
        memos_per_client: None,
    };
    generate(&config, &staff)
        .clients
        .into_iter()
        .map(|c| {
            // The record document: the larger of a client's two.
            let (_, record) = c.split();
            let mut doc = RecordDoc::new(&record).unwrap_or_else(|e| panic!("record doc: {e}"));
            (record.id, doc.save())
        })
        .collect()
}

fn net_with(docs: &[(DocId, Vec<u8>)]) -> Net {
    let mut net = Net::new();
    net.add_hub("hub");
    net.add_laptop("laptop", "hub");
    for (id, bytes) in docs {
        net.replica_mut("hub")
            .insert_saved(*id, DocKind::ClientRecord, bytes.clone())
            .unwrap_or_else(|e| panic!("load: {e}"));
    }
    net
}

fn timed_sync(net: &mut Net) -> (Figures, SyncReport, SyncReport) {
    let start = Instant::now();
    let (laptop, hub) = net
        .sync("laptop", "hub")
        .unwrap_or_else(|e| panic!("sync failed: {e}"));
    let time = start.elapsed();
    let figures = Figures {
        time,
        bytes: (hub.bytes_sent + hub.bytes_received) as usize,
        messages: (hub.frames_sent + hub.frames_received) as usize,
    };
    (figures, laptop, hub)
}

/// Every document's stored bytes framed (length and id) and loaded on the
/// other side.
fn naive_whole(docs: &[(DocId, Vec<u8>)]) -> Figures {
    let start = Instant::now();
    let mut bytes = 0;
    let mut received = Vec::with_capacity(docs.len());
    for (id, saved) in docs {
        bytes += 4 + 16 + saved.len();
        let mut loaded = AutoCommit::load(saved).unwrap_or_else(|e| panic!("load: {e}"));
        received.push((*id, loaded.get_heads()));
    }
    Figures {
        time: start.elapsed(),
        bytes,
        messages: docs.len(),
    }
}

/// Per-document Automerge sync with fresh states until quiet, one document
/// at a time; `pair(i)` builds the two sides of document `i` (not timed).
fn plain_automerge(n: usize, mut pair: impl FnMut(usize) -> (AutoCommit, AutoCommit)) -> Figures {
    let mut time = Duration::ZERO;
    let (mut bytes, mut messages) = (0, 0);
    for i in 0..n {
        let (mut a, mut b) = pair(i);
        let start = Instant::now();
        let (mut sa, mut sb) = (sync::State::new(), sync::State::new());
        loop {
            let mut quiet = true;
            if let Some(m) = a.sync().generate_sync_message(&mut sa) {
                let enc = m.encode();
                bytes += enc.len() + 4 + 16;
                messages += 1;
                let m = sync::Message::decode(&enc).unwrap_or_else(|e| panic!("{e}"));
                b.sync()
                    .receive_sync_message(&mut sb, m)
                    .unwrap_or_else(|e| panic!("{e}"));
                quiet = false;
            }
            if let Some(m) = b.sync().generate_sync_message(&mut sb) {
                let enc = m.encode();
                bytes += enc.len() + 4 + 16;
                messages += 1;
                let m = sync::Message::decode(&enc).unwrap_or_else(|e| panic!("{e}"));
                a.sync()
                    .receive_sync_message(&mut sa, m)
                    .unwrap_or_else(|e| panic!("{e}"));
                quiet = false;
            }
            if quiet {
                break;
            }
        }
        time += start.elapsed();
    }
    Figures {
        time,
        bytes,
        messages,
    }
}

fn row(name: &str, f: &Figures) {
    println!(
        "  {name:<34} {:>10.1} ms {:>12} B {:>8} msgs",
        f.time.as_secs_f64() * 1000.0,
        f.bytes,
        f.messages
    );
}

fn edit(net: &mut Net, node: &str, id: DocId, i: usize) {
    let ok = net.replica_mut(node).edit(id, |am| {
        let mut cd = RecordDoc::from_automerge(am.clone()).unwrap_or_else(|e| panic!("{e}"));
        cd.update(|r| r.background.other = format!("050 {i:04}"))
            .unwrap_or_else(|e| panic!("{e}"));
        *am = cd.into_automerge();
    });
    assert!(ok);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let first_n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let resync_n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    println!("polku-sync bench (sync core on the in-process network, MemReplica)");

    // 1. First sync.
    let docs = client_docs(first_n, 1);
    let mut net = net_with(&docs);
    let saved = net.replica("hub").saved_size();
    let (f, laptop, _) = timed_sync(&mut net);
    assert_eq!(laptop.docs_created, first_n);
    assert_eq!(
        net.replica("laptop").heads_map(),
        net.replica("hub").heads_map()
    );
    println!(
        "\nfirst sync of {first_n} client documents (saved size {saved} B, {:.0} B each):",
        saved as f64 / first_n as f64
    );
    row("polku-sync", &f);
    println!(
        "  {:<34} {:>10.2} (bytes / saved size), {} turns",
        "",
        f.bytes as f64 / saved as f64,
        laptop.turns
    );
    row("naive: every doc whole", &naive_whole(&docs));
    let load = |b: &[u8]| AutoCommit::load(b).unwrap_or_else(|e| panic!("load: {e}"));
    row(
        "plain automerge, fresh states",
        &plain_automerge(docs.len(), |i| (load(&docs[i].1), AutoCommit::new())),
    );
    drop(net);

    // 2. Incremental resync: 10 of `resync_n` changed.
    let docs = client_docs(resync_n, 2);
    let mut net = net_with(&docs);
    let (f0, _, _) = timed_sync(&mut net);
    let changed: Vec<DocId> = docs
        .iter()
        .step_by((resync_n / 10).max(1))
        .map(|(id, _)| *id)
        .take(10)
        .collect();
    for (i, id) in changed.iter().enumerate() {
        edit(&mut net, if i % 2 == 0 { "hub" } else { "laptop" }, *id, i);
    }
    let (f, laptop, hub) = timed_sync(&mut net);
    assert_eq!(hub.docs_differing, changed.len());
    assert_eq!(
        net.replica("laptop").heads_map(),
        net.replica("hub").heads_map()
    );
    println!("\nfirst sync of {resync_n} client documents (setup):");
    row("polku-sync", &f0);
    println!(
        "\nresync after a reconnect, {} of {resync_n} documents changed (5 on each side):",
        changed.len()
    );
    row("polku-sync", &f);
    println!(
        "  {:<34} {} turns, sent {} / received {} docs",
        "", laptop.turns, laptop.docs_sent, laptop.docs_received
    );
    let ids: Vec<DocId> = net.replica("hub").doc_ids().into_iter().collect();
    let hub_docs: Vec<(DocId, Vec<u8>)> = ids
        .iter()
        .filter_map(|id| net.replica("hub").doc(*id).map(|d| (*id, d.clone().save())))
        .collect();
    row("naive: every doc whole", &naive_whole(&hub_docs));
    drop(hub_docs);
    // The same reconnect with plain Automerge: every document re-announced
    // with fresh states (both sides already hold the result, so this is the
    // cost of finding out that only 10 differ).
    let fresh = plain_automerge(ids.len(), |i| {
        let doc = |node: &str| {
            net.replica(node)
                .doc(ids[i])
                .cloned()
                .unwrap_or_else(|| panic!("{node} lacks a document"))
        };
        (doc("hub"), doc("laptop"))
    });
    row("plain automerge, fresh states", &fresh);
}
