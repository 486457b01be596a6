//! The `backup` verbs: keys, a backup now, the list, verify and restore.
//! Verify and restore need no login (the hub may be gone), only the secret
//! backup key, read from a file or standard input (never an argument).

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use polku_api::Session;
use polku_api::backup;

/// Backups (varmuuskopiot) of the store.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Back the store up now (encrypted to the organisation's backup keys;
    /// the newest 14 are kept).
    Now {
        /// Backup folder; default: beside the store, `<store>.backups`.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// The backups in the backup folder, oldest first.
    List {
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Check a whole backup with the secret backup key; writes nothing.
    Verify {
        file: PathBuf,
        /// File holding the secret key, or `-` for standard input.
        #[arg(long)]
        key_file: PathBuf,
    },
    /// Restore a backup into a new (or empty) store folder; the backup is
    /// checked whole before anything is written.
    Restore {
        file: PathBuf,
        /// The new store folder.
        #[arg(long)]
        to: PathBuf,
        /// File holding the secret key, or `-` for standard input.
        #[arg(long)]
        key_file: PathBuf,
    },
    /// Backup keys.
    #[command(subcommand)]
    Key(KeyCommand),
}

/// `backup key …`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a new backup key: the public half is added to the organisation,
    /// the secret half is printed once — print it on paper and keep it
    /// offline; without it no backup can be restored.
    New {
        /// A name for the key, e.g. "paper copy in the office safe".
        #[arg(long, default_value = "")]
        label: String,
    },
    /// The organisation's backup keys (public halves).
    List,
}

/// Whether `cmd` runs without a login.
pub fn needs_no_login(cmd: &BackupCommand) -> bool {
    matches!(
        cmd,
        BackupCommand::Verify { .. } | BackupCommand::Restore { .. }
    )
}

fn secret_key(path: &Path) -> Result<String> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("could not read the key from standard input")?;
    } else {
        text = std::fs::read_to_string(path).context("could not read the key file")?;
    }
    Ok(text)
}

/// Run `verify` or `restore` (no login).
pub fn offline(cmd: BackupCommand) -> Result<()> {
    match cmd {
        BackupCommand::Verify { file, key_file } => {
            let m = backup::verify_backup(&file, &secret_key(&key_file)?)?;
            println!(
                "The backup of {} is whole: {} files, {} bytes.",
                m.created_at.format("%-d.%-m.%Y %H.%M UTC"),
                m.files.len(),
                m.bytes()
            );
        }
        BackupCommand::Restore { file, to, key_file } => {
            let m = backup::restore_backup(&file, &secret_key(&key_file)?, &to)?;
            println!(
                "Restored the backup of {} into {} ({} files). Log in there with your usual user name and password.",
                m.created_at.format("%-d.%-m.%Y %H.%M UTC"),
                to.display(),
                m.files.len()
            );
        }
        _ => unreachable!("needs a login"),
    }
    Ok(())
}

/// Run a `backup` verb that needs a login.
pub fn run(
    session: &mut Session,
    store_dir: &Path,
    cmd: BackupCommand,
    now: DateTime<Utc>,
) -> Result<()> {
    match cmd {
        BackupCommand::Now { dir } => {
            let dir = dir.unwrap_or_else(|| backup::default_backup_dir(store_dir));
            let made = session.backup_now(&dir, now)?;
            println!("{}", made.path.display());
            for r in &made.removed {
                println!("removed the old backup {}", r.display());
            }
        }
        BackupCommand::List { dir } => {
            let dir = dir.unwrap_or_else(|| backup::default_backup_dir(store_dir));
            for b in backup::list_backups(&dir)? {
                println!(
                    "{}  {}  {} bytes",
                    b.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    b.path.display(),
                    b.size
                );
            }
        }
        BackupCommand::Key(KeyCommand::New { label }) => {
            let secret = session.add_backup_key(&label, now)?;
            println!("# Polku backup key, secret half. Print this and keep it offline:");
            println!("# without it no backup can be restored; with it anyone can read them.");
            println!("{secret}");
        }
        BackupCommand::Key(KeyCommand::List) => {
            for (public, key) in session.backup_keys() {
                println!(
                    "{public}  added {}  {}",
                    key.added_at.format("%Y-%m-%d"),
                    key.label
                );
            }
        }
        BackupCommand::Verify { .. } | BackupCommand::Restore { .. } => offline(cmd)?,
    }
    Ok(())
}
