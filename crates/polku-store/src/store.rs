//! Creating, opening, unlocking and closing a store.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use polku_core::UserId;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::anchor::{self, ANCHOR_SINCE};
use crate::crypto::{self, StoreKeys};
use crate::docs::Batch;
use crate::error::{Result, StoreError};
use crate::kdf::{KdfParams, PasswordIdentity};
use crate::schema::{self, FORMAT_MARKER, SCHEMA_VERSION};
use crate::users::{self, AuthFailureReason, NewUser};

/// Name of the database file inside a store directory.
pub const DB_FILE: &str = "polku.db";
/// Name of the attachment directory inside a store directory.
pub const ATTACHMENTS_DIR: &str = "attachments";

// `store_meta` keys. Do not change.
const META_FORMAT: &str = "format";
const META_STORE_ID: &str = "store_id";
const META_LOOKUP_SALT: &str = "lookup_salt";
const META_DATA_KEY: &str = "data_key";
/// First schema version with `auth_failures`.
const AUTH_FAILURES_SINCE: u32 = 4;

/// An unlocked store: the database connection plus the decrypted keys.
///
/// Not `Sync` (one SQLite connection); wrap it in a `Mutex` to share it.
/// Keys are zeroized when the store is dropped.
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) dir: PathBuf,
    pub(crate) keys: StoreKeys,
    user: UserId,
    /// Write transactions of this connection that changed a mutable row
    /// (documents, index entries, views, sync bookkeeping): see
    /// [`Store::write_mark`].
    pub(crate) own_writes: std::cell::Cell<u64>,
}

/// Where the store's mutable rows stand: two equal marks mean no document,
/// index entry, view or sync bookkeeping row changed in between, through
/// this connection or any other (another process included). A cache of
/// what those rows say (a hub's document sets) is valid while the mark is
/// the same. Audit entries and settings are not covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteMark {
    /// SQLite's `data_version`: moves when another connection commits.
    foreign: i64,
    /// This connection's write transactions that changed a mutable row.
    own: u64,
}

impl WriteMark {
    /// Whether `after` is this mark moved by exactly one write transaction
    /// of this connection (and nothing else).
    pub fn one_own_write_before(&self, after: &WriteMark) -> bool {
        after.foreign == self.foreign && after.own == self.own + 1
    }

