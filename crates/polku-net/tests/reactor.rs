//! The hub's store work runs off the async reactor: while one session's
//! work waits for the replica (held here by another thread, as a long store
//! operation would), the hub still accepts and answers other connections.
//! The runtime has one thread, so work done on it would stall everything.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use polku_audit::{NodeId, NodeKey};
use polku_core::OrgId;
use polku_net::{SessionLog, SyncProtocol, bind, hub_addr, node_id};
use polku_sync::mem::MemReplica;
use polku_sync::protocol::{FRAME_HEADER_LEN, frame_len};
use polku_sync::{Role, Session, SessionConfig};

const LOOPBACK: &str = "127.0.0.1:0";
const PATIENCE: Duration = Duration::from_secs(60);

fn node(secret: [u8; 32]) -> NodeId {
    NodeKey::from_bytes(&secret).node_id()
}

async fn read_frame(recv: &mut iroh::endpoint::RecvStream) -> Vec<u8> {
    let mut header = [0u8; FRAME_HEADER_LEN];
    recv.read_exact(&mut header).await.expect("header");
    let len = frame_len(header).expect("length");
    let mut frame = vec![0u8; FRAME_HEADER_LEN + len];
    frame[..FRAME_HEADER_LEN].copy_from_slice(&header);
    recv.read_exact(&mut frame[FRAME_HEADER_LEN..])
        .await
        .expect("body");
    frame
}

#[tokio::test(flavor = "current_thread")]
async fn a_session_waiting_for_the_store_does_not_stall_other_connections() {
    let (hub_secret, laptop_secret, other_secret) = ([31u8; 32], [32u8; 32], [33u8; 32]);
    let (hub_node, laptop_node) = (node(hub_secret), node(laptop_secret));
    let org = OrgId::new();
    let mut hub_replica = MemReplica::hub(hub_node);
    hub_replica.enrol(laptop_node);
    let replica = Arc::new(Mutex::new(hub_replica));
    let endpoint = bind(
        &hub_secret,
        LOOPBACK.parse().expect("addr"),
        vec![polku_net::SYNC_ALPN.to_vec()],
    )
    .await
    .expect("bind hub");
    let addr = hub_addr(*node_id(&endpoint).as_bytes(), &endpoint.bound_sockets()).expect("addr");
    let log: SessionLog = Arc::new(|_, _| {});
    let protocol = SyncProtocol::new(replica.clone(), org, hub_node, log);
    let router = iroh::protocol::Router::builder(endpoint)
        .accept(polku_net::SYNC_ALPN, protocol.clone())
        .spawn();

    // A laptop opens a session and takes its turns by hand up to its turn 2.
    let laptop_ep = bind(&laptop_secret, LOOPBACK.parse().expect("addr"), vec![])
        .await
        .expect("bind laptop");
    let conn = laptop_ep
        .connect(addr.clone(), polku_net::SYNC_ALPN)
        .await
        .expect("connect");
    let (mut send, mut recv) = conn.open_bi().await.expect("stream");
    let mut laptop_replica = MemReplica::laptop(laptop_node, hub_node);
    let mut session = Session::new(SessionConfig::new(Role::Laptop, org, laptop_node, hub_node));
    for f in session.start(&mut laptop_replica).expect("start") {
        send.write_all(f.as_bytes()).await.expect("hello");
    }
    let turn2 = loop {
        let frame = read_frame(&mut recv).await;
        let out = session
            .handle(&mut laptop_replica, &frame)
            .expect("hub turn");
        if !out.is_empty() {
            break out;
        }
    };

    // Another thread holds the hub's replica, as a long store operation would.
    let (locked_tx, locked_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let released = Arc::new(AtomicBool::new(false));
    let holder = {
        let (replica, released) = (replica.clone(), released.clone());
        std::thread::spawn(move || {
            let guard = replica.lock().expect("lock");
            locked_tx.send(()).expect("signal");
            // Released when told, or after a while (then the hub was stalled).
            let _ = release_rx.recv_timeout(Duration::from_secs(10));
            released.store(true, Ordering::SeqCst);
            drop(guard);
        })
    };
    locked_rx.recv().expect("locked");

    // The laptop's turn 2 makes the hub's session work on the held replica...
    for f in &turn2 {
        send.write_all(f.as_bytes()).await.expect("turn 2");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    // ...while another node connects and is answered.
    let other = bind(&other_secret, LOOPBACK.parse().expect("addr"), vec![])
        .await
        .expect("bind other");
    let other_conn = tokio::time::timeout(PATIENCE, other.connect(addr, polku_net::SYNC_ALPN))
        .await
        .expect("in time")
        .expect("the hub accepted a connection");
    let stalled = released.load(Ordering::SeqCst);
    assert!(
        !stalled,
        "the hub accepted the connection only once the store was free"
    );
    let counted = tokio::time::timeout(PATIENCE, async {
        while protocol.counters().connections < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(counted.is_ok(), "the hub handles both connections");
    assert!(
        !released.load(Ordering::SeqCst),
        "still while the store is held"
    );

    let _ = release_tx.send(());
    holder.join().expect("holder");
    other_conn.close(0u32.into(), b"done");
    conn.close(0u32.into(), b"done");
    other.close().await;
    laptop_ep.close().await;
    router.shutdown().await.expect("shutdown");
}
