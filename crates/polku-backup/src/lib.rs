//! Backups of a Polku store (varmuuskopiot).
//!
//! A backup is one file: a tar archive of a store snapshot
//! (`polku_store::Store::snapshot_into`: the database and the attachment
//! files) with a manifest first, encrypted with age to the organisation's
//! backup keys — X25519 keys whose secret half the admin keeps offline
//! (printed on paper, in a safe), so that a backup restores on new hardware
//! after the hub's disk died, and a stolen backup opens for nobody else.
//! The store inside is itself encrypted as on disk; the backup key is a
//! second lock, not the only one.
//!
//! **Verify before write.** [`restore`] reads the whole backup once first:
//! age authenticates every 64 KiB chunk and the end of the stream (a
//! truncated file fails), the manifest names every file with its size and
//! BLAKE3 hash, and nothing else may be in the archive. Only a backup that
//! passes is extracted, into a staging directory beside the target, checked
//! again (hashes and SQLite's integrity check) and renamed into place. A
//! damaged backup writes nothing.
//!
//! **Rotation.** Backups are named by their UTC time
//! (`polku-backup-20261202T061500Z.age`); [`prune`] keeps the newest
//! [`KEEP`].

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

/// How many backups [`prune`] keeps.
pub const KEEP: usize = 14;

const FORMAT: &str = "polku-backup/1";
const MANIFEST: &str = "manifest.json";
const DB_FILE: &str = "polku.db";
const ATTACHMENTS_DIR: &str = "attachments";
const PREFIX: &str = "polku-backup-";
const SUFFIX: &str = ".age";
const TIME_FORMAT: &str = "%Y%m%dT%H%M%SZ";
const BUF_LEN: usize = 64 * 1024;
/// A manifest is small; a larger first entry is not one of ours.
const MAX_MANIFEST_LEN: u64 = 16 * 1024 * 1024;

/// What can go wrong with a backup. Never names anything inside it.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Reading or writing a file failed.
    #[error("backup file error: {0}")]
    Io(#[from] io::Error),
    /// The key does not open this backup.
    #[error("this backup key does not open the backup")]
    WrongKey,
    /// The backup is damaged, truncated or not a Polku backup.
    #[error("the backup is damaged or incomplete ({0})")]
    Damaged(&'static str),
    /// No backup key is set for the organisation.
    #[error("no backup key is set: create one first")]
    NoRecipients,
    /// A key's text is not an age X25519 key.
    #[error("not a backup key")]
    BadKey,
    /// The restore target exists and is not empty.
    #[error("the restore target already exists and is not empty")]
    TargetNotEmpty,
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, BackupError>;

/// One file in a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Path inside the archive: `polku.db` or `attachments/<name>`.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// BLAKE3 of the bytes, lowercase hex.
    pub blake3: String,
}

/// The first entry of every backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `polku-backup/1`.
    pub format: String,
    /// When the backup was made.
    pub created_at: DateTime<Utc>,
    /// The organisation's id.
    pub organisation: String,
    /// Every other file of the archive.
    pub files: Vec<ManifestFile>,
}

impl Manifest {
    /// Total size of the files.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// A new backup key: `(secret, public)` as text. The secret is shown once,
/// for the admin to keep offline; only the public half is stored.
pub fn new_key() -> (String, String) {
    use age::secrecy::ExposeSecret;
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    (identity.to_string().expose_secret().to_owned(), public)
}

/// Parse a public backup key (`age1…`).
pub fn parse_recipient(text: &str) -> Result<age::x25519::Recipient> {
    text.trim().parse().map_err(|_| BackupError::BadKey)
}

/// Parse a secret backup key (`AGE-SECRET-KEY-1…`); surrounding lines such as
/// comments are ignored.
pub fn parse_identity(text: &str) -> Result<age::x25519::Identity> {
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .ok_or(BackupError::BadKey)?
        .parse()
        .map_err(|_| BackupError::BadKey)
}

/// The file name of a backup made at `at`.
pub fn file_name(at: DateTime<Utc>) -> String {
    format!("{PREFIX}{}{SUFFIX}", at.format(TIME_FORMAT))
}

/// A backup file in a backup directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupFile {
    /// Its path.
    pub path: PathBuf,
    /// When it was made (from its name).
    pub created_at: DateTime<Utc>,
    /// Its size in bytes.
    pub size: u64,
}

/// The backups in `dir`, oldest first (other files are ignored).
pub fn list(dir: &Path) -> Result<Vec<BackupFile>> {
    let mut out = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e.into()),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(stamp) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|n| n.strip_suffix(SUFFIX))
        else {
            continue;
        };
        let Ok(t) = NaiveDateTime::parse_from_str(stamp, TIME_FORMAT) else {
            continue;
        };
        out.push(BackupFile {
            path: entry.path(),
            created_at: t.and_utc(),
            size: entry.metadata()?.len(),
        });
    }
    out.sort_by_key(|b| b.created_at);
    Ok(out)
}

