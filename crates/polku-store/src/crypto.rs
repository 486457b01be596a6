//! Keys and the sealed-record envelope.
//!
//! # Key hierarchy
//!
//! ```text
//! password ──argon2id(salt, params)──▶ KEK ──XChaCha20-Poly1305──▶ store identity (age X25519)
//! store identity ──age (one X25519 op at unlock)──▶ data key (32 random bytes)
//! data key ──blake3::derive_key──▶ seal key  (rows: XChaCha20-Poly1305, random 24-byte nonce)
//!          ├─blake3::derive_key──▶ meta key  (keyed hash of sealed_kv keys)
//!          └─blake3::derive_key──▶ anchor key (keyed hash of mutable rows, `src/anchor.rs`)
//! store identity ──age stream──▶ attachments/<id>
//! ```
//!
//! Sealing records with the data key avoids an X25519 operation per record
//! (~184 µs per age decrypt, see PLATFORM.md); the AEAD is the one age itself
//! uses, with the extended nonce so that random nonces are safe.
//!
//! # On-disk formats — DO NOT CHANGE
//!
//! Stores in the field hold these bytes. Changing any constant, code or
//! layout below makes every existing store unreadable. Add a new envelope
//! version instead and keep reading the old one.
//!
//! * Sealed envelope: `version (1 byte, = 1) ‖ nonce (24 bytes) ‖ ciphertext ‖ tag (16 bytes)`.
//! * Associated data: `"polku-store/sealed-row/v1" ‖ slot (1) ‖ len(id) (1) ‖ id ‖ seq (u64 LE)
//!   ‖ len(extra) (1) ‖ extra`, binding each ciphertext to its table, row and
//!   position so rows cannot be swapped.
//! * Slot codes: see [`Slot`].
//! * Sub-key contexts: [`SEAL_KEY_CONTEXT`], [`META_KEY_CONTEXT`], [`ANCHOR_KEY_CONTEXT`].
//! * Rows overwritten in place (index entries, sealed values and their keys,
//!   document views; schema v5) put their write counter (`ctr` column) in
//!   the `seq` field; rows from before schema v5 have `ctr` = 0.
//! * Rollback anchor tag of a row (see `src/anchor.rs`):
//!   `blake3::keyed(anchor key, "polku-store/anchor-tag/v1" ‖ slot (1) ‖ len(id) (1) ‖ id
//!   ‖ ctr (u64 LE) ‖ len(extra) (1) ‖ extra)`; extra is empty but for `docs` rows
//!   (slot [`Slot::DocSnapshot`]): `heads_hash (32) ‖ generation (u64 LE) ‖ next_seq (u64 LE)`.
//!   The anchor row is sealed as [`Slot::Anchor`] with empty id, seq = the store
//!   counter, plaintext = the 32-byte XOR of all tags.
//! * Login lookup: `blake3::keyed(lookup_salt, "polku-store/login/v1\0" ‖ normalised name)`.
//! * KDF descriptor (associated data of a wrapped store key):
//!   `alg (1, = 1 for argon2id v0x13) ‖ m KiB (u32 LE) ‖ t (u32 LE) ‖ p (u32 LE) ‖ salt`.
//! * Wrapped store key plaintext: the age identity's Bech32 string (`AGE-SECRET-KEY-1…`).

use std::fmt;

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Key, Tag, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use zeroize::Zeroizing;

use crate::error::{Result, StoreError};

/// Version byte of the sealed envelope. Do not change.
pub(crate) const SEAL_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;
/// Bytes a sealed envelope adds to its plaintext.
pub const SEAL_OVERHEAD: usize = HEADER_LEN + TAG_LEN;
const AAD_PREFIX: &[u8] = b"polku-store/sealed-row/v1";
/// blake3 context deriving the row-sealing key from the data key. Do not change.
pub(crate) const SEAL_KEY_CONTEXT: &str = "polku-store 2026-11 sealed rows v1";
/// blake3 context deriving the sealed_kv key-hashing key. Do not change.
pub(crate) const META_KEY_CONTEXT: &str = "polku-store 2026-11 sealed kv key names v1";
/// blake3 context deriving the rollback-anchor key. Do not change.
pub(crate) const ANCHOR_KEY_CONTEXT: &str = "polku-store 2026-12 rollback anchor tags v1";
const LOGIN_DOMAIN: &[u8] = b"polku-store/login/v1\0";
const ANCHOR_TAG_DOMAIN: &[u8] = b"polku-store/anchor-tag/v1";

