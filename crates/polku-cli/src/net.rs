//! `polku hub`, `polku join` and `polku sync`: wiring the session, the store-backed
//! sync replica and the iroh adapter together. No rules live here.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use polku_api::{
    EnrolGrant, EnrolRefused, HubPin, PasswordVerifier, Session, SyncReplica, Ticket, Workspace,
};
use polku_audit::NodeId;
use polku_net::{EnrolAnswer, EnrolRequest, Enroller, NetError, SessionLog, SyncProtocol};
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

/// A refused enrolment, as the laptop learns it (exit code 3).
#[derive(Debug, thiserror::Error)]
#[error("the hub refused the enrolment: {0}")]
pub struct EnrolmentRefused(pub EnrolRefused);

/// The hub's enrolment decisions, over the same replica the sync protocol
/// uses. The slow password check runs without holding the replica's lock, so
/// enrolments never stall syncs.
struct HubEnroller(Arc<Mutex<SyncReplica>>);

impl HubEnroller {
    fn decide(
        &self,
        peer: NodeId,
        request: &EnrolRequest,
    ) -> polku_api::Result<std::result::Result<EnrolGrant, EnrolRefused>> {
        let lock = || self.0.lock().unwrap_or_else(|p| p.into_inner());
        let new_password = match &request.new_password {
            None => None,
            Some(bytes) => match postcard::from_bytes::<PasswordVerifier>(bytes) {
                Ok(v) => Some(v),
                Err(_) => return Ok(Err(EnrolRefused::WeakVerifier)),
            },
        };
        let pending = match lock().session_mut().begin_enrolment(
            &request.secret,
            peer,
            &request.login,
            Utc::now(),
        )? {
            Ok(p) => p,
            Err(r) => return Ok(Err(r)),
        };
        let check = pending.check_password(&request.password)?;
        lock().session_mut().finish_enrolment(
            pending,
            check,
            new_password,
            peer,
            &request.label,
            Utc::now(),
        )
    }
}

impl Enroller for HubEnroller {
    fn enrol(&self, peer: NodeId, request: EnrolRequest) -> EnrolAnswer {
        match self.decide(peer, &request) {
            Ok(Ok(grant)) => match postcard::to_allocvec(&grant) {
                Ok(bytes) => {
                    log_line(format_args!("enrolled device {}", peer.short()));
                    EnrolAnswer::Granted(bytes)
                }
                Err(_) => EnrolAnswer::Refused(0),
            },
            Ok(Err(refused)) => {
                log_line(format_args!(
                    "refused enrolment of {}: {refused}",
                    peer.short()
                ));
                EnrolAnswer::Refused(refused.code())
            }
            Err(e) => {
                log_line(format_args!("enrolment of {} failed: {e}", peer.short()));
                EnrolAnswer::Refused(0)
            }
        }
    }
}

fn describe(report: &SyncReport) -> String {
    format!(
        "documents sent {}, received {} (new {}), differing {}, bytes sent {}, received {}, refused by peer {}, refused here {}, quarantined {}",
        report.docs_sent,
        report.docs_received,
        report.docs_created,
        report.docs_differing,
        report.bytes_sent,
        report.bytes_received,
        report.refused_by_peer.len(),
        report.refused_here.len(),
        report.quarantined.len(),
    )
}

/// `polku hub`: serve sync and enrolment until SIGTERM or Ctrl-C.
pub fn hub(session: Session, bind: SocketAddr) -> Result<()> {
    if !session.is_hub()? {
        bail!("this store is not a hub store (create one with `polku init --hub`)");
    }
    let secret = session.node_secret()?;
    let org = session.org_id();
    let replica = Arc::new(Mutex::new(session.into_replica()?));
    let rt = runtime()?;
    rt.block_on(async {
        let endpoint = polku_net::bind(
            &secret,
            bind,
            vec![
                polku_net::SYNC_ALPN.to_vec(),
                polku_net::ENROL_ALPN.to_vec(),
            ],
        )
        .await?;
        let local = polku_net::node_id(&endpoint);
        let addrs = endpoint.bound_sockets();
        replica
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .session_mut()
            .set_hub_listen_addrs(&addrs)?;
        let log_replica = replica.clone();
        let log: SessionLog = Arc::new(
            move |peer: NodeId, result: &Result<SyncReport, NetError>| match result {
                Ok(report) => {
                    log_line(format_args!(
                        "sync with {}: {}",
                        peer.short(),
                        describe(report)
                    ));
                    let mut r = log_replica.lock().unwrap_or_else(|p| p.into_inner());
                    if let Err(e) = r.record_sync(report, Utc::now()) {
                        log_line(format_args!(
                            "could not audit the sync with {}: {e}",
                            peer.short()
                        ));
                    }
                }
                Err(e) => log_line(format_args!("sync with {} failed: {e}", peer.short())),
            },
        );
        let protocol = SyncProtocol::new(replica.clone(), org, local, log);
        let router =
            polku_net::hub_router(endpoint, protocol, Arc::new(HubEnroller(replica.clone())));
        let shown: Vec<String> = addrs.iter().map(ToString::to_string).collect();
        log_line(format_args!("hub {local} listening on {}", shown.join(" ")));
        wait_for_stop().await;
        log_line(format_args!("stopping"));
        router
            .shutdown()
            .await
            .context("could not stop the hub cleanly")?;
        anyhow::Ok(())
    })?;
    let replica = Arc::try_unwrap(replica)
        .map_err(|_| anyhow::anyhow!("the hub is still in use"))?
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    replica.into_session().close()?;
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
    let ticket = Ticket::decode(ticket)?;
    if !login.trim().eq_ignore_ascii_case(ticket.login.trim()) {
        bail!("the ticket is for another user");
    }
    if dir.join(polku_api::DB_FILE).exists() {
        bail!("a store already exists in this directory");
    }
    let secret: [u8; 32] = rand::random();
    let rt = runtime()?;
    let enrol = |chosen: Option<&str>| -> Result<EnrolAnswer> {
        let verifier = chosen
            .map(|p| {
                polku_api::check_password_policy(p)?;
                let v = PasswordVerifier::create(p, polku_api::KdfParams::default())
                    .map_err(polku_api::ApiError::from)?;
                postcard::to_allocvec(&v).context("could not encode the new password's verifier")
            })
            .transpose()?;
        rt.block_on(async {
            let endpoint = polku_net::bind(&secret, "0.0.0.0:0".parse()?, vec![]).await?;
            let hub = polku_net::hub_addr(ticket.hub, &ticket.addrs)?;
            let request = EnrolRequest {
                secret: ticket.secret,
                login: login.to_owned(),
                password: password.to_owned(),
                new_password: verifier,
                label: "laptop".to_owned(),
            };
            let answer = polku_net::request_enrolment(&endpoint, hub, &request).await;
            endpoint.close().await;
            anyhow::Ok(answer?)
        })
    };
    let mut chosen = new_password()?;
    let mut answer = enrol(chosen.as_deref())?;
    let must_change = EnrolRefused::MustChangePassword.code();
    if chosen.is_none() && matches!(answer, EnrolAnswer::Refused(c) if c == must_change) {
        eprintln!("The password is temporary: choose a new one.");
        chosen = Some(read_required_new_password()?);
        answer = enrol(chosen.as_deref())?;
    }
    let grant: EnrolGrant = match answer {
        EnrolAnswer::Granted(bytes) => {
            postcard::from_bytes(&bytes).context("the hub's answer is malformed")?
        }
        EnrolAnswer::Refused(code) => {
            return Err(match EnrolRefused::from_code(code) {
                Some(r) => EnrolmentRefused(r).into(),
                None => anyhow::anyhow!("the hub could not read the enrolment request"),
            });
        }
    };
    let pin = HubPin {
        node: ticket.hub,
        addrs: ticket.addrs.clone(),
    };
    let password = chosen.as_deref().unwrap_or(password);
    Workspace::join(dir, &grant, login, password, &secret, &pin, Utc::now())?;
    println!("Joined the organisation; this device is enrolled for {login}.");
    let session = Workspace::open(dir)?.login(login, password, Utc::now())?;
    sync(session)
}

