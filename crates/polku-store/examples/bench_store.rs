//! Store benchmark with synthetic client documents.
//!
//! ```text
//! cargo run --release -p polku-store --example bench_store -- [docs] [memos] [change rows]
//! ```
//!
//! Defaults: 2,000 client documents with 50 memos each; the last
//! `change rows` memos of each document (default 10) are appended as
//! separate change rows, the rest are in the snapshot.

use std::error::Error;
use std::time::{Duration, Instant};

use automerge::{AutoCommit, ObjType, ROOT, ReadDoc, transaction::Transactable};
use polku_core::{DocId, DocKind, UserId};
use polku_store::{KdfParams, LockedStore, NewUser, Store};

const WORDS: &[&str] = &[
    "tapasi",
    "nuoren",
    "koululla",
    "sovittiin",
    "uusi",
    "tapaaminen",
    "ensi",
    "viikolla",
    "keskusteltiin",
    "opiskelusta",
    "asumisesta",
    "ja",
    "harrastuksista",
    "nuori",
    "kertoi",
    "olevansa",
    "kiinnostunut",
    "työpajasta",
    "ohjattiin",
    "palveluihin",
];

fn memo_text(seed: usize) -> String {
    let mut s = String::new();
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    while s.len() < 300 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push_str(WORDS[x % WORDS.len()]);
        s.push(' ');
    }
    s
}

