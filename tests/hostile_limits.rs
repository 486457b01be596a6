//! The hub's limits one by one, against enrolled peers that break the
//! rules: the minimum rate, the hello bound, the session cap, the global
//! byte budget. Real iroh endpoints on loopback, real stores.

#[path = "support/hostile.rs"]
mod hostile;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hostile::*;
use polku_net::HubLimits;
use polku_scenarios::login;
use polku_sync::protocol::{ErrorCode, MAX_FRAME_LEN, Message};

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
