//! The flows the desktop app and the CLI share, so that neither shell holds a
//! rule: joining an organisation with a ticket (with the must-change-password
//! step), syncing now with the pinned hub (its audit entry, the offline
//! lease renewal, and a revoked device giving up its client data), and
//! serving the hub (sync and enrolment, the enrolment's argon2 check off the
//! replica's lock).
//!
//! Everything is async, for the app's async commands; the CLI runs it on a
//! runtime of its own. Errors are [`ServiceError`], which the UI reads as
//! stable codes ([`ServiceError::to_dto`]).

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use polku_api::{
    ApiError, EnrolGrant, EnrolRefused, ErrorDto, HubPin, PasswordCheck, PasswordVerifier,
    PendingEnrolment, Session, SyncReplica, Ticket, Workspace,
};
use polku_audit::NodeId;
use polku_net::{EnrolAnswer, EnrolRequest, Enroller, NetError, SessionLog, SyncProtocol};
use polku_sync::protocol::{ErrorCode, Refusal};
use polku_sync::{SyncError, SyncReport};

pub mod desk;
mod shared_sync;

pub use shared_sync::sync_shared;

/// What went wrong in a flow.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The API refused or failed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The network or the sync session failed.
    #[error("sync with the hub failed")]
    Net(#[source] NetError),
    /// The hub refused the enrolment.
    #[error("the hub refused the enrolment: {0}")]
    EnrolmentRefused(EnrolRefused),
    /// The hub's enrolment answer could not be read.
    #[error("the hub's answer is malformed")]
    MalformedAnswer,
    /// This store was never enrolled with a hub.
    #[error("this store is not enrolled with a hub")]
    NotEnrolled,
    /// `serve_hub` on a laptop's store.
    #[error("this store is not a hub store")]
    NotAHub,
    /// The ticket text is not a ticket.
    #[error(transparent)]
    BadTicket(#[from] polku_api::BadTicket),
    /// The ticket names another user.
    #[error("the ticket is for another user")]
    TicketForAnotherUser,
    /// Joining into a directory that holds a store.
    #[error("a store already exists in this directory")]
    StoreExists,
    /// The hub revoked this device, which deleted its client data.
    #[error(
        "this device was revoked by the organisation: {wiped} documents with client data were deleted from it"
    )]
    Revoked {
        /// How many documents were deleted.
        wiped: usize,
    },
}

impl ServiceError {
    /// The API error inside, if this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            ServiceError::Api(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the sync was refused for who this device or its user is (not
    /// enrolled here or there, revoked, deactivated, re-authentication
    /// needed, another organisation, not the pinned hub).
    pub fn is_sync_refusal(&self) -> bool {
        match self {
            ServiceError::NotEnrolled | ServiceError::Revoked { .. } => true,
            ServiceError::Net(NetError::Sync(e)) => sync_refusal(e),
            _ => false,
        }
    }

    /// The error as the UI receives it: a stable code and parameters.
    pub fn to_dto(&self) -> ErrorDto {
        let mut params = std::collections::BTreeMap::new();
        let code = match self {
            ServiceError::Api(e) => return e.to_dto(),
            ServiceError::Net(NetError::Sync(SyncError::Remote(code))) => {
                params.insert("remote".to_owned(), format!("{code:?}"));
                "sync.refused_by_hub"
            }
            ServiceError::Net(NetError::Sync(SyncError::Denied(d))) => {
                params.insert("denial".to_owned(), format!("{d:?}"));
                "sync.refused_here"
            }
            ServiceError::Net(NetError::Connect(_) | NetError::Timeout) => "sync.hub_unreachable",
            ServiceError::Net(_) => "sync.failed",
            ServiceError::EnrolmentRefused(r) => {
                params.insert("reason".to_owned(), r.code().to_string());
                "enrolment.refused"
            }
            ServiceError::MalformedAnswer => "enrolment.malformed_answer",
            ServiceError::NotEnrolled => "sync.not_enrolled",
            ServiceError::NotAHub => "hub.not_a_hub",
            ServiceError::TicketForAnotherUser => "enrolment.ticket_for_another_user",
            ServiceError::BadTicket(_) => "enrolment.bad_ticket",
            ServiceError::StoreExists => "store.already_exists",
            ServiceError::Revoked { wiped } => {
                params.insert("wiped".to_owned(), wiped.to_string());
                "sync.device_revoked"
            }
        };
        ErrorDto {
            code: code.to_owned(),
            params,
        }
    }
}