    /// Whether no other connection wrote between this mark and `later`.
    pub fn same_foreign(&self, later: &WriteMark) -> bool {
        later.foreign == self.foreign
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// How long each step of [`Store::unlock_timed`] took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnlockTimings {
    /// Opening and checking the database file.
    pub open: Duration,
    /// argon2id key derivation (dominant by design) and unwrapping the
    /// store key with it, i.e. checking the password.
    pub kdf: Duration,
    /// age-decrypting the data key.
    pub unwrap: Duration,
    /// Schema migration (short when already current) and the rollback
    /// check of the mutable rows (`src/anchor.rs`).
    pub migrate: Duration,
}

/// A store opened and checked but not yet unlocked. Lets callers (and
/// benchmarks) run the expensive key derivation separately from the rest.
pub struct LockedStore {
    conn: Connection,
    dir: PathBuf,
    version: u32,
    lookup_salt: [u8; 32],
}

impl fmt::Debug for LockedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockedStore")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// The result of [`LockedStore::derive_key`]: the store key, unwrapped with
/// the user's password (so the password was right).
pub struct DerivedKey {
    user_id: UserId,
    identity: age::x25519::Identity,
    params: KdfParams,
    legacy: bool,
}

impl DerivedKey {
    /// The parameters of the wrapping that opened, and whether it is in the
    /// legacy format: the caller re-wraps an old or weak one once the store
    /// is unlocked ([`Store::change_password`] with the same password).
    pub fn wrapping(&self) -> (KdfParams, bool) {
        (self.params, self.legacy)
    }
}

impl fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DerivedKey")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// How often a busy WAL checkpoint is tried, and how long between tries (up
/// to five seconds in all).
const CHECKPOINT_ATTEMPTS: u32 = 250;
const CHECKPOINT_RETRY: Duration = Duration::from_millis(20);

impl LockedStore {
    /// Open the store in `dir` and check it: [`StoreError::NotAStore`] for a
    /// missing or foreign file, [`StoreError::Corrupt`] for a damaged one,
    /// [`StoreError::NewerSchema`] for one written by a newer Polku. Writes
    /// nothing.
    pub fn open(dir: impl AsRef<Path>) -> Result<LockedStore> {
        #[cfg(any(
            feature = "tamper",
            feature = "fault-injection",
            feature = "bench-internals"
        ))]
        std::hint::black_box(&crate::TEST_ONLY_MARKER);
        let dir = dir.as_ref().to_path_buf();
        let conn = schema::open_existing(&dir.join(DB_FILE))?;
        let version = schema::check_store(&conn)?;
        let salt: Vec<u8> = conn
            .query_row(
                "SELECT value FROM store_meta WHERE key = ?1",
                [META_LOOKUP_SALT],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::corrupt("store metadata"))?;
        let lookup_salt = salt
            .try_into()
            .map_err(|_| StoreError::corrupt("store metadata"))?;
        Ok(LockedStore {
            conn,
            dir,
            version,
            lookup_salt,
        })
    }

    /// The schema version on disk (before any migration).
    pub fn schema_version(&self) -> u32 {
        self.version
    }

    /// [`LockedStore::derive_key_at`] at the current time.
    pub fn derive_key(&self, login: &str, password: &str) -> Result<DerivedKey> {
        self.derive_key_at(login, password, Utc::now())
    }

    /// Check `login`'s password at time `now`: run argon2id with the user's
    /// stored parameters and unwrap the store key with the result.
    ///
    /// * [`StoreError::WrongPassword`]: the key does not open.
    /// * [`StoreError::UnknownUser`]: no such login. argon2id still runs
    ///   (with the parameters of an existing user) so that timing does not
    ///   reveal which logins exist.
    /// * [`StoreError::TooManyAttempts`]: refused without running argon2id.
    ///   After `n >= 5` consecutive failed logins (the wrong-password and
    ///   unknown-user rows in `auth_failures`, deleted by the API layer after
    ///   a successful login) the next attempt is allowed only
    ///   `min(2^(n-5), 300)` seconds after the last failure. Refused
    ///   attempts neither count nor restart the wait. If the last failure
    ///   lies in the future (the clock moved back), the wait counts from the
    ///   first refused attempt instead: never more than five minutes.
    ///
    /// Each of these three records one row in `auth_failures` (reason 1, 2
    /// or 3; the user id for a wrong password or a throttled known login,
    /// none for an unknown login name, never the name) in its own small
    /// transaction; nothing else is written. A failure to record is
    /// ignored: the login error is what the caller needs to see. A store
    /// still at a schema older than v4 (migrated only at the first
    /// successful unlock) has no `auth_failures` table: nothing is recorded
    /// and there is no backoff until then.
    pub fn derive_key_at(
        &self,
        login: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<DerivedKey> {
        let lookup = crypto::login_lookup(&self.lookup_salt, login)?;
        let record = self.version >= AUTH_FAILURES_SINCE;
        if record && let Some(retry_after_secs) = users::backoff(&self.conn, now)? {
            let user = users::user_by_lookup(&self.conn, &lookup).unwrap_or(None);
            // Ignored on failure (see above).
            let _ = users::record_auth_failure(&self.conn, now, user, AuthFailureReason::Throttled);
            return Err(StoreError::TooManyAttempts { retry_after_secs });
        }
        let (user, result) = match users::wrapping_by_lookup(&self.conn, &lookup)? {
            Some(w) => {
                let result = users::unwrap(&w, password).map(|identity| DerivedKey {
                    user_id: w.user_id,
                    identity,
                    params: w.params,
                    legacy: w.alg == crate::kdf::KDF_ARGON2ID_V13,
                });
                (Some(w.user_id), result)
            }
            None => {
                let params = users::decoy_params(&self.conn)?;
                let salt = crypto::random_bytes::<{ crate::kdf::SALT_LEN }>();
                // The result is discarded; only the time spent matters.
                let _ = PasswordIdentity::derive(password, &params, &salt)?;
                (None, Err(StoreError::UnknownUser))
            }
        };
        let reason = match &result {
            Err(StoreError::WrongPassword) => Some(AuthFailureReason::WrongPassword),
            Err(StoreError::UnknownUser) => Some(AuthFailureReason::UnknownUser),
            _ => None,
        };
        if let Some(reason) = reason
            && record
        {
            // Ignored on failure (see above).
            let _ = users::record_auth_failure(&self.conn, now, user, reason);
        }
        result
    }

    /// Finish unlocking with a derived key: decrypt the data key, migrate
    /// the schema, then check the rollback anchor ([`StoreError::Corrupt`]
    /// with `what` = [`crate::ROLLED_BACK`] if a mutable row was rolled back
    /// or removed). Writes nothing but the migration.
    pub fn unlock(self, key: DerivedKey) -> Result<Store> {
        self.unlock_inner(key).map(|(s, _, _)| s)
    }

    fn unlock_inner(self, key: DerivedKey) -> Result<(Store, Duration, Duration)> {
        let t = Instant::now();
        let identity = key.identity;
        let blob: Vec<u8> = self
            .conn
            .query_row(
                "SELECT value FROM store_meta WHERE key = ?1",
                [META_DATA_KEY],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::corrupt("data key"))?;
        let data_key = StoreKeys::decrypt_data_key(&identity, &blob)?;
        let keys = StoreKeys::new(identity, &data_key);
        let unwrap = t.elapsed();
        let t = Instant::now();
        schema::migrate(&self.conn, &keys)?;
        anchor::check(&self.conn, &keys)?;
        let migrate = t.elapsed();
        Ok((
            Store {
                conn: self.conn,
                dir: self.dir,
                keys,
                user: key.user_id,
                own_writes: std::cell::Cell::new(0),
            },
            unwrap,
            migrate,
        ))
    }
}

