//! Document sets and their reconciliation.
//!
//! A *document set* maps each document id to its [`HeadsHash`]. Each side
//! keeps, per peer, the **agreed set**: the entries both sides held with the
//! same heads at the end of their last completed session. At session start
//! each side sends only its [`delta`] against the agreed set (changed, new
//! and removed documents) with the [`digest`] of its whole (scoped) set. The
//! receiver rebuilds the sender's set as `agreed + delta` ([`apply_delta`])
//! and checks the digest: equal digests prove the reconstruction exact (so
//! the cost grows with what changed, not with the store). If a cut session
//! left the two agreed sets apart, the digest differs and the receiver asks
//! for the full set instead — slower, never wrong.
//!
//! At the end both sides know both final sets exactly (start sets plus the
//! changes listed in `Done`), so both compute the same new agreed set
//! ([`agreed_after`]) without another round trip.

use std::collections::BTreeMap;
use std::fmt;

use polku_core::DocId;

pub use polku_core::heads::{HeadsHash, heads_hash};

/// A digest of a whole document set.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SetDigest(pub [u8; 32]);

impl fmt::Debug for SetDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SetDigest({})", blake3::Hash::from(self.0).to_hex())
    }
}

/// A document set: id → heads hash, in id order.
pub type DocSet = BTreeMap<DocId, HeadsHash>;

/// Key-derivation context of [`digest`]. Do not change.
pub const DIGEST_CONTEXT: &str = "polku-sync 2026-11 doc-set digest v1";

/// The digest of a set: BLAKE3 (derive-key mode, [`DIGEST_CONTEXT`]) over the
/// entry count (u64 LE) then each entry in id order as id (16) ‖ heads hash
/// (32). Collision-resistant, so equal digests mean equal sets. Do not change.
pub fn digest(set: &DocSet) -> SetDigest {
    // The entries go to the hasher in large pieces (many small updates are
    // several times slower than one long one; the bytes hashed are the same).
    const ENTRY: usize = 16 + 32;
    const PIECE: usize = 1024 * ENTRY;
    let mut h = blake3::Hasher::new_derive_key(DIGEST_CONTEXT);
    h.update(&(set.len() as u64).to_le_bytes());
    let mut buf = Vec::with_capacity(PIECE);
    for (id, hash) in set {
        buf.extend_from_slice(id.0.as_bytes());
        buf.extend_from_slice(&hash.0);
        if buf.len() == PIECE {
            h.update(&buf);
            buf.clear();
        }
    }
    h.update(&buf);
    SetDigest(*h.finalize().as_bytes())
}

/// What changed from `agreed` to `current`: entries that are new or whose
/// hash differs, and `None` for ids no longer in `current`. In id order.
pub fn delta(current: &DocSet, agreed: &DocSet) -> Vec<(DocId, Option<HeadsHash>)> {
    // One walk over both sets in id order (no lookups, no sort).
    let mut out = Vec::new();
    let mut a = current.iter().peekable();
    let mut b = agreed.iter().peekable();
    loop {
        match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some((ia, ha)), Some((ib, hb))) if ia == ib => {
                if ha != hb {
                    out.push((**ia, Some(**ha)));
                }
                a.next();
                b.next();
            }
            (Some((ia, ha)), Some((ib, _))) if ia < ib => {
                out.push((**ia, Some(**ha)));
                a.next();
            }
            (Some((ia, ha)), None) => {
                out.push((**ia, Some(**ha)));
                a.next();
            }
            (_, Some((ib, _))) => {
                out.push((**ib, None));
                b.next();
            }
        }
    }
    out
}

/// `base` with the `changes` applied (`None` removes).
pub fn apply_delta(base: &DocSet, changes: &[(DocId, Option<HeadsHash>)]) -> DocSet {
    let mut out = base.clone();
    apply_in_place(&mut out, changes);
    out
}

/// Applies `changes` to `set` (`None` removes).
pub fn apply_in_place(set: &mut DocSet, changes: &[(DocId, Option<HeadsHash>)]) {
    for (id, hash) in changes {
        match hash {
            Some(h) => {
                set.insert(*id, *h);
            }
            None => {
                set.remove(id);
            }
        }
    }
}

