//! Hostile peers cannot exhaust or stall the hub: 200 unenrolled connections
//! sending junk and an enrolled peer trickling a 16 MiB frame one byte a
//! second, while two honest laptops sync. Real iroh endpoints on loopback
//! (relays disabled), real encrypted stores, the hub in this process (alone
//! in this test binary, so that the peak RSS measured is this scenario's).

#[path = "support/hostile.rs"]
mod hostile;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hostile::*;
use polku_net::{HubCounters, HubLimits};

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

    // Nothing panicked: the hub still serves (a panicking handler stops the router).
    let again = sync(&aino, &hub.addr).await;
    assert!(again.completed, "{again:?}");

    trickler.abort();
    for e in endpoints {
        e.close().await;
    }
    hub.router.shutdown().await.expect("shutdown");
}
