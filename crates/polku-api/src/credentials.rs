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
use polku_core::doc::credential;
use polku_core::{DocId, DocKind, UserId};
use polku_store::{Batch, KdfParams, PasswordVerifier, Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::meta_keys::{APPLIED_META, KDF_META, MUST_CHANGE_META};
use crate::{ApiError, Result};

/// How long a temporary password works.
pub const TEMPORARY_PASSWORD_HOURS: i64 = 72;

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

fn decode(bytes: &[u8]) -> Option<Credential> {
    postcard::from_bytes(bytes).ok()
}

/// The newest of a credential document's records (several after two devices
/// changed the password at once: the one set last wins, everywhere alike).
pub(crate) fn newest(doc: &automerge::AutoCommit) -> Option<Credential> {
    credential::records(doc)
        .iter()
        .filter_map(|b| decode(b))
        .max_by(|a, b| (a.set_at, &a.verifier.recipient).cmp(&(b.set_at, &b.verifier.recipient)))
}

/// `user`'s credential on this node (from their credential document).
pub(crate) fn credential(store: &Store, user: UserId) -> Result<Option<Credential>> {
    match store.load_doc(credential::credential_doc_id(user)) {
        Ok(doc) => Ok(newest(&doc)),
        Err(StoreError::DocNotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A credential write prepared outside the transaction (the document is
/// loaded and changed in memory), applied inside it with [`CredentialWrite::apply`].
pub(crate) struct CredentialWrite {
    id: DocId,
    user: UserId,
    set_at: DateTime<Utc>,
    /// A new document's full save, or the change to an existing one.
    bytes: Vec<u8>,
    heads: Option<Vec<automerge::ChangeHash>>,
}

impl std::fmt::Debug for CredentialWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialWrite(..)")
    }
}

/// Prepare writing `c` as `user`'s credential.
pub(crate) fn prepare(store: &Store, user: UserId, c: &Credential) -> Result<CredentialWrite> {
    let record = postcard::to_allocvec(c).map_err(|_| ApiError::Invalid("password record"))?;
    let id = credential::credential_doc_id(user);
    match store.load_doc(id) {
        Ok(mut doc) => {
            let before = doc.get_heads();
            credential::set_record(&mut doc, &record)
                .map_err(|_| ApiError::Invalid("password record"))?;
            let bytes = doc.save_after(&before);
            Ok(CredentialWrite {
                id,
                user,
                set_at: c.set_at,
                bytes,
                heads: Some(doc.get_heads()),
            })
        }
        Err(StoreError::DocNotFound(_)) => {
            let mut doc = credential::new_credential_doc(user, &record);
            Ok(CredentialWrite {
                id,
                user,
                set_at: c.set_at,
                bytes: doc.save(),
                heads: None,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Write the first credential of `user` (a store being made: no document yet).
pub(crate) fn write_new(b: &Batch<'_>, user: UserId, c: &Credential) -> polku_store::Result<()> {
    let record = postcard::to_allocvec(c).map_err(|_| StoreError::InvalidInput {
        what: "password record",
    })?;
    let mut doc = credential::new_credential_doc(user, &record);
    b.create_doc(
        credential::credential_doc_id(user),
        DocKind::Credential,
        &doc.save(),
    )?;
    mark_applied(b, user, c.set_at)
}

impl CredentialWrite {
    /// Write it (inside the caller's transaction), and remember it as the
    /// record this node's login of the user follows.
    pub(crate) fn apply(&self, b: &Batch<'_>) -> polku_store::Result<()> {
        match &self.heads {
            None => {
                b.create_doc(self.id, DocKind::Credential, &self.bytes)?;
            }
            Some(heads) => {
                b.append_change(self.id, &self.bytes, heads)?;
            }
        }
        mark_applied(b, self.user, self.set_at)
    }
}

/// When the credential a local login follows was set.
pub(crate) fn applied_at(store: &Store, user: UserId) -> Result<Option<DateTime<Utc>>> {
    Ok(store
        .get_meta(&slot(APPLIED_META, user))?
        .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
        .and_then(|b| DateTime::from_timestamp_micros(i64::from_le_bytes(b))))
}

fn mark_applied(b: &Batch<'_>, user: UserId, set_at: DateTime<Utc>) -> polku_store::Result<()> {
    b.put_meta(
        &slot(APPLIED_META, user),
        &set_at.timestamp_micros().to_le_bytes(),
    )
}

/// A credential document of `user` arrived from a peer: when it is newer
/// than what this node's login of the user follows, re-wrap that login to
/// it (so the new password opens this device and the old one no longer does),
/// and mark or clear the temporary-password flag. `keep_login` says whether
/// the user keeps a login here at all (on the hub: an active administrator);
/// without one nothing is written.
pub(crate) fn follow(
    store: &Store,
    user: &polku_core::model::User,
    keep_login: bool,
) -> Result<bool> {
    let Some(c) = credential(store, user.id)? else {
        return Ok(false);
    };
    if applied_at(store, user.id)?.is_some_and(|t| t >= c.set_at) {
        return Ok(false);
    }
    let has_login = store.list_users()?.iter().any(|l| l.user_id == user.id);
    if !keep_login || !has_login {
        return Ok(false);
    }
    store.batch(|b| {
        b.set_login(user.id, &user.login, &c.verifier)?;
        match (c.temporary, c.expires_at) {
            (true, Some(t)) => put_must_change(b, user.id, t)?,
            _ => clear_must_change(b, user.id)?,
        }
        mark_applied(b, user.id, c.set_at)
    })?;
    Ok(true)
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
    !verifier.params.weaker_than(policy)
}

/// Check a new password against the policy (length, common passwords).
pub(crate) fn check_policy(password: &str) -> Result<()> {
    polku_core::password::check_password_policy(password).map_err(ApiError::PasswordRejected)
}