/// Which kind of row a sealed blob belongs to (part of the associated data).
/// The codes are stored implicitly in every ciphertext: do not change them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Slot {
    /// `docs.snapshot`; id = doc id, seq = generation, extra = [kind code].
    DocSnapshot = 1,
    /// `doc_changes.change`; id = doc id, seq = seq.
    DocChange = 2,
    /// `users.login`; id = user id.
    UserLogin = 3,
    /// `users.wrapped_key`; id = user id, extra = KDF descriptor.
    UserWrap = 4,
    /// `search_index.entry`; id = doc id.
    IndexEntry = 5,
    /// `sealed_kv.key`; id = key hash.
    MetaKey = 6,
    /// `sealed_kv.value`; id = key hash.
    MetaValue = 7,
    /// `attachments.digest`; id = attachment id, seq = size.
    AttachmentDigest = 8,
    /// `doc_views.view`; id = doc id, extra = heads hash.
    DocView = 9,
    /// `audit_entries.entry`; id = node id (32 bytes), seq = seq.
    AuditEntry = 10,
    /// `rollback_anchor.anchor`; id = empty, seq = store write counter.
    Anchor = 11,
    /// `sync_peers.record`; id = peer node id, seq = write counter.
    SyncPeer = 12,
    /// `sync_states.state`; id = peer ‖ doc id, seq = write counter.
    SyncState = 13,
    /// `sync_problems.problem`; id = peer ‖ doc id ‖ quarantined, seq = write counter.
    SyncProblem = 14,
    /// `sync_tombstones.tombstone`; id = position (8, BE), seq = write counter.
    Tombstone = 15,
    /// `sync_audit_expect.expectation`; id = node ‖ pending, seq = write counter.
    AuditExpect = 16,
    /// `sync_peer_deltas.delta`; id = peer ‖ seq (8, BE), seq = write counter.
    SyncPeerDelta = 17,
}

/// Where a sealed blob lives; becomes the AEAD associated data.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowRef<'a> {
    pub slot: Slot,
    pub id: &'a [u8],
    pub seq: u64,
    pub extra: &'a [u8],
}

impl<'a> RowRef<'a> {
    /// A row addressed by slot and id only.
    pub fn new(slot: Slot, id: &'a [u8]) -> Self {
        RowRef {
            slot,
            id,
            seq: 0,
            extra: &[],
        }
    }

    /// The same row at position `seq`.
    pub fn seq(self, seq: u64) -> Self {
        RowRef { seq, ..self }
    }

    /// The same row with extra bound bytes.
    pub fn extra(self, extra: &'a [u8]) -> Self {
        RowRef { extra, ..self }
    }

    fn aad(&self) -> Result<Vec<u8>> {
        let id_len = u8::try_from(self.id.len()).map_err(|_| StoreError::InvalidInput {
            what: "row id too long",
        })?;
        let extra_len = u8::try_from(self.extra.len()).map_err(|_| StoreError::InvalidInput {
            what: "row metadata too long",
        })?;
        let mut aad = Vec::with_capacity(AAD_PREFIX.len() + 12 + self.id.len() + self.extra.len());
        aad.extend_from_slice(AAD_PREFIX);
        aad.push(self.slot as u8);
        aad.push(id_len);
        aad.extend_from_slice(self.id);
        aad.extend_from_slice(&self.seq.to_le_bytes());
        aad.push(extra_len);
        aad.extend_from_slice(self.extra);
        Ok(aad)
    }
}

/// An XChaCha20-Poly1305 key sealing rows (zeroized on drop by the cipher).
#[derive(Clone)]
pub(crate) struct SealKey(XChaCha20Poly1305);

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealKey(..)")
    }
}

