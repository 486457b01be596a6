//! Merging is order-independent and idempotent: whatever the order of the
//! merges, however often each is repeated and however each batch is
//! shuffled, the resulting log is the one built from the union of all the
//! entries at once.

use std::sync::OnceLock;

use chrono::DateTime;
use polku_audit::{Action, AuditLog, Code, Detail, Entry, NodeKey, Reason};
use polku_core::UserId;
use proptest::prelude::*;
use uuid::Uuid;

/// Chain lengths of the three nodes.
const LENGTHS: [u64; 3] = [7, 5, 3];

/// The full chains of three nodes, written once.
fn chains() -> &'static [Vec<Entry>; 3] {
    static CHAINS: OnceLock<[Vec<Entry>; 3]> = OnceLock::new();
    CHAINS.get_or_init(|| {
        let user = UserId::from_parts(1_770_000_000_000, [3; 10]);
        [0u8, 1, 2].map(|n| {
            let key = NodeKey::from_bytes(&[n + 1; 32]);
            let mut log = AuditLog::new();
            (0..LENGTHS[usize::from(n)])
                .map(|i| {
                    let time = DateTime::from_timestamp_micros(1_770_000_000_000_000 + i as i64)
                        .unwrap_or_default();
                    let detail = match i % 3 {
                        0 => Detail::Count(i as u32),
                        1 => Detail::Reason(Reason::NotPermitted),
                        _ => Detail::Code(Code::new("client.phone").expect("valid code")),
                    };
                    let target = Some(Uuid::from_u128(u128::from(i)));
                    log.append(&key, time, Some(user), Action::View, target, detail)
                })
                .collect()
        })
    })
}

/// One merge: part `start..end` of a node's chain, in an order given by a
/// permutation seed.
#[derive(Debug, Clone)]
struct Batch {
    node: usize,
    start: usize,
    end: usize,
    shuffle: Vec<usize>,
}

impl Batch {
    fn entries(&self) -> Vec<Entry> {
        let chain = &chains()[self.node];
        let mut part: Vec<Entry> = chain[self.start..self.end].to_vec();
        for (i, j) in self.shuffle.iter().enumerate() {
            if !part.is_empty() {
                let (a, b) = (i % part.len(), j % part.len());
                part.swap(a, b);
            }
        }
        part
    }
}

fn batch() -> impl Strategy<Value = Batch> {
    (0..3usize)
        .prop_flat_map(|node| {
            let len = LENGTHS[node] as usize;
            (
                Just(node),
                0..=len,
                0..=len,
                prop::collection::vec(0..8usize, 0..6),
            )
        })
        .prop_map(|(node, a, b, shuffle)| Batch {
            node,
            start: a.min(b),
            end: a.max(b),
            shuffle,
        })
}

fn whole(node: usize) -> Batch {
    Batch {
        node,
        start: 0,
        end: LENGTHS[node] as usize,
        shuffle: Vec::new(),
    }
}

fn merge_all(batches: &[Batch]) -> AuditLog {
    let mut log = AuditLog::new();
    for b in batches {
        let report = log.merge(b.entries());
        assert!(
            report.is_clean(),
            "honest entries are never rejected: {report:?}"
        );
    }
    log
}

/// The log built from the union of the batches' entries, merged at once.
fn union_at_once(batches: &[Batch]) -> AuditLog {
    let mut log = AuditLog::new();
    let report = log.merge(batches.iter().flat_map(Batch::entries));
    assert!(report.is_clean());
    log
}

fn contents(log: &AuditLog) -> Vec<Entry> {
    log.iter().cloned().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whole chains of 3 nodes, merged in any order, any number of times.
    #[test]
    fn whole_chains_merge_to_the_same_log(order in prop::collection::vec(0..3usize, 3..10)) {
        let mut batches: Vec<Batch> = order.iter().map(|&n| whole(n)).collect();
        let reference = merge_all(&[whole(0), whole(1), whole(2)]);
        // Make sure every node appears at least once.
        batches.extend([whole(0), whole(1), whole(2)]);
        let log = merge_all(&batches);
        prop_assert_eq!(&log, &reference);
        prop_assert_eq!(contents(&log), contents(&reference));
        prop_assert_eq!(log.heads(), reference.heads());
        prop_assert_eq!(log.len(), 15);
        prop_assert_eq!(log.pending_len(), 0);
        prop_assert_eq!(log.verify(), Ok(()));
    }

    /// Arbitrary parts of the chains, shuffled, in any order and repetition:
    /// the result, held entries included, depends only on the union.
    #[test]
    fn partial_batches_merge_to_the_union(batches in prop::collection::vec(batch(), 1..10)) {
        let expected = union_at_once(&batches);
        let forward = merge_all(&batches);
        let mut reversed = batches.clone();
        reversed.reverse();
        let backward = merge_all(&reversed);
        let twice = merge_all(&[batches.clone(), batches.clone()].concat());
        for log in [&forward, &backward, &twice] {
            prop_assert_eq!(log, &expected);
            prop_assert_eq!(contents(log), contents(&expected));
            prop_assert_eq!(log.pending_len(), expected.pending_len());
            prop_assert_eq!(log.heads(), expected.heads());
        }
        // Each node's chain is exactly the longest prefix covered by the union.
        for (node, &len) in LENGTHS.iter().enumerate() {
            let mut covered = vec![false; len as usize];
            for b in batches.iter().filter(|b| b.node == node) {
                covered[b.start..b.end].iter_mut().for_each(|c| *c = true);
            }
            let prefix = covered.iter().take_while(|c| **c).count();
            let id = chains()[node][0].node;
            prop_assert_eq!(expected.chain(&id).map_or(0, |c| c.len()), prefix);
        }
        // Completing every chain afterwards gives the full log.
        let mut done = forward;
        for n in 0..3 {
            prop_assert!(done.merge(whole(n).entries()).is_clean());
        }
        prop_assert_eq!(done, merge_all(&[whole(0), whole(1), whole(2)]));
    }
}
