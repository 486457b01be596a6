//! The decoder is total and canonical: any bytes give an entry or an error,
//! never a panic; a decoded entry re-encodes to exactly its input; every
//! truncation and every corrupted byte of a valid entry is caught by the
//! decoder or by signature verification.

use chrono::DateTime;
use polku_audit::wire::MAX_ENCODED_LEN;
use polku_audit::{
    Action, AuditLog, Code, DecodeError, Detail, Entry, NodeKey, Reason, verify_chain, verify_entry,
};
use polku_core::UserId;
use proptest::prelude::*;
use uuid::Uuid;

/// Fields of an entry to append.
#[derive(Debug, Clone)]
struct Fields {
    micros: i64,
    user: Option<[u8; 16]>,
    action: Action,
    target: Option<[u8; 16]>,
    detail: Detail,
}

const CODES: [&str; 4] = [
    "a",
    "client.phone",
    "parkki_csv",
    "abcdefghijklmnopqrstuvwxyz0-_.9z",
];

fn code() -> impl Strategy<Value = Code> {
    prop::sample::select(&CODES[..]).prop_map(|c| Code::new(c).expect("valid code"))
}

fn detail() -> impl Strategy<Value = Detail> {
    prop_oneof![
        Just(Detail::None),
        any::<u32>().prop_map(Detail::Count),
        prop::sample::select(Reason::ALL).prop_map(Detail::Reason),
        code().prop_map(Detail::Code),
        (code(), any::<u32>()).prop_map(|(code, count)| Detail::CodeCount { code, count }),
        prop::collection::vec(code(), 0..=16)
            .prop_map(|c| Detail::fields(c).expect("at most 16 fields")),
        (any::<u32>(), any::<u32>())
            .prop_map(|(sent, received)| Detail::Transfer { sent, received }),
    ]
}

fn fields() -> impl Strategy<Value = Fields> {
    (
        // Within chrono's range (about ±262,000 years).
        -8_000_000_000_000_000_000i64..8_000_000_000_000_000_000,
        any::<Option<[u8; 16]>>(),
        prop::sample::select(Action::ALL),
        any::<Option<[u8; 16]>>(),
        detail(),
    )
        .prop_map(|(micros, user, action, target, detail)| Fields {
            micros,
            user,
            action,
            target,
            detail,
        })
}

/// Appends the fields as a chain (so later entries have backlinks).
fn write(all: &[Fields]) -> Vec<Entry> {
    let key = NodeKey::from_bytes(&[9; 32]);
    let mut log = AuditLog::new();
    all.iter()
        .map(|f| {
            let time = DateTime::from_timestamp_micros(f.micros).expect("in range");
            let user = f.user.map(|b| UserId::from(Uuid::from_bytes(b)));
            let target = f.target.map(Uuid::from_bytes);
            log.append(&key, time, user, f.action, target, f.detail.clone())
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_entries_round_trip_and_truncations_fail(all in prop::collection::vec(fields(), 1..4)) {
        let entries = write(&all);
        prop_assert!(verify_chain(&entries).is_ok());
        for entry in &entries {
            let bytes = entry.encode();
            prop_assert!(bytes.len() <= MAX_ENCODED_LEN);
            prop_assert_eq!(Entry::decode(&bytes), Ok(entry.clone()));
            for cut in 0..bytes.len() {
                prop_assert_eq!(Entry::decode(&bytes[..cut]), Err(DecodeError::UnexpectedEnd));
            }
            let mut longer = bytes.clone();
            longer.push(0);
            prop_assert_eq!(Entry::decode(&longer), Err(DecodeError::TrailingBytes(1)));
        }
    }

    #[test]
    fn arbitrary_bytes_give_an_error_never_a_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..1024),
        version_first in any::<bool>(),
    ) {
        let mut bytes = bytes;
        if version_first && !bytes.is_empty() {
            bytes[0] = 1; // get past the version check into the fields
        }
        match Entry::decode(&bytes) {
            Err(_) => {}
            // Vanishingly unlikely, but then it must be canonical and unsigned.
            Ok(entry) => {
                prop_assert_eq!(entry.encode(), bytes);
                prop_assert!(verify_entry(&entry).is_err());
            }
        }
    }

    #[test]
    fn any_corrupted_byte_is_caught(f in fields(), at in any::<prop::sample::Index>(), flip in 1..=255u8) {
        let entry = write(&[f]).remove(0);
        let mut bytes = entry.encode();
        let i = at.index(bytes.len());
        bytes[i] ^= flip;
        match Entry::decode(&bytes) {
            Err(_) => {}
            Ok(changed) => {
                prop_assert_ne!(&changed, &entry);
                prop_assert!(verify_entry(&changed).is_err(), "byte {} corrupted unnoticed", i);
            }
        }
    }
}

