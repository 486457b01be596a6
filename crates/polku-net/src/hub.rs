//! The hub's side of [`SYNC_ALPN`](crate::SYNC_ALPN): admission before
//! anything is buffered, bounded sessions, and all store work off the
//! async reactor.
//!
//! For every connection, in order:
//!
//! 1. Over [`HubLimits::max_connections`] connections being handled, it is
//!    closed at once ("hub busy").
//! 2. The node id iroh authenticated is checked against the replica
//!    ([`Replica::admit`]) on a blocking thread, before a byte is read: an
//!    unenrolled, revoked or deactivated node gets the error frame and its
//!    stream is stopped (whatever it already sent is discarded).
//! 3. An admitted node waits at most [`HubLimits::session_wait`] for one of
//!    [`HubLimits::max_sessions`] session slots, else the connection is closed
//!    ("hub busy").
//! 4. Its first turn (hello and turn end) must arrive within
//!    [`HubLimits::hello_timeout`], each frame of it at most
//!    [`HubLimits::max_hello_len`] bytes; the session checks the hello and
//!    admits the node again. Only then are frames up to the protocol's
//!    maximum read.
//! 5. Every frame is read as it arrives (see `frames`): idle timeout, minimum
//!    rate, and every chunk charged to the global budget of
//!    [`HubLimits::max_buffered_bytes`] until the session has processed the
//!    turn it belongs to; one session buffers at most
//!    [`HubLimits::max_session_bytes`] per turn.
//! 6. [`polku_sync::Session::handle`] (the replica's SQLite and Automerge
//!    work) runs on tokio's blocking pool, on the one of the hub's replicas
//!    ([`HubReplicas`]) the session was given at its start, locked only for
//!    that step: sessions of different laptops run at once.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iroh::endpoint::{Connection, RecvStream, SendStream};
use iroh::protocol::{AcceptError, ProtocolHandler};
use polku_audit::NodeId;
use polku_core::OrgId;
use polku_sync::Peer;
use polku_sync::protocol::{MAX_FRAME_LEN, Message};
use polku_sync::{Replica, Role, Session, SessionConfig, SyncReport};
use tokio::sync::Semaphore;

use crate::frames::{Budget, ReadRules};
use crate::replicas::HubReplicas;
use crate::{ERROR_LINGER, NetError, READ_TIMEOUT, SessionLog, Shared, drive, peer_of};

/// Admission checks run at once on the blocking pool.
const ADMISSION_CHECKS: usize = 4;

/// Bounds a hub puts on its peers. [`Default`] is what `polku hub` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HubLimits {
    /// Connections handled at once (admission checks, sessions, refusals).
    pub max_connections: usize,
    /// Sync sessions at once (admitted peers).
    pub max_sessions: usize,
    /// How long an admitted peer waits for a session slot.
    pub session_wait: Duration,
    /// Longest frame accepted before the session has admitted the peer.
    pub max_hello_len: usize,
    /// The peer's whole first turn must arrive within this.
    pub hello_timeout: Duration,
    /// Longest wait for any byte.
    pub read_timeout: Duration,
    /// A frame must arrive at this average rate (bytes per second) once
    /// `rate_grace` has passed since its header.
    pub min_rate: u64,
    /// See `min_rate`.
    pub rate_grace: Duration,
    /// Bytes one session may buffer in one turn.
    pub max_session_bytes: usize,
    /// Bytes all sessions together may buffer.
    pub max_buffered_bytes: usize,
}

impl Default for HubLimits {
    fn default() -> Self {
        Self {
            max_connections: 256,
            max_sessions: 16,
            session_wait: Duration::from_secs(60),
            max_hello_len: 4096,
            hello_timeout: Duration::from_secs(10),
            read_timeout: READ_TIMEOUT,
            min_rate: 16 * 1024,
            rate_grace: Duration::from_secs(10),
            max_session_bytes: 96 * 1024 * 1024,
            max_buffered_bytes: 192 * 1024 * 1024,
        }
    }
}

/// What a hub is doing, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HubCounters {
    /// Connections being handled now.
    pub connections: usize,
    /// Sessions running now (admitted, holding a slot).
    pub sessions: usize,
    /// Bytes buffered from peers now.
    pub buffered_bytes: usize,
    /// Connections refused before anything was read (not admitted).
    pub refused_not_admitted: u64,
    /// Connections refused because the hub was at a limit.
    pub refused_busy: u64,
    /// Sessions dropped for sending too slowly or staying silent.
    pub dropped_slow: u64,
    /// Sessions that completed.
    pub completed: u64,
    /// Sessions that ended with an error (after admission).
    pub failed: u64,
}

