//! Cost follows the change: after a first sync of 10,000 documents, a
//! resync where 10 changed moves bytes in proportion to those 10 and loads
//! only them.

use polku_core::DocId;
use polku_sync::testnet::Net;

const DOCS: usize = 10_000;
const CHANGED: usize = 10;
/// An entry of a full (id → heads hash) list on the wire.
const LIST_ENTRY: usize = 16 + 1 + 32;

#[test]
fn ten_changed_of_ten_thousand_costs_bytes_in_proportion_to_the_ten() {
    let mut net = Net::new();
    net.add_hub("hub");
    net.add_laptop("laptop", "hub");
    let docs: Vec<DocId> = (0..DOCS)
        .map(|i| {
            let unit = if i % 2 == 0 { "a" } else { "b" };
            net.new_doc(
                "hub",
                unit,
                &[("first_name", "Aino"), ("phone", &format!("040 {i:06}"))],
            )
        })
        .collect();

    let (first_laptop, first_hub) = net.sync("laptop", "hub").expect("first sync");
    assert_eq!(first_laptop.docs_created, DOCS);
    let first_bytes = (first_hub.bytes_sent + first_hub.bytes_received) as usize;
    assert_eq!(
        net.replica("laptop").heads_map(),
        net.replica("hub").heads_map()
    );

    // 5 changed on each side, offline.
    for (i, doc) in docs.iter().step_by(DOCS / CHANGED).enumerate() {
        let node = if i % 2 == 0 { "hub" } else { "laptop" };
        assert!(net.set_field(node, *doc, "phone", "050 000"));
    }
    net.replica_mut("hub").stats = Default::default();
    net.replica_mut("laptop").stats = Default::default();

    let (laptop, hub) = net.sync("laptop", "hub").expect("resync");
    let bytes = (hub.bytes_sent + hub.bytes_received) as usize;
    println!(
        "first sync: {first_bytes} B in {} turns; resync of {CHANGED} changed: {bytes} B in {} turns",
        first_hub.turns, hub.turns
    );
    assert_eq!(hub.docs_differing, CHANGED);
    assert_eq!(hub.docs_received + laptop.docs_received, CHANGED);
    assert!(!hub.full_set_exchanged && !laptop.full_set_exchanged);
    // Far below a full exchange: under a tenth of merely listing every
    // document's id and heads hash, and well under 1 % of the first sync.
    assert!(bytes < DOCS * LIST_ENTRY / 10, "{bytes} B");
    assert!(bytes * 100 < first_bytes, "{bytes} B vs {first_bytes} B");
    assert!(bytes < CHANGED * 2_000, "{bytes} B for {CHANGED} documents");
    // Only the changed documents were loaded and had sync states read.
    for node in ["hub", "laptop"] {
        let stats = net.replica(node).stats;
        assert!(stats.loads <= 2 * CHANGED, "{node}: {stats:?}");
        assert!(stats.state_reads <= CHANGED, "{node}: {stats:?}");
    }
    assert_eq!(
        net.replica("laptop").heads_map(),
        net.replica("hub").heads_map()
    );
}