impl SealKey {
    pub fn new(key: &[u8; 32]) -> Self {
        SealKey(XChaCha20Poly1305::new(Key::from_slice(key)))
    }

    /// Seal `plaintext` for `row` into a fresh envelope.
    pub fn seal(&self, row: RowRef<'_>, plaintext: &[u8]) -> Result<Vec<u8>> {
        let aad = row.aad()?;
        let mut out = Vec::with_capacity(SEAL_OVERHEAD + plaintext.len());
        out.push(SEAL_VERSION);
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .0
            .encrypt_in_place_detached(XNonce::from_slice(&nonce), &aad, &mut out[HEADER_LEN..])
            .map_err(|_| StoreError::InvalidInput {
                what: "record too large to seal",
            })?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Open an envelope sealed for `row`; any failure is [`StoreError::Corrupt`]
    /// naming `what`.
    pub fn open(&self, row: RowRef<'_>, sealed: &[u8], what: &'static str) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.open_into(row, sealed, what, &mut out)?;
        Ok(out)
    }

    /// Like [`SealKey::open`], appending the plaintext to `out` (so many
    /// records can be decrypted into one buffer). On error `out` is unchanged.
    pub fn open_into(
        &self,
        row: RowRef<'_>,
        sealed: &[u8],
        what: &'static str,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        if sealed.len() < SEAL_OVERHEAD || sealed[0] != SEAL_VERSION {
            return Err(StoreError::corrupt(what));
        }
        let aad = row.aad()?;
        let nonce = XNonce::from_slice(&sealed[1..HEADER_LEN]);
        let ct_end = sealed.len() - TAG_LEN;
        let tag = Tag::from_slice(&sealed[ct_end..]);
        let start = out.len();
        out.extend_from_slice(&sealed[HEADER_LEN..ct_end]);
        if self
            .0
            .decrypt_in_place_detached(nonce, &aad, &mut out[start..], tag)
            .is_err()
        {
            out.truncate(start);
            return Err(StoreError::corrupt(what));
        }
        Ok(())
    }
}

/// Fresh random bytes from the thread-local CSPRNG (seeded from the OS).
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rng().fill_bytes(&mut b);
    b
}

/// Normalise a login name: trim, collapse inner whitespace, lowercase.
pub(crate) fn normalise_login(login: &str) -> Result<String> {
    let norm = login
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    if norm.is_empty() {
        return Err(StoreError::InvalidInput {
            what: "empty login name",
        });
    }
    Ok(norm)
}

/// The keyed hash under which a login is found in `users.lookup`.
pub(crate) fn login_lookup(salt: &[u8; 32], login: &str) -> Result<[u8; 32]> {
    let norm = Zeroizing::new(normalise_login(login)?);
    let mut h = blake3::Hasher::new_keyed(salt);
    h.update(LOGIN_DOMAIN);
    h.update(norm.as_bytes());
    Ok(*h.finalize().as_bytes())
}

/// The data key's two derived sub-keys plus the age identity: everything an
/// unlocked store needs. All secrets are zeroized on drop.
pub(crate) struct StoreKeys {
    pub identity: age::x25519::Identity,
    pub seal: SealKey,
    pub meta: Zeroizing<[u8; 32]>,
    pub anchor: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for StoreKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKeys(..)")
    }
}

impl StoreKeys {
    /// The same keys, for another connection to the same store (each copy
    /// is zeroized when dropped).
    pub fn duplicate(&self) -> Self {
        StoreKeys {
            identity: self.identity.clone(),
            seal: self.seal.clone(),
            meta: self.meta.clone(),
            anchor: self.anchor.clone(),
        }
    }

    pub fn new(identity: age::x25519::Identity, data_key: &[u8; 32]) -> Self {
        let seal = Zeroizing::new(blake3::derive_key(SEAL_KEY_CONTEXT, data_key));
        let meta = Zeroizing::new(blake3::derive_key(META_KEY_CONTEXT, data_key));
        let anchor = Zeroizing::new(blake3::derive_key(ANCHOR_KEY_CONTEXT, data_key));
        StoreKeys {
            identity,
            seal: SealKey::new(&seal),
            meta,
            anchor,
        }
    }

