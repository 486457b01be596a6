//! Measures what the store does at start-up: load and hydrate many client
//! documents. Run with
//! `cargo run --release -p polku-core --example load_bench [clients] [memos]`.

use std::time::Instant;

use chrono::{DateTime, Days, NaiveDate};
use polku_core::doc::ClientDoc;
use polku_core::model::{Client, Measure, MeasureStatus, Memo, Period};
use polku_core::{ClientId, MeasureId, MemoId, PeriodId, UnitId, UserId};

fn client(n: u32, memos: u32) -> Client {
    let ms = 1_700_000_000_000 + u64::from(n);
    let r = |k: u8| {
        let mut b = [k; 10];
        b[..4].copy_from_slice(&n.to_le_bytes());
        b
    };
    let day0 = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap_or_default();
    let mut c = Client::new(
        ClientId::from_parts(ms, r(1)),
        DateTime::from_timestamp_millis(ms as i64).unwrap_or_default(),
    );
    c.basic.first_name = "Aino".into();
    c.basic.last_name = format!("Virtanen{n}");
    c.basic.birth_date = Some(NaiveDate::from_ymd_opt(2004, 5, 6).unwrap_or_default());
    c.basic.gender = Some("female".into());
    c.basic.mother_tongue = Some("fi".into());
    c.unit = Some(UnitId::from_parts(1, [9; 10]));
    c.responsible.insert(UserId::from_parts(1, [8; 10]));
    c.background.education = "Peruskoulu päättynyt keväällä, ammattikoulu jäi kesken.".into();
    let mut p = Period::new(PeriodId::from_parts(ms, r(2)));
    p.start = Some(day0);
    p.arrival_route = Some("education_provider".into());
    p.goals = "Löytää opiskelupaikka ja saada arki rullaamaan.".into();
    p.insert_measure(Measure {
        id: MeasureId::from_parts(ms, r(3)),
        code: "guidance".into(),
        start: Some(day0),
        status: MeasureStatus::Ongoing,
        end: None,
    });
    c.insert_period(p);
    for i in 0..memos {
        let mut b = r(4);
        b[4..8].copy_from_slice(&i.to_le_bytes());
        c.insert_memo(Memo {
            id: MemoId::from_parts(ms + u64::from(i), b),
            date: day0 + Days::new(u64::from(i) * 7),
            author: UserId::from_parts(1, [8; 10]),
            kind: "meeting".into(),
            text: "Tavattiin nuorisotalolla. Nuori kertoi, että hakemus on lähetetty ja \
                   haastatteluun on kutsuttu ensi viikolla. Sovittiin, että mennään yhdessä. "
                .repeat(3),
            deleted: None,
        });
    }
    c
}

fn main() {
    let mut args = std::env::args().skip(1);
    let clients: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let memos: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);

    let values: Vec<Client> = (0..clients).map(|n| client(n, memos)).collect();
    let t = Instant::now();
    let mut docs: Vec<ClientDoc> = values
        .iter()
        .map(|c| ClientDoc::new(c).expect("new"))
        .collect();
    println!(
        "ClientDoc::new:            {:?} per document",
        t.elapsed() / clients.max(1)
    );
    let t = Instant::now();
    for (doc, c) in docs.iter_mut().zip(&values) {
        // A little history on top of the initial change.
        let first = *c.memos.keys().next().expect("a memo");
        doc.splice_memo_text(first, 0, 0, "Päivitetty: ")
            .expect("splice");
    }
    println!(
        "splice_memo_text:          {:?} per document",
        t.elapsed() / clients.max(1)
    );
    let t = Instant::now();
    for doc in &mut docs {
        doc.update(|c| c.basic.phone = "040 123 4567".into())
            .expect("update");
    }
    println!(
        "update (one field):        {:?} per document",
        t.elapsed() / clients.max(1)
    );
    let t = Instant::now();
    let saved: Vec<(Vec<u8>, Option<Vec<u8>>)> = docs.iter_mut().map(ClientDoc::save_new).collect();
    println!(
        "save:                      {:?} per document",
        t.elapsed() / clients.max(1)
    );
    drop(docs);
    let bytes: usize = saved
        .iter()
        .map(|(b, r)| b.len() + r.as_ref().map_or(0, Vec::len))
        .sum();
    println!(
        "{clients} clients x {memos} memos: {} KiB saved ({} B per document)",
        bytes / 1024,
        bytes / saved.len().max(1)
    );

    let t = Instant::now();
    let mut n_memos = 0;
    for (b, r) in &saved {
        let doc = ClientDoc::load_parts(b, r.as_deref()).expect("load");
        n_memos += doc.client().expect("hydrate").memos.len();
    }
    let one = t.elapsed();
    println!(
        "load + hydrate, 1 thread:  {one:?} ({:?} per document, {n_memos} memos)",
        one / clients.max(1)
    );

    let t = Instant::now();
    for (b, r) in &saved {
        let _ = ClientDoc::load_parts(b, r.as_deref()).expect("load");
    }
    println!("load only, 1 thread:       {:?}", t.elapsed());

    let t = Instant::now();
    for (b, r) in &saved {
        let doc = ClientDoc::load_parts(b, r.as_deref()).expect("load");
        let _ = doc.summary().expect("summary");
    }
    println!("load + summary, 1 thread:  {:?}", t.elapsed());

    // A cached materialised value (what a store could keep next to the
    // document, keyed by its heads) instead of loading Automerge.
    let encoded: Vec<Vec<u8>> = values
        .iter()
        .map(|c| postcard::to_allocvec(c).expect("encode"))
        .collect();
    let t = Instant::now();
    for b in &encoded {
        let c: Client = postcard::from_bytes(b).expect("decode");
        assert_eq!(c.memos.len() as u32, memos);
    }
    println!(
        "postcard decode, 1 thread: {:?} ({} B per client)",
        t.elapsed(),
        encoded.iter().map(Vec::len).sum::<usize>() / encoded.len().max(1)
    );

    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let t = Instant::now();
    std::thread::scope(|s| {
        for chunk in saved.chunks(saved.len().div_ceil(threads).max(1)) {
            s.spawn(move || {
                for (b, r) in chunk {
                    let doc = ClientDoc::load_parts(b, r.as_deref()).expect("load");
                    let _ = doc.client().expect("hydrate");
                }
            });
        }
    });
    println!("load + hydrate, {threads} threads: {:?}", t.elapsed());
}