/// Remove all but the newest `keep` backups in `dir`; returns the removed.
pub fn prune(dir: &Path, keep: usize) -> Result<Vec<PathBuf>> {
    let all = list(dir)?;
    let excess = all.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for b in all.into_iter().take(excess) {
        fs::remove_file(&b.path)?;
        removed.push(b.path);
    }
    Ok(removed)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Files of a snapshot directory, as archive paths.
fn snapshot_files(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut files = vec![(DB_FILE.to_owned(), dir.join(DB_FILE))];
    let att = dir.join(ATTACHMENTS_DIR);
    if att.is_dir() {
        let mut names: Vec<String> = fs::read_dir(&att)?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .collect();
        names.sort();
        for n in names {
            files.push((format!("{ATTACHMENTS_DIR}/{n}"), att.join(&n)));
        }
    }
    Ok(files)
}

fn hash_file(path: &Path) -> Result<(u64, String)> {
    let mut f = File::open(path)?;
    let mut h = blake3::Hasher::new();
    let n = io::copy(&mut f, &mut h)?;
    Ok((n, hex(h.finalize().as_bytes())))
}

/// Whether an archive path is one a backup may hold.
fn allowed_path(p: &str) -> bool {
    if p == DB_FILE {
        return true;
    }
    p.strip_prefix("attachments/").is_some_and(|n| {
        !n.is_empty()
            && !n.starts_with('.')
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

/// Pack the snapshot in `snapshot` into the new backup file `out`, encrypted
/// to `recipients`. Written to a temporary name, synced, then renamed.
pub fn write(
    snapshot: &Path,
    out: &Path,
    recipients: &[age::x25519::Recipient],
    organisation: &str,
    created_at: DateTime<Utc>,
) -> Result<Manifest> {
    if recipients.is_empty() {
        return Err(BackupError::NoRecipients);
    }
    let files = snapshot_files(snapshot)?;
    let mut listed = Vec::new();
    for (path, file) in &files {
        let (size, blake3) = hash_file(file)?;
        listed.push(ManifestFile {
            path: path.clone(),
            size,
            blake3,
        });
    }
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        created_at,
        organisation: organisation.to_owned(),
        files: listed,
    };
    let manifest_bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|_| BackupError::Damaged("manifest"))?;
    let partial = out.with_extension("age.partial");
    let result = (|| -> Result<()> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial)?;
        let encryptor =
            age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
                .map_err(|_| BackupError::NoRecipients)?;
        let writer = encryptor.wrap_output(BufWriter::with_capacity(BUF_LEN, file))?;
        let mut tar = tar::Builder::new(writer);
        let mut header = tar::Header::new_gnu();
        header.set_size(manifest_bytes.len() as u64);
        header.set_mode(0o600);
        header.set_mtime(created_at.timestamp().max(0) as u64);
        header.set_cksum();
        tar.append_data(&mut header, MANIFEST, manifest_bytes.as_slice())?;
        for (path, file) in &files {
            let mut f = File::open(file)?;
            let mut header = tar::Header::new_gnu();
            header.set_size(f.metadata()?.len());
            header.set_mode(0o600);
            header.set_mtime(created_at.timestamp().max(0) as u64);
            header.set_cksum();
            tar.append_data(&mut header, path, &mut f)?;
        }
        let writer = tar.into_inner()?;
        let file = writer
            .finish()?
            .into_inner()
            .map_err(|e| BackupError::Io(e.into_error()))?;
        file.sync_all()?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&partial);
        return Err(e);
    }
    fs::rename(&partial, out)?;
    if let Some(parent) = out.parent()
        && let Ok(d) = File::open(parent)
    {
        let _ = d.sync_all();
    }
    Ok(manifest)
}