    /// age-encrypt a data key to this store's recipient (one X25519 op).
    pub fn encrypt_data_key(
        identity: &age::x25519::Identity,
        data_key: &[u8; 32],
    ) -> Result<Vec<u8>> {
        age::encrypt(&identity.to_public(), data_key).map_err(|_| StoreError::InvalidInput {
            what: "cannot encrypt the data key",
        })
    }

    /// Decrypt the age-encrypted data key with the store identity.
    pub fn decrypt_data_key(
        identity: &age::x25519::Identity,
        blob: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>> {
        let plain = Zeroizing::new(
            age::decrypt(identity, blob).map_err(|_| StoreError::corrupt("data key"))?,
        );
        let key: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::corrupt("data key"))?;
        Ok(Zeroizing::new(key))
    }

    /// The rollback-anchor tag of the row `slot`/`id` written with counter
    /// `ctr`, also binding `extra` (plaintext columns a rollback would change).
    pub fn anchor_tag(&self, slot: Slot, id: &[u8], ctr: u64, extra: &[u8]) -> [u8; 32] {
        let mut h = blake3::Hasher::new_keyed(&self.anchor);
        h.update(ANCHOR_TAG_DOMAIN);
        // Ids are at most 32 bytes (doc ids, key hashes), extras 48.
        h.update(&[slot as u8, id.len() as u8]);
        h.update(id);
        h.update(&ctr.to_le_bytes());
        h.update(&[extra.len() as u8]);
        h.update(extra);
        *h.finalize().as_bytes()
    }

    /// Keyed hash of a sealed_kv key.
    pub fn meta_key_hash(&self, key: &[u8]) -> [u8; 32] {
        *blake3::keyed_hash(&self.meta, key).as_bytes()
    }
}

/// Serialise an age identity for wrapping.
pub(crate) fn identity_to_bytes(identity: &age::x25519::Identity) -> Zeroizing<Vec<u8>> {
    use age::secrecy::ExposeSecret;
    Zeroizing::new(identity.to_string().expose_secret().as_bytes().to_vec())
}

