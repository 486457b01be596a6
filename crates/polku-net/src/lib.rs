//! Polku on iroh: a thin adapter that carries the pure sync core
//! ([`polku_sync::Session`]) over iroh QUIC streams, and the enrolment exchange.
//!
//! - [`bind`] makes an endpoint from the device's node key (the same ed25519
//!   key that signs its audit entries) with relays and address lookup disabled:
//!   peers are dialled at addresses they were given (the hub's from the ticket),
//!   and tests never leave loopback.
//! - [`SyncProtocol`] serves [`SYNC_ALPN`] on a hub's [`Router`]; [`sync_with_hub`]
//!   is the laptop side. Both run [`drive`]: length-prefixed frames on one
//!   bidirectional stream, every read bounded in time and size.
//! - [`EnrolProtocol`] serves [`ENROL_ALPN`]: one request (ticket secret, login,
//!   password) and one answer, over the hub's TLS-authenticated connection.
//!
//! iroh authenticates both ends: a connection dialled to a node id only
//! completes with the holder of that key, so a laptop that dials its pinned hub
//! id talks to that hub or to no one, and the hub learns the laptop's node id
//! from the handshake (checked against its enrolled devices by the replica).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iroh::endpoint::{Connection, RecvStream, SendStream, presets};
use iroh::protocol::{AcceptError, ProtocolHandler, Router};
use iroh::{Endpoint, EndpointAddr, PublicKey, RelayMode, SecretKey};
use polku_audit::NodeId;
use polku_core::OrgId;
use polku_sync::protocol::{FRAME_HEADER_LEN, ProtocolError};
use polku_sync::{Replica, Role, Session, SessionConfig, SyncError, SyncReport};
use serde::{Deserialize, Serialize};

pub use polku_sync::protocol::ALPN as SYNC_ALPN;

/// ALPN of the enrolment exchange.
pub const ENROL_ALPN: &[u8] = b"polku/enrol/2";

/// How long to wait for the peer's next frame before giving up.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a hub waits for a refused peer to read the error frame and close.
const ERROR_LINGER: Duration = Duration::from_secs(5);

/// Largest enrolment message accepted.
const MAX_ENROL_MESSAGE: usize = 256 * 1024;

/// What went wrong on the network side.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The endpoint could not be bound.
    #[error("could not open the network endpoint")]
    Bind(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The hub's node id is not a valid key.
    #[error("the hub id is not a valid node id")]
    BadHubId,
    /// The peer could not be reached or refused the connection.
    #[error("could not connect to the hub")]
    Connect(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The connection broke mid-session.
    #[error("the connection was lost")]
    Disconnected(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The peer stayed silent for longer than [`READ_TIMEOUT`].
    #[error("the peer did not answer in time")]
    Timeout,
    /// The peer sent a frame header that cannot be accepted.
    #[error("malformed frame from the peer")]
    Protocol(#[from] ProtocolError),
    /// The sync session failed (refusal, malformed message, …).
    #[error("sync failed")]
    Sync(#[from] SyncError),
    /// The enrolment message could not be read.
    #[error("malformed enrolment message")]
    BadEnrolMessage,
}

fn boxed<E: std::error::Error + Send + Sync + 'static>(
    e: E,
) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(e)
}

/// An endpoint with the device's node key, bound to `addr` (use port 0 for any),
/// with relays and address lookup disabled.
pub async fn bind(
    secret: &[u8; 32],
    addr: SocketAddr,
    alpns: Vec<Vec<u8>>,
) -> Result<Endpoint, NetError> {
    Endpoint::builder(presets::Minimal)
        .relay_mode(RelayMode::Disabled)
        .secret_key(SecretKey::from_bytes(secret))
        .alpns(alpns)
        .bind_addr(addr)
        .map_err(|e| NetError::Bind(boxed(e)))?
        .bind()
        .await
        .map_err(|e| NetError::Bind(boxed(e)))
}

/// The node id of an endpoint, as the audit log knows it.
pub fn node_id(endpoint: &Endpoint) -> NodeId {
    NodeId::from_bytes(*endpoint.id().as_bytes())
}

/// Where to dial a hub.
pub fn hub_addr(node: [u8; 32], addrs: &[SocketAddr]) -> Result<EndpointAddr, NetError> {
    let key = PublicKey::from_bytes(&node).map_err(|_| NetError::BadHubId)?;
    Ok(addrs
        .iter()
        .fold(EndpointAddr::new(key), |a, s| a.with_ip_addr(*s)))
}

fn peer_of(conn: &Connection) -> NodeId {
    NodeId::from_bytes(*conn.remote_id().as_bytes())
}

async fn write_all(send: &mut SendStream, bytes: &[u8]) -> Result<(), NetError> {
    send.write_all(bytes)
        .await
        .map_err(|e| NetError::Disconnected(boxed(e)))
}

async fn read_exact(recv: &mut RecvStream, buf: &mut [u8]) -> Result<(), NetError> {
    match tokio::time::timeout(READ_TIMEOUT, recv.read_exact(buf)).await {
        Err(_) => Err(NetError::Timeout),
        Ok(Err(e)) => Err(NetError::Disconnected(boxed(e))),
        Ok(Ok(())) => Ok(()),
    }
}

fn lock<R>(replica: &Mutex<R>) -> std::sync::MutexGuard<'_, R> {
    // A panic while holding the lock leaves the replica as SQLite left it
    // (transactions roll back); going on is safe.
    replica.lock().unwrap_or_else(|p| p.into_inner())
}

/// Run one sync session to its end over a bidirectional stream: send this side's
/// frames, read the peer's (each bounded in size by the protocol and in time by
/// [`READ_TIMEOUT`]), hand them to the session. The replica is locked only while
/// the session works on a frame, never across network waits.
pub async fn drive<R: Replica + Send>(
    session: &mut Session,
    replica: &Mutex<R>,
    send: &mut SendStream,
    recv: &mut RecvStream,
) -> Result<(), NetError> {
    drive_limited(session, replica, send, recv, None).await
}

/// Where a fault test cuts a laptop's sync session (see [`sync_with_hub_cut_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// The laptop drops the connection after reading this many frames from
    /// the hub (before reading the next).
    AfterReading(usize),
    /// The laptop writes this many whole frames, then only `keep` bytes of
    /// the next one (cut inside the frame), and drops the connection.
    InsideWrite {
        /// Whole frames written first.
        frames: usize,
        /// Bytes of the next frame written (fewer than all of it).
        keep: usize,
    },
}

