use chrono::{DateTime, Utc};

use super::*;
use crate::Reason;

fn key(n: u8) -> NodeKey {
    NodeKey::from_bytes(&[n; 32])
}

fn time(i: u64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(1_770_000_000_000_000 + i as i64 * 1_000).unwrap_or_default()
}

/// A log where `key` appended `n` entries.
fn written(key: &NodeKey, n: u64) -> AuditLog {
    let mut log = AuditLog::new();
    for i in 0..n {
        let target = Some(Uuid::from_u128(u128::from(i % 3)));
        log.append(
            key,
            time(i),
            None,
            Action::View,
            target,
            Detail::Count(i as u32),
        );
    }
    log
}

fn entries(log: &AuditLog) -> Vec<Entry> {
    log.iter().cloned().collect()
}

#[test]
fn append_links_entries_from_seq_zero() {
    let k = key(1);
    let log = written(&k, 3);
    let chain = log.chain(&k.node_id()).expect("own chain");
    let e = chain.entries();
    assert_eq!(e.iter().map(|e| e.seq).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(e[0].prev_hash, None);
    assert_eq!(e[1].prev_hash, Some(e[0].hash()));
    assert_eq!(e[2].prev_hash, Some(e[1].hash()));
    assert_eq!(
        chain.head(),
        Some(Head {
            seq: 2,
            hash: e[2].hash()
        })
    );
    assert_eq!(log.len(), 3);
    assert_eq!(log.verify(), Ok(()));
}

#[test]
fn heads_and_entries_since_drive_sync() {
    let (a, b) = (key(1), key(2));
    let mut hub = written(&a, 5);
    let report = hub.merge(entries(&written(&b, 2)));
    assert_eq!(report.added, 2);
    let laptop = written(&a, 3);

    let heads = hub.heads();
    assert_eq!(heads.len(), 2);
    assert_eq!(heads[&a.node_id()].seq, 4);
    assert_eq!(hub.entries_since(&a.node_id(), 3).len(), 2);
    assert_eq!(hub.entries_since(&a.node_id(), 99).len(), 0);
    assert_eq!(hub.entries_since(&key(3).node_id(), 0).len(), 0);

    // What the laptop lacks: a#3, a#4 and all of b.
    let missing: Vec<EntryRef> = hub
        .missing_from(&laptop.heads())
        .map(Entry::entry_ref)
        .collect();
    let a_id = a.node_id();
    let b_id = b.node_id();
    let mut expected = vec![
        EntryRef { node: a_id, seq: 3 },
        EntryRef { node: a_id, seq: 4 },
        EntryRef { node: b_id, seq: 0 },
        EntryRef { node: b_id, seq: 1 },
    ];
    expected.sort();
    assert_eq!(missing, expected);

    let mut laptop = laptop;
    let report = laptop.merge(
        hub.missing_from(&laptop.heads())
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert!(report.is_clean());
    assert_eq!(laptop, hub);
}

#[test]
fn merge_is_idempotent() {
    let k = key(1);
    let source = written(&k, 4);
    let mut log = AuditLog::new();
    let first = log.merge(entries(&source));
    assert_eq!((first.added, first.duplicates, first.held), (4, 0, 0));
    let again = log.merge(entries(&source));
    assert_eq!(
        again,
        MergeReport {
            duplicates: 4,
            ..MergeReport::default()
        }
    );
    assert_eq!(log, source);
    assert_eq!(log.len(), 4);
    assert_eq!(
        log.by_target(Uuid::from_u128(0)).len(),
        2,
        "index not doubled"
    );
}

#[test]
fn merge_accepts_a_batch_in_any_order() {
    let k = key(1);
    let source = written(&k, 6);
    let mut reversed = entries(&source);
    reversed.reverse();
    let mut log = AuditLog::new();
    let report = log.merge(reversed);
    assert_eq!((report.added, report.held), (6, 0));
    assert_eq!(log, source);
}

#[test]
fn early_entries_are_held_until_the_gap_fills() {
    let k = key(1);
    let node = k.node_id();
    let all = entries(&written(&k, 6));
    let mut log = AuditLog::new();
    let report = log.merge(all[3..].to_vec());
    assert_eq!((report.added, report.held), (0, 3));
    assert!(log.is_empty());
    assert_eq!(log.pending_len(), 3);
    assert_eq!(log.heads().len(), 0, "held entries are not in the heads");
    assert!(log.chain(&node).is_none());

    let report = log.merge(all[..2].to_vec());
    assert_eq!((report.added, report.held), (2, 3));
    let report = log.merge([all[2].clone()]);
    assert_eq!((report.added, report.held), (4, 0));
    assert_eq!(entries(&log), all);
    assert_eq!(log.pending_len(), 0);
}

#[test]
fn held_entries_are_checked_on_arrival_and_when_joining() {
    let k = key(1);
    let node = k.node_id();
    let all = entries(&written(&k, 4));

    // A forged early entry is never held.
    let mut forged = all[3].clone();
    forged.action = Action::Erase;
    let mut log = AuditLog::new();
    let report = log.merge([forged]);
    assert_eq!(
        report.rejected,
        [VerifyError::SignatureMismatch { node, seq: 3 }]
    );
    assert_eq!(log.pending_len(), 0);

    // A held entry of another branch is refused when its seq comes up.
    let mut forked = AuditLog::new();
    forked.append(&k, time(100), None, Action::Login, None, Detail::None);
    let branch = forked.append(&k, time(101), None, Action::Logout, None, Detail::None);
    let report = log.merge([branch]);
    assert_eq!(report.held, 1);
    let report = log.merge(all[..1].to_vec());
    assert_eq!(report.added, 1);
    assert_eq!(
        report.rejected,
        [VerifyError::BacklinkMismatch { node, seq: 1 }]
    );
    assert_eq!(log.pending_len(), 0);
    assert_eq!(log.merge(all.clone()).added, 3);
    assert_eq!(entries(&log), all);
}

#[test]
fn bad_entries_do_not_stop_good_ones() {
    let (a, b) = (key(1), key(2));
    let mut batch = entries(&written(&a, 3));
    batch[1].detail = Detail::Reason(Reason::Erased);
    batch.extend(entries(&written(&b, 2)));
    let mut log = AuditLog::new();
    let report = log.merge(batch);
    let a_id = a.node_id();
    assert_eq!(report.added, 3, "a#0, b#0, b#1");
    assert_eq!(report.held, 1, "a#2 waits for a valid a#1");
    assert_eq!(
        report.rejected,
        [VerifyError::SignatureMismatch { node: a_id, seq: 1 }]
    );
    assert!(!report.is_clean());
    assert_eq!(log.chain(&a_id).map(Chain::len), Some(1));
    assert_eq!(log.chain(&b.node_id()).map(Chain::len), Some(2));
}

#[test]
fn restored_node_that_appends_forks_its_chain() {
    let k = key(1);
    let node = k.node_id();
    let hub = written(&k, 3);
    // The laptop lost its log (restored from an old backup) and writes again.
    let restored = written(&k, 1);
    let mut laptop = restored;
    laptop.append(&k, time(50), None, Action::Login, None, Detail::None);
    let mut hub = hub;
    let report = hub.merge(entries(&laptop));
    assert_eq!(report.duplicates, 1);
    assert_eq!(report.rejected, [VerifyError::Fork { node, seq: 1 }]);
}

#[test]
fn from_entries_refuses_the_first_bad_entry() {
    let (a, b) = (key(1), key(2));
    let mut all = entries(&written(&a, 4));
    all.extend(entries(&written(&b, 2)));
    let log = AuditLog::from_entries(all.clone()).expect("valid");
    assert_eq!(log.len(), 6);
    assert_eq!(log.verify(), Ok(()));

    let mut gap = all.clone();
    gap.remove(1);
    assert_eq!(
        AuditLog::from_entries(gap),
        Err(VerifyError::SeqNotIncremental {
            node: a.node_id(),
            expected: 1,
            found: 2
        })
    );
    let mut edited = all;
    edited[4].action = Action::Export;
    assert_eq!(
        AuditLog::from_entries(edited),
        Err(VerifyError::SignatureMismatch {
            node: b.node_id(),
            seq: 0
        })
    );
}

#[test]
fn empty_chains_are_forgotten() {
    let k = key(1);
    let mut bad = entries(&written(&k, 1));
    bad[0].seq = 0;
    bad[0].action = Action::Erase;
    let mut log = AuditLog::new();
    let report = log.merge(bad);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(log, AuditLog::new());
    assert_eq!(log.chains().count(), 0);
}
