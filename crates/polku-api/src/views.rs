//! Encoding of client views: the decoded client, kept sealed next to its
//! Automerge document so that opening every client does not load Automerge.
//!
//! Format (do not change without bumping the version byte): `[1] ‖ postcard(Client)`.

use polku_core::model::Client;

const VIEW_VERSION: u8 = 1;

/// Encode a client view.
pub(crate) fn encode(client: &Client) -> Option<Vec<u8>> {
    let mut out = vec![VIEW_VERSION];
    out.extend(postcard::to_allocvec(client).ok()?);
    Some(out)
}

/// Decode a client view; `None` for an unknown version or bad bytes (the caller
/// then falls back to the Automerge document).
pub(crate) fn decode(bytes: &[u8]) -> Option<Client> {
    match bytes.split_first() {
        Some((&VIEW_VERSION, rest)) => postcard::from_bytes(rest).ok(),
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
            let bytes = encode(c).expect("encode");
            assert_eq!(decode(&bytes).as_ref(), Some(c));
            assert_eq!(decode(&bytes[..bytes.len() / 2]), None);
            let mut other_version = bytes.clone();
            other_version[0] = 2;
            assert_eq!(decode(&other_version), None);
        }
        assert_eq!(decode(&[]), None);
    }
}
