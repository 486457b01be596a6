//! The desktop app's service layer: every command of `docs/app-commands.md`,
//! DTOs in and out, errors as [`ErrorDto`]. The Tauri shell forwards each
//! command here in a few lines; every rule lives here or below.
//!
//! A [`Desk`] holds the store directory and either nothing, an open session
//! (the logged-in [`Session`], inside the sync replica so that a sync and the
//! user's commands share it) or a [`LockedSession`] (nothing decrypted).
//!
//! - **Idle lock**: without a command for the organisation's
//!   `idle_lock_minutes` (its setting, read from the organisation document
//!   at each command), the desk locks itself: the session is closed
//!   ([`Session::lock`]), which drops every decrypted byte and key, and
//!   every command but `unlock`, `login`, `logout` and the state queries
//!   refuses with `session.locked`. Checked before each command and by the
//!   background task every few seconds. `touch` and every command are
//!   activity; the queries the UI polls (`app_info`, `session_state`,
//!   `sync_status`) are not, so a polling UI still locks. [`Desk::lock`]
//!   is the system-suspend lock. Time comes from a [`Clock`] (tests inject
//!   one).
//! - **Must-change gate**: after a login with a temporary password every
//!   command but `change_password` and `logout` (and the state queries)
//!   refuses with `auth.must_change_password`.
//! - **No blocking on the async reactor**: store work runs on
//!   `spawn_blocking` under the session's mutex; a sync runs on its own task
//!   and takes the mutex only for its store steps, so other commands go on
//!   between them. While enrolled, the background task syncs every few
//!   minutes.

mod commands;
pub mod dto;
mod error;
mod sync;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use polku_api::{ApiError, DemoUser, ErrorDto, LockedSession, Session, SyncReplica, Workspace};
use polku_core::model::SettingKey;
use polku_core::rights::{AdminRight, Scope};

pub use dto::*;
pub use error::DeskError;

/// A command's result as the UI receives it.
pub type DeskResult<T> = std::result::Result<T, ErrorDto>;

/// Where the desk takes the time from.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// How a desk is set up.
#[derive(Debug, Clone)]
pub struct DeskConfig {
    /// The store directory.
    pub dir: PathBuf,
    /// The app's version (`app_info`).
    pub version: String,
    /// The demo users, when this is the embedded demo store.
    pub demo_users: Option<Vec<DemoUser>>,
    /// A shorter idle lock than the organisation's (end-to-end tests only;
    /// it can only shorten the lock, never lengthen it).
    pub idle_lock_cap: Option<Duration>,
    /// How often the background task syncs while enrolled.
    pub sync_every: Duration,
}

impl DeskConfig {
    /// A desk over the store in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DeskConfig {
            dir: dir.into(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            demo_users: None,
            idle_lock_cap: None,
            sync_every: Duration::from_secs(5 * 60),
        }
    }
}

/// The open session, shared by commands and the sync task.
type Shared = Arc<Mutex<SyncReplica>>;

#[derive(Debug)]
struct Open {
    replica: Shared,
    login: String,
    /// From the organisation's setting (refreshed at every command).
    idle_minutes: u32,
    must_change: bool,
}

#[derive(Debug, Default)]
enum State {
    #[default]
    None,
    Open(Open),
    /// Locking: waiting for a sync to let go of the session.
    Locking {
        login: String,
    },
    Locked(LockedSession),
}

#[derive(Debug, Default)]
struct SyncInfo {
    running: bool,
    enrolled: bool,
    hub_reachable: Option<bool>,
    last_error: Option<ErrorDto>,
    last_attempt: Option<DateTime<Utc>>,
}

#[derive(Debug)]
struct Inner {
    config: DeskConfig,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    last_activity: Mutex<DateTime<Utc>>,
    sync: Mutex<SyncInfo>,
    /// Known after the first session: `hub` or `laptop`.
    store_role: Mutex<Option<&'static str>>,
    organisation: Mutex<Option<String>>,
}

/// The app's service layer (cheap to clone: one shared state).
#[derive(Debug, Clone)]
pub struct Desk {
    inner: Arc<Inner>,
}