fn sync_refusal(e: &SyncError) -> bool {
    match e {
        SyncError::Denied(_) => true,
        SyncError::Remote(code) => matches!(
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
}

/// A flow's result.
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// A sync that completed.
#[derive(Debug, Clone)]
pub struct SyncOutcome {
    /// What moved.
    pub report: SyncReport,
    /// Changes of this device the hub refused (kept here), by document.
    pub refusals: Vec<Refusal>,
}

/// Syncs `session`'s store with its pinned hub now: one session, audited,
/// renewing the offline lease. A device the hub reports as revoked deletes
/// its client data ([`ServiceError::Revoked`]). The session comes back for
/// the caller to go on with or close (`None` only when the store failed so
/// that no replica could be made of it; the session was closed then).
pub async fn sync_now(session: Session) -> (Option<Session>, Result<SyncOutcome>) {
    let pin = match session.hub_pin() {
        Ok(Some(pin)) => pin,
        Ok(None) => return (Some(session), Err(ServiceError::NotEnrolled)),
        Err(e) => return (Some(session), Err(e.into())),
    };
    let (secret, org) = match session.transport_secret() {
        Ok(s) => (s, session.org_id()),
        Err(e) => return (Some(session), Err(e.into())),
    };
    let replica = match session.into_replica() {
        Ok(r) => Mutex::new(r),
        Err(e) => return (None, Err(e.into())),
    };
    let result = run_sync(secret.for_transport(), &pin, &replica, org).await;
    let mut replica = replica.into_inner().unwrap_or_else(|p| p.into_inner());
    let outcome = match result {
        Ok(report) => match replica.record_sync(&report, Utc::now()) {
            Ok(()) => match replica.refusals() {
                Ok(refusals) => Ok(SyncOutcome {
                    report,
                    refusals: refusals.into_iter().map(|(_, r)| r).collect(),
                }),
                Err(e) => Err(e.into()),
            },
            Err(e) => Err(e.into()),
        },
        Err(NetError::Sync(SyncError::Remote(ErrorCode::DeviceRevoked))) => {
            // A lost or stolen laptop gives up its clients at the first
            // contact after the revocation.
            match replica.session_mut().wipe_after_revocation(Utc::now()) {
                Ok(wiped) => Err(ServiceError::Revoked { wiped }),
                Err(e) => Err(e.into()),
            }
        }
        Err(e) => Err(ServiceError::Net(e)),
    };
    (Some(replica.into_session()), outcome)
}

pub(crate) async fn run_sync(
    secret: &[u8; 32],
    pin: &HubPin,
    replica: &Mutex<SyncReplica>,
    org: polku_core::OrgId,
) -> std::result::Result<SyncReport, NetError> {
    let endpoint = polku_net::bind(secret, "0.0.0.0:0".parse().expect("address"), vec![]).await?;
    let hub = polku_net::hub_addr(pin.node, &pin.addrs)?;
    let result = polku_net::sync_with_hub(&endpoint, hub, replica, org).await;
    endpoint.close().await;
    result
}

/// How [`join`] ended.
#[derive(Debug)]
pub enum Joined {
    /// Enrolled: the new store, logged in (a first sync is the caller's
    /// next step, see [`sync_now`]).
    Done(Box<Session>),
    /// The password on the ticket's account is temporary: call [`join`]
    /// again with a new password (only its verifier goes to the hub).
    NeedsNewPassword,
}

/// Joins the organisation of `ticket` (its text form) as `login`: enrols
/// this device with the hub and creates the laptop store in `dir`. With
/// `new_password`, the account's password is changed to it while joining.
pub async fn join(
    dir: &Path,
    ticket: &str,
    login: &str,
    password: &str,
    new_password: Option<&str>,
) -> Result<Joined> {
    let ticket = Ticket::decode(ticket)?;
    if !login.trim().eq_ignore_ascii_case(ticket.login.trim()) {
        return Err(ServiceError::TicketForAnotherUser);
    }
    if dir.join(polku_api::DB_FILE).exists() {
        return Err(ServiceError::StoreExists);
    }
    let verifier = match new_password {
        Some(p) => {
            polku_api::check_password_policy(p)?;
            let v = PasswordVerifier::create(p, polku_api::KdfParams::default())
                .map_err(ApiError::from)?;
            Some(postcard::to_allocvec(&v).map_err(|_| ServiceError::MalformedAnswer)?)
        }
        None => None,
    };
    let secret: [u8; 32] = rand::random();
    let request = EnrolRequest {
        secret: ticket.secret,
        login: login.to_owned(),
        password: password.to_owned(),
        new_password: verifier,
        label: "laptop".to_owned(),
    };
    let answer = async {
        let endpoint =
            polku_net::bind(&secret, "0.0.0.0:0".parse().expect("address"), vec![]).await?;
        let hub = polku_net::hub_addr(ticket.hub, &ticket.addrs)?;
        let answer = polku_net::request_enrolment(&endpoint, hub, &request).await;
        endpoint.close().await;
        answer
    }
    .await
    .map_err(ServiceError::Net)?;
    let grant: EnrolGrant = match answer {
        EnrolAnswer::Granted(bytes) => {
            postcard::from_bytes(&bytes).map_err(|_| ServiceError::MalformedAnswer)?
        }
        EnrolAnswer::Refused(code) => {
            return match EnrolRefused::from_code(code) {
                Some(EnrolRefused::MustChangePassword) if new_password.is_none() => {
                    Ok(Joined::NeedsNewPassword)
                }
                Some(r) => Err(ServiceError::EnrolmentRefused(r)),
                None => Err(ServiceError::MalformedAnswer),
            };
        }
    };
    let pin = HubPin {
        node: ticket.hub,
        addrs: ticket.addrs.clone(),
    };
    let password = new_password.unwrap_or(password);
    let now = Utc::now();
    Workspace::join(dir, &grant, login, password, &secret, &pin, now)?;
    let session = Workspace::open(dir)?.login(login, password, now)?;
    Ok(Joined::Done(Box::new(session)))
}

/// What the hub tells its operator while it serves.
#[derive(Debug)]
pub enum HubEvent {
    /// Listening.
    Listening {
        /// The hub's node id.
        node: NodeId,
        /// Where.
        addrs: Vec<SocketAddr>,
    },
    /// A sync session ended.
    Synced {
        /// The peer.
        peer: NodeId,
        /// How it went (the error as text: no personal data in it).
        result: std::result::Result<Box<SyncReport>, String>,
    },
    /// A device enrolled.
    Enrolled(NodeId),
    /// An enrolment was refused.
    EnrolmentRefused(NodeId, EnrolRefused),
    /// Writing the sync's audit entry failed.
    AuditFailed(NodeId, String),
    /// The daily backup was written.
    BackedUp(std::path::PathBuf),
    /// The daily backup could not be made (the error's stable code, e.g.
    /// `backup.no_key` until an admin creates a backup key).
    BackupFailed(String),
}

/// How often the hub looks whether a daily backup is due.
pub const BACKUP_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);

/// Makes a backup into the store's default backup folder if the newest one
/// there is older than a day (or there is none). `Ok(None)`: not due.
pub fn daily_backup(
    session: &mut Session,
    now: chrono::DateTime<Utc>,
) -> std::result::Result<Option<polku_api::backup::BackupMade>, polku_api::ApiError> {
    let dir = polku_api::backup::default_backup_dir(session.store_dir());
    let newest = polku_api::backup::list_backups(&dir)?.pop();
    if newest.is_some_and(|b| now - b.created_at < chrono::Duration::hours(24)) {
        return Ok(None);
    }
    session.backup_now(&dir, now).map(Some)
}

/// Serves sync and enrolment on `bind` until `stop` completes, then closes
/// the session. Every completed sync is audited on the hub.
pub async fn serve_hub(
    session: Session,
    bind: SocketAddr,
    stop: impl Future<Output = ()>,
    events: Arc<dyn Fn(HubEvent) + Send + Sync>,
) -> Result<()> {
    if !session.is_hub()? {
        session.close()?;
        return Err(ServiceError::NotAHub);
    }
    let secret = session.transport_secret()?;
    let org = session.org_id();
    let mut replica = session.into_replica()?;
    // Before anyone is served: the first laptop does not wait for it.
    replica.warm()?;
    let endpoint = polku_net::bind(
        secret.for_transport(),
        bind,
        vec![
            polku_net::SYNC_ALPN.to_vec(),
            polku_net::ENROL_ALPN.to_vec(),
        ],
    )
    .await
    .map_err(ServiceError::Net)?;
    let local = polku_net::node_id(&endpoint);
    let addrs = endpoint.bound_sockets();
    replica.session_mut().set_hub_listen_addrs(&addrs)?;
    // Sessions of different laptops run at once, one connection to the
    // store per core.
    let replicas = hub_replicas(replica, polku_net::HubReplicas::<SyncReplica>::per_core())?;
    let log_replicas = replicas.clone();
    let log_events = events.clone();
    let log: SessionLog = Arc::new(
        move |peer: NodeId, result: &std::result::Result<SyncReport, NetError>| match result {
            Ok(report) => {
                log_events(HubEvent::Synced {
                    peer,
                    result: Ok(Box::new(report.clone())),
                });
                if let Err(e) = log_replicas.shared_for(peer, |r| r.record_sync(report, Utc::now()))
                {
                    log_events(HubEvent::AuditFailed(peer, e.to_string()));
                }
            }
            Err(e) => log_events(HubEvent::Synced {
                peer,
                result: Err(e.to_string()),
            }),
        },
    );
    let protocol = SyncProtocol::over(
        replicas.clone(),
        org,
        local,
        log,
        polku_net::HubLimits::default(),
    );
    let enroller = HubEnroller {
        replicas: replicas.clone(),
        events: events.clone(),
    };
    let router = polku_net::hub_router(endpoint, protocol, Arc::new(enroller));
    events(HubEvent::Listening {
        node: local,
        addrs: addrs.clone(),
    });
    // A daily backup while the hub runs (no sync step meanwhile).
    let backups = {
        let replicas = replicas.clone();
        let events = events.clone();
        tokio::spawn(async move {
            let mut last_failure: Option<String> = None;
            loop {
                let r = replicas.clone();
                let made = tokio::task::spawn_blocking(move || {
                    r.exclusive(|r| daily_backup(r.session_mut(), Utc::now()))
                })
                .await;
                match made {
                    Ok(Ok(Some(made))) => {
                        last_failure = None;
                        events(HubEvent::BackedUp(made.path));
                    }
                    Ok(Ok(None)) => {}
                    Ok(Err(e)) => {
                        // Said once, not every hour.
                        let code = e.to_dto().code;
                        if last_failure.as_deref() != Some(code.as_str()) {
                            events(HubEvent::BackupFailed(code.clone()));
                            last_failure = Some(code);
                        }
                    }
                    Err(_) => events(HubEvent::BackupFailed("backup.internal".into())),
                }
                tokio::time::sleep(BACKUP_CHECK_INTERVAL).await;
            }
        })
    };
    stop.await;
    backups.abort();
    let _ = backups.await;
    router
        .shutdown()
        .await
        .map_err(|_| ServiceError::Net(NetError::Internal))?;
    let replicas = match replicas.into_replicas() {
        Ok(r) => r,
        // Still held by a connection task that outlived the router: the
        // store closes when the last one lets go.
        Err(_) => return Ok(()),
    };
    // The first (the login's session) last: it audits the logout.
    for r in replicas.into_iter().rev() {
        r.into_session().close()?;
    }
    Ok(())
}

/// `first` and `n - 1` more replicas over their own connections to its
/// store, each warmed, for serving sessions at once
/// ([`polku_net::HubReplicas`]).
pub fn hub_replicas(
    first: SyncReplica,
    n: usize,
) -> Result<Arc<polku_net::HubReplicas<SyncReplica>>> {
    Ok(polku_net::HubReplicas::build(
        first,
        n,
        SyncReplica::another,
    )?)
}

/// The hub's enrolment decisions, over the same replica the sync protocol
/// uses. The replica is locked only for the ticket checks and the final
/// writes; the password check (argon2) runs without the lock, so syncs go on.
pub struct HubEnroller {
    replicas: Arc<polku_net::HubReplicas<SyncReplica>>,
    events: Arc<dyn Fn(HubEvent) + Send + Sync>,
}

impl std::fmt::Debug for HubEnroller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubEnroller").finish_non_exhaustive()
    }
}

