//! Password-based key derivation (argon2id) and wrapping of the store key.
//!
//! The parameters, the salt and an algorithm code are stored with every
//! wrapping (`users` table), so they can be raised later: re-wrap with
//! [`crate::Store::change_password`].

use std::cell::Cell;
use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use zeroize::Zeroizing;

use crate::crypto::{self, RowRef, SealKey, Slot};
use crate::error::{Result, StoreError};

/// Algorithm code stored in `users.kdf_alg`: argon2id, version 0x13, the
/// result used as a symmetric key that seals the store identity (stores made
/// before 2026-12; still read, re-wrapped at the next login). Do not change.
pub(crate) const KDF_ARGON2ID_V13: i64 = 1;
/// Algorithm code stored in `users.kdf_alg`: argon2id, version 0x13, the
/// result turned into an age X25519 identity; the store identity is
/// age-encrypted to its recipient (see [`PasswordVerifier`]). Do not change.
pub(crate) const KDF_ARGON2ID_V13_X25519: i64 = 2;
/// Length of the per-user random salt.
pub(crate) const SALT_LEN: usize = 16;

/// Upper bounds accepted from disk, so a tampered row cannot make unlock
/// allocate terabytes or spin forever.
const MAX_M_COST_KIB: u32 = 4 * 1024 * 1024;
const MAX_T_COST: u32 = 1_000;
const MAX_P_COST: u32 = 64;

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes (computed sequentially by argon2 0.6).
    pub p_cost: u32,
}

impl KdfParams {
    /// OWASP's minimum for argon2id: 19 MiB, t=2, p=1 (~43 ms here).
    pub const OWASP_MINIMUM: KdfParams = KdfParams {
        m_cost_kib: 19 * 1024,
        t_cost: 2,
        p_cost: 1,
    };

    /// RFC 9106's second recommended option: 64 MiB, t=3, p=4 (~165 ms here).
    /// The default.
    pub const RFC9106_LOW_MEMORY: KdfParams = KdfParams {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 4,
    };

    /// Cheap parameters for tests and fixtures only (64 KiB, t=1). Never use
    /// for real users: a password wrapped with these is easy to brute-force.
    pub const INSECURE_FOR_TESTS: KdfParams = KdfParams {
        m_cost_kib: 64,
        t_cost: 1,
        p_cost: 1,
    };

    /// Whether these parameters cost less than `other` in memory or passes
    /// (a wrapping with them is re-wrapped; a verifier with them is refused).
    pub fn weaker_than(&self, other: &KdfParams) -> bool {
        self.m_cost_kib < other.m_cost_kib || self.t_cost < other.t_cost
    }

    /// Whether these parameters are at least OWASP's minimum in every
    /// dimension that matters (memory and passes).
    pub fn meets_owasp_minimum(&self) -> bool {
        let o = Self::OWASP_MINIMUM;
        self.m_cost_kib >= o.m_cost_kib && self.t_cost >= o.t_cost && self.p_cost >= 1
    }

    fn check_bounds(&self) -> Result<Params> {
        if self.m_cost_kib > MAX_M_COST_KIB || self.t_cost > MAX_T_COST || self.p_cost > MAX_P_COST
        {
            return Err(StoreError::InvalidInput {
                what: "key derivation parameters out of range",
            });
        }
        Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32)).map_err(|_| {
            StoreError::InvalidInput {
                what: "key derivation parameters out of range",
            }
        })
    }

    /// Derive a 32-byte key from `password` and `salt` (the slow step of
    /// unlocking; exposed for benchmarks).
    pub fn derive(&self, password: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
        let params = self.check_bounds()?;
        TALLY.with(|t| {
            let before = t.get();
            t.set(KdfTally {
                count: before.count + 1,
                last: Some(*self),
            });
        });
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(password, salt, out.as_mut())
            .map_err(|_| StoreError::InvalidInput {
                what: "password or salt unusable for key derivation",
            })?;
        Ok(out)
    }

    /// The descriptor bound into a wrapping's associated data.
    pub(crate) fn descriptor(&self, salt: &[u8]) -> Vec<u8> {
        let mut d = Vec::with_capacity(13 + salt.len());
        d.push(KDF_ARGON2ID_V13 as u8);
        d.extend_from_slice(&self.m_cost_kib.to_le_bytes());
        d.extend_from_slice(&self.t_cost.to_le_bytes());
        d.extend_from_slice(&self.p_cost.to_le_bytes());
        d.extend_from_slice(salt);
        d
    }

    /// Read parameters from a `users` row, refusing unknown algorithms and
    /// absurd values as corruption.
    pub(crate) fn from_row(alg: i64, m: i64, t: i64, p: i64) -> Result<KdfParams> {
        let bad = || StoreError::corrupt("user key wrapping");
        if alg != KDF_ARGON2ID_V13 && alg != KDF_ARGON2ID_V13_X25519 {
            return Err(bad());
        }
        let params = KdfParams {
            m_cost_kib: u32::try_from(m).map_err(|_| bad())?,
            t_cost: u32::try_from(t).map_err(|_| bad())?,
            p_cost: u32::try_from(p).map_err(|_| bad())?,
        };
        params.check_bounds().map_err(|_| bad())?;
        Ok(params)
    }
}