/// Parse a wrapped identity back.
pub(crate) fn identity_from_bytes(bytes: &[u8]) -> Result<age::x25519::Identity> {
    let s = std::str::from_utf8(bytes).map_err(|_| StoreError::corrupt("store key"))?;
    s.parse::<age::x25519::Identity>()
        .map_err(|_| StoreError::corrupt("store key"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> SealKey {
        SealKey::new(&[7u8; 32])
    }

    #[test]
    fn seal_open_round_trip_and_overhead() {
        let k = key();
        let row = RowRef::new(Slot::DocChange, b"0123456789abcdef").seq(3);
        let sealed = k.seal(row, b"hello").expect("seal");
        assert_eq!(sealed.len(), 5 + SEAL_OVERHEAD);
        assert_eq!(sealed[0], SEAL_VERSION);
        assert_eq!(k.open(row, &sealed, "t").expect("open"), b"hello");
    }

    /// The codes are part of every stored ciphertext's associated data.
    #[test]
    fn slot_codes_are_pinned() {
        let pinned = [
            (Slot::DocSnapshot, 1),
            (Slot::DocChange, 2),
            (Slot::UserLogin, 3),
            (Slot::UserWrap, 4),
            (Slot::IndexEntry, 5),
            (Slot::MetaKey, 6),
            (Slot::MetaValue, 7),
            (Slot::AttachmentDigest, 8),
            (Slot::DocView, 9),
            (Slot::AuditEntry, 10),
            (Slot::Anchor, 11),
            (Slot::SyncPeer, 12),
            (Slot::SyncState, 13),
            (Slot::SyncProblem, 14),
            (Slot::Tombstone, 15),
            (Slot::AuditExpect, 16),
            (Slot::SyncPeerDelta, 17),
        ];
        for (slot, code) in pinned {
            assert_eq!(slot as u8, code, "{slot:?}");
        }
    }

    /// Every stored anchor is the XOR of these tags: changing the context or
    /// the layout makes every existing store report a rollback.
    #[test]
    fn anchor_key_context_and_tag_are_pinned() {
        assert_eq!(
            ANCHOR_KEY_CONTEXT,
            "polku-store 2026-12 rollback anchor tags v1"
        );
        let keys = StoreKeys::new(age::x25519::Identity::generate(), &[9u8; 32]);
        let tag = keys.anchor_tag(Slot::MetaValue, &[1u8; 32], 7, &[]);
        assert_eq!(
            blake3::Hash::from(tag).to_hex().as_str(),
            "2b106d1becf1b8e3f9d26ee8ec360ab378b0d4d44555e70d461f60dbf9fdae76"
        );
        assert_ne!(tag, keys.anchor_tag(Slot::MetaValue, &[1u8; 32], 8, &[]));
        assert_ne!(tag, keys.anchor_tag(Slot::IndexEntry, &[1u8; 32], 7, &[]));
        assert_ne!(tag, keys.anchor_tag(Slot::MetaValue, &[1u8; 32], 7, &[0]));
    }

    #[test]
    fn rows_cannot_be_swapped() {
        let k = key();
        let id = b"0123456789abcdef";
        let row = RowRef::new(Slot::DocChange, id).seq(3);
        let sealed = k.seal(row, b"hello").expect("seal");
        for other in [
            row.seq(4),
            RowRef::new(Slot::DocChange, b"0123456789abcdeX").seq(3),
            RowRef::new(Slot::DocSnapshot, id).seq(3),
            row.extra(&[1]),
        ] {
            assert!(matches!(
                k.open(other, &sealed, "t"),
                Err(StoreError::Corrupt { what: "t" })
            ));
        }
    }

    #[test]
    fn wrong_key_version_or_truncation_is_corrupt() {
        let row = RowRef::new(Slot::IndexEntry, b"x");
        let sealed = key().seal(row, b"data").expect("seal");
        assert!(SealKey::new(&[8u8; 32]).open(row, &sealed, "t").is_err());
        let mut v2 = sealed.clone();
        v2[0] = 2;
        assert!(key().open(row, &v2, "t").is_err());
        assert!(key().open(row, &sealed[..SEAL_OVERHEAD - 1], "t").is_err());
        let mut out = b"keep".to_vec();
        assert!(key().open_into(row, &v2, "t", &mut out).is_err());
        assert_eq!(out, b"keep");
    }

    #[test]
    fn login_lookup_normalises() {
        let salt = [1u8; 32];
        let a = login_lookup(&salt, "  Maija   Virtanen ").expect("a");
        let b = login_lookup(&salt, "maija virtanen").expect("b");
        assert_eq!(a, b);
        assert_ne!(a, login_lookup(&[2u8; 32], "maija virtanen").expect("c"));
        assert!(login_lookup(&salt, "   ").is_err());
    }

    #[test]
    fn identity_bytes_round_trip() {
        let id = age::x25519::Identity::generate();
        let bytes = identity_to_bytes(&id);
        let back = identity_from_bytes(&bytes).expect("parse");
        assert_eq!(back.to_public().to_string(), id.to_public().to_string());
        assert!(identity_from_bytes(b"garbage").is_err());
    }

    proptest! {
        #[test]
        fn prop_seal_round_trip(data in proptest::collection::vec(any::<u8>(), 0..2048),
                                seq in any::<u64>(),
                                flip in any::<prop::sample::Index>()) {
            let k = key();
            let row = RowRef::new(Slot::DocChange, b"id").seq(seq);
            let sealed = k.seal(row, &data).expect("seal");
            prop_assert_eq!(k.open(row, &sealed, "t").expect("open"), data);
            // Flipping any single bit is detected.
            let mut bad = sealed.clone();
            let i = flip.index(bad.len());
            bad[i] ^= 1;
            prop_assert!(k.open(row, &bad, "t").is_err());
        }
    }
}