#[test]
fn oversized_input_is_refused_unread() {
    let bytes = vec![1u8; MAX_ENCODED_LEN + 1];
    assert_eq!(
        Entry::decode(&bytes),
        Err(DecodeError::TooLong {
            len: MAX_ENCODED_LEN + 1
        })
    );
}

#[test]
fn the_largest_entry_fits_the_bound() {
    let longest = Code::new("abcdefghijklmnopqrstuvwxyz012345").expect("32 bytes");
    let f = Fields {
        micros: 0,
        user: Some([1; 16]),
        action: Action::Update,
        target: Some([2; 16]),
        detail: Detail::fields([longest; 16]).expect("16 fields"),
    };
    let entries = write(&[f.clone(), f]);
    assert_eq!(entries[1].encode().len(), MAX_ENCODED_LEN);
}

#[test]
fn malformed_fields_have_typed_errors() {
    let entry = write(&[Fields {
        micros: 0,
        user: None,
        action: Action::Login,
        target: None,
        detail: Detail::None,
    }])
    .remove(0);
    let good = entry.encode();
    // Offsets in version 1: version 0, node 1..33, seq 33..41, prev tag 41,
    // time 42..50, user tag 50, action 51, target tag 52, detail tag 53.
    let with = |i: usize, b: u8| {
        let mut bytes = good.clone();
        bytes[i] = b;
        Entry::decode(&bytes)
    };
    assert_eq!(with(0, 2), Err(DecodeError::UnsupportedVersion(2)));
    assert_eq!(
        with(41, 2),
        Err(DecodeError::InvalidTag {
            field: "prev_hash",
            tag: 2
        })
    );
    assert_eq!(with(49, 0x7f), Err(DecodeError::TimeOutOfRange));
    assert_eq!(
        with(50, 9),
        Err(DecodeError::InvalidTag {
            field: "user",
            tag: 9
        })
    );
    assert_eq!(with(51, 0), Err(DecodeError::UnknownAction(0)));
    assert_eq!(with(51, 200), Err(DecodeError::UnknownAction(200)));
    assert_eq!(with(53, 8), Err(DecodeError::UnknownDetail(8)));
    assert_eq!(Entry::decode(&[]), Err(DecodeError::UnexpectedEnd));

    let reason = |code: u8| {
        let mut bytes = good[..53].to_vec();
        bytes.extend([2, code]);
        bytes.extend([0; 64]);
        Entry::decode(&bytes)
    };
    assert!(matches!(reason(1), Ok(e) if e.detail == Detail::Reason(Reason::WrongPassword)));
    assert_eq!(reason(0), Err(DecodeError::UnknownReason(0)));

    let detail = |payload: &[u8]| {
        let mut bytes = good[..53].to_vec();
        bytes.extend_from_slice(payload);
        bytes.extend([0; 64]);
        Entry::decode(&bytes)
    };
    assert!(detail(&[3, 1, b'a']).is_ok());
    assert_eq!(detail(&[3, 0]), Err(DecodeError::InvalidCode));
    assert_eq!(detail(&[3, 1, b'A']), Err(DecodeError::InvalidCode));
    assert_eq!(detail(&[3, 2, b'a', b' ']), Err(DecodeError::InvalidCode));
    assert_eq!(detail(&[3, 33]), Err(DecodeError::InvalidCode));
    assert_eq!(detail(&[5, 17]), Err(DecodeError::TooManyFields(17)));
}
