//! Password records (salasanatiedot) and the node's key-derivation policy.
//!
//! Who can unlock what (DESIGN.md, security model): a laptop's store opens with
//! the passwords of the users who work on it; the hub's store holds every
//! client, so only administrators hold a wrapping of its key there. Every other
//! user is checked on the hub (at enrolment) against a [`Credential`]: a sealed
//! [`PasswordVerifier`] (argon2id parameters, salt and the public half of the
//! password-derived key), which opens nothing.
//!
//! A temporary password (a new user, or a reset by an administrator) must be
//! changed at the first login anywhere, joining included, and stops working
//! [`TEMPORARY_PASSWORD_HOURS`] after it was set.

use chrono::{DateTime, Duration, Utc};
use polku_core::UserId;
use polku_store::{Batch, KdfParams, PasswordVerifier, Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::{ApiError, Result};

/// How long a temporary password works.
pub const TEMPORARY_PASSWORD_HOURS: i64 = 72;

/// Sealed slot prefix: a user's credential. Do not change.
const CREDENTIAL_META: &[u8] = b"polku/credential/v1/";
/// Sealed slot prefix: a local login that must change its password, with the
/// time its temporary password expires. Do not change.
const MUST_CHANGE_META: &[u8] = b"polku/must-change-password/v1/";
/// Sealed slot: the argon2id parameters this node uses for new wrappings and
/// verifiers, and the least it accepts from a peer. Do not change.
const KDF_META: &[u8] = b"polku/kdf-policy/v1";

/// A user's password record.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Credential {
    /// What checks the password.
    pub verifier: PasswordVerifier,
    /// A temporary password that must be changed at the first login.
    pub temporary: bool,
    /// When a temporary password stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the password was set.
    pub set_at: DateTime<Utc>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("temporary", &self.temporary)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// A temporary password set at `now`.
    pub fn temporary(verifier: PasswordVerifier, now: DateTime<Utc>) -> Credential {
        Credential {
            verifier,
            temporary: true,
            expires_at: Some(now + Duration::hours(TEMPORARY_PASSWORD_HOURS)),
            set_at: now,
        }
    }

    /// A password the user chose at `now`.
    pub fn chosen(verifier: PasswordVerifier, now: DateTime<Utc>) -> Credential {
        Credential {
            verifier,
            temporary: false,
            expires_at: None,
            set_at: now,
        }
    }

    /// Whether a temporary password has expired at `now`.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|t| now >= t)
    }
}

fn slot(prefix: &[u8], user: UserId) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(user.as_bytes());
    k
}

/// `user`'s credential on this node.
pub(crate) fn credential(store: &Store, user: UserId) -> Result<Option<Credential>> {
    store
        .get_meta(&slot(CREDENTIAL_META, user))?
        .map(|b| {
            postcard::from_bytes(&b).map_err(|_| {
                ApiError::Store(StoreError::Corrupt {
                    what: "password record",
                })
            })
        })
        .transpose()
}

/// Store `user`'s credential (inside the caller's transaction).
pub(crate) fn put_credential(
    b: &Batch<'_>,
    user: UserId,
    c: &Credential,
) -> polku_store::Result<()> {
    let bytes = postcard::to_allocvec(c).map_err(|_| StoreError::InvalidInput {
        what: "password record",
    })?;
    b.put_meta(&slot(CREDENTIAL_META, user), &bytes)
}

/// Whether a local login must change its password, and until when its
/// temporary password works (`None` inside: no expiry recorded).
pub(crate) fn must_change(store: &Store, user: UserId) -> Result<Option<Option<DateTime<Utc>>>> {
    let Some(v) = store.get_meta(&slot(MUST_CHANGE_META, user))? else {
        return Ok(None);
    };
    // Stores made before expiry existed hold a single byte.
    let expires = <[u8; 8]>::try_from(v.as_slice())
        .ok()
        .and_then(|b| DateTime::from_timestamp(i64::from_le_bytes(b), 0));
    Ok(Some(expires))
}

/// Mark a local login as having to change its temporary password, which
/// expires at `expires_at`.
pub(crate) fn put_must_change(
    b: &Batch<'_>,
    user: UserId,
    expires_at: DateTime<Utc>,
) -> polku_store::Result<()> {
    b.put_meta(
        &slot(MUST_CHANGE_META, user),
        &expires_at.timestamp().to_le_bytes(),
    )
}

/// Clear the mark of [`put_must_change`].
pub(crate) fn clear_must_change(b: &Batch<'_>, user: UserId) -> polku_store::Result<()> {
    b.delete_meta(&slot(MUST_CHANGE_META, user)).map(|_| ())
}

/// The argon2id parameters of this node (set when the store was made;
/// RFC 9106's second option unless a test chose cheaper ones).
pub(crate) fn kdf_policy(store: &Store) -> Result<KdfParams> {
    Ok(store
        .get_meta(KDF_META)?
        .and_then(|b| postcard::from_bytes(&b).ok())
        .unwrap_or_default())
}

/// Record this node's argon2id parameters.
pub(crate) fn put_kdf_policy(b: &Batch<'_>, kdf: &KdfParams) -> polku_store::Result<()> {
    let bytes = postcard::to_allocvec(kdf).map_err(|_| StoreError::InvalidInput {
        what: "key derivation parameters",
    })?;
    b.put_meta(KDF_META, &bytes)
}

/// Whether a verifier made elsewhere is at least as costly to attack as this
/// node's policy (a peer must not weaken what protects a password).
pub(crate) fn strong_enough(verifier: &PasswordVerifier, policy: &KdfParams) -> bool {
    verifier.params.m_cost_kib >= policy.m_cost_kib
        && verifier.params.t_cost >= policy.t_cost
        && verifier.params.p_cost >= 1
}

/// Check a new password against the policy (length, common passwords).
pub(crate) fn check_policy(password: &str) -> Result<()> {
    polku_core::password::check_password_policy(password).map_err(ApiError::PasswordRejected)
}
