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
    pub fn login(self, login: &str, password: &str, now: DateTime<Utc>) -> Result<Session> {
        let key = self.locked.derive_key_at(login, password, now)?;
        let store = self.locked.unlock(key)?;
        Session::start(store, now)
    }
}
