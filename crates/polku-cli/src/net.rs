//! `polku hub`, `polku join` and `polku sync`: wiring the session, the store-backed
//! sync replica and the iroh adapter together. No rules live here.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use polku_api::{
    EnrolGrant, EnrolRefused, HubPin, PasswordCheck, PasswordVerifier, PendingEnrolment, Session,
    SyncReplica, Ticket, Workspace,
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
/// uses. The replica is locked only for the ticket checks and the final
/// writes; the password check (argon2) runs without the lock, so syncs go on.
struct HubEnroller(Arc<Mutex<SyncReplica>>);

impl HubEnroller {
    fn lock(&self) -> std::sync::MutexGuard<'_, SyncReplica> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// [`Enroller::enrol`] with the password check `verify`.
    fn enrol_with(
        &self,
        peer: NodeId,
        request: &EnrolRequest,
        verify: impl FnOnce(&PendingEnrolment, &str) -> polku_api::Result<PasswordCheck>,
    ) -> polku_api::Result<Result<EnrolGrant, EnrolRefused>> {
        let now = Utc::now();
        let new_password = match &request.new_password {
            None => None,
            Some(bytes) => match postcard::from_bytes::<PasswordVerifier>(bytes) {
                Ok(v) => Some(v),
                Err(_) => return Ok(Err(EnrolRefused::WeakVerifier)),
            },
        };
        let begun = self.lock().session_mut().begin_enrolment(
            &request.secret,
            peer,
            &request.login,
            now,
        )?;
        let pending = match begun {
            Ok(p) => p,
            Err(refused) => return Ok(Err(refused)),
        };
        let check = verify(&pending, &request.password)?;
        self.lock().session_mut().finish_enrolment(
            pending,
            check,
            new_password,
            peer,
            &request.label,
            now,
        )
    }
}

impl Enroller for HubEnroller {
    fn enrol(&self, peer: NodeId, request: EnrolRequest) -> EnrolAnswer {
        let result = self.enrol_with(peer, &request, |p, password| p.check_password(password));
        match result {
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

#[cfg(test)]
mod tests {
    use super::*;
    use polku_api::KdfParams;
    use polku_audit::NodeKey;

    const PW: &str = "hubin-salasana-1";

    #[test]
    fn the_enrolment_password_check_runs_without_the_replica_lock() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = Utc::now();
        Workspace::init_hub_with(dir.path(), "admin", PW, now, KdfParams::INSECURE_FOR_TESTS)
            .expect("init");
        let mut admin = Workspace::open(dir.path())
            .and_then(|w| w.login("admin", PW, now))
            .expect("login");
        let addr = "127.0.0.1:1".parse().expect("addr");
        let ticket = admin
            .create_ticket("admin", [7; 32], vec![addr], now)
            .expect("ticket");
        let enroller = HubEnroller(Arc::new(Mutex::new(admin.into_replica().expect("replica"))));
        let request = EnrolRequest {
            secret: ticket.secret,
            login: "admin".to_owned(),
            password: PW.to_owned(),
            new_password: None,
            label: "laptop".to_owned(),
        };
        let peer = NodeKey::from_bytes(&[9; 32]).node_id();
        let mut lock_free = false;
        let granted = enroller
            .enrol_with(peer, &request, |pending, password| {
                lock_free = enroller.0.try_lock().is_ok();
                pending.check_password(password)
            })
            .expect("enrol");
        assert!(lock_free, "the password was checked under the replica lock");
        assert!(granted.is_ok(), "{:?}", granted.err());
        assert!(enroller.lock().session().device_allowed(peer));

        // The ticket is used now, and a wrong password is refused.
        let again = HubEnroller::enrol(
            &enroller,
            NodeKey::from_bytes(&[10; 32]).node_id(),
            request.clone(),
        );
        assert!(matches!(again, EnrolAnswer::Refused(1)), "{again:?}");
        let ticket = enroller
            .lock()
            .session_mut()
            .create_ticket("admin", [7; 32], vec![addr], now)
            .expect("ticket");
        let mut wrong = request.clone();
        wrong.secret = ticket.secret;
        wrong.password = "wrong-password".to_owned();
        let refused = enroller.enrol(NodeKey::from_bytes(&[11; 32]).node_id(), wrong);
        assert!(matches!(refused, EnrolAnswer::Refused(2)), "{refused:?}");
    }

    #[test]
    fn two_enrolments_racing_for_one_ticket_enrol_one_device() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = Utc::now();
        Workspace::init_hub_with(dir.path(), "admin", PW, now, KdfParams::INSECURE_FOR_TESTS)
            .expect("init");
        let mut admin = Workspace::open(dir.path())
            .and_then(|w| w.login("admin", PW, now))
            .expect("login");
        let addr = "127.0.0.1:1".parse().expect("addr");
        let ticket = admin
            .create_ticket("admin", [7; 32], vec![addr], now)
            .expect("ticket");
        let (a, b) = (
            NodeKey::from_bytes(&[20; 32]).node_id(),
            NodeKey::from_bytes(&[21; 32]).node_id(),
        );
        // Both pass the ticket check before either finishes.
        let pa = admin
            .begin_enrolment(&ticket.secret, a, "admin", now)
            .expect("begin")
            .expect("valid");
        let pb = admin
            .begin_enrolment(&ticket.secret, b, "admin", now)
            .expect("begin")
            .expect("valid");
        let (ca, cb) = (
            pa.check_password(PW).expect("check"),
            pb.check_password(PW).expect("check"),
        );
        let first = admin
            .finish_enrolment(pa, ca, None, a, "a", now)
            .expect("finish");
        let second = admin
            .finish_enrolment(pb, cb, None, b, "b", now)
            .expect("finish");
        assert!(first.is_ok());
        assert_eq!(second.err(), Some(EnrolRefused::InvalidTicket));
        assert!(admin.device_allowed(a) && !admin.device_allowed(b));
    }
}
