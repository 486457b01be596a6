//! Every key (or key prefix, ending in `/`) of the store's sealed
//! key/value area the API uses, in one registry. Stored keys: never change
//! or reuse one. Sync bookkeeping is not here: it has its own tables
//! (schema v6; `polku_store::LEGACY_PREFIX` names where it was before). A
//! test checks that the keys are unique and that none is a prefix of
//! another.

/// Sealed key/value slot holding the store's role ("hub" or "laptop"). Do not change.
pub(crate) const ROLE_META: &[u8] = b"polku/role/v1";
/// Sealed key/value slot holding a laptop's pinned hub. Do not change.
pub(crate) const HUB_META: &[u8] = b"polku/hub/v1";
/// Sealed slot: when this laptop last completed a sync with its hub (Unix seconds).
/// Do not change.
pub(crate) const LAST_HUB_CONTACT_META: &[u8] = b"polku/last-hub-contact/v1";
/// Sealed slot: the latest time this store has seen at a login or a sync
/// (Unix seconds). Do not change.
pub(crate) const LATEST_SEEN_META: &[u8] = b"polku/latest-time-seen/v1";
/// Sealed slot prefix of issued tickets (v2: with wrong-password count and
/// cancellation). Do not change.
pub(crate) const TICKET_META: &[u8] = b"polku/ticket/v2/";
/// Sealed slot: the addresses the hub daemon listens on. Do not change.
pub(crate) const LISTEN_META: &[u8] = b"polku/hub-listen/v1";
/// Sealed slot prefix: when the credential last applied to a local login was
/// set (Unix microseconds). Do not change.
pub(crate) const APPLIED_META: &[u8] = b"polku/credential-applied/v1/";
/// Sealed slot prefix: a local login that must change its password, with the
/// time its temporary password expires. Do not change.
pub(crate) const MUST_CHANGE_META: &[u8] = b"polku/must-change-password/v1/";
/// Sealed slot: the argon2id parameters this node uses for new wrappings and
/// verifiers, and the least it accepts from a peer. Do not change.
pub(crate) const KDF_META: &[u8] = b"polku/kdf-policy/v1";
/// Sealed key/value slot of the device's ed25519 node key. Do not change.
pub(crate) const NODE_KEY_META: &[u8] = b"polku/node-key/v1";
/// Sealed key/value prefix of fork evidence: an entry received for a position
/// this store already holds with different content. Kept forever, reported by
/// verification. Do not change.
pub(crate) const FORK_PREFIX: &[u8] = b"polku/audit-fork/v1/";
/// Sealed slot: set once the store's attachment references were filled
/// from its record documents (stores from before schema v7). Do not change.
pub(crate) const ATTACHMENT_REFS_META: &[u8] = b"polku/attachment-refs-filled/v1";
/// Meta key: digest of the client documents' heads at the last derivation.
pub(crate) const DIGEST_KEY: &[u8] = b"extract/digest";

/// Every key above, for the test.
#[cfg(test)]
const ALL: &[&[u8]] = &[
    ROLE_META,
    HUB_META,
    LAST_HUB_CONTACT_META,
    LATEST_SEEN_META,
    TICKET_META,
    LISTEN_META,
    APPLIED_META,
    MUST_CHANGE_META,
    KDF_META,
    NODE_KEY_META,
    FORK_PREFIX,
    ATTACHMENT_REFS_META,
    DIGEST_KEY,
];

#[cfg(test)]
mod tests {
    #[test]
    fn meta_keys_are_unique_and_none_is_a_prefix_of_another() {
        let legacy = polku_store::LEGACY_PREFIX.as_bytes();
        for (i, a) in super::ALL.iter().enumerate() {
            assert!(!a.starts_with(legacy) && !legacy.starts_with(a));
            for (j, b) in super::ALL.iter().enumerate() {
                if i != j {
                    assert!(
                        !b.starts_with(a),
                        "{} is a prefix of {}",
                        String::from_utf8_lossy(a),
                        String::from_utf8_lossy(b)
                    );
                }
            }
        }
    }
}
