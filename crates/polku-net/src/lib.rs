//! Polku on iroh: a thin adapter that carries the pure sync core
//! ([`polku_sync::Session`]) over iroh QUIC streams, and the enrolment exchange.
//!
//! - [`bind`] makes an endpoint from the device's node key (the same ed25519
//!   key that signs its audit entries) with relays and address lookup disabled,
//!   one stream per connection and bounded QUIC windows: peers are dialled at
//!   addresses they were given (the hub's from the ticket), and tests never
//!   leave loopback.
//! - [`SyncProtocol`] serves [`SYNC_ALPN`] on a hub's [`Router`] under
//!   [`HubLimits`] (admission by node id before anything is read, a small
//!   hello, session and connection caps, a global byte budget, store work on
//!   the blocking pool: see the `hub` module); [`sync_with_hub`] is the laptop
//!   side. Both run `drive`: length-prefixed frames on one bidirectional
//!   stream, each read as its bytes arrive (never allocated from the header),
//!   bounded in size and time.
//! - [`EnrolProtocol`] serves [`ENROL_ALPN`]: one small request (ticket secret,
//!   login, password) and one answer, over the hub's TLS-authenticated
//!   connection, a few at a time, decided on a blocking thread.
//!
//! iroh authenticates both ends: a connection dialled to a node id only
//! completes with the holder of that key, so a laptop that dials its pinned hub
//! id talks to that hub or to no one, and the hub learns the laptop's node id
//! from the handshake (checked against its enrolled devices by the replica).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iroh::endpoint::{Connection, QuicTransportConfig, RecvStream, SendStream, VarInt, presets};
use iroh::protocol::{AcceptError, ProtocolHandler, Router};

mod frames;
mod hub;
mod replicas;

use frames::{Budget, Held, ReadRules};
pub use hub::{HubCounters, HubLimits, SyncProtocol};
use iroh::{Endpoint, EndpointAddr, PublicKey, RelayMode, SecretKey};
use polku_audit::NodeId;
use polku_core::OrgId;
use polku_sync::protocol::{ErrorCode, Message, ProtocolError};
use polku_sync::{Frame, Replica, Role, Session, SessionConfig, Sink, SyncError, SyncReport};
pub use replicas::HubReplicas;
use serde::{Deserialize, Serialize};

pub use polku_sync::protocol::ALPN as SYNC_ALPN;

/// ALPN of the enrolment exchange.
pub const ENROL_ALPN: &[u8] = b"polku/enrol/2";

/// How long to wait for the peer's next frame before giving up.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a hub waits for a refused peer to read the error frame and close.
pub(crate) const ERROR_LINGER: Duration = Duration::from_secs(5);

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
    /// A frame is larger than accepted at this point of the session (before
    /// the peer is admitted, only a small hello fits).
    #[error("frame of {len} bytes is larger than the {max} accepted here")]
    FrameTooLarge {
        /// The announced length.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// The peer sends a frame too slowly.
    #[error("the peer sends too slowly")]
    TooSlow,
    /// The hub is at one of its limits (connections, sessions, buffered bytes).
    #[error("the hub is busy")]
    Busy,
    /// A worker thread failed.
    #[error("internal error")]
    Internal,
}

fn boxed<E: std::error::Error + Send + Sync + 'static>(
    e: E,
) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(e)
}

/// Per-stream and per-connection receive windows: what one peer can make
/// this node buffer before it reads (the QUIC defaults allow megabytes per
/// stream and unbounded per connection).
const RECEIVE_WINDOW: u32 = 1024 * 1024;

/// Bytes in flight to one peer (the QUIC default is 10 MB per connection,
/// kept in memory until acknowledged).
const SEND_WINDOW: u64 = 2 * 1024 * 1024;

/// QUIC settings: one bidirectional stream per connection (both protocols
/// use exactly one), no unidirectional streams, bounded receive and send
/// windows.
fn transport() -> QuicTransportConfig {
    QuicTransportConfig::builder()
        .max_concurrent_bidi_streams(VarInt::from_u32(1))
        .max_concurrent_uni_streams(VarInt::from_u32(0))
        .stream_receive_window(VarInt::from_u32(RECEIVE_WINDOW))
        .receive_window(VarInt::from_u32(RECEIVE_WINDOW + RECEIVE_WINDOW / 4))
        .send_window(SEND_WINDOW)
        .build()
}