fn cut_error() -> NetError {
    NetError::Disconnected(boxed(std::io::Error::from(
        std::io::ErrorKind::ConnectionAborted,
    )))
}

/// Writes `frame` unless `cut` says to stop inside it (then writes its first
/// bytes only, finishes the stream, waits for the peer to give up on it and
/// returns the cut as an error).
async fn write_frame(
    send: &mut SendStream,
    recv: &mut RecvStream,
    frame: &[u8],
    written: &mut usize,
    cut: Option<Cut>,
) -> Result<(), NetError> {
    if let Some(Cut::InsideWrite { frames, keep }) = cut
        && *written == frames
    {
        let keep = keep.min(frame.len().saturating_sub(1));
        write_all(send, &frame[..keep]).await?;
        let _ = send.finish();
        // The peer sees the stream end inside a frame and ends its session;
        // wait for that (bounded) so the cut bytes are really delivered.
        let _ = tokio::time::timeout(READ_TIMEOUT, recv.read_to_end(MAX_ENROL_MESSAGE)).await;
        return Err(cut_error());
    }
    *written += 1;
    write_all(send, frame).await
}

/// [`drive`], cut as `cut` says (as if the connection dropped): for fault
/// tests.
async fn drive_limited<R: Replica + Send>(
    session: &mut Session,
    replica: &Mutex<R>,
    send: &mut SendStream,
    recv: &mut RecvStream,
    cut: Option<Cut>,
) -> Result<(), NetError> {
    let mut frames_read = 0usize;
    let mut written = 0usize;
    let first = {
        let mut r = lock(replica);
        session.start(&mut *r)?
    };
    for f in first {
        write_frame(send, recv, f.as_bytes(), &mut written, cut).await?;
    }
    while !session.is_done() {
        if let Some(Cut::AfterReading(m)) = cut
            && frames_read >= m
        {
            return Err(cut_error());
        }
        frames_read += 1;
        let mut header = [0u8; FRAME_HEADER_LEN];
        read_exact(recv, &mut header).await?;
        let len = polku_sync::protocol::frame_len(header)?;
        let mut frame = vec![0u8; FRAME_HEADER_LEN + len];
        frame[..FRAME_HEADER_LEN].copy_from_slice(&header);
        read_exact(recv, &mut frame[FRAME_HEADER_LEN..]).await?;
        let out = {
            let mut r = lock(replica);
            session.handle(&mut *r, &frame)
        };
        match out {
            Ok(frames) => {
                for f in frames {
                    write_frame(send, recv, f.as_bytes(), &mut written, cut).await?;
                }
            }
            Err(err) => {
                if let Some(f) = session.farewell() {
                    let _ = send.write_all(f.as_bytes()).await;
                }
                let _ = send.finish();
                return Err(err.into());
            }
        }
    }
    let _ = send.finish();
    Ok(())
}

