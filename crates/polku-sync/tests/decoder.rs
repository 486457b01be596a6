//! Property tests: the decoder and the session take any bytes without
//! panicking, decoding is canonical, and bad input changes nothing.

use polku_audit::NodeId;
use polku_core::{DocId, DocKind, OrgId};
use polku_sync::docset::{HeadsHash, SetDigest};
use polku_sync::mem::MemReplica;
use polku_sync::protocol::{
    DocBody, DocMessage, DocSetChunk, FrameDecoder, Hello, MAX_FRAME_LEN, Message,
    PROTOCOL_VERSION, Role, decode_frame, decode_payload, frame_len,
};
use polku_sync::{Session, SessionConfig};
use proptest::prelude::*;
use uuid::Uuid;

fn samples() -> Vec<Vec<u8>> {
    let id = DocId(Uuid::from_bytes([1; 16]));
    [
        Message::Hello(Hello {
            max_version: PROTOCOL_VERSION,
            org: OrgId(Uuid::from_bytes([2; 16])),
            node: NodeId::from_bytes([3; 32]),
            role: Role::Hub,
            audit_head: None,
        }),
        Message::TurnEnd { turn: 3 },
        Message::DocSet(DocSetChunk {
            full: true,
            last: true,
            digest: SetDigest([4; 32]),
            entries: vec![(id, Some(HeadsHash([5; 32]))), (id, None)],
        }),
        Message::DocSync(vec![DocMessage {
            id,
            kind: DocKind::Client,
            body: DocBody::Sync(vec![0x42; 40]),
        }]),
        Message::AuditEntries(vec![vec![1; 30]]),
        Message::Done {
            last: false,
            changed: vec![(id, None)],
        },
    ]
    .iter()
    .map(|m| m.encode().into_bytes())
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic_and_decoding_is_canonical(
        bytes in proptest::collection::vec(any::<u8>(), 0..512)
    ) {
        let _ = decode_payload(&bytes);
        if let Ok(msg) = decode_frame(&bytes) {
            prop_assert_eq!(msg.encode().into_bytes(), bytes);
        }
    }

    #[test]
    fn well_framed_random_bodies_never_panic_and_are_canonical(
        tag in 0u8..14,
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let mut payload = vec![1, tag];
        payload.extend(body);
        let mut frame = (payload.len() as u32).to_le_bytes().to_vec();
        frame.extend(&payload);
        if let Ok(msg) = decode_frame(&frame) {
            prop_assert_eq!(msg.encode().into_bytes(), frame);
        }
    }

    #[test]
    fn mutated_frames_never_panic(
        which in 0usize..6,
        flips in proptest::collection::vec((any::<usize>(), 1u8..=255), 0..4),
        cut in proptest::option::of(any::<usize>()),
        extra in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let mut bytes = samples()[which].clone();
        for (at, mask) in flips {
            let i = at % bytes.len();
            bytes[i] ^= mask;
        }
        if let Some(c) = cut {
            bytes.truncate(c % (bytes.len() + 1));
        }
        bytes.extend(extra);
        if let Ok(msg) = decode_frame(&bytes) {
            prop_assert_eq!(msg.encode().into_bytes(), bytes);
        }
    }

    #[test]
    fn the_stream_decoder_never_panics(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..16)
    ) {
        let mut dec = FrameDecoder::new();
        for c in chunks {
            dec.push(&c);
            while let Ok(Some(frame)) = dec.next_frame() {
                let _ = decode_frame(&frame);
            }
        }
    }

    #[test]
    fn a_session_fed_garbage_errs_and_changes_nothing(
        frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..96), 1..6),
        valid_hello in any::<bool>(),
    ) {
        let hub = NodeId::from_bytes([7; 32]);
        let laptop = NodeId::from_bytes([8; 32]);
        let org = OrgId(Uuid::from_bytes([9; 16]));
        let mut replica = MemReplica::hub(hub);
        replica.enrol(laptop);
        let before = replica.heads_map();
        let mut session = Session::new(SessionConfig::new(Role::Hub, org, hub, laptop));
        session.start(&mut replica).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if valid_hello {
            let hello = Message::Hello(Hello { max_version: PROTOCOL_VERSION, org, node: laptop, role: Role::Laptop, audit_head: None });
            session.handle(&mut replica, hello.encode().as_bytes())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        for f in frames {
            if session.handle(&mut replica, &f).is_err() {
                prop_assert!(session.is_failed());
                break;
            }
        }
        prop_assert!(!session.is_done());
        prop_assert_eq!(replica.heads_map(), before);
        prop_assert!(replica.refusals().is_empty());
    }
}

#[test]
fn oversized_headers_are_refused_before_reading() {
    let len = u32::try_from(MAX_FRAME_LEN + 1).unwrap_or(u32::MAX);
    assert!(frame_len(len.to_le_bytes()).is_err());
    let mut dec = FrameDecoder::new();
    dec.push(&len.to_le_bytes());
    assert!(dec.next_frame().is_err());
    assert!(frame_len(u32::MAX.to_le_bytes()).is_err());
}