#[derive(Debug, Default)]
struct Gauges {
    connections: AtomicUsize,
    sessions: AtomicUsize,
    refused_not_admitted: AtomicU64,
    refused_busy: AtomicU64,
    dropped_slow: AtomicU64,
    completed: AtomicU64,
    failed: AtomicU64,
}

/// Decrements a gauge on drop.
struct Count<'a>(&'a AtomicUsize);

impl<'a> Count<'a> {
    fn new(g: &'a AtomicUsize) -> (Self, usize) {
        let now = g.fetch_add(1, Ordering::SeqCst) + 1;
        (Self(g), now)
    }
}

impl Drop for Count<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Inner<R> {
    replicas: Arc<HubReplicas<R>>,
    org: OrgId,
    local: NodeId,
    log: SessionLog,
    limits: HubLimits,
    slots: Semaphore,
    /// Admission checks at once (they take the replica's lock in turn anyway).
    checks: Semaphore,
    budget: Budget,
    gauges: Gauges,
}

/// The hub's side of [`SYNC_ALPN`](crate::SYNC_ALPN): one session per incoming
/// connection, over the hub's replica. Cheap to clone (shared state).
pub struct SyncProtocol<R> {
    inner: Arc<Inner<R>>,
}

impl<R> Clone for SyncProtocol<R> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<R> std::fmt::Debug for SyncProtocol<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncProtocol")
            .field("local", &self.inner.local)
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

impl<R: Replica + Send + 'static> SyncProtocol<R> {
    /// Serve sessions for `org` as node `local` over `replica` with the
    /// default [`HubLimits`]; `log` hears how each ended.
    pub fn new(replica: Arc<Mutex<R>>, org: OrgId, local: NodeId, log: SessionLog) -> Self {
        Self::with_limits(replica, org, local, log, HubLimits::default())
    }

    /// [`SyncProtocol::new`] with other limits.
    pub fn with_limits(
        replica: Arc<Mutex<R>>,
        org: OrgId,
        local: NodeId,
        log: SessionLog,
        limits: HubLimits,
    ) -> Self {
        let replicas = HubReplicas::of(vec![replica]).expect("one replica");
        Self::over(replicas, org, local, log, limits)
    }

    /// Serve sessions over several replicas of one store at once (see
    /// [`HubReplicas`]).
    pub fn over(
        replicas: Arc<HubReplicas<R>>,
        org: OrgId,
        local: NodeId,
        log: SessionLog,
        limits: HubLimits,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                replicas,
                org,
                local,
                log,
                slots: Semaphore::new(limits.max_sessions.max(1)),
                checks: Semaphore::new(ADMISSION_CHECKS),
                budget: Budget::new(limits.max_buffered_bytes, limits.read_timeout),
                gauges: Gauges::default(),
                limits,
            }),
        }
    }

    /// What the hub is doing now.
    pub fn counters(&self) -> HubCounters {
        let g = &self.inner.gauges;
        HubCounters {
            connections: g.connections.load(Ordering::SeqCst),
            sessions: g.sessions.load(Ordering::SeqCst),
            buffered_bytes: self.inner.budget.in_use(),
            refused_not_admitted: g.refused_not_admitted.load(Ordering::SeqCst),
            refused_busy: g.refused_busy.load(Ordering::SeqCst),
            dropped_slow: g.dropped_slow.load(Ordering::SeqCst),
            completed: g.completed.load(Ordering::SeqCst),
            failed: g.failed.load(Ordering::SeqCst),
        }
    }
}

/// Closes `connection` once the peer has read our last frames and closed,
/// or after `linger`.
async fn linger_close(connection: &Connection, linger: Duration, reason: &[u8]) {
    if tokio::time::timeout(linger, connection.closed())
        .await
        .is_err()
    {
        connection.close(1u32.into(), reason);
    }
}

/// How long a peer that was not admitted gets to open its stream, and then
/// to read why and close (short: such connections count against
/// [`HubLimits::max_connections`]).
const REFUSAL_LINGER: Duration = Duration::from_secs(2);

/// Tells a peer that was not admitted why, without reading what it sends.
async fn refuse(connection: &Connection, frame: &[u8]) {
    let streams = tokio::time::timeout(REFUSAL_LINGER, connection.accept_bi()).await;
    if let Ok(Ok((mut send, mut recv))) = streams {
        let _ = recv.stop(0u32.into());
        let _ = tokio::time::timeout(REFUSAL_LINGER, send.write_all(frame)).await;
        let _ = send.finish();
        linger_close(connection, REFUSAL_LINGER, b"refused").await;
    } else {
        connection.close(1u32.into(), b"refused");
    }
}

