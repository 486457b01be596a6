//! Local logins: the store key wrapped once per user.
//!
//! A login name is never stored in plaintext: rows are found by a keyed hash
//! of the normalised name (`users.lookup`, keyed with a per-store random
//! salt) and the name itself is sealed under the data key, readable only
//! once the store is unlocked. Note that the salt must be readable before
//! unlock, so someone holding the file can still test guessed names against
//! the lookup hash; the name is a selector, the password is the secret.

use polku_core::UserId;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use uuid::Uuid;

use crate::Store;
use crate::crypto::{self, RowRef, Slot, StoreKeys};
use crate::error::{Result, StoreError};
use crate::kdf::{KDF_ARGON2ID_V13, KdfParams, Kek, SALT_LEN};

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
    pub params: KdfParams,
    pub salt: Vec<u8>,
    pub wrapped: Vec<u8>,
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

/// Insert a new login into `users`.
pub(crate) fn insert_user(
    tx: &Transaction<'_>,
    keys: &StoreKeys,
    lookup_salt: &[u8; 32],
    new: &NewUser<'_>,
) -> Result<()> {
    check_password(new.password)?;
    let lookup = crypto::login_lookup(lookup_salt, new.login)?;
    let uid = new.user_id.as_bytes();
    let exists: Option<Vec<u8>> = tx
        .query_row(
            "SELECT user_id FROM users WHERE user_id = ?1 OR lookup = ?2",
            params![uid.as_slice(), lookup.as_slice()],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(found) = exists {
        return Err(if found.as_slice() == uid.as_slice() {
            StoreError::UserExists(new.user_id)
        } else {
            StoreError::LoginTaken
        });
    }
    let salt = crypto::random_bytes::<SALT_LEN>();
    let kek = Kek::derive(new.password, &new.kdf, &salt)?;
    let wrapped = kek.wrap(uid, &new.kdf, &salt, &keys.identity)?;
    let login = keys.seal.seal(
        RowRef::new(Slot::UserLogin, uid),
        new.login.trim().as_bytes(),
    )?;
    tx.execute(
        "INSERT INTO users (user_id, lookup, kdf_alg, kdf_m_kib, kdf_t, kdf_p, kdf_salt,
                            wrapped_key, login)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            uid.as_slice(),
            lookup.as_slice(),
            KDF_ARGON2ID_V13,
            i64::from(new.kdf.m_cost_kib),
            i64::from(new.kdf.t_cost),
            i64::from(new.kdf.p_cost),
            salt.as_slice(),
            wrapped,
            login
        ],
    )?;
    Ok(())
}

impl Store {
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
        let salt = crypto::random_bytes::<SALT_LEN>();
        let uid = user.as_bytes();
        let kek = Kek::derive(new_password, &kdf, &salt)?;
        let wrapped = kek.wrap(uid, &kdf, &salt, &self.keys.identity)?;
        let tx = self.write_tx()?;
        let n = tx.execute(
            "UPDATE users SET kdf_alg = ?2, kdf_m_kib = ?3, kdf_t = ?4, kdf_p = ?5,
                              kdf_salt = ?6, wrapped_key = ?7
             WHERE user_id = ?1",
            params![
                uid.as_slice(),
                KDF_ARGON2ID_V13,
                i64::from(kdf.m_cost_kib),
                i64::from(kdf.t_cost),
                i64::from(kdf.p_cost),
                salt.as_slice(),
                wrapped
            ],
        )?;
        if n == 0 {
            return Err(StoreError::UserNotFound(user));
        }
        tx.commit()?;
        Ok(())
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
