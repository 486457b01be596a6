//! The erasure verbs: `client erase`, `erasure list` and `retention apply`.
//! Thin: the rules (anonymised record, tombstone, audit, rights) live in
//! `polku_api::erase`.

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use clap::Subcommand;
use polku_api::{ErasureReason, RetentionRun, Session};
use polku_core::ClientId;

/// Erase one client (asiakkaan tietojen hävittäminen).
pub fn erase(session: &mut Session, id: ClientId, reason: &str, now: DateTime<Utc>) -> Result<()> {
    let reason = ErasureReason::from_code(reason)?;
    let e = session.erase_client(id, reason, now)?;
    println!(
        "Erased {} ({} documents, {} attachment files); its anonymised record stays for statistics.",
        e.client, e.documents, e.attachments
    );
    Ok(())
}

/// Erasures (tombstones) and the devices that have acknowledged them.
#[derive(Debug, Subcommand)]
pub enum ErasureCommand {
    /// Each erasure: when, and which devices have acknowledged it.
    List {
        #[arg(long)]
        json: bool,
    },
}

/// `erasure list`.
pub fn erasure(session: &mut Session, cmd: ErasureCommand, now: DateTime<Utc>) -> Result<()> {
    let ErasureCommand::List { json } = cmd;
    let rows = session.erasure_status(now)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if rows.is_empty() {
        println!("No erasures.");
    }
    for r in &rows {
        println!(
            "{}  {}  acknowledged by {} of {} devices",
            r.doc,
            r.erased_at.format("%Y-%m-%d %H:%M"),
            r.acknowledged.len(),
            r.devices()
        );
        for (node, label) in &r.missing {
            println!("    not yet: {label} ({node})");
        }
    }
    Ok(())
}

/// `retention apply`.
pub fn retention_apply(
    session: &mut Session,
    ended_before: NaiveDate,
    dry_run: bool,
    json: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    let run: RetentionRun = session.retention_apply(ended_before, dry_run, now)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&run)?);
        return Ok(());
    }
    let verb = if dry_run { "Would erase" } else { "Erased" };
    println!("{verb} {} clients:", run.clients.len());
    for r in &run.clients {
        let ended = r
            .last_period_end
            .map_or("no period".to_owned(), |d| format!("last period ended {d}"));
        println!(
            "  {}  {}, {}  {ended}, kept until {}",
            r.client, r.last_name, r.first_name, r.keep_until
        );
    }
    Ok(())
}
