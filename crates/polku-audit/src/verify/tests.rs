//! One test per broken invariant: each tampering is detected with its own
//! error variant, naming the tampered entry.

use chrono::{DateTime, Utc};
use polku_core::UserId;
use uuid::Uuid;

use super::*;
use crate::detail::{Code, Detail};
use crate::entry::Draft;
use crate::key::NodeKey;
use crate::wire::SIGNING_CONTEXT;
use crate::{Action, AuditLog, Reason};

fn key(n: u8) -> NodeKey {
    NodeKey::from_bytes(&[n; 32])
}

fn time(i: u64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(1_770_000_000_000_000 + i as i64 * 1_000_000)
        .unwrap_or_default()
}

/// A chain of `n` varied entries written by `key`.
fn chain(key: &NodeKey, n: u64) -> Vec<Entry> {
    let mut log = AuditLog::new();
    let client = Uuid::from_bytes([42; 16]);
    let user = UserId::from_parts(1_770_000_000_000, [5; 10]);
    (0..n)
        .map(|i| {
            let (action, detail) = match i % 4 {
                0 => (Action::Login, Detail::None),
                1 => (Action::View, Detail::None),
                2 => (Action::Update, Detail::Count(3)),
                _ => (Action::Denied, Detail::Reason(Reason::NotPermitted)),
            };
            log.append(key, time(i), Some(user), action, Some(client), detail)
        })
        .collect()
}

/// Re-signs `entry` with `signer`, keeping every field, `node` included.
fn resign(entry: &Entry, signer: &NodeKey) -> Entry {
    let mut out = entry.clone();
    let mut message = SIGNING_CONTEXT.to_vec();
    message.extend_from_slice(&entry.signed_bytes());
    out.signature = signer.sign(&message);
    out
}

#[test]
fn appended_chain_verifies() {
    let k = key(1);
    let entries = chain(&k, 6);
    let head = verify_chain(&entries).expect("valid chain");
    assert_eq!(
        head,
        Some(Head {
            seq: 5,
            hash: entries[5].hash()
        })
    );
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.seq, i as u64, "seq starts at 0");
        assert_eq!(verify_entry(e), Ok(e.hash()));
    }
    assert_eq!(entries[0].prev_hash, None);
    for pair in entries.windows(2) {
        assert_eq!(verify_link(&pair[0], &pair[1]), Ok(()));
    }
    assert_eq!(verify_chain(&[]), Ok(None));
}

#[test]
fn edited_entry_is_a_signature_mismatch() {
    let k = key(1);
    let node = k.node_id();
    let edits: [fn(&mut Entry); 6] = [
        |e| e.action = Action::Export,
        |e| e.user = None,
        |e| e.target = Some(Uuid::nil()),
        |e| e.time += chrono::Duration::seconds(1),
        |e| e.detail = Detail::Count(999),
        |e| e.signature.0[10] ^= 1,
    ];
    for edit in edits {
        let mut entries = chain(&k, 5);
        edit(&mut entries[2]);
        let err = verify_chain(&entries).expect_err("edit detected");
        assert_eq!(err, VerifyError::SignatureMismatch { node, seq: 2 });
        assert_eq!(err.entry(), EntryRef { node, seq: 2 });
        assert_eq!(verify_entry(&entries[2]), Err(err));
    }
}

#[test]
fn deleted_entry_is_a_gap() {
    let k = key(1);
    let node = k.node_id();
    let mut entries = chain(&k, 5);
    entries.remove(2);
    assert_eq!(
        verify_chain(&entries),
        Err(VerifyError::SeqNotIncremental {
            node,
            expected: 2,
            found: 3
        })
    );
    assert_eq!(
        verify_log(&entries),
        Err(VerifyError::SeqNotIncremental {
            node,
            expected: 2,
            found: 3
        })
    );
    // Deleting the first entry is a gap too.
    let entries = chain(&k, 3);
    assert_eq!(
        verify_chain(&entries[1..]),
        Err(VerifyError::SeqNotIncremental {
            node,
            expected: 0,
            found: 1
        })
    );
}

#[test]
fn swapped_entries_are_out_of_order() {
    let k = key(1);
    let node = k.node_id();
    let mut entries = chain(&k, 5);
    entries.swap(1, 2);
    let err = verify_chain(&entries).expect_err("swap detected");
    assert_eq!(
        err,
        VerifyError::SeqNotIncremental {
            node,
            expected: 1,
            found: 2
        }
    );
    assert_eq!(err.entry(), EntryRef { node, seq: 2 });
    assert_eq!(verify_log(&entries), Err(err));
}