/// Receives the outcome of each session a [`SyncProtocol`] served.
pub type SessionLog = Arc<dyn Fn(NodeId, &Result<SyncReport, NetError>) + Send + Sync>;

/// The hub's side of [`SYNC_ALPN`]: one session per incoming connection, over
/// the hub's replica.
pub struct SyncProtocol<R> {
    replica: Arc<Mutex<R>>,
    org: OrgId,
    local: NodeId,
    log: SessionLog,
}

impl<R> std::fmt::Debug for SyncProtocol<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncProtocol")
            .field("local", &self.local)
            .finish_non_exhaustive()
    }
}

impl<R: Replica + Send + 'static> SyncProtocol<R> {
    /// Serve sessions for `org` as node `local` over `replica`; `log` hears how
    /// each ended.
    pub fn new(replica: Arc<Mutex<R>>, org: OrgId, local: NodeId, log: SessionLog) -> Self {
        Self {
            replica,
            org,
            local,
            log,
        }
    }
}

impl<R: Replica + Send + 'static> ProtocolHandler for SyncProtocol<R> {
    async fn accept(&self, connection: Connection) -> Result<(), AcceptError> {
        let peer = peer_of(&connection);
        let mut session = Session::new(SessionConfig::new(Role::Hub, self.org, self.local, peer));
        let result = match connection.accept_bi().await {
            Ok((mut send, mut recv)) => drive(&mut session, &self.replica, &mut send, &mut recv)
                .await
                .map(|()| session.report().clone()),
            Err(e) => Err(NetError::Disconnected(boxed(e))),
        };
        (self.log)(peer, &result);
        // Let the laptop read our last frames (the report, or the error frame
        // saying why it was refused) and close; closing first would discard them.
        let linger = if result.is_ok() {
            READ_TIMEOUT
        } else {
            ERROR_LINGER
        };
        if tokio::time::timeout(linger, connection.closed())
            .await
            .is_err()
        {
            connection.close(1u32.into(), b"sync ended");
        }
        result.map(|_| ()).map_err(AcceptError::from_err)
    }
}

/// The laptop's side: one session with the hub at `hub`.
pub async fn sync_with_hub<R: Replica + Send>(
    endpoint: &Endpoint,
    hub: EndpointAddr,
    replica: &Mutex<R>,
    org: OrgId,
) -> Result<SyncReport, NetError> {
    sync_with_hub_cut(endpoint, hub, replica, org, None).await
}

/// [`sync_with_hub`] that drops the connection after reading `cut_after`
/// frames from the hub (`None`: never). For fault tests: nothing a cut session
/// half-did may be lost or corrupt a store.
pub async fn sync_with_hub_cut<R: Replica + Send>(
    endpoint: &Endpoint,
    hub: EndpointAddr,
    replica: &Mutex<R>,
    org: OrgId,
    cut_after: Option<usize>,
) -> Result<SyncReport, NetError> {
    let cut = cut_after.map(Cut::AfterReading);
    sync_with_hub_cut_at(endpoint, hub, replica, org, cut).await
}

/// [`sync_with_hub`] cut as `cut` says (`None`: never), on reading or inside
/// a frame being written. For fault tests: nothing a cut session half-did may
/// be lost or corrupt a store.
pub async fn sync_with_hub_cut_at<R: Replica + Send>(
    endpoint: &Endpoint,
    hub: EndpointAddr,
    replica: &Mutex<R>,
    org: OrgId,
    cut: Option<Cut>,
) -> Result<SyncReport, NetError> {
    let hub_id = NodeId::from_bytes(*hub.id.as_bytes());
    let conn = endpoint
        .connect(hub, SYNC_ALPN)
        .await
        .map_err(|e| NetError::Connect(boxed(e)))?;
    let (mut send, mut recv) = conn
        .open_bi()
        .await
        .map_err(|e| NetError::Disconnected(boxed(e)))?;
    let mut session = Session::new(SessionConfig::new(
        Role::Laptop,
        org,
        node_id(endpoint),
        hub_id,
    ));
    let result = drive_limited(&mut session, replica, &mut send, &mut recv, cut).await;
    if result.is_ok() {
        // Wait for the hub to finish its side too, so that closing the connection
        // cannot cut off the last frames still in flight to it.
        let _ = tokio::time::timeout(READ_TIMEOUT, recv.read_to_end(MAX_ENROL_MESSAGE)).await;
    }
    conn.close(0u32.into(), b"done");
    result.map(|()| session.report().clone())
}