impl<R: Replica + Send + 'static> Inner<R> {
    /// Whether the replica admits `peer`, checked on a blocking thread.
    async fn precheck(&self, peer: NodeId) -> Result<(), NetError> {
        let replicas = self.replicas.clone();
        let peer = Peer {
            node: peer,
            role: Role::Laptop,
        };
        let _check = self
            .checks
            .acquire()
            .await
            .map_err(|_| NetError::Internal)?;
        let denied = tokio::task::spawn_blocking(move || replicas.shared(|r| r.admit(&peer)))
            .await
            .map_err(|_| NetError::Internal)?;
        denied.map_err(|d| NetError::Sync(polku_sync::SyncError::Denied(d)))
    }

    /// Hands `result` to the session log on a blocking thread.
    async fn log(
        &self,
        peer: NodeId,
        result: Result<SyncReport, NetError>,
    ) -> Result<SyncReport, NetError> {
        let log = self.log.clone();
        tokio::task::spawn_blocking(move || {
            log(peer, &result);
            result
        })
        .await
        .map_err(|_| NetError::Internal)?
    }

    async fn session(
        &self,
        peer: NodeId,
        send: &mut SendStream,
        recv: &mut RecvStream,
    ) -> Result<SyncReport, NetError> {
        let l = &self.limits;
        let mut cfg = SessionConfig::new(Role::Hub, self.org, self.local, peer);
        cfg.limits.max_turn_bytes = l.max_session_bytes;
        let rules = ReadRules {
            max_len: MAX_FRAME_LEN,
            idle: l.read_timeout,
            min_rate: l.min_rate,
            grace: l.rate_grace,
            deadline: None,
        };
        let hello = ReadRules {
            max_len: l.max_hello_len,
            deadline: Some(tokio::time::Instant::now() + l.hello_timeout),
            ..rules
        };
        let work = Shared(self.replicas.lease(Some(peer)));
        drive(
            Session::new(cfg),
            &work,
            send,
            recv,
            crate::Reading {
                before_open: hello,
                after_open: rules,
                budget: Some(&self.budget),
                cut: None,
            },
        )
        .await
    }

    async fn accept(&self, connection: Connection) -> Result<(), NetError> {
        let g = &self.gauges;
        let (_conn, now) = Count::new(&g.connections);
        if now > self.limits.max_connections {
            g.refused_busy.fetch_add(1, Ordering::SeqCst);
            connection.close(2u32.into(), b"hub busy");
            return Err(NetError::Busy);
        }
        let peer = peer_of(&connection);
        if let Err(e) = self.precheck(peer).await {
            let frame = match &e {
                NetError::Sync(s) => s.code().map(|c| Message::Error(c).encode()),
                _ => None,
            };
            let result = self.log(peer, Err(e)).await;
            g.refused_not_admitted.fetch_add(1, Ordering::SeqCst);
            match frame {
                Some(f) => refuse(&connection, f.as_bytes()).await,
                None => connection.close(1u32.into(), b"refused"),
            }
            return result.map(|_| ());
        }
        let slot = tokio::time::timeout(self.limits.session_wait, self.slots.acquire()).await;
        let Ok(Ok(_slot)) = slot else {
            g.refused_busy.fetch_add(1, Ordering::SeqCst);
            connection.close(2u32.into(), b"hub busy");
            return Err(NetError::Busy);
        };
        let (_session, _) = Count::new(&g.sessions);
        let result =
            match tokio::time::timeout(self.limits.hello_timeout, connection.accept_bi()).await {
                Ok(Ok((mut send, mut recv))) => {
                    let r = self.session(peer, &mut send, &mut recv).await;
                    if r.is_err() {
                        // Discard whatever else the peer sends.
                        let _ = recv.stop(0u32.into());
                    }
                    r
                }
                Ok(Err(e)) => Err(NetError::Disconnected(crate::boxed(e))),
                Err(_) => Err(NetError::Timeout),
            };
        drop(_session);
        drop(_slot);
        let result = self.log(peer, result).await;
        // Counted last: once a counter shows the outcome, the slot is free
        // and the log has heard it.
        match &result {
            Ok(_) => g.completed.fetch_add(1, Ordering::SeqCst),
            Err(NetError::TooSlow | NetError::Timeout) => {
                g.failed.fetch_add(1, Ordering::SeqCst);
                g.dropped_slow.fetch_add(1, Ordering::SeqCst)
            }
            Err(_) => g.failed.fetch_add(1, Ordering::SeqCst),
        };
        // Let the laptop read our last frames (the report, or the error frame
        // saying why it was refused) and close; closing first would discard them.
        let linger = if result.is_ok() {
            READ_TIMEOUT
        } else {
            ERROR_LINGER
        };
        linger_close(&connection, linger, b"sync ended").await;
        result.map(|_| ())
    }
}

impl<R: Replica + Send + 'static> ProtocolHandler for SyncProtocol<R> {
    async fn accept(&self, connection: Connection) -> Result<(), AcceptError> {
        self.inner
            .accept(connection)
            .await
            .map_err(AcceptError::from_err)
    }
}
