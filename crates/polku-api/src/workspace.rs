//! Creating and opening a store directory.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use polku_core::doc::OrgDoc;
use polku_core::model::{Organisation, Role, Unit, User};
use polku_core::{DocId, DocKind, OrgId, UnitId, UserId};
use polku_store::{KdfParams, LockedStore, NewUser, Store};

use crate::Result;
use crate::meta_keys::ATTACHMENT_REFS_META;
pub(crate) use crate::meta_keys::{HUB_META, LAST_HUB_CONTACT_META, LATEST_SEEN_META, ROLE_META};
use crate::session::Session;
use crate::trail::{self, Trail};
use polku_audit::{Action, Detail};

/// Whether `store` is an organisation's hub ("hub") or a laptop ("laptop");
/// `None` for a standalone store.
pub(crate) fn store_role(store: &Store, role: &[u8]) -> Result<bool> {
    Ok(store.get_meta(ROLE_META)?.as_deref() == Some(role))
}

/// Scratch directory `init` builds a store in before moving it into place.
const INIT_SCRATCH_DIR: &str = ".polku-init";

/// How far the clock may go back behind the latest time the store has seen
/// (a clock corrected by a time server) before the offline lease counts as
/// expired.
pub const CLOCK_BACK_TOLERANCE_MINUTES: i64 = 10;

fn secs_meta(store: &Store, key: &[u8]) -> Result<Option<DateTime<Utc>>> {
    let Some(bytes) = store.get_meta(key)? else {
        return Ok(None);
    };
    let secs: [u8; 8] =
        bytes
            .as_slice()
            .try_into()
            .map_err(|_| polku_store::StoreError::Corrupt {
                what: "stored time",
            })?;
    Ok(DateTime::from_timestamp(i64::from_le_bytes(secs), 0))
}

/// The latest time this store has seen.
pub(crate) fn latest_time_seen(store: &Store) -> Result<Option<DateTime<Utc>>> {
    secs_meta(store, LATEST_SEEN_META)
}

/// Remember `now` as the latest time seen, unless a later one is recorded.
pub(crate) fn note_time_seen(
    b: &polku_store::Batch<'_>,
    store: &Store,
    now: DateTime<Utc>,
) -> polku_store::Result<()> {
    let latest = latest_time_seen(store).ok().flatten();
    if latest.is_none_or(|t| now > t) {
        b.put_meta(LATEST_SEEN_META, &now.timestamp().to_le_bytes())?;
    }
    Ok(())
}

/// The hub a laptop talks to, and only to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HubPin {
    /// The hub's node id.
    pub node: [u8; 32],
    /// Where it was last reachable.
    pub addrs: Vec<std::net::SocketAddr>,
}

/// A store directory, opened and checked but not unlocked.
#[derive(Debug)]
pub struct Workspace {
    dir: PathBuf,
    locked: LockedStore,
}

impl Workspace {
    /// Create a store in `dir` with an organisation document, one unit and its first
    /// administrator, whose password wraps the store key (argon2id, OWASP parameters).
    pub fn init(dir: &Path, admin_login: &str, password: &str, now: DateTime<Utc>) -> Result<()> {
        Self::init_with(dir, admin_login, password, now, KdfParams::default())
    }

    /// [`Workspace::init`] with explicit argon2id parameters.
    pub fn init_with(
        dir: &Path,
        admin_login: &str,
        password: &str,
        now: DateTime<Utc>,
        kdf: KdfParams,
    ) -> Result<()> {
        Self::create_store(dir, admin_login, password, now, kdf, false)
    }

