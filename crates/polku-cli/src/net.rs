//! `polku hub`, `polku join` and `polku sync`: prompts and printing around
//! polku-service's flows, which hold the rules.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use polku_api::Session;
use polku_service::{HubEvent, Joined, ServiceError};
use polku_sync::SyncReport;

/// One line of the hub's log on stdout. A closed stdout must not stop the hub,
/// so write errors are ignored (unlike `println!`, which panics).
fn log_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_fmt(line);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("could not start the async runtime")
}

fn describe(report: &SyncReport) -> String {
    format!(
        "documents sent {}, received {} (new {}), differing {}, bytes sent {}, received {}, refused by peer {}, refused here {}, quarantined {}, files sent {}, received {}, not available {}, refused {}",
        report.docs_sent,
        report.docs_received,
        report.docs_created,
        report.docs_differing,
        report.bytes_sent,
        report.bytes_received,
        report.refused_by_peer.len(),
        report.refused_here.len(),
        report.quarantined.len(),
        report.blobs_sent,
        report.blobs_received,
        report.blobs_unavailable,
        report.blobs_rejected,
    )
}

/// `polku hub`: serve sync and enrolment until SIGTERM or Ctrl-C.
pub fn hub(session: Session, bind: SocketAddr) -> Result<()> {
    let events: Arc<dyn Fn(HubEvent) + Send + Sync> = Arc::new(|event| match event {
        HubEvent::Listening { node, addrs } => {
            let shown: Vec<String> = addrs.iter().map(ToString::to_string).collect();
            log_line(format_args!("hub {node} listening on {}", shown.join(" ")));
        }
        HubEvent::Synced { peer, result } => match result {
            Ok(report) => log_line(format_args!(
                "sync with {}: {}",
                peer.short(),
                describe(&report)
            )),
            Err(e) => log_line(format_args!("sync with {} failed: {e}", peer.short())),
        },
        HubEvent::Enrolled(peer) => log_line(format_args!("enrolled device {}", peer.short())),
        HubEvent::EnrolmentRefused(peer, refused) => log_line(format_args!(
            "refused enrolment of {}: {refused}",
            peer.short()
        )),
        HubEvent::AuditFailed(peer, e) => log_line(format_args!(
            "could not audit the sync with {}: {e}",
            peer.short()
        )),
        HubEvent::BackedUp(path) => log_line(format_args!("backup written: {}", path.display())),
        HubEvent::BackupFailed(code) if code == "backup.no_key" => log_line(format_args!(
            "no daily backup: no backup key yet (create one with `polku backup key new`)"
        )),
        HubEvent::BackupFailed(code) => log_line(format_args!("the daily backup failed: {code}")),
    });
    let rt = runtime()?;
    rt.block_on(polku_service::serve_hub(
        session,
        bind,
        async {
            wait_for_stop().await;
            log_line(format_args!("stopping"));
        },
        events,
    ))?;
    log_line(format_args!("stopped"));
    Ok(())
}

async fn wait_for_stop() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = ctrl_c => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// `polku join TICKET --user NAME`: enrol this device with the hub, create the
/// laptop store and run a first sync. A temporary password is changed while
/// joining: `new_password` is asked for when the hub says so (or given
/// beforehand), and only its verifier goes to the hub.
pub fn join(
    dir: &Path,
    ticket: &str,
    login: &str,
    password: &str,
    new_password: &mut dyn FnMut() -> Result<Option<String>>,
) -> Result<()> {
    let rt = runtime()?;
    let chosen = new_password()?;
    let mut joined = rt.block_on(polku_service::join(
        dir,
        ticket,
        login,
        password,
        chosen.as_deref(),
    ))?;
    if matches!(joined, Joined::NeedsNewPassword) {
        eprintln!("The password is temporary: choose a new one.");
        let chosen = read_required_new_password()?;
        joined = rt.block_on(polku_service::join(
            dir,
            ticket,
            login,
            password,
            Some(&chosen),
        ))?;
    }
    let Joined::Done(session) = joined else {
        anyhow::bail!("the hub asked for a new password again");
    };
    println!("Joined the organisation; this device is enrolled for {login}.");
    sync_on(&rt, *session)
}

/// A new password from `POLKU_NEW_PASSWORD`, else asked twice on the terminal.
fn read_required_new_password() -> Result<String> {
    crate::cli::read_new_password("New password: ")
}

/// Whether `err` is a sync refused for who this device or its user is (exit
/// code 7).
pub fn is_sync_refusal(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<ServiceError>()
            .is_some_and(ServiceError::is_sync_refusal)
    })
}

/// `polku sync`: one session with the pinned hub.
pub fn sync(session: Session) -> Result<()> {
    let rt = runtime()?;
    sync_on(&rt, session)
}

fn sync_on(rt: &tokio::runtime::Runtime, session: Session) -> Result<()> {
    let (session, outcome) = rt.block_on(polku_service::sync_now(session));
    if let Some(session) = session {
        session.close()?;
    }
    match outcome {
        Ok(o) => {
            println!("Synced: {}", describe(&o.report));
            for refusal in &o.refusals {
                println!(
                    "  refused by the hub: document {} ({:?})",
                    refusal.doc, refusal.reason
                );
            }
            Ok(())
        }
        Err(e @ ServiceError::Revoked { .. }) => {
            eprintln!("{e}.");
            Err(anyhow::Error::new(e))
        }
        Err(e) => Err(anyhow::Error::new(e).context("sync with the hub failed")),
    }
}
