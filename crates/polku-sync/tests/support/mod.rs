//! Shared set-up for the scenario tests: an organisation with a hub and
//! laptops in two units, under a unit policy.

#![allow(dead_code)]

use std::collections::BTreeSet;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT, ReadDoc};
use polku_core::{DocId, DocKind};
use polku_sync::docset::DocSet;
use polku_sync::mem::{UnitPolicy, UnitRights, unit_of};
use polku_sync::testnet::Net;

/// Unit names.
pub const UNIT_A: &str = "unit-a";
pub const UNIT_B: &str = "unit-b";

/// Laptops and the unit their worker belongs to.
pub const LAPTOPS: [(&str, &str); 3] = [
    ("laptop-1", UNIT_A),
    ("laptop-2", UNIT_A),
    ("laptop-3", UNIT_B),
];

/// A hub and three laptops; laptops 1 and 2 are workers of unit A, laptop 3
/// a worker of unit B.
pub fn org_net() -> Net {
    let mut net = Net::new();
    net.add_hub("hub");
    let mut policy = UnitPolicy::new();
    for (name, unit) in LAPTOPS {
        let id = net.add_laptop(name, "hub");
        policy.set(id, UnitRights::worker(unit));
    }
    net.replica_mut("hub").set_policy(policy);
    net
}

/// Replaces the hub's policy.
pub fn set_policy(net: &mut Net, grants: &[(&str, UnitRights)]) {
    let mut policy = UnitPolicy::new();
    for (name, rights) in grants {
        policy.set(net.id(name), rights.clone());
    }
    net.replica_mut("hub").set_policy(policy);
}

/// Creates the organisation document (no unit) on a node.
pub fn new_org_doc(net: &mut Net, node: &str) -> DocId {
    let id = net.next_id();
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "name", "Etsivät ry").expect("put");
    doc.commit();
    net.replica_mut(node).insert(id, DocKind::Organisation, doc);
    id
}

/// The hub's documents a worker of `unit` may see, with their heads.
pub fn expected_scope(net: &Net, unit: &str) -> DocSet {
    let hub = net.replica("hub");
    hub.heads_map()
        .into_iter()
        .filter(|(id, _)| {
            let u = hub.doc(*id).and_then(unit_of);
            u.is_none_or(|u| u == unit)
        })
        .collect()
}

/// Every laptop holds exactly what its worker may see, with the hub's heads.
pub fn assert_converged(net: &Net) {
    for (name, unit) in LAPTOPS {
        let expected = expected_scope(net, unit);
        let held = net.replica(name).heads_map();
        let missing: BTreeSet<_> = expected.keys().filter(|k| !held.contains_key(k)).collect();
        let extra: BTreeSet<_> = held.keys().filter(|k| !expected.contains_key(k)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{name}: missing {missing:?}, extra {extra:?}"
        );
        assert_eq!(held, expected, "{name}: heads differ from the hub's");
    }
}

/// A root string field of a document on a node.
pub fn field(net: &Net, node: &str, doc: DocId, key: &str) -> Option<String> {
    let d = net.replica(node).doc(doc)?;
    match d.get(ROOT, key).ok().flatten() {
        Some((automerge::Value::Scalar(s), _)) => match s.as_ref() {
            automerge::ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// The memo text of a test document on a node.
pub fn memo(net: &Net, node: &str, doc: DocId) -> String {
    let Some(d) = net.replica(node).doc(doc) else {
        return String::new();
    };
    match d.get(ROOT, "memo").ok().flatten() {
        Some((_, obj)) => d.text(&obj).unwrap_or_default(),
        None => String::new(),
    }
}

/// Splices the memo text of a test document on a node.
pub fn splice_memo(net: &mut Net, node: &str, doc: DocId, pos: usize, text: &str) {
    let text = text.to_owned();
    let ok = net.replica_mut(node).edit(doc, move |d| {
        if let Ok(Some((_, obj))) = d.get(ROOT, "memo") {
            d.splice_text(&obj, pos, 0, &text).expect("splice");
        }
    });
    assert!(ok, "memo edit on {node}");
}