/// Which commands pass while the password must be changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    /// Every ordinary command: refused until the password is changed.
    Ordinary,
    /// The password change itself.
    PasswordChange,
}

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The desk's idle limit for `minutes` and the test cap.
fn idle_limit(minutes: u32, cap: Option<Duration>) -> chrono::Duration {
    let org = chrono::Duration::minutes(i64::from(minutes));
    match cap.and_then(|c| chrono::Duration::from_std(c).ok()) {
        Some(c) if c < org => c,
        _ => org,
    }
}

fn idle_minutes_of(session: &Session) -> u32 {
    session
        .organisation()
        .settings
        .get(SettingKey::IdleLockMinutes)
}

impl Desk {
    /// A desk over `config.dir` with the system clock.
    pub fn new(config: DeskConfig) -> Self {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// A desk with the time from `clock` (tests).
    pub fn with_clock(config: DeskConfig, clock: Arc<dyn Clock>) -> Self {
        let now = clock.now();
        Desk {
            inner: Arc::new(Inner {
                config,
                clock,
                state: Mutex::new(State::None),
                last_activity: Mutex::new(now),
                sync: Mutex::new(SyncInfo::default()),
                store_role: Mutex::new(None),
                organisation: Mutex::new(None),
            }),
        }
    }

    /// Creates the embedded demo store in `dir` if it holds none (synthetic
    /// clients, demo users of two units with a known password) and returns
    /// the demo users.
    pub async fn ensure_demo_store(
        dir: PathBuf,
        clients: usize,
        kdf: polku_api::KdfParams,
    ) -> DeskResult<Vec<DemoUser>> {
        const SEED: u64 = 1;
        tokio::task::spawn_blocking(move || {
            if dir.join(polku_api::DB_FILE).exists() {
                return Ok(polku_api::demo_users(SEED));
            }
            std::fs::create_dir_all(&dir)
                .map_err(|_| DeskError::Api(ApiError::Invalid("demo store directory")))?;
            Workspace::create_demo(&dir, clients, SEED, kdf, Utc::now()).map_err(DeskError::from)
        })
        .await
        .map_err(|_| DeskError::Internal.to_dto())?
        .map_err(|e| e.to_dto())
    }

    /// The store directory.
    pub fn dir(&self) -> &std::path::Path {
        &self.inner.config.dir
    }

    fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    fn note_activity(&self, now: DateTime<Utc>) {
        *guard(&self.inner.last_activity) = now;
    }

    /// Locks the desk if it has been idle for its limit. Returns whether it
    /// is (now) locked.
    pub async fn expire_idle(&self) -> bool {
        let due = {
            let state = guard(&self.inner.state);
            match &*state {
                State::Open(o) => {
                    let idle = self.now() - *guard(&self.inner.last_activity);
                    idle >= idle_limit(o.idle_minutes, self.inner.config.idle_lock_cap)
                }
                State::Locking { .. } | State::Locked(_) => return true,
                State::None => return false,
            }
        };
        if due {
            self.lock_session().await;
        }
        due
    }

    /// The open session's replica, or why there is none.
    fn open_replica(&self) -> Result<(Shared, bool), DeskError> {
        match &*guard(&self.inner.state) {
            State::Open(o) => Ok((o.replica.clone(), o.must_change)),
            State::Locking { .. } | State::Locked(_) => Err(DeskError::Locked),
            State::None => Err(DeskError::NoSession),
        }
    }

    /// Runs `f` on the open session on the blocking pool: the idle check
    /// first, then the must-change gate; counts as activity. Refreshes the
    /// idle limit and the gate from the session afterwards.
    async fn run<T: Send + 'static>(
        &self,
        gate: Gate,
        f: impl FnOnce(&mut Session, DateTime<Utc>) -> Result<T, DeskError> + Send + 'static,
    ) -> Result<T, DeskError> {
        if self.expire_idle().await {
            return Err(DeskError::Locked);
        }
        let (replica, must_change) = self.open_replica()?;
        if must_change && gate == Gate::Ordinary {
            return Err(ApiError::MustChangePassword.into());
        }
        let now = self.now();
        self.note_activity(now);
        let (out, minutes, must_change) = tokio::task::spawn_blocking(move || {
            let mut r = guard(&replica);
            let s = r.session_mut();
            if gate == Gate::Ordinary && s.must_change_password() {
                return (
                    Err(ApiError::MustChangePassword.into()),
                    idle_minutes_of(s),
                    true,
                );
            }
            let out = f(s, now);
            (out, idle_minutes_of(s), s.must_change_password())
        })
        .await
        .map_err(|_| DeskError::Internal)?;
        if let State::Open(o) = &mut *guard(&self.inner.state) {
            o.idle_minutes = minutes;
            o.must_change = must_change;
        }
        out
    }

