//! `polku hub`, `polku join` and `polku sync`: wiring the session, the store-backed
//! sync replica and the iroh adapter together. No rules live here.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use polku_api::{
    EnrolGrant, EnrolRefused, HubPin, PendingEnrolment, Session, SyncReplica, Ticket, Workspace,
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

/// Refusal codes of the enrolment answer. Do not change.
fn refusal_code(r: EnrolRefused) -> u8 {
    match r {
        EnrolRefused::InvalidTicket => 1,
        EnrolRefused::WrongPassword => 2,
        EnrolRefused::UserInactive => 3,
        EnrolRefused::AlreadyEnrolled => 4,
    }
}

fn refusal_text(code: u8) -> &'static str {
    match code {
        1 => "the ticket is not valid (unknown, used, expired, or for another user)",
        2 => "wrong password",
        3 => "the user is deactivated",
        4 => "this device is already enrolled",
        _ => "the hub could not read the request",
    }
}

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
        verify: impl FnOnce(&PendingEnrolment, &str) -> polku_api::Result<bool>,
    ) -> polku_api::Result<Result<EnrolGrant, EnrolRefused>> {
        let now = Utc::now();
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
        let password_ok = verify(&pending, &request.password)?;
        self.lock()
            .session_mut()
            .finish_enrolment(pending, password_ok, &request.label, now)
    }
}

impl Enroller for HubEnroller {
    fn enrol(&self, peer: NodeId, request: EnrolRequest) -> EnrolAnswer {
        let result = self.enrol_with(peer, &request, |p, password| {
            p.check_password(password, Utc::now())
        });
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
                EnrolAnswer::Refused(refusal_code(refused))
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
/// laptop store and run a first sync.
pub fn join(dir: &Path, ticket: &str, login: &str, password: &str) -> Result<()> {
    let ticket = Ticket::decode(ticket)?;
    if !login.trim().eq_ignore_ascii_case(ticket.login.trim()) {
        bail!("the ticket is for another user");
    }
    if dir.join(polku_api::DB_FILE).exists() {
        bail!("a store already exists in this directory");
    }
    let secret: [u8; 32] = rand::random();
    let rt = runtime()?;
    let answer = rt.block_on(async {
        let endpoint = polku_net::bind(&secret, "0.0.0.0:0".parse()?, vec![]).await?;
        let hub = polku_net::hub_addr(ticket.hub, &ticket.addrs)?;
        let request = EnrolRequest {
            secret: ticket.secret,
            login: login.to_owned(),
            password: password.to_owned(),
            label: "laptop".to_owned(),
        };
        let answer = polku_net::request_enrolment(&endpoint, hub, &request).await;
        endpoint.close().await;
        anyhow::Ok(answer?)
    })?;
    let grant: EnrolGrant = match answer {
        EnrolAnswer::Granted(bytes) => {
            postcard::from_bytes(&bytes).context("the hub's answer is malformed")?
        }
        EnrolAnswer::Refused(code) => {
            bail!("the hub refused the enrolment: {}", refusal_text(code))
        }
    };
    let pin = HubPin {
        node: ticket.hub,
        addrs: ticket.addrs.clone(),
    };
    Workspace::join(dir, &grant, login, password, &secret, &pin, Utc::now())?;
    println!("Joined the organisation; this device is enrolled for {login}.");
    let session = Workspace::open(dir)?.login(login, password, Utc::now())?;
    sync(session)
}

/// `polku sync`: one session with the pinned hub.
pub fn sync(session: Session) -> Result<()> {
    let Some(pin) = session.hub_pin()? else {
        bail!("this store is not enrolled with a hub (use `polku join`)");
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
        Err(e) => Err(anyhow::Error::new(e).context("sync with the hub failed")),
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
            label: "laptop".to_owned(),
        };
        let peer = NodeKey::from_bytes(&[9; 32]).node_id();
        let mut lock_free = false;
        let granted = enroller
            .enrol_with(peer, &request, |pending, password| {
                lock_free = enroller.0.try_lock().is_ok();
                pending.check_password(password, Utc::now())
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
        let wrong = EnrolRequest {
            secret: ticket.secret,
            password: "wrong".to_owned(),
            ..request
        };
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
        let first = admin.finish_enrolment(pa, true, "a", now).expect("finish");
        let second = admin.finish_enrolment(pb, true, "b", now).expect("finish");
        assert!(first.is_ok());
        assert_eq!(second.err(), Some(EnrolRefused::InvalidTicket));
        assert!(admin.device_allowed(a) && !admin.device_allowed(b));
    }
}