fn add_memo(
    doc: &mut AutoCommit,
    memos: &automerge::ObjId,
    i: usize,
) -> Result<(), Box<dyn Error>> {
    let len = doc.length(memos);
    let m = doc.insert_object(memos, len, ObjType::Map)?;
    doc.put(
        &m,
        "date",
        format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
    )?;
    doc.put(&m, "type", "contact")?;
    doc.put(&m, "author", "0190f5c4-0000-7000-8000-000000000001")?;
    let t = doc.put_object(&m, "text", ObjType::Text)?;
    doc.splice_text(&t, 0, 0, &memo_text(i))?;
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let n_docs = args.first().copied().unwrap_or(2000);
    let n_memos = args.get(1).copied().unwrap_or(50);
    let n_changes = args.get(2).copied().unwrap_or(10).min(n_memos);
    let dir = tempfile::tempdir()?;
    let login = "bench";
    let password = "bench password";

    let t = Instant::now();
    let store = Store::create(
        dir.path(),
        NewUser {
            user_id: UserId::new(),
            login,
            password,
            kdf: KdfParams::default(),
        },
    )?;
    println!("create store (default argon2id): {}", ms(t.elapsed()));

    // Build documents.
    let t = Instant::now();
    let mut docs = Vec::with_capacity(n_docs);
    for d in 0..n_docs {
        let mut doc = AutoCommit::new();
        let name = doc.put_object(ROOT, "first_name", ObjType::Text)?;
        doc.splice_text(&name, 0, 0, &format!("Etunimi{d}"))?;
        doc.put(ROOT, "birth_date", "2005-05-05")?;
        let memos = doc.put_object(ROOT, "memos", ObjType::List)?;
        for i in 0..(n_memos - n_changes) {
            add_memo(&mut doc, &memos, d * 100 + i)?;
            doc.commit();
        }
        let snapshot = doc.save();
        let mut changes = Vec::new();
        for i in (n_memos - n_changes)..n_memos {
            add_memo(&mut doc, &memos, d * 100 + i)?;
            changes.push((doc.save_incremental(), doc.get_heads()));
        }
        docs.push((DocId(uuid::Uuid::now_v7()), snapshot, changes));
    }
    println!("build {n_docs} automerge docs: {}", ms(t.elapsed()));

    let t = Instant::now();
    store.batch(|b| {
        for (id, snapshot, changes) in &docs {
            b.create_doc(*id, DocKind::Client, snapshot)?;
            for (bytes, heads) in changes {
                b.append_change(*id, bytes, heads)?;
            }
            b.put_index(*id, format!("{{\"name\":\"Etunimi {id}\"}}").as_bytes())?;
        }
        Ok(())
    })?;
    println!(
        "write {n_docs} docs + {} change rows + index, one transaction: {}",
        n_docs * n_changes,
        ms(t.elapsed())
    );
    let (id0, _, _) = &docs[0];
    let id0 = *id0;
    drop(docs);
    store.close()?;
    let db_len = std::fs::metadata(dir.path().join(polku_store::DB_FILE))?.len();
    println!("polku.db size: {:.1} MiB", db_len as f64 / 1048576.0);

    // Unlock, step by step.
    let (store, t) = Store::unlock_timed(dir.path(), login, password)?;
    println!(
        "unlock (default params): open {} kdf {} unwrap {} migrate {}",
        ms(t.open),
        ms(t.kdf),
        ms(t.unwrap),
        ms(t.migrate)
    );
    let me = store.current_user();
    store.change_password(me, password, KdfParams::OWASP_MINIMUM)?;
    drop(store);
    let (store, t) = Store::unlock_timed(dir.path(), login, password)?;
    println!(
        "unlock (OWASP minimum): open {} kdf {} unwrap {}",
        ms(t.open),
        ms(t.kdf),
        ms(t.unwrap)
    );
    let locked = LockedStore::open(dir.path())?;
    let t = Instant::now();
    let _ = locked.derive_key("nobody", password).err();
    println!("unknown user (decoy kdf): {}", ms(t.elapsed()));
    drop(locked);

    let t = Instant::now();
    let entries = store.index_entries()?;
    println!("index_entries ({}): {}", entries.len(), ms(t.elapsed()));

    let raw = store.bench_raw_decrypt(DocKind::Client)?;
    println!(
        "raw SQLite read of {} blobs ({:.1} MiB): {}; decrypt (1 thread): {}",
        raw.blobs,
        raw.ciphertext_bytes as f64 / 1048576.0,
        ms(raw.read),
        ms(raw.decrypt)
    );
    let t = Instant::now();
    let all = store.load_all(DocKind::Client)?;
    println!(
        "load_all: {} docs decoded with automerge: {}",
        all.len(),
        ms(t.elapsed())
    );
    drop(all);
    let t = Instant::now();
    for id in store.list_docs(DocKind::Client)? {
        store.load_doc(id)?;
    }
    println!("load_doc for every doc, one thread: {}", ms(t.elapsed()));
    let age = store.bench_age_per_blob(DocKind::Client)?;
    println!(
        "age per blob baseline: {} blobs, encrypt {}, decrypt {} ({:.0} µs/blob)",
        age.blobs,
        ms(age.encrypt),
        ms(age.decrypt),
        age.decrypt.as_secs_f64() * 1e6 / age.blobs.max(1) as f64
    );

    let t = Instant::now();
    let mut ac = store.load_doc(id0)?;
    println!("load_doc (one): {}", ms(t.elapsed()));
    let heads = ac.get_heads();
    let (_, memos) = ac.get(ROOT, "memos")?.ok_or("memos")?;
    add_memo(&mut ac, &memos, 999)?;
    let t = Instant::now();
    store.save_changes(id0, ac.document(), &heads)?;
    println!(
        "save_changes (one memo, durable commit): {}",
        ms(t.elapsed())
    );

    let t = Instant::now();
    let n = store.compact_all(0)?;
    println!("compact_all: {n} docs in {}", ms(t.elapsed()));
    let t = Instant::now();
    let all = store.load_all(DocKind::Client)?;
    println!(
        "load_all after compaction: {} docs: {}",
        all.len(),
        ms(t.elapsed())
    );
    let raw = store.bench_raw_decrypt(DocKind::Client)?;
    println!(
        "raw after compaction: {} blobs ({:.1} MiB): read {} decrypt {}",
        raw.blobs,
        raw.ciphertext_bytes as f64 / 1048576.0,
        ms(raw.read),
        ms(raw.decrypt)
    );

    // Mutable sealed rows: overwrite every index entry, write sealed values
    // (best of 20 transactions each).
    let ids = store.list_docs(DocKind::Client)?;
    let per = |d: Duration| d.as_secs_f64() * 1e6 / ids.len().max(1) as f64;
    let mut best = Duration::MAX;
    for round in 0..20 {
        let t = Instant::now();
        store.batch(|b| {
            for id in &ids {
                b.put_index(
                    *id,
                    format!("{{\"name\":\"Toinen {id} {round}\"}}").as_bytes(),
                )?;
            }
            Ok(())
        })?;
        best = best.min(t.elapsed());
    }
    println!(
        "put_index overwrite, {} entries, one transaction, best of 20: {} ({:.2} µs/entry)",
        ids.len(),
        ms(best),
        per(best)
    );
    let mut best = Duration::MAX;
    for round in 0..20u64 {
        let t = Instant::now();
        store.batch(|b| {
            for id in &ids {
                b.put_meta(format!("peer/{id}").as_bytes(), &round.to_le_bytes())?;
            }
            Ok(())
        })?;
        best = best.min(t.elapsed());
    }
    println!(
        "put_meta, {} values, one transaction, best of 20: {} ({:.2} µs/value)",
        ids.len(),
        ms(best),
        per(best)
    );
    let singles = 200;
    let t = Instant::now();
    for i in 0..singles {
        store.put_meta(b"tomb-next", &(i as u64).to_le_bytes())?;
    }
    let d = t.elapsed();
    println!(
        "put_meta, {singles} single durable commits: {} ({:.2} ms/commit)",
        ms(d),
        d.as_secs_f64() * 1e3 / f64::from(singles)
    );
    store.change_password(me, password, KdfParams::INSECURE_FOR_TESTS)?;
    store.close()?;
    // Unlock with a cheap KDF so that the rest of the unlock shows.
    let mut best = Duration::MAX;
    for _ in 0..9 {
        let (store, t) = Store::unlock_timed(dir.path(), login, password)?;
        best = best.min(t.open + t.unwrap + t.migrate);
        if store.index_entries()?.len() != ids.len() {
            return Err("index entries lost".into());
        }
        drop(store);
    }
    println!(
        "unlock without the kdf ({} index entries, {} values), best of 9: {}",
        ids.len(),
        ids.len() + 1,
        ms(best)
    );
    Ok(())
}