/// The entries `mine` and `theirs` hold with equal hashes: the new agreed set.
pub fn agreed_after(mine: &DocSet, theirs: &DocSet) -> DocSet {
    // One walk over both sets in id order; the result is built from sorted
    // entries in bulk.
    let mut out = Vec::with_capacity(mine.len().min(theirs.len()));
    let mut b = theirs.iter().peekable();
    for (id, h) in mine {
        while b.next_if(|(ib, _)| *ib < id).is_some() {}
        if let Some((_, hb)) = b.next_if(|(ib, _)| *ib == id)
            && hb == h
        {
            out.push((*id, *h));
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn id(n: u8) -> DocId {
        DocId(Uuid::from_bytes([n; 16]))
    }

    fn set_strategy() -> impl Strategy<Value = DocSet> {
        proptest::collection::btree_map(0u8..40, 0u8..4, 0..30).prop_map(|m| {
            m.into_iter()
                .map(|(k, v)| (id(k), HeadsHash([v; 32])))
                .collect()
        })
    }

    proptest! {
        #[test]
        fn delta_rebuilds_the_set(agreed in set_strategy(), current in set_strategy()) {
            let d = delta(&current, &agreed);
            let rebuilt = apply_delta(&agreed, &d);
            prop_assert_eq!(&rebuilt, &current);
            prop_assert_eq!(digest(&rebuilt), digest(&current));
        }

        #[test]
        fn delta_and_agreement_match_their_definitions(
            agreed in set_strategy(), current in set_strategy()
        ) {
            // The walks give what the definitions say, entry by entry.
            let mut expected: Vec<_> = current
                .iter()
                .filter(|(id, h)| agreed.get(*id) != Some(*h))
                .map(|(id, h)| (*id, Some(*h)))
                .chain(agreed.keys().filter(|id| !current.contains_key(*id)).map(|id| (*id, None)))
                .collect();
            expected.sort_by_key(|(id, _)| *id);
            prop_assert_eq!(delta(&current, &agreed), expected);
            let both: DocSet = current
                .iter()
                .filter(|(id, h)| agreed.get(*id) == Some(*h))
                .map(|(id, h)| (*id, *h))
                .collect();
            prop_assert_eq!(agreed_after(&current, &agreed), both);
        }

        #[test]
        fn digest_is_the_documented_hash(set in set_strategy()) {
            // Count, then id ‖ heads of each entry in id order: the bytes
            // the digest is defined over, hashed in one piece.
            let mut bytes = (set.len() as u64).to_le_bytes().to_vec();
            for (id, h) in &set {
                bytes.extend_from_slice(id.0.as_bytes());
                bytes.extend_from_slice(&h.0);
            }
            let mut h = blake3::Hasher::new_derive_key(DIGEST_CONTEXT);
            h.update(&bytes);
            prop_assert_eq!(digest(&set), SetDigest(*h.finalize().as_bytes()));
        }

        #[test]
        fn wrong_base_is_caught_by_the_digest(
            a in set_strategy(), b in set_strategy(), current in set_strategy()
        ) {
            let d = delta(&current, &a);
            let rebuilt = apply_delta(&b, &d);
            prop_assert_eq!(rebuilt == current, digest(&rebuilt) == digest(&current));
        }
    }

    #[test]
    fn digest_of_a_large_set_spans_pieces() {
        // More entries than one hashing piece holds (1,024), not a multiple.
        let set: DocSet = (0u32..2_500)
            .map(|n| {
                let mut id = [0u8; 16];
                id[..4].copy_from_slice(&n.to_be_bytes());
                (
                    DocId(Uuid::from_bytes(id)),
                    HeadsHash([(n % 251) as u8; 32]),
                )
            })
            .collect();
        let mut h = blake3::Hasher::new_derive_key(DIGEST_CONTEXT);
        h.update(&(set.len() as u64).to_le_bytes());
        for (id, hash) in &set {
            h.update(id.0.as_bytes());
            h.update(&hash.0);
        }
        assert_eq!(digest(&set), SetDigest(*h.finalize().as_bytes()));
    }

    #[test]
    fn agreed_keeps_only_equal_entries() {
        let mine: DocSet = [(id(1), HeadsHash([1; 32])), (id(2), HeadsHash([2; 32]))].into();
        let theirs: DocSet = [(id(1), HeadsHash([1; 32])), (id(2), HeadsHash([3; 32]))].into();
        assert_eq!(
            agreed_after(&mine, &theirs),
            [(id(1), HeadsHash([1; 32]))].into()
        );
    }
}
