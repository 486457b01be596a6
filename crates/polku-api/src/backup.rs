//! Backups (varmuuskopiot): the organisation's backup keys, a backup now,
//! the list, and verify/restore (see [`polku_backup`] for the format).
//!
//! Rights: keys and backups need user management (an admin); a key is added
//! on the hub only (it lives in the organisation document). Verify and
//! restore need no login — the hub may be gone — but the secret backup key.
//!
//! Audit: `update` with `backup_key_add` (target: the organisation),
//! `export` with `backup` (written before the snapshot, so each backup
//! holds the entry of its own making).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use polku_audit::{Action as AuditAction, Detail};
use polku_core::model::BackupKey;
use polku_core::rights::{Action, Target};
use serde::Serialize;

use crate::audit_codes::{BACKUP, BACKUP_KEY_ADD};
use crate::{ApiError, Result, Session};

pub use polku_backup::{BackupError, BackupFile, KEEP as BACKUPS_KEPT, Manifest};

/// A backup just made.
#[derive(Debug, Clone, Serialize)]
pub struct BackupMade {
    /// The new file.
    pub path: PathBuf,
    /// Bytes of store data in it.
    pub bytes: u64,
    /// Files in it (the database and each attachment).
    pub files: usize,
    /// Older backups removed (the newest [`BACKUPS_KEPT`] stay).
    pub removed: Vec<PathBuf>,
}

/// The backup directory of a store directory by default: beside it,
/// `<store>.backups`.
pub fn default_backup_dir(store_dir: &Path) -> PathBuf {
    let mut s = store_dir.as_os_str().to_owned();
    s.push(".backups");
    PathBuf::from(s)
}

/// Check a whole backup file with the secret key's text; writes nothing.
pub fn verify_backup(file: &Path, secret_key: &str) -> Result<Manifest> {
    let identity = polku_backup::parse_identity(secret_key)?;
    Ok(polku_backup::verify(file, &identity)?)
}

/// Restore a backup into `to` (new or empty), verified whole before
/// anything is written.
pub fn restore_backup(file: &Path, secret_key: &str, to: &Path) -> Result<Manifest> {
    let identity = polku_backup::parse_identity(secret_key)?;
    Ok(polku_backup::restore(file, &identity, to)?)
}

/// The backups in `dir`, oldest first.
pub fn list_backups(dir: &Path) -> Result<Vec<BackupFile>> {
    Ok(polku_backup::list(dir)?)
}

impl Session {
    /// The folder of this session's store.
    pub fn store_dir(&self) -> &Path {
        self.store.dir()
    }

    /// A new backup key: its public half is added to the organisation; the
    /// secret half is returned, once, for the admin to print and keep
    /// offline (it is stored nowhere).
    pub fn add_backup_key(&mut self, label: &str, now: DateTime<Utc>) -> Result<String> {
        self.check(Action::ManageUsers, Target::Organisation, None, now)?;
        if crate::workspace::store_role(&self.store, b"laptop")? {
            return Err(ApiError::OrgChangeOnHubOnly);
        }
        crate::activity::check_len(label, polku_core::limits::TextField::Place)?;
        let (secret, public) = polku_backup::new_key();
        let org_id = self.org.id.0;
        let key = BackupKey {
            label: label.trim().to_owned(),
            added_at: now,
        };
        self.update_org_audited(
            now,
            Some((
                AuditAction::Update,
                Some(org_id),
                Detail::Code(BACKUP_KEY_ADD),
            )),
            |org| {
                org.backup_keys.insert(public, key);
            },
        )?;
        Ok(secret)
    }

    /// The organisation's backup keys: `(public key, key)`.
    pub fn backup_keys(&self) -> Vec<(String, BackupKey)> {
        self.org
            .backup_keys
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Back the store up now into `dir` (created if missing), encrypted to
    /// the organisation's backup keys; keeps the newest [`BACKUPS_KEPT`].
    pub fn backup_now(&mut self, dir: &Path, now: DateTime<Utc>) -> Result<BackupMade> {
        self.check(Action::ManageUsers, Target::Organisation, None, now)?;
        let recipients = self
            .org
            .backup_keys
            .keys()
            .map(|k| polku_backup::parse_recipient(k))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        if recipients.is_empty() {
            return Err(BackupError::NoRecipients.into());
        }
        std::fs::create_dir_all(dir).map_err(BackupError::from)?;
        let out = dir.join(polku_backup::file_name(now));
        if out.exists() {
            return Err(ApiError::Invalid("a backup of this second exists already"));
        }
        // Recorded first, so that the backup holds the entry of its own
        // making (an entry of a backup that then failed is an attempt, as
        // the log keeps refusals too).
        self.record(now, AuditAction::Export, None, Detail::Code(BACKUP))?;
        let staging = tempfile::Builder::new()
            .prefix(".polku-snapshot-")
            .tempdir_in(dir)
            .map_err(BackupError::from)?;
        self.store.snapshot_into(staging.path())?;
        let manifest = polku_backup::write(
            staging.path(),
            &out,
            &recipients,
            &self.org.id.0.to_string(),
            now,
        )?;
        drop(staging);
        let removed = polku_backup::prune(dir, BACKUPS_KEPT)?;
        let bytes = manifest.bytes();
        Ok(BackupMade {
            path: out,
            bytes,
            files: manifest.files.len(),
            removed,
        })
    }
}
