//! What polku-bench needs beyond the public API to measure baselines (cargo
//! feature `bench-internals`, enabled by polku-bench only; never in the
//! shipped `polku` binary): the store under a session, an audit entry written
//! alone, a client read without rights or audit, a session started on an
//! unlocked store.

use chrono::{DateTime, Utc};
use polku_audit::{Action, Detail};
use polku_core::ClientId;
use polku_core::model::Client;
use polku_store::Store;

use crate::{Result, Session};

/// Present in a binary built with this feature (see `scripts/check-shipped`).
pub static MARKER: [u8; 34] = *b"POLKU-TEST-ONLY-FEATURE-IN-BINARY!";

/// The store under `session`.
pub fn store(session: &Session) -> &Store {
    &session.store
}

/// Writes one audit entry as an audited action does.
pub fn record(
    session: &mut Session,
    now: DateTime<Utc>,
    action: Action,
    target: Option<uuid::Uuid>,
    detail: Detail,
) -> Result<()> {
    session.record(now, action, target, detail)
}

/// Reads a client without rights or audit (the unaudited baseline).
pub fn read_client(session: &mut Session, id: ClientId) -> Result<Client> {
    session.read_client(id)
}

/// Starts a session on an unlocked store (the unlock's last step, timed).
pub fn start(store: Store, now: DateTime<Utc>) -> Result<Session> {
    Session::start(store, now)
}
