//! [`crate::sync_now`] over a session that stays shared: the app's session
//! sits in a replica behind a mutex, and the sync takes the mutex only for
//! its store steps (each message, the audit entry), so the user's commands
//! go on between them. Store work runs on the blocking pool.

use std::sync::{Arc, Mutex};

use chrono::Utc;
use polku_api::SyncReplica;
use polku_net::NetError;
use polku_sync::SyncError;
use polku_sync::protocol::ErrorCode;

use crate::{Result, ServiceError, SyncOutcome};

fn guard(m: &Mutex<SyncReplica>) -> std::sync::MutexGuard<'_, SyncReplica> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn blocking<T: Send + 'static>(
    replica: &Arc<Mutex<SyncReplica>>,
    f: impl FnOnce(&mut SyncReplica) -> Result<T> + Send + 'static,
) -> Result<T> {
    let replica = replica.clone();
    tokio::task::spawn_blocking(move || f(&mut guard(&replica)))
        .await
        .map_err(|_| ServiceError::Net(NetError::Internal))?
}

/// Syncs the shared session's store with its pinned hub now, as
/// [`crate::sync_now`] does (audited, renewing the offline lease; a revoked
/// device deletes its client data).
pub async fn sync_shared(replica: &Arc<Mutex<SyncReplica>>) -> Result<SyncOutcome> {
    let (pin, secret, org) = blocking(replica, |r| {
        let s = r.session();
        let pin = s.hub_pin()?.ok_or(ServiceError::NotEnrolled)?;
        Ok((pin, s.transport_secret()?, s.org_id()))
    })
    .await?;
    let result = crate::run_sync(secret.for_transport(), &pin, replica, org).await;
    match result {
        Ok(report) => {
            blocking(replica, move |r| {
                r.record_sync(&report, Utc::now())?;
                let refusals = r.refusals()?.into_iter().map(|(_, x)| x).collect();
                Ok(SyncOutcome { report, refusals })
            })
            .await
        }
        Err(NetError::Sync(SyncError::Remote(ErrorCode::DeviceRevoked))) => {
            let wiped = blocking(replica, |r| {
                Ok(r.session_mut().wipe_after_revocation(Utc::now())?)
            })
            .await?;
            Err(ServiceError::Revoked { wiped })
        }
        Err(e) => Err(ServiceError::Net(e)),
    }
}