/// A new password from `POLKU_NEW_PASSWORD`, else asked twice on the terminal.
fn read_required_new_password() -> Result<String> {
    crate::cli::read_new_password("New password: ")
}

/// `polku sync` on a store that was never enrolled with a hub.
#[derive(Debug)]
pub struct NotEnrolledLocally;

impl std::fmt::Display for NotEnrolledLocally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("this store is not enrolled with a hub (use `polku join`)")
    }
}

impl std::error::Error for NotEnrolledLocally {}

/// Whether `err` is a sync refused for who this device or its user is (exit
/// code 7): the store is not enrolled, or the hub refused it (not enrolled
/// there, revoked, user deactivated, re-authentication needed), or the peer
/// is not the pinned hub.
pub fn is_sync_refusal(err: &anyhow::Error) -> bool {
    use polku_sync::SyncError;
    use polku_sync::protocol::ErrorCode;
    err.chain().any(|e| {
        if e.downcast_ref::<NotEnrolledLocally>().is_some() {
            return true;
        }
        match e.downcast_ref::<SyncError>() {
            Some(SyncError::Denied(_)) => true,
            Some(SyncError::Remote(code)) => matches!(
                code,
                ErrorCode::NotEnrolled
                    | ErrorCode::DeviceRevoked
                    | ErrorCode::UserDeactivated
                    | ErrorCode::HubMismatch
                    | ErrorCode::ReauthRequired
                    | ErrorCode::WrongOrganisation
            ),
            _ => false,
        }
    })
}

/// `polku sync`: one session with the pinned hub.
pub fn sync(session: Session) -> Result<()> {
    let Some(pin) = session.hub_pin()? else {
        session.close()?;
        return Err(NotEnrolledLocally.into());
    };
    let secret = session.node_secret()?;
    let org = session.org_id();
    let replica = Mutex::new(session.into_replica()?);
    let rt = runtime()?;
    let result = rt.block_on(async {
        let endpoint = polku_net::bind(&secret, "0.0.0.0:0".parse()?, vec![]).await?;
        let hub = polku_net::hub_addr(pin.node, &pin.addrs)?;
        let result = polku_net::sync_with_hub(&endpoint, hub, &replica, org).await;
        endpoint.close().await;
        anyhow::Ok(result)
    })?;
    let mut replica = replica.into_inner().unwrap_or_else(|p| p.into_inner());
    let outcome = match result {
        Ok(report) => {
            replica.record_sync(&report, Utc::now())?;
            println!("Synced: {}", describe(&report));
            for (_, refusal) in replica.refusals()? {
                println!(
                    "  refused by the hub: document {} ({:?})",
                    refusal.doc, refusal.reason
                );
            }
            Ok(())
        }
        Err(e) => {
            if matches!(
                &e,
                NetError::Sync(polku_sync::SyncError::Remote(
                    polku_sync::protocol::ErrorCode::DeviceRevoked
                ))
            ) {
                // A lost or stolen laptop gives up its clients at the first
                // contact after the revocation.
                let n = replica.session_mut().wipe_after_revocation(Utc::now())?;
                eprintln!(
                    "This device was revoked by the organisation: {n} documents with client data were deleted from it."
                );
            }
            Err(anyhow::Error::new(e).context("sync with the hub failed"))
        }
    };
    replica.into_session().close()?;
    outcome
}
