//! Sync from the app: on its own task, never holding the session longer
//! than one store step; a status the UI polls.

use polku_api::SyncReplica;
use polku_net::NetError;

use super::{Desk, DeskError, DeskResult, Gate, SyncProblemDto, SyncStatus, guard};
use crate::ServiceError;

/// Refused and quarantined documents, by kind and code (nothing personal:
/// documents are named by kind).
fn problems(r: &SyncReplica) -> (Vec<SyncProblemDto>, Vec<SyncProblemDto>) {
    let (mut refused, mut quarantined) = (Vec::new(), Vec::new());
    for p in r.session().sync_problems().unwrap_or_default() {
        let dto = SyncProblemDto {
            doc: p.doc_kind,
            code: p.code,
            at: Some(p.at),
        };
        if p.quarantined {
            quarantined.push(dto);
        } else {
            refused.push(dto);
        }
    }
    (refused, quarantined)
}

impl Desk {
    /// Starts a sync on its own task unless one runs or there is nothing to
    /// sync with; returns at once.
    pub(super) fn start_sync(&self) -> Result<(), DeskError> {
        let (replica, must_change) = self.open_replica()?;
        if must_change {
            return Err(polku_api::ApiError::MustChangePassword.into());
        }
        {
            let mut info = guard(&self.inner.sync);
            if info.running || !info.enrolled {
                return Ok(());
            }
            info.running = true;
            info.last_attempt = Some(self.now());
        }
        let desk = self.clone();
        tokio::spawn(async move {
            let result = crate::sync_shared(&replica).await;
            drop(replica);
            let mut info = guard(&desk.inner.sync);
            info.running = false;
            match result {
                Ok(_) => {
                    info.hub_reachable = Some(true);
                    info.last_error = None;
                }
                Err(e) => {
                    info.hub_reachable = Some(!matches!(
                        e,
                        ServiceError::Net(NetError::Connect(_) | NetError::Timeout)
                    ));
                    info.last_error = Some(e.to_dto());
                }
            }
        });
        Ok(())
    }

    /// The background task's sync: due every `sync_every` while enrolled.
    pub(super) fn background_sync(&self) {
        let due = {
            let info = guard(&self.inner.sync);
            let every = chrono::Duration::from_std(self.inner.config.sync_every)
                .unwrap_or(chrono::Duration::minutes(5));
            info.enrolled
                && !info.running
                && info.last_attempt.is_none_or(|t| self.now() - t >= every)
        };
        if due {
            let _ = self.start_sync();
        }
    }

    /// `sync_now`: starts a sync (if none runs) and returns the status at
    /// once; the UI polls `sync_status`.
    pub async fn sync_now(&self) -> DeskResult<SyncStatus> {
        self.run(Gate::Ordinary, |_, _| Ok(()))
            .await
            .map_err(|e| e.to_dto())?;
        if !guard(&self.inner.sync).enrolled {
            return Err(ServiceError::NotEnrolled.to_dto());
        }
        self.start_sync().map_err(|e| e.to_dto())?;
        self.sync_status().await
    }

    /// `sync_status` (not activity: the UI polls it).
    pub async fn sync_status(&self) -> DeskResult<SyncStatus> {
        self.expire_idle().await;
        let (replica, _) = self.open_replica().map_err(|e| e.to_dto())?;
        let (last_sync, waiting, refused, quarantined) = tokio::task::spawn_blocking(move || {
            let r = guard(&replica);
            let (refused, quarantined) = problems(&r);
            (
                r.session().last_hub_contact().ok().flatten(),
                r.session().waiting_changes().unwrap_or(0),
                refused,
                quarantined,
            )
        })
        .await
        .map_err(|_| DeskError::Internal.to_dto())?;
        let info = guard(&self.inner.sync);
        Ok(SyncStatus {
            enrolled: info.enrolled,
            running: info.running,
            last_sync,
            waiting_changes: waiting,
            hub_reachable: info.hub_reachable,
            last_error: info.last_error.clone(),
            refused,
            quarantined,
        })
    }
}
