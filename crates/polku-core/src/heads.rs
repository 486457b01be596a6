//! The heads hash: one 32-byte digest of a document's Automerge heads. Equal
//! hashes mean equal documents. The store keeps it as plaintext metadata and
//! sync peers compare it, so both use this one definition.

use std::fmt;

use automerge::ChangeHash;

/// blake3 of a document's heads in ascending byte order. Do not change: peers
/// compare these, and stores keep them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HeadsHash(pub [u8; 32]);

impl fmt::Debug for HeadsHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HeadsHash({})", blake3::Hash::from(self.0).to_hex())
    }
}

/// The [`HeadsHash`] of a document with these heads (order does not matter).
pub fn heads_hash(heads: &[ChangeHash]) -> HeadsHash {
    let mut sorted: Vec<&ChangeHash> = heads.iter().collect();
    sorted.sort_by_key(|h| h.0);
    let mut h = blake3::Hasher::new();
    for head in sorted {
        h.update(&head.0);
    }
    HeadsHash(*h.finalize().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_does_not_matter_and_content_does() {
        let a = ChangeHash([1; 32]);
        let b = ChangeHash([2; 32]);
        assert_eq!(heads_hash(&[a, b]), heads_hash(&[b, a]));
        assert_ne!(heads_hash(&[a]), heads_hash(&[b]));
        assert_ne!(heads_hash(&[a]), heads_hash(&[a, b]));
    }
}