/// An endpoint with the device's node key, bound to `addr` (use port 0 for any),
/// with relays and address lookup disabled.
pub async fn bind(
    secret: &[u8; 32],
    addr: SocketAddr,
    alpns: Vec<Vec<u8>>,
) -> Result<Endpoint, NetError> {
    Endpoint::builder(presets::Minimal)
        .transport_config(transport())
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

fn lock<R>(replica: &Mutex<R>) -> std::sync::MutexGuard<'_, R> {
    // A panic while holding the lock leaves the replica as SQLite left it
    // (transactions roll back); going on is safe.
    replica.lock().unwrap_or_else(|p| p.into_inner())
}

/// A write to the peer failed (`err`): a peer that refuses the session stops
/// reading before it sends why, so read its last frame (briefly) and report
/// the peer's reason when there is one, else `err`.
async fn why_refused<W: Work>(
    session: Session,
    work: &W,
    recv: &mut RecvStream,
    reading: &Reading<'_>,
    held: &mut Held<'_>,
    err: NetError,
) -> NetError {
    if !matches!(err, NetError::Disconnected(_)) {
        return err;
    }
    let rules = if session.is_opened() {
        &reading.after_open
    } else {
        &reading.before_open
    };
    let frame = tokio::time::timeout(ERROR_LINGER, frames::read_frame(recv, rules, held)).await;
    let Ok(Ok(frame)) = frame else {
        return err;
    };
    match work.run(session, Some(frame), None).await {
        Ok((_, Err(remote @ SyncError::Remote(_)))) => remote.into(),
        _ => err,
    }
}

/// The session's work on the peer's frame (`None`: start the session).
fn step<R: Replica>(
    session: &mut Session,
    r: &mut R,
    frame: Option<Vec<u8>>,
    sink: Option<Sink>,
) -> Result<Vec<Frame>, SyncError> {
    match (frame, sink) {
        (None, _) => session.start(r),
        (Some(frame), None) => session.handle(r, &frame),
        (Some(frame), Some(sink)) => session.handle_streaming(r, &frame, sink),
    }
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

/// Where a session's work runs. The replica is locked only for it, never
/// across network waits.
trait Work {
    /// Whether [`Work::run`] hands frames to a sink while it runs (else it
    /// returns them all at the end).
    const STREAMS: bool;

    fn run(
        &self,
        session: Session,
        frame: Option<Vec<u8>>,
        sink: Option<Sink>,
    ) -> impl Future<Output = Result<(Session, Result<Vec<Frame>, SyncError>), NetError>> + Send;
}

/// A replica the caller holds: the work runs on this thread (in
/// `block_in_place` on a multi-threaded runtime, so that other tasks move on).
struct Local<'a, R>(&'a Mutex<R>);

impl<R: Replica + Send> Work for Local<'_, R> {
    // The work runs on the driving task's own thread: nothing could write
    // the frames meanwhile.
    const STREAMS: bool = false;

    async fn run(
        &self,
        mut session: Session,
        frame: Option<Vec<u8>>,
        _sink: Option<Sink>,
    ) -> Result<(Session, Result<Vec<Frame>, SyncError>), NetError> {
        let multi = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        let out = if multi {
            tokio::task::block_in_place(|| step(&mut session, &mut *lock(self.0), frame, None))
        } else {
            step(&mut session, &mut *lock(self.0), frame, None)
        };
        Ok((session, out))
    }
}

/// One of the hub's replicas: the work runs on tokio's blocking pool.
struct Shared<R>(replicas::Lease<R>);

impl<R: Replica + Send + 'static> Work for Shared<R> {
    const STREAMS: bool = true;

    async fn run(
        &self,
        mut session: Session,
        frame: Option<Vec<u8>>,
        sink: Option<Sink>,
    ) -> Result<(Session, Result<Vec<Frame>, SyncError>), NetError> {
        let (pool, index) = (self.0.pool.clone(), self.0.index);
        tokio::task::spawn_blocking(move || {
            let out = pool.run_on(index, |r| step(&mut session, r, frame, sink));
            (session, out)
        })
        .await
        .map_err(|_| NetError::Internal)
    }
}

/// How [`drive`] reads the peer's frames.
struct Reading<'a> {
    /// Until the session has checked the peer's hello.
    before_open: ReadRules,
    /// After.
    after_open: ReadRules,
    /// The global budget buffered bytes are charged to (hub).
    budget: Option<&'a Budget>,
    /// Where to cut the session (as if the connection dropped): for fault
    /// tests.
    cut: Option<Cut>,
}

