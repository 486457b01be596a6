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
    let mut h = blake3::Hasher::new_derive_key(DIGEST_CONTEXT);
    h.update(&(set.len() as u64).to_le_bytes());
    for (id, hash) in set {
        h.update(id.0.as_bytes());
        h.update(&hash.0);
    }
    SetDigest(*h.finalize().as_bytes())
}

/// What changed from `agreed` to `current`: entries that are new or whose
/// hash differs, and `None` for ids no longer in `current`. In id order.
pub fn delta(current: &DocSet, agreed: &DocSet) -> Vec<(DocId, Option<HeadsHash>)> {
    let mut out = Vec::new();
    for (id, hash) in current {
        if agreed.get(id) != Some(hash) {
            out.push((*id, Some(*hash)));
        }
    }
    for id in agreed.keys() {
        if !current.contains_key(id) {
            out.push((*id, None));
        }
    }
    out.sort_by_key(|(id, _)| *id);
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
    mine.iter()
        .filter(|(id, h)| theirs.get(*id) == Some(*h))
        .map(|(id, h)| (*id, *h))
        .collect()
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
        fn wrong_base_is_caught_by_the_digest(
            a in set_strategy(), b in set_strategy(), current in set_strategy()
        ) {
            let d = delta(&current, &a);
            let rebuilt = apply_delta(&b, &d);
            prop_assert_eq!(rebuilt == current, digest(&rebuilt) == digest(&current));
        }
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
