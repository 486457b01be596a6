//! Attachment files travel in the session after the documents: both ways,
//! in pieces over several turns, checked against the receiver's reference,
//! never unasked, and what a cut interrupts arrives at the next session.

use polku_core::AttachmentId;
use polku_sync::protocol::{BlobChunk, Message, decode_frame};
use polku_sync::testnet::{Fault, Net, Outcome};
use polku_sync::{Limits, SyncError};

fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect()
}

fn digest(b: &[u8]) -> [u8; 32] {
    *blake3::hash(b).as_bytes()
}

fn pair(limits: Limits) -> Net {
    let mut net = Net::new();
    net.set_limits(limits);
    net.add_hub("hub");
    net.add_laptop("laptop", "hub");
    net.new_doc("hub", "u", &[("n", "1")]);
    net
}

/// Limits with a small per-turn file budget, so files take several turns.
fn small_turns() -> Limits {
    Limits {
        blob_bytes_per_turn: 300_000,
        ..Limits::default()
    }
}

#[test]
fn files_travel_both_ways_in_pieces_over_several_turns() {
    let mut net = pair(small_turns());
    let (a, b, empty) = (
        AttachmentId::new(),
        AttachmentId::new(),
        AttachmentId::new(),
    );
    let file_a = bytes(2 * 1024 * 1024 + 77, 1);
    let file_b = bytes(500_001, 2);
    net.replica_mut("hub").put_blob(a, file_a.clone());
    net.replica_mut("hub").put_blob(empty, Vec::new());
    net.replica_mut("laptop")
        .reference_blob(a, file_a.len() as u64, digest(&file_a));
    net.replica_mut("laptop")
        .reference_blob(empty, 0, digest(&[]));
    net.replica_mut("laptop").put_blob(b, file_b.clone());
    net.replica_mut("hub")
        .reference_blob(b, file_b.len() as u64, digest(&file_b));

    let (laptop, hub) = net.sync("laptop", "hub").expect("sync");
    assert_eq!(net.replica("laptop").blob(a), Some(file_a.as_slice()));
    assert_eq!(net.replica("laptop").blob(empty), Some(&[][..]));
    assert_eq!(net.replica("hub").blob(b), Some(file_b.as_slice()));
    assert_eq!((laptop.blobs_received, laptop.blobs_sent), (2, 1));
    assert_eq!((hub.blobs_received, hub.blobs_sent), (1, 2));
    assert_eq!(hub.blob_bytes_sent, file_a.len() as u64);
    assert_eq!(laptop.blobs_rejected + hub.blobs_rejected, 0);
    // 2 MiB at 300 kB a turn: the hub needed at least 7 turns of its own.
    assert!(laptop.turns >= 14, "{} turns", laptop.turns);

    // Nothing is wanted any more: the next session moves no file.
    let (laptop, hub) = net.sync("laptop", "hub").expect("sync");
    assert_eq!(laptop.blobs_sent + hub.blobs_sent, 0);
    assert_eq!(laptop.blob_bytes_sent + hub.blob_bytes_sent, 0);
    assert!(laptop.is_quiet() && hub.is_quiet());
}

#[test]
fn a_file_that_does_not_match_the_reference_is_dropped_and_asked_for_again() {
    let mut net = pair(Limits::default());
    let id = AttachmentId::new();
    let good = bytes(100_000, 3);
    let mut bad = good.clone();
    bad[50_000] ^= 0x40;
    net.replica_mut("hub").put_blob(id, bad);
    net.replica_mut("laptop")
        .reference_blob(id, good.len() as u64, digest(&good));
    let (laptop, _) = net.sync("laptop", "hub").expect("sync");
    assert_eq!(laptop.blobs_rejected, 1);
    assert_eq!(laptop.blobs_received, 0);
    assert!(net.replica("laptop").blob(id).is_none());

    // Once the hub holds the right file, the laptop gets it.
    net.replica_mut("hub").put_blob(id, good.clone());
    let (laptop, _) = net.sync("laptop", "hub").expect("sync");
    assert_eq!(laptop.blobs_received, 1);
    assert_eq!(net.replica("laptop").blob(id), Some(good.as_slice()));
}

