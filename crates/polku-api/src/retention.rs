//! Retention (säilytysaika): which clients are past the organisation's
//! retention, per responsible worker, for `retention list` and for the app's
//! reminder at login.
//!
//! A client may be kept until 31 December of the year `retention_years`
//! (organisation setting, default 1, at most 4) after the end of their last
//! period ([`polku_core::model::Settings::retention_deadline`]). A client
//! with a period still open is never due. A client who never had a period
//! counts from the day they were added.
//!
//! Rights: each user sees only the clients whose whole record they may view
//! (a worker their own and their unit's, an admin all). Audit: one `view`
//! entry with `retention_list` and the count.

use chrono::{DateTime, NaiveDate, Utc};
use polku_audit::{Action as AuditAction, Detail};
use polku_core::ClientId;
use serde::Serialize;

use crate::audit_codes::RETENTION_LIST;
use crate::{ApiError, Result, Session};

/// A client past retention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionRow {
    /// The client.
    pub client: ClientId,
    /// Last name.
    pub last_name: String,
    /// First name.
    pub first_name: String,
    /// The unit's name, if any.
    pub unit: Option<String>,
    /// The responsible workers' login names (empty: nobody).
    pub responsible: Vec<String>,
    /// End of the last period (`None`: the client never had one).
    pub last_period_end: Option<NaiveDate>,
    /// The last day the client could be kept.
    pub keep_until: NaiveDate,
}

impl Session {
    /// The clients the user may see who are past retention on `now`'s date,
    /// by responsible worker (the first, by login; nobody last), then name.
    pub fn retention_due(&mut self, now: DateTime<Utc>) -> Result<Vec<RetentionRow>> {
        Ok(self
            .retention_candidates(now)?
            .into_iter()
            .map(|(row, _)| row)
            .collect())
    }

    /// [`Session::retention_due`], each row with the day its retention
    /// counts from (the end of the last period, or the day the client was
    /// added). Audited as the list.
    pub(crate) fn retention_candidates(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(RetentionRow, NaiveDate)>> {
        if self.must_change_password() {
            return Err(ApiError::MustChangePassword);
        }
        let today = now.date_naive();
        let settings = self.org.settings.clone();
        let mut rows = Vec::new();
        for c in self.load_clients(true)? {
            if c.periods.values().any(|p| !p.closed || p.end.is_none()) {
                continue;
            }
            let last_period_end = c.periods.values().filter_map(|p| p.end).max();
            let from = last_period_end.unwrap_or_else(|| c.created_at.date_naive());
            let keep_until = settings.retention_deadline(from);
            if keep_until >= today {
                continue;
            }
            let mut responsible: Vec<String> = c
                .responsible
                .iter()
                .filter_map(|u| self.org.users.get(u).map(|u| u.login.clone()))
                .collect();
            responsible.sort();
            rows.push((
                RetentionRow {
                    client: c.id,
                    last_name: c.basic.last_name.clone(),
                    first_name: c.basic.first_name.clone(),
                    unit: c
                        .unit
                        .and_then(|u| self.org.units.get(&u))
                        .map(|u| u.name.clone()),
                    responsible,
                    last_period_end,
                    keep_until,
                },
                from,
            ));
        }
        rows.sort_by(|(a, _), (b, _)| {
            let key = |r: &RetentionRow| {
                (
                    r.responsible.is_empty(),
                    r.responsible.first().cloned(),
                    r.last_name.to_lowercase(),
                    r.first_name.to_lowercase(),
                    r.client,
                )
            };
            key(a).cmp(&key(b))
        });
        let count = u32::try_from(rows.len()).unwrap_or(u32::MAX);
        self.record(
            now,
            AuditAction::View,
            None,
            Detail::CodeCount {
                code: RETENTION_LIST,
                count,
            },
        )?;
        Ok(rows)
    }
}