/// Read the whole backup, checking it; with `extract_to`, also write its
/// files there. Returns the manifest.
fn read_backup(
    file: &Path,
    identity: &age::x25519::Identity,
    extract_to: Option<&Path>,
) -> Result<Manifest> {
    let f = BufReader::with_capacity(BUF_LEN, File::open(file)?);
    let decryptor =
        age::Decryptor::new_buffered(f).map_err(|_| BackupError::Damaged("not an age file"))?;
    let reader = decryptor
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => BackupError::WrongKey,
            _ => BackupError::Damaged("header"),
        })?;
    let mut archive = tar::Archive::new(reader);
    let damaged = |_| BackupError::Damaged("archive");
    let mut entries = archive.entries().map_err(damaged)?;
    let mut first = entries
        .next()
        .ok_or(BackupError::Damaged("empty"))?
        .map_err(damaged)?;
    if first.path_bytes().as_ref() != MANIFEST.as_bytes() || first.size() > MAX_MANIFEST_LEN {
        return Err(BackupError::Damaged("no manifest"));
    }
    let mut manifest_bytes = Vec::new();
    first
        .read_to_end(&mut manifest_bytes)
        .map_err(|_| BackupError::Damaged("manifest"))?;
    let manifest: Manifest =
        serde_json::from_slice(&manifest_bytes).map_err(|_| BackupError::Damaged("manifest"))?;
    if manifest.format != FORMAT {
        return Err(BackupError::Damaged("unknown format"));
    }
    let mut expected: BTreeMap<&str, &ManifestFile> = BTreeMap::new();
    for f in &manifest.files {
        if !allowed_path(&f.path) || expected.insert(f.path.as_str(), f).is_some() {
            return Err(BackupError::Damaged("manifest"));
        }
    }
    if !expected.contains_key(DB_FILE) {
        return Err(BackupError::Damaged("no database"));
    }
    if let Some(dir) = extract_to {
        fs::create_dir_all(dir.join(ATTACHMENTS_DIR))?;
    }
    let mut seen = 0usize;
    for entry in entries {
        let mut entry = entry.map_err(damaged)?;
        let path = String::from_utf8(entry.path_bytes().into_owned())
            .map_err(|_| BackupError::Damaged("file name"))?;
        let Some(want) = expected.remove(path.as_str()) else {
            return Err(BackupError::Damaged("a file the manifest does not name"));
        };
        let mut out: Box<dyn Write> = match extract_to {
            Some(dir) => Box::new(BufWriter::new(
                OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(dir.join(&path))?,
            )),
            None => Box::new(io::sink()),
        };
        let mut h = blake3::Hasher::new();
        let mut buf = vec![0u8; BUF_LEN];
        let mut n = 0u64;
        loop {
            let k = entry
                .read(&mut buf)
                .map_err(|_| BackupError::Damaged("truncated or altered"))?;
            if k == 0 {
                break;
            }
            h.update(&buf[..k]);
            out.write_all(&buf[..k])?;
            n += k as u64;
        }
        out.flush()?;
        if n != want.size || hex(h.finalize().as_bytes()) != want.blake3 {
            return Err(BackupError::Damaged("a file does not match the manifest"));
        }
        seen += 1;
    }
    if !expected.is_empty() || seen != manifest.files.len() {
        return Err(BackupError::Damaged("files missing"));
    }
    Ok(manifest)
}

/// Check a whole backup with the secret key: everything decrypts and
/// matches its manifest. Writes nothing.
pub fn verify(file: &Path, identity: &age::x25519::Identity) -> Result<Manifest> {
    read_backup(file, identity, None)
}

/// Restore a backup into `to` (which must not exist, or be empty): verified
/// whole first (a damaged backup writes nothing), then extracted beside
/// `to`, checked again and renamed into place.
pub fn restore(file: &Path, identity: &age::x25519::Identity, to: &Path) -> Result<Manifest> {
    if to.exists() && fs::read_dir(to)?.next().is_some() {
        return Err(BackupError::TargetNotEmpty);
    }
    verify(file, identity)?;
    let parent = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent)?;
    let name = to
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "store".to_owned());
    let staging = parent.join(format!(".{name}.restoring-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    let result = read_backup(file, identity, Some(&staging)).and_then(|m| {
        check_database(&staging.join(DB_FILE))?;
        Ok(m)
    });
    let manifest = match result {
        Ok(m) => m,
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    if to.exists() {
        fs::remove_dir(to)?;
    }
    fs::rename(&staging, to)?;
    Ok(manifest)
}

/// SQLite's own check of the restored database.
fn check_database(db: &Path) -> Result<()> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|_| BackupError::Damaged("database"))?;
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|_| BackupError::Damaged("database"))?;
    if ok != "ok" {
        return Err(BackupError::Damaged("database"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_garbage_is_no_key() {
        let (secret, public) = new_key();
        let id = parse_identity(&format!("# kept offline\n{secret}\n")).expect("identity");
        assert_eq!(id.to_public().to_string(), public);
        assert_eq!(
            parse_recipient(&public).expect("recipient").to_string(),
            public
        );
        assert!(matches!(
            parse_identity("nothing"),
            Err(BackupError::BadKey)
        ));
        assert!(matches!(
            parse_recipient("age1nope"),
            Err(BackupError::BadKey)
        ));
    }

    #[test]
    fn only_the_database_and_plain_attachment_names_are_allowed() {
        assert!(allowed_path("polku.db"));
        assert!(allowed_path("attachments/0193-ab_c"));
        for bad in [
            "../polku.db",
            "attachments/../../x",
            "attachments/.tmp-1",
            "attachments/",
            "other",
            "/etc/passwd",
        ] {
            assert!(!allowed_path(bad), "{bad}");
        }
    }
}
