//! Local logins: the store key wrapped once per user.
//!
//! A login name is never stored in plaintext: rows are found by a keyed hash
//! of the normalised name (`users.lookup`, keyed with a per-store random
//! salt) and the name itself is sealed under the data key, readable only
//! once the store is unlocked. Note that the salt must be readable before
//! unlock, so someone holding the file can still test guessed names against
//! the lookup hash; the name is a selector, the password is the secret.
//!
//! # Failed logins and backoff (schema v4)
//!
//! A failed login happens before unlock, when no key is available, so it
//! cannot be written to the signed audit chain at once. It is recorded in
//! `auth_failures` with only a time, the random user id (none for an unknown
//! login name) and an [`AuthFailureReason`]. After the next successful
//! unlock the API layer folds these rows into the audit chain and deletes
//! them ([`Batch::delete_auth_failures`]); so the rows present are the
//! consecutive failures since the last successful login.
//!
//! From the fifth consecutive failure on, [`crate::LockedStore::derive_key_at`]
//! refuses attempts for `min(2^(n-5), 300)` seconds after the last failure
//! (`n` failures) with [`StoreError::TooManyAttempts`], without running
//! argon2id. Refused ("throttled") attempts are recorded too, but neither
//! count as failures nor restart the wait: retrying impatiently never locks
//! anyone out for longer. If the clock has moved back (the last failure lies
//! in the future), the wait is counted from the first refused attempt
//! instead, so nobody is locked out for longer than five minutes.
//!
//! This slows down guessing through the program only; someone holding the
//! file can run argon2id offline. The stored KDF parameters are the defence
//! there.

use chrono::{DateTime, Utc};
use polku_core::UserId;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use uuid::Uuid;

use crate::Store;
use crate::crypto::{self, RowRef, Slot, StoreKeys};
use crate::docs::Batch;
use crate::error::{Result, StoreError};
use crate::kdf::{
    KDF_ARGON2ID_V13_X25519, KdfParams, Kek, PasswordIdentity, PasswordVerifier, wrap_to_recipient,
};

/// A login to add to a store.
#[derive(Clone, Copy)]
pub struct NewUser<'a> {
    /// The organisation's id of the user (from the organisation document).
    pub user_id: UserId,
    /// Login name; matched case-insensitively with whitespace collapsed.
    pub login: &'a str,
    /// Password.
    pub password: &'a str,
    /// argon2id parameters for this user's wrapping. Use
    /// `KdfParams::default()` for real users.
    pub kdf: KdfParams,
}

impl std::fmt::Debug for NewUser<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("user_id", &self.user_id)
            .field("kdf", &self.kdf)
            .finish_non_exhaustive()
    }
}

/// A local login as listed by [`Store::list_users`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalUser {
    /// The organisation's id of the user.
    pub user_id: UserId,
    /// The login name as given when it was added (decrypted).
    pub login: String,
    /// The argon2id parameters of this user's wrapping.
    pub kdf: KdfParams,
}

/// A user's wrapping as read before unlock.
pub(crate) struct Wrapping {
    pub user_id: UserId,
    /// [`KDF_ARGON2ID_V13`] or [`KDF_ARGON2ID_V13_X25519`].
    pub alg: i64,
    pub params: KdfParams,
    pub salt: Vec<u8>,
    pub wrapped: Vec<u8>,
}

/// Why a login failed. The codes are stored in `auth_failures.reason`:
/// do not change them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthFailureReason {
    /// Code 1: the password did not open the user's key.
    WrongPassword,
    /// Code 2: no local login with that name (the name is not recorded).
    UnknownUser,
    /// Code 3: refused without checking the password (too many failures).
    Throttled,
}

impl AuthFailureReason {
    /// The stored code (1 wrong password, 2 unknown user, 3 throttled).
    pub fn code(self) -> u8 {
        match self {
            AuthFailureReason::WrongPassword => 1,
            AuthFailureReason::UnknownUser => 2,
            AuthFailureReason::Throttled => 3,
        }
    }

    /// The reason for a stored code.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(AuthFailureReason::WrongPassword),
            2 => Some(AuthFailureReason::UnknownUser),
            3 => Some(AuthFailureReason::Throttled),
            _ => None,
        }
    }
}