#[test]
fn a_file_nobody_holds_is_reported_unavailable_and_the_session_completes() {
    let mut net = pair(Limits::default());
    let id = AttachmentId::new();
    net.replica_mut("laptop").reference_blob(id, 10, [7; 32]);
    let (laptop, hub) = net.sync("laptop", "hub").expect("sync");
    assert_eq!(laptop.blobs_unavailable, 1);
    assert_eq!(hub.blobs_sent, 0);
    assert!(net.replica("laptop").blob(id).is_none());
}

#[test]
fn a_cut_in_the_middle_of_a_file_stores_nothing_and_the_next_sync_brings_it() {
    let mut net = pair(small_turns());
    let id = AttachmentId::new();
    let file = bytes(1_500_000, 4);
    net.replica_mut("hub").put_blob(id, file.clone());
    net.replica_mut("laptop")
        .reference_blob(id, file.len() as u64, digest(&file));
    // Cut after the hub's second piece of the file.
    let mut pieces = 0;
    let conn = net.connect_with(
        "laptop",
        "hub",
        Fault::Map(Box::new(move |_, sender, bytes| {
            if sender == "hub" && matches!(decode_frame(&bytes), Ok(Message::BlobChunk(_))) {
                pieces += 1;
                if pieces > 2 {
                    return Vec::new();
                }
            }
            bytes
        })),
    );
    net.run_until_quiescent();
    let (l, _) = net.outcome(conn);
    assert!(!matches!(l, Outcome::Done(_)), "{l:?}");
    assert!(net.replica("laptop").blob(id).is_none());
    let (laptop, _) = net.sync("laptop", "hub").expect("the next sync");
    assert_eq!(laptop.blobs_received, 1);
    assert_eq!(net.replica("laptop").blob(id), Some(file.as_slice()));
}

#[test]
fn a_piece_of_a_file_not_asked_for_ends_the_session_and_changes_nothing() {
    let mut net = pair(Limits::default());
    let id = AttachmentId::new();
    net.replica_mut("laptop")
        .reference_blob(id, 3, digest(b"xyz"));
    let before = net.replica("laptop").heads_map();
    // The hub's announcement carries a piece of the file where its audit
    // heads should be: the laptop has not asked for anything yet.
    let piece = Message::BlobChunk(BlobChunk {
        id,
        offset: 0,
        total: 3,
        data: b"xyz".to_vec(),
    })
    .encode()
    .into_bytes();
    let mut done = false;
    let conn = net.connect_with(
        "laptop",
        "hub",
        Fault::Map(Box::new(move |_, sender, bytes| {
            if done
                || sender != "hub"
                || !matches!(decode_frame(&bytes), Ok(Message::AuditHeads(_)))
            {
                return bytes;
            }
            done = true;
            piece.clone()
        })),
    );
    net.run_until_quiescent();
    let (l, _) = net.outcome(conn);
    assert!(
        matches!(
            l,
            Outcome::Failed(SyncError::Unexpected {
                message: "blob-chunk",
                ..
            })
        ),
        "{l:?}"
    );
    assert!(net.replica("laptop").blob(id).is_none());
    // Nothing of that turn was applied: the hub's document did not arrive.
    assert_eq!(net.replica("laptop").heads_map(), before);
}

#[test]
fn files_never_make_a_session_exceed_its_turn_limit() {
    let mut net = pair(Limits {
        max_turns: 24,
        blob_bytes_per_turn: 10_000,
        ..Limits::default()
    });
    let id = AttachmentId::new();
    let file = bytes(1_000_000, 5);
    net.replica_mut("hub").put_blob(id, file.clone());
    net.replica_mut("laptop")
        .reference_blob(id, file.len() as u64, digest(&file));
    // 1 MB at 10 kB a turn does not fit in 24 turns: the session completes
    // without the file instead of failing.
    let (laptop, _) = net.sync("laptop", "hub").expect("sync completes");
    assert!(laptop.turns <= 24);
    assert!(net.replica("laptop").blob(id).is_none());
}