/// A laptop's enrolment request. Travels only inside the TLS connection to the
/// hub id named in the ticket.
#[derive(Clone, Serialize, Deserialize)]
pub struct EnrolRequest {
    /// The ticket's one-time secret.
    pub secret: [u8; 32],
    /// The user's login.
    pub login: String,
    /// The user's password (checked by the hub).
    pub password: String,
    /// The application's encoding of the verifier of a new password chosen
    /// while joining (required when `password` is temporary).
    pub new_password: Option<Vec<u8>>,
    /// A label for the device.
    pub label: String,
}

impl Drop for EnrolRequest {
    fn drop(&mut self) {
        // Overwrite the password before its memory is freed.
        zeroize::Zeroize::zeroize(&mut self.password);
    }
}

impl std::fmt::Debug for EnrolRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolRequest").finish_non_exhaustive()
    }
}

/// The hub's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum EnrolAnswer {
    /// Enrolled; the grant as the application encodes it.
    Granted(Vec<u8>),
    /// Refused, with the application's reason code.
    Refused(u8),
}

/// The hub's decision on an enrolment request.
pub trait Enroller: Send + Sync + 'static {
    /// Decide on `request` from node `peer`.
    fn enrol(&self, peer: NodeId, request: EnrolRequest) -> EnrolAnswer;
}

/// The hub's side of [`ENROL_ALPN`].
pub struct EnrolProtocol<E>(pub Arc<E>);

impl<E> std::fmt::Debug for EnrolProtocol<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnrolProtocol")
    }
}

impl<E: Enroller> ProtocolHandler for EnrolProtocol<E> {
    async fn accept(&self, connection: Connection) -> Result<(), AcceptError> {
        let peer = peer_of(&connection);
        let (mut send, mut recv) = connection.accept_bi().await?;
        let bytes = tokio::time::timeout(READ_TIMEOUT, recv.read_to_end(MAX_ENROL_MESSAGE))
            .await
            .map_err(|_| AcceptError::from_err(NetError::Timeout))?
            .map_err(AcceptError::from_err)?;
        let answer = match postcard::from_bytes::<EnrolRequest>(&bytes) {
            Ok(request) => {
                let enroller = self.0.clone();
                tokio::task::spawn_blocking(move || enroller.enrol(peer, request))
                    .await
                    .map_err(AcceptError::from_err)?
            }
            Err(_) => EnrolAnswer::Refused(0),
        };
        let out = postcard::to_allocvec(&answer).map_err(AcceptError::from_err)?;
        send.write_all(&out).await.map_err(AcceptError::from_err)?;
        send.finish().map_err(AcceptError::from_err)?;
        let _ = tokio::time::timeout(READ_TIMEOUT, connection.closed()).await;
        Ok(())
    }
}

/// The laptop's side of enrolment.
pub async fn request_enrolment(
    endpoint: &Endpoint,
    hub: EndpointAddr,
    request: &EnrolRequest,
) -> Result<EnrolAnswer, NetError> {
    let conn = endpoint
        .connect(hub, ENROL_ALPN)
        .await
        .map_err(|e| NetError::Connect(boxed(e)))?;
    let (mut send, mut recv) = conn
        .open_bi()
        .await
        .map_err(|e| NetError::Disconnected(boxed(e)))?;
    let bytes = postcard::to_allocvec(request).map_err(|_| NetError::BadEnrolMessage)?;
    write_all(&mut send, &bytes).await?;
    send.finish()
        .map_err(|e| NetError::Disconnected(boxed(e)))?;
    let answer = tokio::time::timeout(READ_TIMEOUT, recv.read_to_end(MAX_ENROL_MESSAGE))
        .await
        .map_err(|_| NetError::Timeout)?
        .map_err(|e| NetError::Disconnected(boxed(e)))?;
    conn.close(0u32.into(), b"done");
    postcard::from_bytes(&answer).map_err(|_| NetError::BadEnrolMessage)
}

/// A hub's router serving sync and enrolment.
pub fn hub_router<R: Replica + Send + 'static, E: Enroller>(
    endpoint: Endpoint,
    sync: SyncProtocol<R>,
    enrol: Arc<E>,
) -> Router {
    Router::builder(endpoint)
        .accept(SYNC_ALPN, sync)
        .accept(ENROL_ALPN, EnrolProtocol(enrol))
        .spawn()
}