/// A failed login recorded before unlock (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthFailure {
    /// Row id, increasing; pass the last one folded into the audit chain to
    /// [`Batch::delete_auth_failures`].
    pub id: i64,
    /// When it happened (this device's clock, millisecond precision).
    pub time: DateTime<Utc>,
    /// The user whose password was wrong; `None` for an unknown login name.
    pub user_id: Option<UserId>,
    /// What failed.
    pub reason: AuthFailureReason,
}

/// Failures allowed before the backoff starts.
const BACKOFF_FREE_FAILURES: u64 = 5;
/// Longest wait between attempts, in seconds.
pub(crate) const BACKOFF_CAP_SECS: u64 = 300;

/// The wait after `failures` consecutive failures: none below five, then
/// 1, 2, 4, … seconds, at most [`BACKOFF_CAP_SECS`].
pub(crate) fn backoff_secs(failures: u64) -> Option<u64> {
    let exp = failures.checked_sub(BACKOFF_FREE_FAILURES)?;
    Some(if exp >= 9 {
        BACKOFF_CAP_SECS
    } else {
        (1u64 << exp).min(BACKOFF_CAP_SECS)
    })
}

/// Whether a login attempt at `now` must be refused; `Some(seconds to
/// wait)` if so. Reads only (see the module documentation for the rule).
pub(crate) fn backoff(conn: &Connection, now: DateTime<Utc>) -> Result<Option<u64>> {
    let real = [
        i64::from(AuthFailureReason::WrongPassword.code()),
        i64::from(AuthFailureReason::UnknownUser.code()),
    ];
    let failures: i64 = conn.query_row(
        "SELECT count(*) FROM auth_failures WHERE reason IN (?1, ?2)",
        real,
        |r| r.get(0),
    )?;
    let Some(wait) = backoff_secs(u64::try_from(failures).unwrap_or(0)) else {
        return Ok(None);
    };
    let now_ms = now.timestamp_millis();
    // The last failure, or (clock moved back) the first later refused
    // attempt that is not in the future.
    let anchor: Option<i64> = conn
        .query_row(
            "SELECT time_ms FROM auth_failures
             WHERE id >= (SELECT max(id) FROM auth_failures WHERE reason IN (?1, ?2))
               AND time_ms <= ?3
             ORDER BY id LIMIT 1",
            params![real[0], real[1], now_ms],
            |r| r.get(0),
        )
        .optional()?;
    let Some(anchor) = anchor else {
        // Every candidate lies in the future: count the wait from now.
        return Ok(Some(wait));
    };
    let until = anchor.saturating_add(i64::try_from(wait * 1000).unwrap_or(i64::MAX));
    if now_ms >= until {
        return Ok(None);
    }
    let remaining = u64::try_from(until - now_ms).unwrap_or(0);
    Ok(Some(remaining.div_ceil(1000).clamp(1, wait)))
}

/// The user id for a login's lookup hash, if the login exists.
pub(crate) fn user_by_lookup(conn: &Connection, lookup: &[u8; 32]) -> Result<Option<UserId>> {
    let raw: Option<Vec<u8>> = conn
        .query_row(
            "SELECT user_id FROM users WHERE lookup = ?1",
            [lookup.as_slice()],
            |r| r.get(0),
        )
        .optional()?;
    raw.map(|r| uid_from(&r)).transpose()
}

/// Record one failed login (its own autocommit transaction).
pub(crate) fn record_auth_failure(
    conn: &Connection,
    now: DateTime<Utc>,
    user_id: Option<UserId>,
    reason: AuthFailureReason,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO auth_failures (time_ms, user_id, reason) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![
        now.timestamp_millis(),
        user_id.as_ref().map(|u| u.as_bytes().as_slice()),
        i64::from(reason.code())
    ])?;
    Ok(())
}

fn uid_from(raw: &[u8]) -> Result<UserId> {
    Uuid::from_slice(raw)
        .map(UserId)
        .map_err(|_| StoreError::corrupt("user id"))
}

