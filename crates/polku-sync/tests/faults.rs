//! Faults: cut connections, corrupt, truncated and oversized frames, bad
//! document payloads, round limits, a cut between the two `Done`s.

mod support;

use std::collections::BTreeMap;

use polku_core::DocId;
use polku_sync::protocol::{
    DocBody, ErrorCode, Message, ProtocolError, RefusedReason, decode_frame,
};
use polku_sync::testnet::{Fault, Net, Outcome};
use polku_sync::{Limits, QuarantineReason, SyncError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use support::field;

/// A hub and one laptop that sees everything, with documents on both.
fn pair() -> (Net, Vec<DocId>) {
    let mut net = Net::new();
    net.add_hub("hub");
    net.add_laptop("laptop", "hub");
    let mut docs = Vec::new();
    for i in 0..8 {
        docs.push(net.new_doc("hub", "u", &[("n", &i.to_string())]));
    }
    for i in 0..4 {
        docs.push(net.new_doc("laptop", "u", &[("m", &i.to_string())]));
    }
    (net, docs)
}

fn assert_same(net: &Net) {
    assert_eq!(
        net.replica("hub").heads_map(),
        net.replica("laptop").heads_map(),
        "hub and laptop differ"
    );
}

/// Every stored document loads and its recorded heads hash is its own.
fn assert_intact(net: &Net, node: &str) {
    let r = net.replica(node);
    for (id, hash) in r.heads_map() {
        let mut doc = r
            .doc(id)
            .unwrap_or_else(|| panic!("{node}: {id} unreadable"))
            .clone();
        assert_eq!(
            polku_sync::heads_hash(&doc.get_heads()),
            hash,
            "{node}: {id}"
        );
    }
    assert!(r.quarantined().is_empty(), "{node} quarantined something");
}

/// Which of the `written` fields each node holds now.
fn present(net: &Net, written: &[(&'static str, DocId, String, String)]) -> [Vec<bool>; 2] {
    ["hub", "laptop"].map(|node| {
        written
            .iter()
            .map(|(_, doc, k, v)| field(net, node, *doc, k).as_deref() == Some(v.as_str()))
            .collect()
    })
}

#[test]
fn a_sync_cut_at_a_chosen_message_twenty_times_loses_nothing() {
    let (mut net, mut docs) = pair();
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
    net.sync("laptop", "hub").expect("first sync");
    // The fewest frames each side sends in a session: a quiet one. A cut
    // at a frame below that is sure to happen in any session.
    let quiet = net.connect("laptop", "hub");
    net.run_until_quiescent();
    let (l, h) = net.outcome(quiet);
    assert!(l.report().is_some() && h.report().is_some());
    let ([laptop_min, hub_min], _) = net.delivered(quiet);
    assert!(laptop_min >= 2 && hub_min >= 2, "{laptop_min} {hub_min}");

    // (writer, doc, field, value): every edit ever made.
    let mut written: Vec<(&'static str, DocId, String, String)> = Vec::new();
    let mut cuts = [0usize; 2];
    for round in 0..20 {
        for node in ["hub", "laptop"] {
            for j in 0..rng.random_range(1..4) {
                let doc = docs[rng.random_range(0..docs.len())];
                let (k, v) = (format!("e{round}_{j}_{node}"), format!("{round}.{j}"));
                if net.set_field(node, doc, &k, &v) {
                    written.push((node, doc, k, v));
                }
            }
            if rng.random_bool(0.3) {
                let v = format!("new{round}");
                let doc = net.new_doc(node, "u", &[("created", &v)]);
                docs.push(doc);
                written.push((node, doc, "created".into(), v));
            }
        }
        let before = present(&net, &written);
        // Alternately the laptop's and the hub's frame is the one never
        // delivered, at a chosen index.
        let (from, side, max) = if round % 2 == 0 {
            ("laptop", 0, laptop_min)
        } else {
            ("hub", 1, hub_min)
        };
        let frame = rng.random_range(0..max);
        let conn = net.connect_with(
            "laptop",
            "hub",
            Fault::CutAt {
                from: from.into(),
                frame,
            },
        );
        net.run_until_quiescent();
        let (sent, cut) = net.delivered(conn);
        assert!(cut, "round {round}: not cut ({from} frame {frame})");
        assert_eq!(sent[side], frame, "round {round}: cut at the chosen frame");
        cuts[side] += 1;
        let (l, h) = net.outcome(conn);
        assert!(
            !(l.report().is_some() && h.report().is_some()),
            "round {round}: both sides completed a cut session"
        );
        for o in [l, h] {
            assert!(
                matches!(o, Outcome::Done(_) | Outcome::Aborted),
                "round {round}, cut at {from} frame {frame}: {o:?}"
            );
        }
        // Right after the cut: both stores intact, every edit still on its
        // writer, and nothing either side held before the cut is gone.
        assert_intact(&net, "hub");
        assert_intact(&net, "laptop");
        let after = present(&net, &written);
        for (n, node) in ["hub", "laptop"].into_iter().enumerate() {
            for (i, (writer, doc, k, _)) in written.iter().enumerate() {
                assert!(
                    !before[n][i] || after[n][i],
                    "round {round}: {node} lost {k} of {doc} in the cut"
                );
                if writer == &node {
                    assert!(after[n][i], "round {round}: {node} lost its own {k}");
                }
            }
        }
        // And the next sync completes and brings both to the same state.
        net.sync("laptop", "hub").expect("the next sync completes");
        assert_same(&net);
        let all = present(&net, &written);
        assert!(
            all.iter().all(|p| p.iter().all(|x| *x)),
            "round {round}: an edit is missing after the sync"
        );
    }
    assert_eq!(cuts, [10, 10]);
}

/// Runs one session with `fault`; returns both outcomes' errors as text.
fn faulty_session(net: &mut Net, fault: Fault) -> (String, String) {
    let conn = net.connect_with("laptop", "hub", fault);
    net.run_until_quiescent();
    let (l, h) = net.outcome(conn);
    (format!("{l:?}"), format!("{h:?}"))
}

/// A fault that rewrites the first frame `from` sends whose message passes `pick`.
fn rewrite_first(
    from: &'static str,
    pick: fn(&Message) -> bool,
    f: fn(Vec<u8>) -> Vec<u8>,
) -> Fault {
    let mut done = false;
    Fault::Map(Box::new(move |_, sender, bytes| {
        if done || sender != from || !decode_frame(&bytes).is_ok_and(|m| pick(&m)) {
            return bytes;
        }
        done = true;
        f(bytes)
    }))
}

fn is_doc_sync(m: &Message) -> bool {
    matches!(m, Message::DocSync(_))
}

#[test]
fn garbage_truncated_and_oversized_frames_end_the_session_and_change_nothing() {
    type Rewrite = fn(Vec<u8>) -> Vec<u8>;
    let cases: [(Rewrite, ProtocolError); 4] = [
        (
            |mut b| {
                b[5] = 99;
                b
            },
            ProtocolError::UnknownTag(99),
        ),
        (
            |mut b| {
                b.truncate(b.len() / 2);
                b
            },
            ProtocolError::Truncated,
        ),
        (
            |mut b| {
                b[..4].copy_from_slice(&(16u32 * 1024 * 1024 + 1).to_le_bytes());
                b
            },
            ProtocolError::FrameTooLarge {
                len: 16 * 1024 * 1024 + 1,
            },
        ),
        (
            |mut b| {
                b[4] = 7;
                b
            },
            ProtocolError::UnsupportedVersion(7),
        ),
    ];
    for (rewrite, expected) in cases {
        let (mut net, _) = pair();
        let hub_before = net.replica("hub").heads_map();
        let conn = net.connect_with(
            "laptop",
            "hub",
            rewrite_first("laptop", is_doc_sync, rewrite),
        );
        net.run_until_quiescent();
        let (l, h) = net.outcome(conn);
        match h {
            Outcome::Failed(SyncError::Malformed(e)) => assert_eq!(*e, expected),
            other => panic!("hub: {other:?}"),
        }
        assert!(
            matches!(l, Outcome::Failed(SyncError::Remote(_)) | Outcome::Aborted),
            "{l:?}"
        );
        // Nothing of the bad frame's round reached the hub's store.
        assert_eq!(net.replica("hub").heads_map(), hub_before);
        assert!(net.replica("hub").peer_book(&net.id("laptop")).is_none());
        net.sync("laptop", "hub").expect("a clean sync afterwards");
        assert_same(&net);
    }
}

#[test]
fn random_corruption_never_panics_and_a_clean_sync_repairs() {
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for trial in 0..60 {
        let (mut net, docs) = pair();
        net.sync("laptop", "hub").expect("first");
        net.set_field("hub", docs[0], "x", "1");
        net.set_field("laptop", docs[1], "y", "2");
        net.new_doc("laptop", "u", &[("z", "3")]);
        let fault = if trial % 2 == 0 {
            Fault::Corrupt {
                frame: rng.random_range(0..20),
                offset: rng.random_range(0..4096),
                mask: rng.random_range(1..=255),
            }
        } else {
            Fault::Truncate {
                frame: rng.random_range(0..20),
                keep: rng.random_range(0..64),
            }
        };
        let (l, h) = faulty_session(&mut net, fault);
        assert!(
            !l.contains("Stalled") && !h.contains("Stalled"),
            "{l} / {h}"
        );
        for _ in 0..3 {
            net.sync("laptop", "hub").expect("clean sync");
        }
        assert_same(&net);
    }
}

#[test]
fn a_bad_document_payload_is_quarantined_and_the_others_still_sync() {
    let (mut net, docs) = pair();
    let laptop_docs: Vec<DocId> = docs[8..].to_vec();
    let garbled = rewrite_first("laptop", is_doc_sync, |bytes| {
        let Ok(Message::DocSync(mut list)) = decode_frame(&bytes) else {
            return bytes;
        };
        list[0].body = DocBody::Whole(b"definitely not automerge".to_vec());
        Message::DocSync(list).encode().into_bytes()
    });
    let conn = net.connect_with("laptop", "hub", garbled);
    net.run_until_quiescent();
    let (l, h) = net.outcome(conn);
    let (l, h) = (
        l.report().expect("laptop completes"),
        h.report().expect("hub completes"),
    );
    assert_eq!(h.quarantined.len(), 1);
    let bad = h.quarantined[0].0;
    assert_eq!(h.quarantined[0].1, QuarantineReason::BadMessage);
    assert!(
        l.refused_by_peer
            .iter()
            .any(|r| r.doc == bad && r.reason == RefusedReason::Corrupt)
    );
    for d in &laptop_docs {
        assert_eq!(net.replica("hub").contains(*d), *d != bad);
    }
    assert_eq!(
        net.replica("laptop").len(),
        12,
        "the laptop got the hub's documents"
    );
    // The next sync brings it over.
    net.sync("laptop", "hub").expect("next");
    assert!(net.replica("hub").contains(bad));
    assert_same(&net);
}

#[test]
fn a_document_over_the_round_limit_is_reported_not_looped_on() {
    let (mut net, docs) = pair();
    net.sync("laptop", "hub").expect("first");
    for (i, d) in docs.iter().enumerate().take(3) {
        net.set_field("hub", *d, "h", &i.to_string());
        net.set_field("laptop", *d, "l", &i.to_string());
    }
    net.set_limits(Limits {
        max_messages_per_doc: 1,
        ..Limits::default()
    });
    let (l, h) = net
        .sync("laptop", "hub")
        .expect("completes despite the limit");
    let limited: usize = l.round_limited.len() + h.round_limited.len();
    assert!(limited >= 1, "{l:?}");
    net.set_limits(Limits::default());
    net.sync("laptop", "hub").expect("completes");
    assert_same(&net);
}

#[test]
fn a_cut_between_the_two_dones_falls_back_to_the_full_set_once() {
    let (mut net, docs) = pair();
    net.sync("laptop", "hub").expect("first");
    net.set_field("hub", docs[0], "a", "1");
    let fresh = net.new_doc("laptop", "u", &[("b", "2")]);
    // Garble every frame after the first `Done`: one side commits, the other not.
    let mut seen_done = false;
    let fault = Fault::Map(Box::new(move |_, _, bytes| {
        if seen_done {
            return vec![0, 0, 0, 1, 0xff];
        }
        seen_done = matches!(decode_frame(&bytes), Ok(Message::Done { .. }));
        bytes
    }));
    let conn = net.connect_with("laptop", "hub", fault);
    net.run_until_quiescent();
    let (l, h) = net.outcome(conn);
    let committed = usize::from(l.report().is_some()) + usize::from(h.report().is_some());
    assert_eq!(committed, 1, "{l:?} / {h:?}");
    let books: BTreeMap<&str, usize> = [("hub", "laptop"), ("laptop", "hub")]
        .into_iter()
        .map(|(n, p)| {
            let peer = net.id(p);
            (n, net.replica(n).peer_book(&peer).map_or(0, |b| b.commits))
        })
        .collect();
    assert_ne!(books["hub"], books["laptop"]);

    let (l, h) = net.sync("laptop", "hub").expect("recovers");
    assert!(l.full_set_exchanged || h.full_set_exchanged);
    assert!(net.replica("hub").contains(fresh));
    assert_same(&net);
    let (l, h) = net.sync("laptop", "hub").expect("and then");
    assert!(!l.full_set_exchanged && !h.full_set_exchanged);
    assert!(l.is_quiet() && h.is_quiet());
}

#[test]
fn a_session_over_the_round_limit_ends_with_an_error() {
    let (mut net, _) = pair();
    net.set_limits(Limits {
        max_turns: 4,
        ..Limits::default()
    });
    let conn = net.connect("laptop", "hub");
    net.run_until_quiescent();
    let (l, h) = net.outcome(conn);
    let limited = |o: &Outcome| matches!(o, Outcome::Failed(SyncError::LimitExceeded("turns")));
    let told = |o: &Outcome| {
        matches!(
            o,
            Outcome::Failed(SyncError::Remote(ErrorCode::LimitExceeded))
        )
    };
    assert!(
        (limited(l) && told(h)) || (limited(h) && told(l)),
        "{l:?} / {h:?}"
    );
    // What was applied before the limit stays (it was valid); the next
    // session finishes the job.
    net.set_limits(Limits::default());
    net.sync("laptop", "hub").expect("default limits");
    assert_same(&net);
}