impl HubEnroller {
    /// An enroller over the hub's `replicas`, telling `events` what it
    /// decided. It changes the organisation document read before, so it
    /// runs while no sync step does ([`polku_net::HubReplicas::exclusive`]).
    pub fn new(
        replicas: Arc<polku_net::HubReplicas<SyncReplica>>,
        events: Arc<dyn Fn(HubEvent) + Send + Sync>,
    ) -> Self {
        Self { replicas, events }
    }

    /// [`Enroller::enrol`] with the password check `verify` (tests check
    /// that it runs without the replica's lock).
    pub fn enrol_with(
        &self,
        peer: NodeId,
        request: &EnrolRequest,
        verify: impl FnOnce(&PendingEnrolment, &str) -> polku_api::Result<PasswordCheck>,
    ) -> polku_api::Result<std::result::Result<EnrolGrant, EnrolRefused>> {
        let now = Utc::now();
        let new_password = match &request.new_password {
            None => None,
            Some(bytes) => match postcard::from_bytes::<PasswordVerifier>(bytes) {
                Ok(v) => Some(v),
                Err(_) => return Ok(Err(EnrolRefused::WeakVerifier)),
            },
        };
        let begun = self.replicas.exclusive(|r| {
            r.session_mut()
                .begin_enrolment(&request.secret, peer, &request.login, now)
        })?;
        let pending = match begun {
            Ok(p) => p,
            Err(refused) => return Ok(Err(refused)),
        };
        let check = verify(&pending, &request.password)?;
        self.replicas.exclusive(|r| {
            r.session_mut().finish_enrolment(
                pending,
                check,
                new_password,
                peer,
                &request.label,
                now,
            )
        })
    }