/// Find the wrapping for a login's lookup hash.
pub(crate) fn wrapping_by_lookup(conn: &Connection, lookup: &[u8; 32]) -> Result<Option<Wrapping>> {
    let row = conn
        .query_row(
            "SELECT user_id, kdf_alg, kdf_m_kib, kdf_t, kdf_p, kdf_salt, wrapped_key
             FROM users WHERE lookup = ?1",
            [lookup.as_slice()],
            |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Vec<u8>>(5)?,
                    r.get::<_, Vec<u8>>(6)?,
                ))
            },
        )
        .optional()?;
    row.map(|(uid, alg, m, t, p, salt, wrapped)| {
        Ok(Wrapping {
            user_id: uid_from(&uid)?,
            alg,
            params: KdfParams::from_row(alg, m, t, p)?,
            salt,
            wrapped,
        })
    })
    .transpose()
}

/// Parameters for the decoy derivation run for unknown logins: those of the
/// most expensive existing wrapping, so an unknown name costs no less time
/// than a known one.
pub(crate) fn decoy_params(conn: &Connection) -> Result<KdfParams> {
    let row = conn
        .query_row(
            "SELECT kdf_alg, kdf_m_kib, kdf_t, kdf_p FROM users
             ORDER BY kdf_m_kib * kdf_t DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    match row {
        Some((alg, m, t, p)) => KdfParams::from_row(alg, m, t, p),
        None => Ok(KdfParams::default()),
    }
}

fn check_password(password: &str) -> Result<()> {
    if password.is_empty() {
        return Err(StoreError::InvalidInput {
            what: "empty password",
        });
    }
    Ok(())
}

/// Insert a new login into `users`: a fresh verifier for the password (one
/// argon2id run), then the store identity wrapped to it.
pub(crate) fn insert_user(
    tx: &Transaction<'_>,
    keys: &StoreKeys,
    lookup_salt: &[u8; 32],
    new: &NewUser<'_>,
) -> Result<()> {
    check_password(new.password)?;
    let verifier = PasswordVerifier::create(new.password, new.kdf)?;
    put_login(
        tx,
        keys,
        lookup_salt,
        new.user_id,
        new.login,
        &verifier,
        false,
    )
}

fn lookup_salt_in(tx: &Transaction<'_>) -> Result<[u8; 32]> {
    let raw: Vec<u8> = tx.query_row(
        "SELECT value FROM store_meta WHERE key = 'lookup_salt'",
        [],
        |r| r.get(0),
    )?;
    raw.try_into()
        .map_err(|_| StoreError::corrupt("store metadata"))
}

/// Insert `user`'s login wrapped to `verifier`'s recipient; with `replace`,
/// an existing login of the same user is replaced (name and wrapping).
fn put_login(
    tx: &Transaction<'_>,
    keys: &StoreKeys,
    lookup_salt: &[u8; 32],
    user: UserId,
    login: &str,
    verifier: &PasswordVerifier,
    replace: bool,
) -> Result<()> {
    let lookup = crypto::login_lookup(lookup_salt, login)?;
    let uid = user.as_bytes();
    let exists: Option<Vec<u8>> = tx
        .query_row(
            "SELECT user_id FROM users WHERE (user_id = ?1 AND ?3 = 0) OR lookup = ?2",
            params![uid.as_slice(), lookup.as_slice(), i64::from(replace)],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(found) = exists {
        if found.as_slice() == uid.as_slice() {
            if !replace {
                return Err(StoreError::UserExists(user));
            }
        } else {
            return Err(StoreError::LoginTaken);
        }
    }
    let recipient = verifier.parsed_recipient()?;
    let wrapped = wrap_to_recipient(uid, &recipient, &keys.identity)?;
    let sealed_login = keys
        .seal
        .seal(RowRef::new(Slot::UserLogin, uid), login.trim().as_bytes())?;
    tx.execute(
        "INSERT INTO users (user_id, lookup, kdf_alg, kdf_m_kib, kdf_t, kdf_p, kdf_salt,
                            wrapped_key, login)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (user_id) DO UPDATE SET lookup = excluded.lookup,
             kdf_alg = excluded.kdf_alg, kdf_m_kib = excluded.kdf_m_kib,
             kdf_t = excluded.kdf_t, kdf_p = excluded.kdf_p, kdf_salt = excluded.kdf_salt,
             wrapped_key = excluded.wrapped_key, login = excluded.login",
        params![
            uid.as_slice(),
            lookup.as_slice(),
            KDF_ARGON2ID_V13_X25519,
            i64::from(verifier.params.m_cost_kib),
            i64::from(verifier.params.t_cost),
            i64::from(verifier.params.p_cost),
            verifier.salt.as_slice(),
            wrapped,
            sealed_login
        ],
    )?;
    Ok(())
}

/// Unwrap a stored wrapping with `password` (one argon2id run).
pub(crate) fn unwrap(w: &Wrapping, password: &str) -> Result<age::x25519::Identity> {
    let uid = w.user_id.as_bytes();
    if w.alg == KDF_ARGON2ID_V13_X25519 {
        PasswordIdentity::derive(password, &w.params, &w.salt)?.unwrap(uid, &w.wrapped)
    } else {
        let kek = Kek::derive(password, &w.params, &w.salt)?;
        kek.unwrap(uid, &w.params, &w.salt, &w.wrapped)
    }
}

impl Batch<'_> {
    /// Add a local login for `user` that opens with the password `verifier`
    /// was made from (no argon2id run: the store key is age-encrypted to the
    /// verifier's recipient). [`StoreError::UserExists`] or
    /// [`StoreError::LoginTaken`] if either is already there.
    pub fn add_login(&self, user: UserId, login: &str, verifier: &PasswordVerifier) -> Result<()> {
        let salt = lookup_salt_in(&self.tx)?;
        put_login(&self.tx, self.keys, &salt, user, login, verifier, false)
    }

    /// Add or replace `user`'s local login so that it opens with the password
    /// `verifier` was made from (a changed or reset password, a new admin).
    pub fn set_login(&self, user: UserId, login: &str, verifier: &PasswordVerifier) -> Result<()> {
        let salt = lookup_salt_in(&self.tx)?;
        put_login(&self.tx, self.keys, &salt, user, login, verifier, true)
    }

    /// Remove `user`'s local login (their wrapping of the store key); returns
    /// whether there was one. The last login cannot be removed
    /// ([`StoreError::LastUser`]): nobody could unlock the store again.
    pub fn remove_login(&self, user: UserId) -> Result<bool> {
        let count: i64 = self
            .tx
            .query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
        let present: i64 = self.tx.query_row(
            "SELECT count(*) FROM users WHERE user_id = ?1",
            [user.as_bytes().as_slice()],
            |r| r.get(0),
        )?;
        if present == 0 {
            return Ok(false);
        }
        if count <= 1 {
            return Err(StoreError::LastUser);
        }
        self.tx.execute(
            "DELETE FROM users WHERE user_id = ?1",
            [user.as_bytes().as_slice()],
        )?;
        Ok(true)
    }

    /// Whether `user` has a local login on this store.
    pub fn has_login(&self, user: UserId) -> Result<bool> {
        let n: i64 = self.tx.query_row(
            "SELECT count(*) FROM users WHERE user_id = ?1",
            [user.as_bytes().as_slice()],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }

    /// Delete the recorded failed logins with an id up to and including
    /// `up_to_id` (once they are folded into the audit chain). Failures
    /// recorded meanwhile (higher ids) are kept. Returns how many were
    /// deleted. Deleting them resets the login backoff.
    pub fn delete_auth_failures(&self, up_to_id: i64) -> Result<u64> {
        let n = self
            .tx
            .prepare_cached("DELETE FROM auth_failures WHERE id <= ?1")?
            .execute([up_to_id])?;
        Ok(n as u64)
    }
}

impl Store {
    /// The failed logins recorded since they were last deleted, oldest
    /// first.
    pub fn auth_failures(&self) -> Result<Vec<AuthFailure>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, time_ms, user_id, reason FROM auth_failures ORDER BY id")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let bad = || StoreError::corrupt("failed login record");
            let time = DateTime::from_timestamp_millis(r.get(1)?).ok_or_else(bad)?;
            let user_id = r
                .get::<_, Option<Vec<u8>>>(2)?
                .map(|raw| uid_from(&raw))
                .transpose()?;
            let reason = u8::try_from(r.get::<_, i64>(3)?)
                .ok()
                .and_then(AuthFailureReason::from_code)
                .ok_or_else(bad)?;
            out.push(AuthFailure {
                id: r.get(0)?,
                time,
                user_id,
                reason,
            });
        }
        Ok(out)
    }

    /// Delete failed logins up to `up_to_id`. See
    /// [`Batch::delete_auth_failures`].
    pub fn delete_auth_failures(&self, up_to_id: i64) -> Result<u64> {
        self.batch(|b| b.delete_auth_failures(up_to_id))
    }

    fn lookup_salt(&self) -> Result<[u8; 32]> {
        let raw: Vec<u8> = self.conn.query_row(
            "SELECT value FROM store_meta WHERE key = 'lookup_salt'",
            [],
            |r| r.get(0),
        )?;
        raw.try_into()
            .map_err(|_| StoreError::corrupt("store metadata"))
    }

    /// Add a local login (the store must be unlocked, which it is by
    /// construction). Permission checks are the caller's job.
    pub fn add_user(&self, new: NewUser<'_>) -> Result<()> {
        let salt = self.lookup_salt()?;
        let tx = self.write_tx()?;
        insert_user(&tx, &self.keys, &salt, &new)?;
        tx.commit()?;
        Ok(())
    }

    /// Re-wrap `user`'s store key under a new password and (possibly
    /// raised) parameters, with a fresh salt. Permission checks (e.g. asking
    /// for the old password) are the caller's job.
    pub fn change_password(&self, user: UserId, new_password: &str, kdf: KdfParams) -> Result<()> {
        check_password(new_password)?;
        let verifier = PasswordVerifier::create(new_password, kdf)?;
        let login = self
            .list_users()?
            .into_iter()
            .find(|u| u.user_id == user)
            .ok_or(StoreError::UserNotFound(user))?
            .login;
        self.batch(|b| b.set_login(user, &login, &verifier))
    }

    /// Remove `user`'s local login (their wrapping of the store key). The
    /// last login cannot be removed: nobody could unlock the store again.
    pub fn remove_user(&self, user: UserId) -> Result<()> {
        let tx = self.write_tx()?;
        let count: i64 = tx.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
        let n = tx.execute(
            "DELETE FROM users WHERE user_id = ?1",
            [user.as_bytes().as_slice()],
        )?;
        if n == 0 {
            return Err(StoreError::UserNotFound(user));
        }
        if count <= 1 {
            return Err(StoreError::LastUser);
        }
        tx.commit()?;
        Ok(())
    }

    /// All local logins with their decrypted names.
    pub fn list_users(&self) -> Result<Vec<LocalUser>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT user_id, kdf_alg, kdf_m_kib, kdf_t, kdf_p, login FROM users ORDER BY user_id",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let uid: Vec<u8> = r.get(0)?;
            let kdf = KdfParams::from_row(r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)?;
            let sealed: Vec<u8> = r.get(5)?;
            let plain = self.keys.seal.open(
                RowRef::new(Slot::UserLogin, &uid),
                &sealed,
                "user login name",
            )?;
            let login =
                String::from_utf8(plain).map_err(|_| StoreError::corrupt("user login name"))?;
            out.push(LocalUser {
                user_id: uid_from(&uid)?,
                login,
                kdf,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_fifth_failure_and_is_capped() {
        assert_eq!(backoff_secs(0), None);
        assert_eq!(backoff_secs(4), None);
        assert_eq!(backoff_secs(5), Some(1));
        assert_eq!(backoff_secs(6), Some(2));
        assert_eq!(backoff_secs(10), Some(32));
        assert_eq!(backoff_secs(13), Some(256));
        assert_eq!(backoff_secs(14), Some(300));
        assert_eq!(backoff_secs(u64::MAX), Some(300));
    }

    #[test]
    fn reason_codes_are_pinned() {
        for (r, c) in [
            (AuthFailureReason::WrongPassword, 1),
            (AuthFailureReason::UnknownUser, 2),
            (AuthFailureReason::Throttled, 3),
        ] {
            assert_eq!(r.code(), c);
            assert_eq!(AuthFailureReason::from_code(c), Some(r));
        }
        assert_eq!(AuthFailureReason::from_code(0), None);
        assert_eq!(AuthFailureReason::from_code(4), None);
    }
}