    /// Create a store; a hub store when `hub`. A crash part-way leaves a
    /// store without an organisation, which opens as damaged; `init` again
    /// after removing it.
    fn create_store(
        dir: &Path,
        admin_login: &str,
        password: &str,
        now: DateTime<Utc>,
        kdf: KdfParams,
        hub: bool,
    ) -> Result<()> {
        // Built in a scratch directory inside `dir` and moved into place by
        // one rename: a crash part-way leaves no half-made store, only the
        // scratch directory, which the next `init` clears.
        std::fs::create_dir_all(dir).map_err(polku_store::StoreError::from)?;
        if dir.join(polku_store::DB_FILE).exists() {
            return Err(polku_store::StoreError::AlreadyExists.into());
        }
        let scratch = dir.join(INIT_SCRATCH_DIR);
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch).map_err(polku_store::StoreError::from)?;
        }
        Self::build_store(&scratch, admin_login, password, now, kdf, hub).inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&scratch);
        })?;
        let move_in = || -> std::io::Result<()> {
            let att = dir.join(polku_store::ATTACHMENTS_DIR);
            if !att.exists() {
                std::fs::rename(scratch.join(polku_store::ATTACHMENTS_DIR), &att)?;
            }
            // The commit point.
            std::fs::rename(
                scratch.join(polku_store::DB_FILE),
                dir.join(polku_store::DB_FILE),
            )?;
            std::fs::File::open(dir)?.sync_all()?;
            std::fs::remove_dir_all(&scratch)
        };
        move_in().map_err(polku_store::StoreError::from)?;
        Ok(())
    }

    fn build_store(
        dir: &Path,
        admin_login: &str,
        password: &str,
        now: DateTime<Utc>,
        kdf: KdfParams,
        hub: bool,
    ) -> Result<()> {
        let admin_login = admin_login.trim();
        if admin_login.is_empty() {
            return Err(crate::ApiError::Rejected(crate::Rejection::EmptyLogin));
        }
        crate::credentials::check_policy(password)?;
        let admin_id = UserId::new();
        let store = Store::create(
            dir,
            NewUser {
                user_id: admin_id,
                login: admin_login,
                password,
                kdf,
            },
        )?;
        let mut org = Organisation::new(OrgId::new(), "Polku");
        let unit = Unit {
            id: UnitId::new(),
            name: "Etsivä nuorisotyö".to_owned(),
            municipality: None,
            active: true,
        };
        org.insert_user(User {
            id: admin_id,
            login: admin_login.to_owned(),
            display_name: admin_login.to_owned(),
            role: Role::Admin,
            units: [unit.id].into_iter().collect(),
            active: true,
            rights: None,
        });
        org.insert_unit(unit);
        let mut doc = OrgDoc::new(&org)?;
        let org_doc = DocId::from(org.id);
        // The administrator's password record: the one that enrols their
        // laptops, and (on the hub) re-wraps their login after a role change.
        let verifier = polku_store::PasswordVerifier::create(password, kdf)?;
        let credential = crate::credentials::Credential::chosen(verifier, now);
        store.batch(|b| {
            b.create_doc(org_doc, DocKind::Organisation, &doc.save())?;
            trail::create_node_key(b)
                .map_err(|_| polku_store::StoreError::InvalidInput { what: "node key" })?;
            crate::credentials::put_kdf_policy(b, &kdf)?;
            crate::credentials::write_new(b, admin_id, &credential)?;
            // A new store has no record documents: its attachment references
            // are complete (kept so by every write), nothing to fill later.
            b.put_meta(ATTACHMENT_REFS_META, b"1")?;
            if hub {
                b.put_meta(ROLE_META, b"hub")?;
            }
            Ok(())
        })?;
        let mut trail = Trail::open(&store)?;
        store.batch(|b| {
            trail.record_in(
                b,
                now,
                Some(admin_id),
                Action::Create,
                Some(org.id.0),
                Detail::Code(crate::audit_codes::STORE_INIT),
            )
        })?;
        store.close()?;
        Ok(())
    }

    /// Create an organisation's hub store: like [`Workspace::init`], marked as the
    /// hub that laptops enrol with and sync to.
    pub fn init_hub(
        dir: &Path,
        admin_login: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        Self::init_hub_with(dir, admin_login, password, now, KdfParams::default())
    }

    /// [`Workspace::init_hub`] with explicit argon2id parameters.
    pub fn init_hub_with(
        dir: &Path,
        admin_login: &str,
        password: &str,
        now: DateTime<Utc>,
        kdf: KdfParams,
    ) -> Result<()> {
        Self::create_store(dir, admin_login, password, now, kdf, true)
    }

    /// Create a laptop store from an enrolment grant: the user's login wrapped
    /// with `password`, the organisation document from the hub, the node key the
    /// laptop enrolled with, and the pinned hub.
    pub fn join(
        dir: &Path,
        grant: &crate::EnrolGrant,
        login: &str,
        password: &str,
        node_secret: &[u8; 32],
        hub: &HubPin,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut org = OrgDoc::load(&grant.org_doc)?;
        let org_id = org.doc_id()?;
        let store = Store::create(
            dir,
            NewUser {
                user_id: grant.user,
                login,
                password,
                kdf: grant.kdf,
            },
        )?;
        let hub_bytes = postcard::to_allocvec(hub).map_err(|_| crate::ApiError::Invalid("hub"))?;
        store.batch(|b| {
            b.create_doc(org_id, DocKind::Organisation, &org.save())?;
            b.put_meta(ROLE_META, b"laptop")?;
            // Complete from the start (see `init`): nothing to fill later.
            b.put_meta(ATTACHMENT_REFS_META, b"1")?;
            b.put_meta(HUB_META, &hub_bytes)?;
            b.put_meta(LAST_HUB_CONTACT_META, &now.timestamp().to_le_bytes())?;
            b.put_meta(LATEST_SEEN_META, &now.timestamp().to_le_bytes())?;
            crate::credentials::put_kdf_policy(b, &grant.kdf)?;
            trail::put_node_key(b, node_secret)
                .map_err(|_| polku_store::StoreError::InvalidInput { what: "node key" })
        })?;
        let mut trail = Trail::open(&store)?;
        store.batch(|b| {
            trail.record_in(
                b,
                now,
                Some(grant.user),
                Action::DeviceEnrol,
                None,
                Detail::None,
            )
        })?;
        store.close()?;
        Ok(())
    }

    /// Open the store in `dir` (checks it; writes nothing).
    pub fn open(dir: impl AsRef<Path>) -> Result<Workspace> {
        #[cfg(feature = "bench-internals")]
        std::hint::black_box(&crate::bench_hooks::MARKER);
        #[cfg(feature = "test-internals")]
        std::hint::black_box(&TEST_INTERNALS_MARKER);
        let dir = dir.as_ref().to_path_buf();
        let locked = LockedStore::open(&dir)?;
        Ok(Workspace { dir, locked })
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Unlock the store as `login` and start a session.
    ///
    /// On a laptop that has not reached its hub for longer than the organisation's
    /// offline lease, the login is refused with [`crate::ApiError::ReauthRequired`]:
    /// only [`Workspace::login_to_sync`] is allowed then.
    pub fn login(self, login: &str, password: &str, now: DateTime<Utc>) -> Result<Session> {
        let session = self.unlock(login, password, now)?;
        if session.offline_lease_expired(now)? {
            session.close_at(now)?;
            return Err(crate::ApiError::ReauthRequired);
        }
        Ok(session)
    }

    /// Unlock to sync with the hub, also after the offline lease expired: the
    /// online contact with the hub (which checks that the device and the user are
    /// still allowed) is the re-authentication.
    pub fn login_to_sync(self, login: &str, password: &str, now: DateTime<Utc>) -> Result<Session> {
        self.unlock(login, password, now)
    }

    /// Check the password, unlock, start the session; a wrapping older or
    /// weaker than the node's argon2id policy is re-wrapped with the policy
    /// and the same password.
    fn unlock(self, login: &str, password: &str, now: DateTime<Utc>) -> Result<Session> {
        let key = self.locked.derive_key_at(login, password, now)?;
        let (params, legacy) = key.wrapping();
        let store = self.locked.unlock(key)?;
        let policy = crate::credentials::kdf_policy(&store)?;
        if legacy || params.weaker_than(&policy) {
            store.change_password(store.current_user(), password, policy)?;
        }
        Session::start(store, now)
    }
}

/// Present in a binary built with the test-only feature `test-internals`
/// (see `scripts/check-shipped`).
#[cfg(feature = "test-internals")]
pub static TEST_INTERNALS_MARKER: [u8; 34] = *b"POLKU-TEST-ONLY-FEATURE-IN-BINARY!";