impl Reading<'_> {
    /// A laptop's reading of the (trusted) hub: protocol bounds and the idle
    /// timeout only.
    fn laptop(cut: Option<Cut>) -> Self {
        let rules = ReadRules {
            max_len: polku_sync::protocol::MAX_FRAME_LEN,
            idle: READ_TIMEOUT,
            min_rate: 0,
            grace: Duration::ZERO,
            deadline: None,
        };
        Self {
            before_open: rules,
            after_open: rules,
            budget: None,
            cut,
        }
    }
}

/// Run one sync session to its end over a bidirectional stream: send this
/// side's frames, read the peer's under `reading`, hand them to the session
/// through `work`.
async fn drive<W: Work>(
    session: Session,
    work: &W,
    send: &mut SendStream,
    recv: &mut RecvStream,
    reading: Reading<'_>,
) -> Result<SyncReport, NetError> {
    let mut frames_read = 0usize;
    let mut written = 0usize;
    let mut held = Held::new(reading.budget);
    let (mut session, first) = work.run(session, None, None).await?;
    for f in first? {
        if let Err(err) = write_frame(send, recv, f.as_bytes(), &mut written, reading.cut).await {
            return Err(why_refused(session, work, recv, &reading, &mut held, err).await);
        }
    }
    while !session.is_done() {
        if let Some(Cut::AfterReading(m)) = reading.cut
            && frames_read >= m
        {
            return Err(cut_error());
        }
        frames_read += 1;
        let rules = if session.is_opened() {
            &reading.after_open
        } else {
            &reading.before_open
        };
        let frame = match frames::read_frame(recv, rules, &mut held).await {
            Ok(frame) => frame,
            Err(err) => {
                // Tell the peer why, if it broke the rules (it may not listen).
                let code = match err {
                    NetError::Protocol(_) => Some(ErrorCode::Protocol),
                    NetError::FrameTooLarge { .. } | NetError::TooSlow => {
                        Some(ErrorCode::LimitExceeded)
                    }
                    _ => None,
                };
                if let Some(code) = code {
                    let f = Message::Error(code).encode();
                    let _ = tokio::time::timeout(ERROR_LINGER, send.write_all(f.as_bytes())).await;
                    let _ = send.finish();
                }
                return Err(err);
            }
        };
        let (s, out, streamed) = if W::STREAMS {
            match run_streaming(work, session, frame, send, recv, &mut written, reading.cut).await?
            {
                Streamed::Ran(s, out, streamed) => (s, out, streamed),
                Streamed::WriteFailed(s, err) => {
                    return Err(why_refused(s, work, recv, &reading, &mut held, err).await);
                }
            }
        } else {
            let (s, out) = work.run(session, Some(frame), None).await?;
            (s, out, false)
        };
        session = s;
        match out {
            Ok(frames) => {
                if streamed || !frames.is_empty() || session.is_done() {
                    // The peer's turn was processed: what it buffered is gone.
                    held.release();
                }
                for f in frames {
                    if let Err(err) =
                        write_frame(send, recv, f.as_bytes(), &mut written, reading.cut).await
                    {
                        return Err(
                            why_refused(session, work, recv, &reading, &mut held, err).await
                        );
                    }
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
    Ok(session.report().clone())
}

/// How a streaming run ended.
enum Streamed {
    /// The work ran; whether it streamed any frame (all written).
    Ran(Session, Result<Vec<Frame>, SyncError>, bool),
    /// Writing a streamed frame failed (the work ran to its end anyway).
    WriteFailed(Session, NetError),
}

/// Runs the session on `frame`, writing the frames of its turn as the work
/// hands them over, so that the peer receives the first documents while the
/// rest are built. The channel is unbounded on purpose: the work holds the
/// replica's lock, and must never wait for a slow peer's network while it
/// does (a slow laptop would hold up every other).
async fn run_streaming<W: Work>(
    work: &W,
    session: Session,
    frame: Vec<u8>,
    send: &mut SendStream,
    recv: &mut RecvStream,
    written: &mut usize,
    cut: Option<Cut>,
) -> Result<Streamed, NetError> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Frame>();
    let sink = Sink::new(move |f| {
        // After a failed write the receiver is gone: the frame is dropped.
        let _ = tx.send(f);
    });
    let task = work.run(session, Some(frame), Some(sink));
    tokio::pin!(task);
    let mut streamed = false;
    let mut failed: Option<NetError> = None;
    let mut open = true;
    let (session, out) = loop {
        tokio::select! {
            f = rx.recv(), if open => match f {
                Some(f) => {
                    streamed = true;
                    if let Err(e) = write_frame(send, recv, f.as_bytes(), written, cut).await {
                        failed = Some(e);
                        // Dropping the receiver lets the work finish without waiting.
                        rx.close();
                        while rx.try_recv().is_ok() {}
                        open = false;
                    }
                }
                None => open = false,
            },
            r = &mut task => break r?,
        }
    };
    // The work is done: write what it handed over last.
    if failed.is_none() {
        while let Ok(f) = rx.try_recv() {
            streamed = true;
            if let Err(e) = write_frame(send, recv, f.as_bytes(), written, cut).await {
                failed = Some(e);
                break;
            }
        }
    }
    Ok(match failed {
        Some(e) => Streamed::WriteFailed(session, e),
        None => Streamed::Ran(session, out, streamed),
    })
}

/// Receives the outcome of each session a [`SyncProtocol`] served. Called on
/// a blocking thread (it may write to the store).
pub type SessionLog = Arc<dyn Fn(NodeId, &Result<SyncReport, NetError>) + Send + Sync>;

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
    let session = Session::new(SessionConfig::new(
        Role::Laptop,
        org,
        node_id(endpoint),
        hub_id,
    ));
    let result = drive(
        session,
        &Local(replica),
        &mut send,
        &mut recv,
        Reading::laptop(cut),
    )
    .await;
    if result.is_ok() {
        // Wait for the hub to finish its side too, so that closing the connection
        // cannot cut off the last frames still in flight to it.
        let _ = tokio::time::timeout(READ_TIMEOUT, recv.read_to_end(MAX_ENROL_MESSAGE)).await;
    }
    conn.close(0u32.into(), b"done");
    result
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

/// Largest enrolment request a hub reads.
const MAX_ENROL_REQUEST: usize = 16 * 1024;

/// Enrolment requests a hub handles at once; more are refused at once.
const MAX_ENROLMENTS: usize = 4;

/// How long a hub waits for an enrolment request.
const ENROL_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The hub's side of [`ENROL_ALPN`]. A few requests at a time (more are
/// refused at once), each read within seconds and at most 16 KiB; the
/// decision (password hashing, store writes) runs on a blocking thread.
pub struct EnrolProtocol<E> {
    enroller: Arc<E>,
    slots: Arc<tokio::sync::Semaphore>,
}

impl<E> EnrolProtocol<E> {
    /// Serve enrolment with `enroller`'s decisions.
    pub fn new(enroller: Arc<E>) -> Self {
        Self {
            enroller,
            slots: Arc::new(tokio::sync::Semaphore::new(MAX_ENROLMENTS)),
        }
    }
}

impl<E> std::fmt::Debug for EnrolProtocol<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnrolProtocol")
    }
}

impl<E: Enroller> ProtocolHandler for EnrolProtocol<E> {
    async fn accept(&self, connection: Connection) -> Result<(), AcceptError> {
        let Ok(_slot) = self.slots.clone().try_acquire_owned() else {
            connection.close(2u32.into(), b"hub busy");
            return Err(AcceptError::from_err(NetError::Busy));
        };
        let peer = peer_of(&connection);
        let (mut send, mut recv) = tokio::time::timeout(ENROL_READ_TIMEOUT, connection.accept_bi())
            .await
            .map_err(|_| AcceptError::from_err(NetError::Timeout))??;
        let bytes = tokio::time::timeout(ENROL_READ_TIMEOUT, recv.read_to_end(MAX_ENROL_REQUEST))
            .await
            .map_err(|_| AcceptError::from_err(NetError::Timeout))?
            .map_err(AcceptError::from_err)?;
        let answer = match postcard::from_bytes::<EnrolRequest>(&bytes) {
            Ok(request) => {
                let enroller = self.enroller.clone();
                tokio::task::spawn_blocking(move || enroller.enrol(peer, request))
                    .await
                    .map_err(AcceptError::from_err)?
            }
            Err(_) => EnrolAnswer::Refused(0),
        };
        let out = postcard::to_allocvec(&answer).map_err(AcceptError::from_err)?;
        send.write_all(&out).await.map_err(AcceptError::from_err)?;
        send.finish().map_err(AcceptError::from_err)?;
        drop(_slot);
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
        .accept(ENROL_ALPN, EnrolProtocol::new(enrol))
        .spawn()
}
