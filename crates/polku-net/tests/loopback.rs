//! The sync protocol over real iroh endpoints on loopback (relays disabled):
//! a hub and laptops with in-memory replicas.

use std::sync::{Arc, Mutex};

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use polku_audit::{NodeId, NodeKey};
use polku_core::{DocId, DocKind, OrgId};
use polku_net::{NetError, SessionLog, SyncProtocol, bind, hub_addr, node_id, sync_with_hub};
use polku_sync::mem::{MemReplica, UnitPolicy, UnitRights};
use polku_sync::protocol::ErrorCode;
use polku_sync::{Denial, SyncError};

const LOOPBACK: &str = "127.0.0.1:0";

fn node(secret: [u8; 32]) -> NodeId {
    NodeKey::from_bytes(&secret).node_id()
}

fn doc(unit: &str, text: &str) -> AutoCommit {
    let mut d = AutoCommit::new();
    d.put(ROOT, "unit", unit).expect("put");
    d.put(ROOT, "text", text).expect("put");
    d.commit();
    d
}

fn quiet_log() -> SessionLog {
    Arc::new(|_, _| {})
}

struct Hub {
    replica: Arc<Mutex<MemReplica>>,
    router: iroh::protocol::Router,
    addr: iroh::EndpointAddr,
}

async fn start_hub(secret: [u8; 32], org: OrgId, replica: MemReplica) -> Hub {
    let endpoint = bind(
        &secret,
        LOOPBACK.parse().expect("addr"),
        vec![polku_net::SYNC_ALPN.to_vec()],
    )
    .await
    .expect("bind hub");
    let local = node_id(&endpoint);
    let addrs = endpoint.bound_sockets();
    let replica = Arc::new(Mutex::new(replica));
    let protocol = SyncProtocol::new(replica.clone(), org, local, quiet_log());
    let router = iroh::protocol::Router::builder(endpoint)
        .accept(polku_net::SYNC_ALPN, protocol)
        .spawn();
    Hub {
        replica,
        router,
        addr: hub_addr(*local.as_bytes(), &addrs).expect("hub addr"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_laptop_syncs_its_scope_with_the_hub_over_iroh() {
    let (hub_secret, laptop_secret) = ([11u8; 32], [12u8; 32]);
    let (hub_node, laptop_node) = (node(hub_secret), node(laptop_secret));
    let org = OrgId::new();
    let mut hub_replica = MemReplica::hub(hub_node);
    hub_replica.enrol(laptop_node);
    hub_replica.set_policy(UnitPolicy::new().grant(laptop_node, UnitRights::worker("a")));
    let (in_scope, out_of_scope, from_laptop) = (
        DocId(uuid::Uuid::now_v7()),
        DocId(uuid::Uuid::now_v7()),
        DocId(uuid::Uuid::now_v7()),
    );
    hub_replica.insert(in_scope, DocKind::Client, doc("a", "näkyy"));
    hub_replica.insert(out_of_scope, DocKind::Client, doc("b", "ei näy"));
    let hub = start_hub(hub_secret, org, hub_replica).await;

    let mut laptop_replica = MemReplica::laptop(laptop_node, hub_node);
    laptop_replica.insert(from_laptop, DocKind::Client, doc("a", "kentältä"));
    let laptop = Mutex::new(laptop_replica);
    let endpoint = bind(&laptop_secret, LOOPBACK.parse().expect("addr"), vec![])
        .await
        .expect("bind laptop");
    assert_eq!(
        node_id(&endpoint),
        laptop_node,
        "the iroh identity is the audit node id"
    );

    let report = sync_with_hub(&endpoint, hub.addr.clone(), &laptop, org)
        .await
        .expect("sync");
    assert!(report.completed);
    {
        let l = laptop.lock().expect("lock");
        assert!(l.contains(in_scope));
        assert!(
            !l.contains(out_of_scope),
            "the hub sent a document outside the user's scope"
        );
    }
    assert!(hub.replica.lock().expect("lock").contains(from_laptop));

    // A second sync with nothing changed moves next to nothing.
    let again = sync_with_hub(&endpoint, hub.addr.clone(), &laptop, org)
        .await
        .expect("resync");
    assert!(again.completed);
    assert_eq!(again.docs_differing, 0);
    assert!(again.bytes_sent + again.bytes_received < 2_000, "{again:?}");

    endpoint.close().await;
    hub.router.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unenrolled_revoked_deactivated_and_wrongly_pinned_nodes_are_refused() {
    let (hub_secret, laptop_secret) = ([21u8; 32], [22u8; 32]);
    let (hub_node, laptop_node) = (node(hub_secret), node(laptop_secret));
    let org = OrgId::new();
    let hub = start_hub(hub_secret, org, MemReplica::hub(hub_node)).await;
    let endpoint = bind(&laptop_secret, LOOPBACK.parse().expect("addr"), vec![])
        .await
        .expect("bind");

    // Never enrolled.
    let laptop = Mutex::new(MemReplica::laptop(laptop_node, hub_node));
    let err = sync_with_hub(&endpoint, hub.addr.clone(), &laptop, org)
        .await
        .expect_err("not enrolled");
    assert!(
        matches!(
            err,
            NetError::Sync(SyncError::Remote(ErrorCode::NotEnrolled))
        ),
        "{err:?}"
    );

    // Enrolled, then revoked.
    hub.replica.lock().expect("lock").enrol(laptop_node);
    sync_with_hub(&endpoint, hub.addr.clone(), &laptop, org)
        .await
        .expect("enrolled");
    hub.replica.lock().expect("lock").revoke(laptop_node);
    let err = sync_with_hub(&endpoint, hub.addr.clone(), &laptop, org)
        .await
        .expect_err("revoked");
    assert!(
        matches!(
            err,
            NetError::Sync(SyncError::Remote(ErrorCode::DeviceRevoked))
        ),
        "{err:?}"
    );

    // Enrolled again but its user deactivated.
    let third_secret = [24u8; 32];
    let third = bind(&third_secret, LOOPBACK.parse().expect("addr"), vec![])
        .await
        .expect("bind");
    {
        let mut hub_replica = hub.replica.lock().expect("lock");
        hub_replica.enrol(node(third_secret));
        hub_replica.deactivate(node(third_secret));
    }
    let third_replica = Mutex::new(MemReplica::laptop(node(third_secret), hub_node));
    let err = sync_with_hub(&third, hub.addr.clone(), &third_replica, org)
        .await
        .expect_err("deactivated");
    assert!(
        matches!(
            err,
            NetError::Sync(SyncError::Remote(ErrorCode::UserDeactivated))
        ),
        "{err:?}"
    );
    third.close().await;

    // A laptop (enrolled here) pinned to another hub refuses this one.
    let other_secret = [23u8; 32];
    hub.replica.lock().expect("lock").enrol(node(other_secret));
    let other = bind(&other_secret, LOOPBACK.parse().expect("addr"), vec![])
        .await
        .expect("bind");
    let pinned_elsewhere = Mutex::new(MemReplica::laptop(node(other_secret), node([99; 32])));
    let err = sync_with_hub(&other, hub.addr.clone(), &pinned_elsewhere, org)
        .await
        .expect_err("mismatch");
    other.close().await;
    assert!(
        matches!(err, NetError::Sync(SyncError::Denied(Denial::HubMismatch))),
        "{err:?}"
    );

    endpoint.close().await;
    hub.router.shutdown().await.expect("shutdown");
}