    /// Takes the session out of the open state into `next` and waits until
    /// no sync holds it any more.
    async fn take_session(&self, next: impl FnOnce(&str) -> State) -> Option<(Session, String)> {
        let open = {
            let mut state = guard(&self.inner.state);
            match std::mem::take(&mut *state) {
                State::Open(o) => {
                    *state = next(&o.login);
                    o
                }
                other => {
                    *state = other;
                    return None;
                }
            }
        };
        let mut shared = open.replica;
        let replica = loop {
            match Arc::try_unwrap(shared) {
                Ok(m) => break m.into_inner().unwrap_or_else(|p| p.into_inner()),
                Err(still) => {
                    shared = still;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        };
        Some((replica.into_session(), open.login))
    }

    /// Locks: closes the session (audited as a lock), keeps the login.
    async fn lock_session(&self) {
        let Some((session, login)) = self
            .take_session(|login| State::Locking {
                login: login.to_owned(),
            })
            .await
        else {
            return;
        };
        let now = self.now();
        let dir = self.inner.config.dir.clone();
        let fallback = LockedSession::new(dir, login);
        let locked = tokio::task::spawn_blocking(move || session.lock(now))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or(fallback);
        let mut state = guard(&self.inner.state);
        if matches!(*state, State::Locking { .. }) {
            *state = State::Locked(locked);
        }
    }

    /// Opens `session` as the desk's session and describes it.
    fn install(&self, session: Session, now: DateTime<Utc>) -> Result<Me, DeskError> {
        let me = commands::me(&session, now)?;
        let enrolled = session.hub_pin()?.is_some();
        *guard(&self.inner.store_role) = Some(if session.is_hub()? { "hub" } else { "laptop" });
        *guard(&self.inner.organisation) = Some(session.organisation().name.clone());
        let login = session.login_name().to_owned();
        let idle_minutes = idle_minutes_of(&session);
        let must_change = session.must_change_password();
        let replica = session.into_replica()?;
        guard(&self.inner.sync).enrolled = enrolled;
        self.note_activity(now);
        *guard(&self.inner.state) = State::Open(Open {
            replica: Arc::new(Mutex::new(replica)),
            login,
            idle_minutes,
            must_change,
        });
        Ok(me)
    }

    /// The effective idle lock in whole minutes (rounded up) for the UI.
    fn idle_minutes_shown(&self, minutes: u32) -> u32 {
        let limit = idle_limit(minutes, self.inner.config.idle_lock_cap);
        u32::try_from((limit.num_seconds() + 59) / 60).unwrap_or(minutes)
    }

    /// The background task: the idle check every few seconds, the lock
    /// when the machine was suspended (the wall clock moved on while the
    /// monotonic clock, which stops in suspend, did not), and while enrolled
    /// a sync every [`DeskConfig::sync_every`]. Runs until dropped; the shell
    /// spawns it on its runtime.
    pub async fn run_background(self) {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last = (std::time::Instant::now(), Utc::now());
        loop {
            tick.tick().await;
            let now = (std::time::Instant::now(), Utc::now());
            let mono = now.0.duration_since(last.0);
            let wall = (now.1 - last.1).to_std().unwrap_or_default();
            last = now;
            if suspended(mono, wall) {
                self.lock_session().await;
                continue;
            }
            if self.expire_idle().await {
                continue;
            }
            self.background_sync();
        }
    }
}

/// Whether the machine slept between two ticks: the wall clock ran on by
/// more than half a minute beyond the monotonic clock (which stops while
/// the system is suspended).
pub fn suspended(monotonic: Duration, wall: Duration) -> bool {
    wall > monotonic + Duration::from_secs(30)
}

fn may_of(session: &Session) -> May {
    let r = session.rights();
    May {
        view_record: r.view != Scope::None && !r.basic_data_only,
        memos: r.memos && !r.basic_data_only && r.view != Scope::None,
        admin: !r.admin.is_empty(),
        statistics: r.admin.contains(&AdminRight::Statistics),
    }
}
