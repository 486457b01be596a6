//! Encoding of document views: the decoded part of a client, kept sealed next
//! to its Automerge document (one view per document, valid while the
//! document's heads are those it was made at) so that opening every client
//! does not load Automerge.
//!
//! Format (do not change without bumping the version byte):
//! `[2] ‖ postcard(ClientBasic)` for a basic-data document,
//! `[3] ‖ postcard(ClientRecord)` for a record document.

use polku_core::model::{ClientBasic, ClientRecord};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A part of a client with its own view.
pub(crate) trait ViewPart: Serialize + DeserializeOwned {
    /// Version byte of its views.
    const VERSION: u8;
}

impl ViewPart for ClientBasic {
    const VERSION: u8 = 2;
}

impl ViewPart for ClientRecord {
    const VERSION: u8 = 3;
}

/// Encode a view.
pub(crate) fn encode<T: ViewPart>(part: &T) -> Option<Vec<u8>> {
    let mut out = vec![T::VERSION];
    out.extend(postcard::to_allocvec(part).ok()?);
    Some(out)
}

/// Decode a view; `None` for another version or bad bytes (the caller then
/// falls back to the Automerge document).
pub(crate) fn decode<T: ViewPart>(bytes: &[u8]) -> Option<T> {
    match bytes.split_first() {
        Some((v, rest)) if *v == T::VERSION => postcard::from_bytes(rest).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn views_round_trip_and_reject_garbage() {
        let staff = polku_demo::staff(1);
        let data = polku_demo::generate(
            &polku_demo::DemoConfig {
                clients: 20,
                seed: 9,
                today: NaiveDate::from_ymd_opt(2026, 6, 1).expect("date"),
                memos_per_client: None,
            },
            &staff,
        );
        for c in &data.clients {
            let (basic, record) = c.split();
            let b = encode(&basic).expect("encode");
            let r = encode(&record).expect("encode");
            assert_eq!(decode::<ClientBasic>(&b).as_ref(), Some(&basic));
            assert_eq!(decode::<ClientRecord>(&r).as_ref(), Some(&record));
            // A view of one part never reads as the other.
            assert_eq!(decode::<ClientRecord>(&b), None);
            assert_eq!(decode::<ClientBasic>(&r), None);
            assert_eq!(decode::<ClientBasic>(&b[..b.len() / 2]), None);
            let mut other_version = b.clone();
            other_version[0] = 1;
            assert_eq!(decode::<ClientBasic>(&other_version), None);
        }
        assert_eq!(decode::<ClientBasic>(&[]), None);
    }
}