impl Default for KdfParams {
    /// [`KdfParams::RFC9106_LOW_MEMORY`], above OWASP's minimum.
    fn default() -> Self {
        Self::RFC9106_LOW_MEMORY
    }
}

/// An age X25519 identity derived from a password: argon2id with the given
/// parameters and salt, then a BLAKE3 key derivation with its own context.
/// Its public half (the recipient) is what a [`PasswordVerifier`] keeps; the
/// store identity of a device is age-encrypted to it.
pub(crate) struct PasswordIdentity(age::x25519::Identity);

impl fmt::Debug for PasswordIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordIdentity(..)")
    }
}

impl PasswordIdentity {
    /// Derive (the slow step: one argon2id run).
    pub fn derive(password: &str, params: &KdfParams, salt: &[u8]) -> Result<PasswordIdentity> {
        let raw = params.derive(password.as_bytes(), salt)?;
        let secret = Zeroizing::new(blake3::derive_key(
            "polku 2026-12 password x25519 identity v1",
            raw.as_ref(),
        ));
        let hrp = bech32::Hrp::parse("age-secret-key-").map_err(|_| StoreError::InvalidInput {
            what: "key encoding",
        })?;
        let text = Zeroizing::new(
            bech32::encode::<bech32::Bech32>(hrp, secret.as_ref())
                .map_err(|_| StoreError::InvalidInput {
                    what: "key encoding",
                })?
                .to_uppercase(),
        );
        text.parse::<age::x25519::Identity>()
            .map(PasswordIdentity)
            .map_err(|_| StoreError::InvalidInput {
                what: "key encoding",
            })
    }

    /// The public half.
    pub fn recipient(&self) -> age::x25519::Recipient {
        self.0.to_public()
    }

    /// Decrypt a wrapping made by [`wrap_to_recipient`]; a failure means the
    /// password was wrong (or the row belongs to another user).
    pub fn unwrap(&self, user_id: &[u8; 16], wrapped: &[u8]) -> Result<age::x25519::Identity> {
        let plain =
            Zeroizing::new(age::decrypt(&self.0, wrapped).map_err(|_| StoreError::WrongPassword)?);
        let (uid, identity) = plain
            .split_at_checked(16)
            .ok_or(StoreError::WrongPassword)?;
        // Bound to its user: a row copied under another user's name fails.
        if uid != user_id.as_slice() {
            return Err(StoreError::WrongPassword);
        }
        crypto::identity_from_bytes(identity)
    }
}

/// Age-encrypt the store identity for `user_id` to a password's recipient.
pub(crate) fn wrap_to_recipient(
    user_id: &[u8; 16],
    recipient: &age::x25519::Recipient,
    identity: &age::x25519::Identity,
) -> Result<Vec<u8>> {
    let mut plain = Zeroizing::new(user_id.to_vec());
    plain.extend_from_slice(&crypto::identity_to_bytes(identity));
    age::encrypt(recipient, &plain).map_err(|_| StoreError::InvalidInput {
        what: "cannot wrap the store key",
    })
}

/// What a node keeps to check a user's password without holding a key that
/// the password unlocks: the argon2id parameters and salt, and the public
/// half of the [`PasswordIdentity`] they derive. Checking costs one argon2id
/// run, like a login; guessing offline costs the same per guess. A device (or
/// the hub, for an administrator) can also wrap its store key to the
/// recipient without knowing the password, so that exactly this password
/// opens it.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PasswordVerifier {
    /// argon2id parameters.
    pub params: KdfParams,
    /// Random salt.
    pub salt: [u8; SALT_LEN],
    /// The age recipient (`age1…`) derived from the password.
    pub recipient: String,
}

impl fmt::Debug for PasswordVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordVerifier")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl PasswordVerifier {
    /// A verifier for `password` with a fresh salt (one argon2id run).
    pub fn create(password: &str, params: KdfParams) -> Result<PasswordVerifier> {
        if password.is_empty() {
            return Err(StoreError::InvalidInput {
                what: "empty password",
            });
        }
        let salt = crypto::random_bytes::<SALT_LEN>();
        let id = PasswordIdentity::derive(password, &params, &salt)?;
        Ok(PasswordVerifier {
            params,
            salt,
            recipient: id.recipient().to_string(),
        })
    }

    /// Whether `password` is the one this verifier was made from (one
    /// argon2id run; the comparison takes the same time for every password).
    pub fn verify(&self, password: &str) -> Result<bool> {
        let id = PasswordIdentity::derive(password, &self.params, &self.salt)?;
        let got = blake3::hash(id.recipient().to_string().as_bytes());
        // blake3::Hash compares in constant time.
        Ok(got == blake3::hash(self.recipient.as_bytes()))
    }

    pub(crate) fn parsed_recipient(&self) -> Result<age::x25519::Recipient> {
        self.recipient
            .parse()
            .map_err(|_| StoreError::InvalidInput {
                what: "password verifier",
            })
    }
}