#[test]
fn renumbered_entries_break_the_signature() {
    // Swapping the seq numbers too (so the order looks right) is an edit.
    let k = key(1);
    let node = k.node_id();
    let mut entries = chain(&k, 5);
    entries.swap(1, 2);
    entries[1].seq = 1;
    entries[2].seq = 2;
    assert_eq!(
        verify_chain(&entries),
        Err(VerifyError::SignatureMismatch { node, seq: 1 })
    );
}

#[test]
fn forged_signature_is_detected() {
    let k = key(1);
    let forger = key(2);
    let node = k.node_id();
    let mut entries = chain(&k, 5);
    entries[3] = resign(&entries[3], &forger);
    assert_eq!(entries[3].node, node, "the forgery claims the real node");
    assert_eq!(
        verify_chain(&entries),
        Err(VerifyError::SignatureMismatch { node, seq: 3 })
    );
    assert_eq!(
        verify_entry(&entries[3]),
        Err(VerifyError::SignatureMismatch { node, seq: 3 })
    );
}

#[test]
fn fork_is_detected() {
    let k = key(1);
    let node = k.node_id();
    let entries = chain(&k, 4);
    // The node itself signs a second, different entry at seq 1.
    let mut other = entries[1].clone();
    other.detail = Detail::Code(Code::new("client.phone").unwrap_or_else(|_| unreachable!()));
    let other = resign(&other, &k);
    assert_eq!(
        verify_entry(&other),
        Ok(other.hash()),
        "the fork is validly signed"
    );

    let log = [&entries[..2], std::slice::from_ref(&other), &entries[2..]].concat();
    assert_eq!(verify_log(&log), Err(VerifyError::Fork { node, seq: 1 }));

    let mut audit = AuditLog::from_entries(entries.clone()).expect("valid");
    let report = audit.merge([other]);
    assert_eq!(report.rejected, [VerifyError::Fork { node, seq: 1 }]);
    assert_eq!(
        audit.chain(&node).map(|c| c.entries()),
        Some(&entries[..]),
        "first one kept"
    );
}

#[test]
fn a_forgery_at_a_taken_seq_is_not_a_fork() {
    let k = key(1);
    let node = k.node_id();
    let entries = chain(&k, 3);
    let mut fake = entries[1].clone();
    fake.action = Action::Erase;
    let fake = resign(&fake, &key(9));
    let log = [&entries[..], &[fake]].concat();
    assert_eq!(
        verify_log(&log),
        Err(VerifyError::SignatureMismatch { node, seq: 1 })
    );
}

#[test]
fn wrong_backlink_is_detected() {
    let k = key(1);
    let node = k.node_id();
    let mut entries = chain(&k, 4);
    entries[2].prev_hash = Some(entries[0].hash());
    entries[2] = resign(&entries[2], &k);
    assert_eq!(
        verify_chain(&entries),
        Err(VerifyError::BacklinkMismatch { node, seq: 2 })
    );
    assert_eq!(
        verify_link(&entries[1], &entries[2]),
        Err(VerifyError::BacklinkMismatch { node, seq: 2 })
    );

    // seq 0 must have no backlink; later entries must have one.
    let mut first = chain(&k, 1).remove(0);
    first.prev_hash = Some(EntryHash([1; 32]));
    let first = resign(&first, &k);
    assert_eq!(
        verify_entry(&first),
        Err(VerifyError::BacklinkMismatch { node, seq: 0 })
    );
    let mut second = chain(&k, 2).remove(1);
    second.prev_hash = None;
    let second = resign(&second, &k);
    assert_eq!(
        verify_entry(&second),
        Err(VerifyError::BacklinkMismatch { node, seq: 1 })
    );
}

#[test]
fn entry_of_another_node_in_a_chain_is_foreign() {
    let a = key(1);
    let b = key(2);
    let mut entries = chain(&a, 4);
    entries[2] = chain(&b, 3).remove(2);
    assert_eq!(
        verify_chain(&entries),
        Err(VerifyError::ForeignNode {
            chain: a.node_id(),
            node: b.node_id(),
            seq: 2
        })
    );
    assert!(matches!(
        verify_link(&entries[1], &entries[2]),
        Err(VerifyError::ForeignNode { .. })
    ));
}

