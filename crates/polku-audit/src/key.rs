//! Node identities and entry hashes: [`NodeId`] (an ed25519 public key, the
//! same bytes as an iroh node id), [`NodeKey`] (the signing key, zeroized on
//! drop and never printed), [`EntryHash`] and [`EntrySignature`].

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

/// Error for text that is not the lowercase or uppercase hex of the expected
/// number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not valid hex of {expected} bytes")]
pub struct InvalidHex {
    /// Number of bytes the hex text should have encoded.
    pub expected: usize,
}

/// The identity of a node (a device running Polku): its ed25519 public key.
///
/// These are the same 32 bytes as the node's iroh node id, so an iroh node id
/// converts with `NodeId::from_bytes(*iroh_id.as_bytes())` and the iroh secret
/// key signs the node's audit entries.
///
/// Building a `NodeId` does not check that the bytes are a valid curve point:
/// an entry claiming an invalid or weak key simply never verifies
/// ([`crate::VerifyError::SignatureMismatch`]).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId([u8; 32]);

impl NodeId {
    /// A node id from the 32 bytes of an ed25519 public key.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes of the public key.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The first 5 bytes in hex, for log lines meant for people.
    pub fn short(&self) -> String {
        to_hex(&self.0[..5])
    }

    /// The ed25519 verifying key, if the bytes are a point on the curve.
    pub(crate) fn verifying_key(&self) -> Option<VerifyingKey> {
        VerifyingKey::from_bytes(&self.0).ok()
    }

    /// Whether `signature` is this node's signature over `context ‖ message`
    /// (strict ed25519: no malleable signatures, no weak keys). See
    /// [`NodeKey::sign_detached`].
    pub fn verify_detached(
        &self,
        context: &[u8],
        message: &[u8],
        signature: &EntrySignature,
    ) -> bool {
        if context == crate::wire::SIGNING_CONTEXT {
            return false;
        }
        let Some(key) = self.verifying_key() else {
            return false;
        };
        let mut buf = Vec::with_capacity(context.len() + message.len());
        buf.extend_from_slice(context);
        buf.extend_from_slice(message);
        let sig = ed25519_dalek::Signature::from_bytes(signature.as_bytes());
        key.verify_strict(&buf, &sig).is_ok()
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({self})")
    }
}

impl FromStr for NodeId {
    type Err = InvalidHex;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        from_hex::<32>(s).map(Self)
    }
}

impl serde::Serialize for NodeId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for NodeId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A node's ed25519 signing key; it signs the node's audit entries.
///
/// The secret is zeroized when the key is dropped, is not `Clone`, and is
/// never printed: `Debug` shows only the [`NodeId`].
pub struct NodeKey(SigningKey);

impl NodeKey {
    /// The key from its 32 secret bytes (an iroh `SecretKey::to_bytes()`, or 32
    /// bytes from a CSPRNG for a new node). The caller should wipe its copy.
    pub fn from_bytes(secret: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(secret))
    }

    /// The public identity of this key.
    pub fn node_id(&self) -> NodeId {
        NodeId(self.0.verifying_key().to_bytes())
    }

    pub(crate) fn verifying_key(&self) -> VerifyingKey {
        self.0.verifying_key()
    }

    pub(crate) fn sign(&self, message: &[u8]) -> EntrySignature {
        EntrySignature(self.0.sign(message).to_bytes())
    }

    /// Signs `context ‖ message` with the node key: for records other than
    /// audit entries (e.g. erasure tombstones) that a peer must be able to
    /// attribute to this node. `context` names the record type and version
    /// (e.g. `b"polku/tombstone/v1\0"`) so a signature of one kind never
    /// verifies as another. The audit entries' own context is refused: an
    /// all-zero signature, which verifies nowhere, is returned.
    pub fn sign_detached(&self, context: &[u8], message: &[u8]) -> EntrySignature {
        if context == crate::wire::SIGNING_CONTEXT {
            return EntrySignature([0; 64]);
        }
        let mut buf = Vec::with_capacity(context.len() + message.len());
        buf.extend_from_slice(context);
        buf.extend_from_slice(message);
        self.sign(&buf)
    }
}

impl fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeKey")
            .field("node", &self.node_id())
            .finish_non_exhaustive()
    }
}

/// BLAKE3 hash of an entry's full encoding (signature included): the entry's
/// identity and the backlink of its successor.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryHash(pub [u8; 32]);

impl EntryHash {
    /// The 32 hash bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for EntryHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for EntryHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntryHash({self})")
    }
}

impl FromStr for EntryHash {
    type Err = InvalidHex;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        from_hex::<32>(s).map(Self)
    }
}

/// An ed25519 signature (64 bytes) over an entry's signed bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntrySignature(pub [u8; 64]);

impl EntrySignature {
    /// The 64 signature bytes.
    pub const fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }
}

impl fmt::Debug for EntrySignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EntrySignature(")?;
        write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

fn to_hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn from_hex<const N: usize>(s: &str) -> Result<[u8; N], InvalidHex> {
    let err = InvalidHex { expected: N };
    let text = s.as_bytes();
    if text.len() != 2 * N {
        return Err(err);
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let hi = hex_digit(pair[0]).ok_or(err)?;
        let lo = hex_digit(pair[1]).ok_or(err)?;
        *byte = (hi << 4) | lo;
    }
    Ok(out)
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_id_round_trips_through_hex() {
        let key = NodeKey::from_bytes(&[7; 32]);
        let id = key.node_id();
        let text = id.to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(text.parse::<NodeId>(), Ok(id));
        assert_eq!(text.to_uppercase().parse::<NodeId>(), Ok(id));
        assert_eq!(id.short(), text[..10]);
    }

    #[test]
    fn bad_hex_is_refused() {
        let err = Err(InvalidHex { expected: 32 });
        assert_eq!("".parse::<NodeId>(), err);
        assert_eq!("ab".parse::<NodeId>(), err);
        assert_eq!("zz".repeat(32).parse::<NodeId>(), err);
        assert_eq!("0".repeat(65).parse::<NodeId>(), err);
    }

    #[test]
    fn node_key_debug_hides_the_secret() {
        let key = NodeKey::from_bytes(&[0xab; 32]);
        let printed = format!("{key:?}");
        assert!(printed.contains(&key.node_id().to_string()));
        assert!(!printed.contains("abababab"));
    }

    #[test]
    fn detached_signatures_verify_only_for_their_node_context_and_message() {
        let key = NodeKey::from_bytes(&[7; 32]);
        let other = NodeKey::from_bytes(&[8; 32]).node_id();
        let id = key.node_id();
        let sig = key.sign_detached(b"polku/test/v1\0", b"message");
        assert!(id.verify_detached(b"polku/test/v1\0", b"message", &sig));
        assert!(!id.verify_detached(b"polku/test/v1\0", b"messagf", &sig));
        assert!(!id.verify_detached(b"polku/other/v1\0", b"message", &sig));
        assert!(!other.verify_detached(b"polku/test/v1\0", b"message", &sig));
        // The audit entries' context is reserved.
        let audit = key.sign_detached(crate::wire::SIGNING_CONTEXT, b"message");
        assert!(!id.verify_detached(crate::wire::SIGNING_CONTEXT, b"message", &audit));
    }

    #[test]
    fn node_id_serde_is_hex_text() {
        let id = NodeKey::from_bytes(&[1; 32]).node_id();
        let text = id.to_string();
        let v = serde::de::value::StrDeserializer::<serde::de::value::Error>::new(&text);
        let back: NodeId = serde::Deserialize::deserialize(v).expect("hex node id");
        assert_eq!(back, id);
    }
}