/// How many argon2id derivations ran on one thread, and with which
/// parameters the last one ran: lets tests prove that a path runs (or
/// skips) the slow step without measuring time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KdfTally {
    /// Derivations started on this thread so far.
    pub count: u64,
    /// Parameters of the last derivation.
    pub last: Option<KdfParams>,
}

impl KdfTally {
    /// The tally of the calling thread (argon2 runs on the calling thread).
    pub fn this_thread() -> KdfTally {
        TALLY.with(Cell::get)
    }
}

thread_local! {
    static TALLY: Cell<KdfTally> = const {
        Cell::new(KdfTally {
            count: 0,
            last: None,
        })
    };
}

/// A key derived from a password, ready to unwrap the store key.
pub(crate) struct Kek(Zeroizing<[u8; 32]>);

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Kek(..)")
    }
}

impl Kek {
    pub fn derive(password: &str, params: &KdfParams, salt: &[u8]) -> Result<Kek> {
        params.derive(password.as_bytes(), salt).map(Kek)
    }

    fn row<'a>(user_id: &'a [u8], descriptor: &'a [u8]) -> RowRef<'a> {
        RowRef::new(Slot::UserWrap, user_id).extra(descriptor)
    }

    /// Wrap the store identity for one user (the legacy format; new
    /// wrappings are age-encrypted to a [`PasswordIdentity`]).
    #[cfg(test)]
    pub fn wrap(
        &self,
        user_id: &[u8; 16],
        params: &KdfParams,
        salt: &[u8],
        identity: &age::x25519::Identity,
    ) -> Result<Vec<u8>> {
        let desc = params.descriptor(salt);
        let plain = crypto::identity_to_bytes(identity);
        SealKey::new(&self.0).seal(Self::row(user_id, &desc), &plain)
    }

    /// Unwrap the store identity; a failed tag means the password was wrong.
    pub fn unwrap(
        &self,
        user_id: &[u8; 16],
        params: &KdfParams,
        salt: &[u8],
        wrapped: &[u8],
    ) -> Result<age::x25519::Identity> {
        let desc = params.descriptor(salt);
        let plain = SealKey::new(&self.0)
            .open(Self::row(user_id, &desc), wrapped, "user key wrapping")
            .map(Zeroizing::new)
            .map_err(|_| StoreError::WrongPassword)?;
        crypto::identity_from_bytes(&plain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_at_least_owasp() {
        assert!(KdfParams::default().meets_owasp_minimum());
        assert!(KdfParams::OWASP_MINIMUM.meets_owasp_minimum());
        assert!(!KdfParams::INSECURE_FOR_TESTS.meets_owasp_minimum());
    }

    #[test]
    fn derive_depends_on_every_input() {
        let p = KdfParams::INSECURE_FOR_TESTS;
        let salt = [3u8; SALT_LEN];
        let a = p.derive(b"pw", &salt).expect("a");
        assert_eq!(*a, *p.derive(b"pw", &salt).expect("same"));
        assert_ne!(*a, *p.derive(b"pW", &salt).expect("pw"));
        assert_ne!(*a, *p.derive(b"pw", &[4u8; SALT_LEN]).expect("salt"));
        let p2 = KdfParams { t_cost: 2, ..p };
        assert_ne!(*a, *p2.derive(b"pw", &salt).expect("t"));
    }

    #[test]
    fn absurd_stored_params_are_corrupt() {
        assert!(KdfParams::from_row(1, 64, 1, 1).is_ok());
        assert!(KdfParams::from_row(2, 64, 1, 1).is_ok());
        assert!(KdfParams::from_row(3, 64, 1, 1).is_err());
        assert!(KdfParams::from_row(1, i64::MAX, 1, 1).is_err());
        assert!(KdfParams::from_row(1, 64, 0, 1).is_err());
        assert!(KdfParams::from_row(1, 64, 1, 1_000_000).is_err());
    }

    #[test]
    fn wrap_unwrap_and_wrong_password() {
        let p = KdfParams::INSECURE_FOR_TESTS;
        let salt = [5u8; SALT_LEN];
        let uid = [9u8; 16];
        let id = age::x25519::Identity::generate();
        let kek = Kek::derive("correct horse", &p, &salt).expect("kek");
        let wrapped = kek.wrap(&uid, &p, &salt, &id).expect("wrap");
        let back = kek.unwrap(&uid, &p, &salt, &wrapped).expect("unwrap");
        assert_eq!(back.to_public().to_string(), id.to_public().to_string());
        let wrong = Kek::derive("wrong", &p, &salt).expect("kek");
        assert!(matches!(
            wrong.unwrap(&uid, &p, &salt, &wrapped),
            Err(StoreError::WrongPassword)
        ));
        // Parameters are bound: a row claiming other parameters fails.
        let p2 = KdfParams { t_cost: 2, ..p };
        assert!(kek.unwrap(&uid, &p2, &salt, &wrapped).is_err());
    }
}
