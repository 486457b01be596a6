//! Automerge bytes from a peer that inflate past the bound are quarantined
//! before Automerge loads them, whole documents and sync messages alike.

use automerge::sync;
use polku_sync::protocol::{DocBody, Message, RefusedReason, decode_frame};
use polku_sync::testnet::{Fault, Net};
use polku_sync::{Limits, QuarantineReason};

/// The bound the tests use, and what the big field holds (4 times more,
/// compressing to a few kilobytes).
const BOUND: usize = 1024 * 1024;
const BIG: usize = 4 * BOUND;

fn net() -> Net {
    let mut net = Net::new();
    net.add_hub("hub");
    net.add_laptop("laptop", "hub");
    net.set_limits(Limits {
        max_inflated_doc_bytes: BOUND,
        ..Limits::default()
    });
    net
}

#[test]
fn a_whole_document_inflating_past_the_bound_is_quarantined_not_loaded() {
    let mut net = net();
    let small = net.new_doc("laptop", "u", &[("n", "1")]);
    let big_text = "a".repeat(BIG);
    let bomb = net.new_doc("laptop", "u", &[("big", big_text.as_str())]);
    let saved = net.replica("laptop").doc(bomb).expect("doc").clone().save();
    assert!(saved.len() < BOUND / 16, "compressed to {}", saved.len());

    let (l, h) = net.sync("laptop", "hub").expect("the session completes");
    assert_eq!(h.quarantined, vec![(bomb, QuarantineReason::TooLarge)]);
    assert!(
        l.refused_by_peer
            .iter()
            .any(|r| r.doc == bomb && r.reason == RefusedReason::TooLarge),
        "{l:?}"
    );
    assert!(
        !net.replica("hub").contains(bomb),
        "the bomb was not loaded"
    );
    assert!(net.replica("hub").contains(small), "the others still sync");
}

/// Rewrites the laptop's sync messages to carry their changes as compressed
/// change chunks (which Automerge inflates without a limit).
fn compress_laptop_changes() -> Fault {
    Fault::Map(Box::new(|_, sender, bytes| {
        if sender != "laptop" {
            return bytes;
        }
        let Ok(Message::DocSync(mut list)) = decode_frame(&bytes) else {
            return bytes;
        };
        for m in &mut list {
            let DocBody::Sync(body) = &mut m.body else {
                continue;
            };
            let Ok(mut msg) = sync::Message::decode(body) else {
                continue;
            };
            let chunks: Vec<Vec<u8>> = msg
                .changes
                .iter()
                .map(|c| match automerge::Change::from_bytes(c.to_vec()) {
                    Ok(mut change) => change.bytes().into_owned(),
                    Err(_) => c.to_vec(),
                })
                .collect();
            msg.changes = chunks.into();
            *body = msg.encode();
        }
        Message::DocSync(list).encode().into_bytes()
    }))
}

#[test]
fn a_sync_message_whose_changes_inflate_past_the_bound_is_quarantined_not_applied() {
    let mut net = net();
    let doc = net.new_doc("laptop", "u", &[("n", "1")]);
    net.sync("laptop", "hub").expect("first sync");
    let before = net.replica("hub").heads_map();
    assert!(before.contains_key(&doc));

    let big_text = "b".repeat(BIG);
    assert!(net.set_field("laptop", doc, "big", &big_text));
    let conn = net.connect_with("laptop", "hub", compress_laptop_changes());
    net.run_until_quiescent();
    let (_, h) = net.outcome(conn);
    let h = h.report().expect("the hub completes");
    assert_eq!(h.quarantined, vec![(doc, QuarantineReason::TooLarge)]);
    assert_eq!(
        net.replica("hub").heads_map().get(&doc),
        before.get(&doc),
        "the change was not applied"
    );
}