impl Store {
    /// Create a new store in `dir` (created if missing) with its first user.
    /// Fails with [`StoreError::AlreadyExists`] if `dir` already holds one.
    pub fn create(dir: impl AsRef<Path>, first_user: NewUser<'_>) -> Result<Store> {
        Self::create_with_schema(dir, first_user, SCHEMA_VERSION)
    }

    /// Create a store at an older schema version. Only for producing
    /// migration fixtures (`examples/make_v1_fixture.rs`); not for real use.
    #[doc(hidden)]
    pub fn create_with_schema(
        dir: impl AsRef<Path>,
        first_user: NewUser<'_>,
        schema_version: u32,
    ) -> Result<Store> {
        if schema_version == 0 || schema_version > SCHEMA_VERSION {
            return Err(StoreError::InvalidInput {
                what: "unknown schema version",
            });
        }
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir)?;
        let db = dir.join(DB_FILE);
        if db.exists() {
            return Err(StoreError::AlreadyExists);
        }
        fs::create_dir_all(dir.join(ATTACHMENTS_DIR))?;

        let identity = age::x25519::Identity::generate();
        let data_key = Zeroizing::new(crypto::random_bytes::<32>());
        let data_key_blob = StoreKeys::encrypt_data_key(&identity, &data_key)?;
        let lookup_salt = crypto::random_bytes::<32>();
        let store_id = uuid::Builder::from_random_bytes(crypto::random_bytes()).into_uuid();
        let keys = StoreKeys::new(identity, &data_key);