    /// Whether the replicas are free (none locked) right now.
    pub fn replica_is_free(&self) -> bool {
        self.replicas.is_free()
    }
}

impl Enroller for HubEnroller {
    fn enrol(&self, peer: NodeId, request: EnrolRequest) -> EnrolAnswer {
        let result = self.enrol_with(peer, &request, |p, password| p.check_password(password));
        match result {
            Ok(Ok(grant)) => match postcard::to_allocvec(&grant) {
                Ok(bytes) => {
                    (self.events)(HubEvent::Enrolled(peer));
                    EnrolAnswer::Granted(bytes)
                }
                Err(_) => EnrolAnswer::Refused(0),
            },
            Ok(Err(refused)) => {
                (self.events)(HubEvent::EnrolmentRefused(peer, refused));
                EnrolAnswer::Refused(refused.code())
            }
            Err(_) => EnrolAnswer::Refused(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polku_api::KdfParams;
    use polku_audit::NodeKey;

    const PW: &str = "hubin-salasana-1";

    fn quiet() -> Arc<dyn Fn(HubEvent) + Send + Sync> {
        Arc::new(|_| {})
    }

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
        let replicas = hub_replicas(admin.into_replica().expect("replica"), 2).expect("replicas");
        let enroller = HubEnroller::new(replicas.clone(), quiet());
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
                lock_free = enroller.replica_is_free();
                pending.check_password(password)
            })
            .expect("enrol");
        assert!(lock_free, "the password was checked under the replica lock");
        assert!(granted.is_ok(), "{:?}", granted.err());
        assert!(replicas.exclusive(|r| r.session().device_allowed(peer)));

        // The ticket is used now, and a wrong password is refused.
        let again = enroller.enrol(NodeKey::from_bytes(&[10; 32]).node_id(), request.clone());
        assert!(matches!(again, EnrolAnswer::Refused(1)), "{again:?}");
        let ticket = replicas
            .exclusive(|r| {
                r.session_mut()
                    .create_ticket("admin", [7; 32], vec![addr], now)
            })
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

    #[test]
    fn errors_reach_the_ui_as_codes() {
        assert_eq!(ServiceError::NotEnrolled.to_dto().code, "sync.not_enrolled");
        let revoked = ServiceError::Revoked { wiped: 3 }.to_dto();
        assert_eq!(revoked.code, "sync.device_revoked");
        assert_eq!(revoked.params["wiped"], "3");
        assert!(ServiceError::Revoked { wiped: 3 }.is_sync_refusal());
        assert_eq!(
            ServiceError::Api(ApiError::MustChangePassword)
                .to_dto()
                .code,
            "auth.must_change_password"
        );
    }
}
