//! Creating and opening a store directory.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use polku_core::doc::OrgDoc;
use polku_core::model::{Organisation, Role, Unit, User};
use polku_core::{DocId, DocKind, OrgId, UnitId, UserId};
use polku_store::{KdfParams, LockedStore, NewUser, Store};

use crate::Result;
use crate::session::Session;
use crate::trail::{self, Trail};
use polku_audit::{Action, Detail};

/// Sealed key/value slot holding the store's role ("hub" or "laptop"). Do not change.
pub(crate) const ROLE_META: &[u8] = b"polku/role/v1";
/// Sealed key/value slot holding a laptop's pinned hub. Do not change.
pub(crate) const HUB_META: &[u8] = b"polku/hub/v1";

/// Sealed slot: when this laptop last completed a sync with its hub (Unix seconds).
/// Do not change.
pub(crate) const LAST_HUB_CONTACT_META: &[u8] = b"polku/last-hub-contact/v1";

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
        let admin_login = admin_login.trim();
        if admin_login.is_empty() {
            return Err(crate::ApiError::Invalid("the login name is empty"));
        }
        if password.is_empty() {
            return Err(crate::ApiError::Invalid("the password is empty"));
        }
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
        });
        org.insert_unit(unit);
        let mut doc = OrgDoc::new(&org)?;
        let org_doc = DocId::from(org.id);
        store.batch(|b| {
            b.create_doc(org_doc, DocKind::Organisation, &doc.save())?;
            Ok(())
        })?;
        store.batch(|b| {
            trail::create_node_key(b)
                .map_err(|_| polku_store::StoreError::InvalidInput { what: "node key" })
        })?;
        let mut trail = Trail::open(&store)?;
        store.batch(|b| {
            trail.record_in(
                b,
                now,
                Some(admin_id),
                Action::Create,
                Some(org.id.0),
                Detail::Code(crate::session::codes::STORE_INIT),
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
        Self::init_with(dir, admin_login, password, now, kdf)?;
        let store = Store::unlock(dir, admin_login, password)?;
        store.put_meta(ROLE_META, b"hub")?;
        store.close()?;
        Ok(())
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
                kdf: KdfParams::default(),
            },
        )?;
        let hub_bytes = postcard::to_allocvec(hub).map_err(|_| crate::ApiError::Invalid("hub"))?;
        store.batch(|b| {
            b.create_doc(org_id, DocKind::Organisation, &org.save())?;
            b.put_meta(ROLE_META, b"laptop")?;
            b.put_meta(HUB_META, &hub_bytes)?;
            b.put_meta(LAST_HUB_CONTACT_META, &now.timestamp().to_le_bytes())?;
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
        let key = self.locked.derive_key_at(login, password, now)?;
        let store = self.locked.unlock(key)?;
        let session = Session::start(store, now)?;
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
        let key = self.locked.derive_key_at(login, password, now)?;
        let store = self.locked.unlock(key)?;
        Session::start(store, now)
    }
}
