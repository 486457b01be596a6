//! Reading length-prefixed frames from a peer without trusting it.
//!
//! The 4-byte header announces a length; nothing is allocated from it. The
//! frame's buffer grows only as bytes arrive, each read waits at most the
//! idle timeout, a frame body must keep up a minimum average rate once its
//! grace period is over (a peer trickling one byte a second is dropped), and
//! on a hub every chunk is charged to a global byte budget before it is read.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use iroh::endpoint::RecvStream;
use polku_sync::protocol::{FRAME_HEADER_LEN, frame_len};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::{NetError, boxed};

/// Most bytes read from the stream (and charged to the budget) at a time.
const CHUNK: usize = 64 * 1024;

/// How a frame may be read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadRules {
    /// Longest payload accepted (at most the protocol's `MAX_FRAME_LEN`).
    pub max_len: usize,
    /// Longest wait for any byte.
    pub idle: Duration,
    /// A frame body must arrive at this average rate (bytes per second) once
    /// `grace` has passed since its header; 0 = no rate rule.
    pub min_rate: u64,
    /// See `min_rate`.
    pub grace: Duration,
    /// The whole read (header included) must end by then.
    pub deadline: Option<Instant>,
}

/// A global budget of bytes buffered from peers, shared by a hub's sessions.
#[derive(Debug)]
pub(crate) struct Budget {
    sem: Arc<Semaphore>,
    /// How long a session waits for budget before giving up.
    wait: Duration,
    in_use: AtomicUsize,
}

impl Budget {
    pub(crate) fn new(bytes: usize, wait: Duration) -> Self {
        Self {
            sem: Arc::new(Semaphore::new(bytes.min(Semaphore::MAX_PERMITS))),
            wait,
            in_use: AtomicUsize::new(0),
        }
    }

    /// Bytes currently charged.
    pub(crate) fn in_use(&self) -> usize {
        self.in_use.load(Ordering::Relaxed)
    }
}

/// The part of the budget one session holds (released on drop or [`Held::release`]).
#[derive(Debug, Default)]
pub(crate) struct Held<'a> {
    budget: Option<&'a Budget>,
    permit: Option<OwnedSemaphorePermit>,
    bytes: usize,
}

impl<'a> Held<'a> {
    pub(crate) fn new(budget: Option<&'a Budget>) -> Self {
        Self {
            budget,
            permit: None,
            bytes: 0,
        }
    }

    /// Charges `n` bytes, waiting for the budget (at most its `wait`).
    async fn charge(&mut self, n: usize) -> Result<(), NetError> {
        let Some(budget) = self.budget else {
            return Ok(());
        };
        let n32 = u32::try_from(n).map_err(|_| NetError::Busy)?;
        let permit = tokio::time::timeout(budget.wait, budget.sem.clone().acquire_many_owned(n32))
            .await
            .map_err(|_| NetError::Busy)?
            .map_err(|_| NetError::Busy)?;
        match &mut self.permit {
            Some(p) => p.merge(permit),
            None => self.permit = Some(permit),
        }
        self.bytes += n;
        budget.in_use.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }

    /// Returns `n` of the charged bytes.
    fn refund(&mut self, n: usize) {
        let (Some(budget), Some(p)) = (self.budget, self.permit.as_mut()) else {
            return;
        };
        if let Some(back) = p.split(n) {
            drop(back);
            self.bytes -= n;
            budget.in_use.fetch_sub(n, Ordering::Relaxed);
        }
    }

    /// Returns everything (the session processed what it had buffered).
    pub(crate) fn release(&mut self) {
        if let Some(budget) = self.budget {
            budget.in_use.fetch_sub(self.bytes, Ordering::Relaxed);
        }
        self.permit = None;
        self.bytes = 0;
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.release();
    }
}

/// How long the next read may wait, and whether running out of it means the
/// peer is too slow (rather than silent).
fn next_wait(
    rules: &ReadRules,
    started: Instant,
    got: usize,
) -> Result<(Duration, bool), NetError> {
    let now = Instant::now();
    let mut wait = rules.idle;
    let mut slow = false;
    if rules.min_rate > 0 {
        let allowed = rules.grace + Duration::from_secs_f64(got as f64 / rules.min_rate as f64);
        let left = allowed.saturating_sub(now - started);
        if left.is_zero() {
            return Err(NetError::TooSlow);
        }
        if left < wait {
            wait = left;
            slow = true;
        }
    }
    if let Some(deadline) = rules.deadline {
        let left = deadline.saturating_duration_since(now);
        if left.is_zero() {
            return Err(NetError::Timeout);
        }
        if left < wait {
            wait = left;
            slow = false;
        }
    }
    Ok((wait, slow))
}

/// Reads into `buf` until it is full, under `rules` (the rate clock starting
/// at `started`), charging each chunk to `held` first.
async fn fill(
    recv: &mut RecvStream,
    buf: &mut Vec<u8>,
    total: usize,
    rules: &ReadRules,
    started: Instant,
    held: &mut Held<'_>,
) -> Result<(), NetError> {
    while buf.len() < total {
        let want = (total - buf.len()).min(CHUNK);
        held.charge(want).await?;
        let (wait, slow) = next_wait(rules, started, buf.len())?;
        let have = buf.len();
        if have + want > buf.capacity() {
            // Grow geometrically, never past the announced length.
            let target = (buf.capacity() * 2).clamp(have + want, total);
            buf.reserve_exact(target - have);
        }
        buf.resize(have + want, 0);
        let read = tokio::time::timeout(wait, recv.read(&mut buf[have..])).await;
        let n = match read {
            Ok(Ok(Some(n))) => n,
            Err(_) if slow => return Err(NetError::TooSlow),
            Err(_) => return Err(NetError::Timeout),
            Ok(Err(e)) => return Err(NetError::Disconnected(boxed(e))),
            Ok(Ok(None)) => {
                return Err(NetError::Disconnected(boxed(std::io::Error::from(
                    std::io::ErrorKind::UnexpectedEof,
                ))));
            }
        };
        buf.truncate(have + n);
        held.refund(want - n);
    }
    Ok(())
}

/// Reads one whole frame (header included) under `rules`.
pub(crate) async fn read_frame(
    recv: &mut RecvStream,
    rules: &ReadRules,
    held: &mut Held<'_>,
) -> Result<Vec<u8>, NetError> {
    let mut header = Vec::with_capacity(FRAME_HEADER_LEN);
    // No rate rule for the header: the peer may be computing its turn.
    let idle_rules = ReadRules {
        min_rate: 0,
        ..*rules
    };
    fill(
        recv,
        &mut header,
        FRAME_HEADER_LEN,
        &idle_rules,
        Instant::now(),
        &mut Held::new(None),
    )
    .await?;
    let mut h = [0u8; FRAME_HEADER_LEN];
    h.copy_from_slice(&header);
    let len = frame_len(h)?;
    if len > rules.max_len {
        return Err(NetError::FrameTooLarge {
            len,
            max: rules.max_len,
        });
    }
    let total = FRAME_HEADER_LEN + len;
    let mut frame = Vec::with_capacity(total.min(CHUNK));
    frame.extend_from_slice(&h);
    held.charge(FRAME_HEADER_LEN).await?;
    fill(recv, &mut frame, total, rules, Instant::now(), held).await?;
    Ok(frame)
}