        let conn = schema::create_new(&db)?;
        let init = || -> Result<()> {
            let tx = Transaction::new_unchecked(&conn, TransactionBehavior::Immediate)?;
            schema::apply_migrations(&tx, 0, schema_version)?;
            let mut ins = tx.prepare("INSERT INTO store_meta (key, value) VALUES (?1, ?2)")?;
            ins.execute(params![META_FORMAT, FORMAT_MARKER])?;
            ins.execute(params![META_STORE_ID, store_id.as_bytes().as_slice()])?;
            ins.execute(params![META_LOOKUP_SALT, lookup_salt.as_slice()])?;
            ins.execute(params![META_DATA_KEY, data_key_blob])?;
            drop(ins);
            if schema_version >= ANCHOR_SINCE {
                anchor::init(&tx, &keys)?;
            }
            users::insert_user(&tx, &keys, &lookup_salt, &first_user)?;
            tx.commit()?;
            Ok(())
        };
        if let Err(e) = init() {
            // Leave no half-created store behind (it would read as NotAStore).
            drop(conn);
            for suffix in ["", "-wal", "-shm"] {
                let mut p = db.as_os_str().to_owned();
                p.push(suffix);
                let _ = fs::remove_file(PathBuf::from(p));
            }
            return Err(e);
        }
        Ok(Store {
            conn,
            dir,
            keys,
            user: first_user.user_id,
            own_writes: std::cell::Cell::new(0),
        })
    }

    /// Open and unlock the store in `dir` as `login`.
    pub fn unlock(dir: impl AsRef<Path>, login: &str, password: &str) -> Result<Store> {
        Self::unlock_timed(dir, login, password).map(|(s, _)| s)
    }

    /// [`Store::unlock`], also reporting how long each step took.
    pub fn unlock_timed(
        dir: impl AsRef<Path>,
        login: &str,
        password: &str,
    ) -> Result<(Store, UnlockTimings)> {
        let t = Instant::now();
        let locked = LockedStore::open(dir)?;
        let open = t.elapsed();
        let t = Instant::now();
        let key = locked.derive_key(login, password)?;
        let kdf = t.elapsed();
        let (store, unwrap, migrate) = locked.unlock_inner(key)?;
        Ok((
            store,
            UnlockTimings {
                open,
                kdf,
                unwrap,
                migrate,
            },
        ))
    }

    /// The user who unlocked this store.
    pub fn current_user(&self) -> UserId {
        self.user
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The schema version on disk (always [`SCHEMA_VERSION`] once unlocked).
    pub fn schema_version(&self) -> Result<u32> {
        schema::user_version(&self.conn)
    }

    /// The store's random id (plaintext metadata).
    pub fn store_id(&self) -> Result<Uuid> {
        let raw: Vec<u8> = self.conn.query_row(
            "SELECT value FROM store_meta WHERE key = ?1",
            [META_STORE_ID],
            |r| r.get(0),
        )?;
        Uuid::from_slice(&raw).map_err(|_| StoreError::corrupt("store metadata"))
    }

    /// The store's age recipient (public key): backups and exports can be
    /// encrypted to it.
    pub fn recipient(&self) -> age::x25519::Recipient {
        self.keys.identity.to_public()
    }

    /// Checkpoint the write-ahead log into the main file and truncate it.
    pub fn checkpoint(&self) -> Result<()> {
        // Another connection reading the WAL makes the checkpoint report
        // "busy" and leave pages (possibly of deleted rows) in the WAL: retry
        // for a while, then say so.
        for attempt in 0..CHECKPOINT_ATTEMPTS {
            let busy: i64 = self
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            if busy == 0 {
                return Ok(());
            }
            if attempt + 1 < CHECKPOINT_ATTEMPTS {
                std::thread::sleep(CHECKPOINT_RETRY);
            }
        }
        Err(StoreError::Busy)
    }

    /// Delete every document of the given kinds with all their history,
    /// views and index entries in one transaction, then every attachment,
    /// then checkpoint the WAL so that the bytes are gone from both files
    /// (`secure_delete` zeroes freed pages). For a device that must give up
    /// its personal data (revoked). Returns how many documents went.
    pub fn wipe_documents(&self, kinds: &[polku_core::DocKind]) -> Result<usize> {
        let batch = Batch::new(self.write_tx()?, &self.keys);
        let mut n = 0;
        for kind in kinds {
            let code = i64::from(kind.code());
            let gone = batch.mutable_rows_of_docs("d.kind = ?1", &code)?;
            n += batch
                .tx
                .execute("DELETE FROM docs WHERE kind = ?1", [code])?;
            batch.forget(&gone)?;
        }
        batch.delete_orphan_sync_states()?;
        let tx = &batch.tx;
        let attachments: Vec<Vec<u8>> = {
            let mut stmt = tx.prepare("SELECT id FROM attachments")?;
            let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        tx.execute("DELETE FROM attachments", [])?;
        self.commit_batch(batch)?;
        for raw in attachments {
            if let Ok(id) = Uuid::from_slice(&raw) {
                match fs::remove_file(self.attachment_path(polku_core::AttachmentId(id))) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        self.checkpoint()?;
        Ok(n)
    }

    /// Check the database structure (`PRAGMA quick_check`), the rollback
    /// anchor of the mutable rows, authenticate every sealed row and load
    /// every document. Slow (reads everything): for backups and
    /// diagnostics, not for every unlock. Refused
    /// ([`StoreError::InvalidInput`]) inside a [`Store::batch`] closure.
    pub fn verify(&self) -> Result<()> {
        let ok: String = self
            .conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if ok != "ok" {
            return Err(StoreError::corrupt("database structure"));
        }
        anchor::check(&self.conn, &self.keys)?;
        for (id, _kind) in self.list_all_docs()? {
            self.load_doc(id)?;
        }
        self.list_users()?;
        self.index_entries()?;
        self.verify_views()?;
        self.audit_entries()?;
        self.auth_failures()?;
        for key in self.list_meta_keys()? {
            self.get_meta(&key)?;
        }
        for id in self.list_attachments()? {
            self.attachment_info(id)?;
        }
        Ok(())
    }

    /// Checkpoint and close the database, reporting errors that a plain drop
    /// would swallow. Keys are zeroized.
    pub fn close(self) -> Result<()> {
        self.checkpoint()?;
        let Store { conn, .. } = self;
        conn.close().map_err(|(_, e)| StoreError::from(e))
    }

    /// Another connection to this store, unlocked with the same keys (no
    /// password, nothing to migrate or check again: this one did at
    /// unlock), for work that runs beside this connection's (a hub's sync
    /// sessions on several cores). Each connection's writes are whole
    /// transactions; SQLite serialises them (the busy timeout waits), and
    /// each sees the other's through its [`WriteMark`].
    pub fn another_connection(&self) -> Result<Store> {
        let conn = schema::open_existing(&self.dir.join(DB_FILE))?;
        let version = schema::check_store(&conn)?;
        if version != SCHEMA_VERSION {
            return Err(StoreError::corrupt("schema version"));
        }
        Ok(Store {
            conn,
            dir: self.dir.clone(),
            keys: self.keys.duplicate(),
            user: self.user,
            own_writes: std::cell::Cell::new(0),
        })
    }

    /// Where the store's mutable rows stand now (see [`WriteMark`]).
    pub fn write_mark(&self) -> Result<WriteMark> {
        let foreign = self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0))?;
        Ok(WriteMark {
            foreign,
            own: self.own_writes.get(),
        })
    }

    /// Commits `batch`, counting it in the write mark if it changed a
    /// mutable row.
    pub(crate) fn commit_batch(&self, batch: Batch<'_>) -> Result<()> {
        if batch.commit()? {
            self.own_writes.set(self.own_writes.get() + 1);
        }
        Ok(())
    }

    /// A write transaction on the store.
    pub(crate) fn write_tx(&self) -> Result<Transaction<'_>> {
        Ok(Transaction::new_unchecked(
            &self.conn,
            TransactionBehavior::Immediate,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KdfParams;
    use automerge::{ROOT, transaction::Transactable};
    use polku_core::{DocId, DocKind};

    fn test_store(dir: &Path) -> Store {
        Store::create(
            dir,
            NewUser {
                user_id: UserId::new(),
                login: "tester",
                password: "pw",
                kdf: KdfParams::INSECURE_FOR_TESTS,
            },
        )
        .expect("create")
    }

    fn big_doc() -> Vec<u8> {
        let mut text = String::new();
        let mut out = [0u8; 64];
        let mut xof = blake3::Hasher::new().update(b"seed").finalize_xof();
        while text.len() < 256 * 1024 {
            xof.fill(&mut out);
            text.push_str(&blake3::Hash::from_bytes(out[..32].try_into().expect("32")).to_hex());
        }
        let mut doc = automerge::AutoCommit::new();
        doc.put(ROOT, "text", text).expect("put");
        doc.save()
    }

    #[test]
    fn sqlite_full_is_disk_full_and_rolls_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = test_store(dir.path());
        let pages: i64 = store
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .expect("pages");
        store
            .conn
            .pragma_update(None, "max_page_count", pages + 2)
            .expect("limit");
        let id = DocId(Uuid::now_v7());
        let bytes = big_doc();
        let err = store
            .create_doc(id, DocKind::Client, &bytes)
            .expect_err("full");
        assert!(matches!(err, StoreError::DiskFull), "{err:?}");
        assert!(matches!(
            store.load_doc(id),
            Err(StoreError::DocNotFound(_))
        ));

        // Space freed: the same write succeeds and the store is intact.
        store
            .conn
            .pragma_update(None, "max_page_count", 1_000_000)
            .expect("limit");
        store
            .create_doc(id, DocKind::Client, &bytes)
            .expect("create");
        store.load_doc(id).expect("load");
    }

    #[test]
    fn the_write_mark_moves_with_every_document_write_here_or_elsewhere() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = test_store(dir.path());
        let id = DocId(Uuid::now_v7());
        let m0 = store.write_mark().expect("mark");
        assert_eq!(
            store.write_mark().expect("mark"),
            m0,
            "reading moves nothing"
        );
        let mut doc = automerge::AutoCommit::new();
        doc.put(ROOT, "n", 1).expect("put");
        store
            .create_doc(id, DocKind::Client, &doc.save())
            .expect("create");
        let m1 = store.write_mark().expect("mark");
        assert!(m0.one_own_write_before(&m1), "{m0:?} -> {m1:?}");
        let before = doc.get_heads();
        doc.put(ROOT, "n", 2).expect("put");
        store
            .save_changes(id, doc.document(), &before)
            .expect("save");
        let m2 = store.write_mark().expect("mark");
        assert!(m1.one_own_write_before(&m2), "{m1:?} -> {m2:?}");
        // A batch that writes no mutable row does not count.
        store.batch(|_| Ok(())).expect("empty batch");
        assert_eq!(store.write_mark().expect("mark"), m2);
        // Another process's write (another connection) moves it too.
        let other = Store::unlock(dir.path(), "tester", "pw").expect("other");
        other.batch(|b| b.delete_doc(id)).expect("foreign delete");
        let m3 = store.write_mark().expect("mark");
        assert_ne!(m3, m2);
        assert!(!m2.one_own_write_before(&m3));
        // Deleting here moves it.
        store
            .create_doc(id, DocKind::Client, &doc.save())
            .expect("again");
        let m4 = store.write_mark().expect("mark");
        store.batch(|b| b.delete_doc(id)).expect("delete");
        assert!(m4.one_own_write_before(&store.write_mark().expect("mark")));
    }

    #[test]
    fn a_held_write_lock_is_busy() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = test_store(dir.path());
        store
            .conn
            .busy_timeout(Duration::from_millis(50))
            .expect("timeout");
        let other = Connection::open(dir.path().join(DB_FILE)).expect("other");
        other.execute_batch("BEGIN IMMEDIATE").expect("lock");
        let err = store.put_meta(b"k", b"v").expect_err("busy");
        assert!(matches!(err, StoreError::Busy), "{err:?}");
        other.execute_batch("ROLLBACK").expect("unlock");
        store.put_meta(b"k", b"v").expect("now free");
    }

    #[test]
    fn a_checkpoint_after_a_delete_waits_for_a_reader_and_empties_the_wal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = test_store(dir.path());
        let id = DocId(Uuid::now_v7());
        store
            .create_doc(id, polku_core::DocKind::Client, &big_doc())
            .expect("doc");
        // SQLite's own wait gives up well before the reader goes away.
        store
            .conn
            .busy_timeout(Duration::from_millis(20))
            .expect("timeout");
        // A reader holds a snapshot of the WAL: a checkpoint now is "busy".
        let reader = Connection::open(dir.path().join(DB_FILE)).expect("reader");
        reader
            .execute_batch("BEGIN; SELECT count(*) FROM docs;")
            .expect("read");
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            reader.execute_batch("COMMIT").expect("end read");
            drop(reader);
        });
        // The delete checkpoints: it must retry until the reader is gone
        // rather than leave the deleted row's pages in the WAL.
        assert!(store.delete_doc(id).expect("delete"));
        release.join().expect("reader thread");
        let wal = dir.path().join(format!("{DB_FILE}-wal"));
        let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert_eq!(wal_len, 0, "the WAL still holds pages");
    }
}