#[test]
fn node_id_that_is_not_a_key_never_verifies() {
    let bad = (0..=u8::MAX)
        .map(|b| NodeId::from_bytes([b; 32]))
        .find(|n| n.verifying_key().is_none())
        .expect("some 32-byte strings are not curve points");
    let mut entry = chain(&key(1), 1).remove(0);
    entry.node = bad;
    let err = VerifyError::SignatureMismatch { node: bad, seq: 0 };
    assert_eq!(verify_entry(&entry), Err(err));
    assert_eq!(verify_chain(std::slice::from_ref(&entry)), Err(err));
    assert_eq!(verify_log(std::slice::from_ref(&entry)), Err(err));
}

#[test]
fn log_of_interleaved_nodes_verifies_and_skips_repeats() {
    let a = key(1);
    let b = key(2);
    let ca = chain(&a, 3);
    let cb = chain(&b, 2);
    let log = vec![
        ca[0].clone(),
        cb[0].clone(),
        ca[1].clone(),
        ca[1].clone(),
        cb[1].clone(),
        ca[2].clone(),
        cb[0].clone(),
    ];
    let heads = verify_log(&log).expect("valid log");
    assert_eq!(heads.len(), 2);
    assert_eq!(
        heads[&a.node_id()],
        Head {
            seq: 2,
            hash: ca[2].hash()
        }
    );
    assert_eq!(
        heads[&b.node_id()],
        Head {
            seq: 1,
            hash: cb[1].hash()
        }
    );
}

#[test]
fn continuation_checks_against_the_head() {
    let k = key(1);
    let node = k.node_id();
    let entries = chain(&k, 5);
    let head = verify_chain(&entries[..3]).expect("valid");
    assert_eq!(
        verify_continuation(head, &entries[3..]),
        verify_chain(&entries)
    );
    assert_eq!(verify_continuation(head, &[]), Ok(head));
    assert_eq!(
        verify_continuation(head, &entries[4..]),
        Err(VerifyError::SeqNotIncremental {
            node,
            expected: 3,
            found: 4
        })
    );
    let wrong_head = Some(Head {
        seq: 2,
        hash: entries[1].hash(),
    });
    assert_eq!(
        verify_continuation(wrong_head, &entries[3..]),
        Err(VerifyError::BacklinkMismatch { node, seq: 3 })
    );
}

#[test]
fn errors_name_the_entry_and_nothing_else() {
    let node = key(1).node_id();
    let err = VerifyError::SignatureMismatch { node, seq: 7 };
    assert_eq!(
        err.to_string(),
        format!("audit entry {node}#7: signature does not match the node key")
    );
    let err = VerifyError::SeqNotIncremental {
        node,
        expected: 2,
        found: 3,
    };
    assert_eq!(
        err.to_string(),
        format!("audit entry {node}#3: expected sequence number 2")
    );
}

#[test]
fn draft_signing_matches_append() {
    // Entry::sign is what append uses; a hand-built draft signs the same way.
    let k = key(1);
    let appended = chain(&k, 1).remove(0);
    let draft = Draft {
        seq: 0,
        prev_hash: None,
        time: appended.time,
        user: appended.user,
        action: appended.action,
        target: appended.target,
        detail: appended.detail.clone(),
    };
    let (signed, hash) = Entry::sign(&k, draft, &mut Scratch::default());
    assert_eq!(signed, appended, "ed25519 signatures are deterministic");
    assert_eq!(hash, appended.hash());
}

#[test]
fn large_batches_checked_in_parallel_report_the_first_bad_entry() {
    // Long enough to be split over threads (see signatures::PARALLEL_MIN).
    let (a, b) = (key(1), key(2));
    let node = a.node_id();
    let mut entries = chain(&a, 700);
    entries[650].action = Action::Erase;
    entries[400].detail = Detail::Count(1);
    assert_eq!(
        verify_chain(&entries),
        Err(VerifyError::SignatureMismatch { node, seq: 400 })
    );
    assert_eq!(
        verify_log(&entries),
        Err(VerifyError::SignatureMismatch { node, seq: 400 })
    );

    let mut log = AuditLog::new();
    let mut batch = entries.clone();
    batch.extend(chain(&b, 300));
    let report = log.merge(batch);
    assert_eq!(report.added, 400 + 300);
    assert_eq!(
        report.held, 298,
        "401..=699 except the edited 650 wait for 400"
    );
    assert_eq!(
        report.rejected,
        [
            VerifyError::SignatureMismatch { node, seq: 400 },
            VerifyError::SignatureMismatch { node, seq: 650 },
        ]
    );
}
