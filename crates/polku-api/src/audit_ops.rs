//! Reading the audit log (lokitietojen katselu): listing with filters and
//! verifying every chain. Both need the audit right and are themselves audited.

use chrono::{DateTime, NaiveDate, Utc};
use polku_audit::{Action as AuditAction, Code, Detail, Entry, Filter};
use polku_core::rights::{Action, Target};
use polku_core::{ClientId, UserId};

use crate::session::Session;
use crate::trail::{AuditMerge, AuditProblem, VerifySummary, merge_entries, read_verified};
use crate::{ApiError, Result};

const AUDIT_LOG: Code = match Code::new("audit_log") {
    Ok(c) => c,
    Err(_) => panic!("invalid audit code in the program text"),
};
const AUDIT_VERIFY: Code = match Code::new("audit_verify") {
    Ok(c) => c,
    Err(_) => panic!("invalid audit code in the program text"),
};

/// What `audit list` selects.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Entries about this client.
    pub client: Option<ClientId>,
    /// Entries by this user (login name).
    pub user: Option<String>,
    /// Entries on or after this date (UTC midnight).
    pub since: Option<NaiveDate>,
}

/// One entry as shown to an auditor: ids, names of staff, codes; never client data.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRow {
    /// Time of the entry.
    pub time: DateTime<Utc>,
    /// The node (device) that wrote it.
    pub node: String,
    /// Its sequence number in that node's chain.
    pub seq: u64,
    /// The user's id, if known.
    pub user_id: Option<UserId>,
    /// The user's login name, if the user is in the organisation.
    pub user: Option<String>,
    /// The action.
    pub action: String,
    /// The target id (client, user, document, device).
    pub target: Option<uuid::Uuid>,
    /// The detail, as codes and counts.
    pub detail: String,
}

fn detail_text(d: &Detail) -> String {
    match d {
        Detail::None => String::new(),
        Detail::Count(n) => n.to_string(),
        Detail::Reason(r) => r.to_string(),
        Detail::Code(c) => c.to_string(),
        Detail::CodeCount { code, count } => format!("{code} {count}"),
        Detail::Fields(f) => format!("{f:?}"),
        Detail::Transfer { sent, received } => format!("sent {sent} received {received}"),
        Detail::PeerTransfer {
            peer,
            sent,
            received,
        } => format!("peer {peer} sent {sent} received {received}"),
    }
}

impl Session {
    /// Entries matching `query`, oldest first (audited as a view of the log).
    pub fn audit_list(&mut self, query: &AuditQuery, now: DateTime<Utc>) -> Result<Vec<AuditRow>> {
        self.check(Action::ViewAudit, Target::Organisation, None, now)?;
        let mut filter = Filter::new();
        if let Some(c) = query.client {
            filter = filter.target(c.0);
        }
        if let Some(login) = &query.user {
            let user = self
                .org
                .users
                .values()
                .find(|u| u.login.eq_ignore_ascii_case(login.trim()))
                .ok_or(ApiError::UnknownLogin)?;
            filter = filter.user(user.id);
        }
        if let Some(d) = query.since {
            filter = filter.since(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
        }
        // Record first, so the listing includes its own view entry.
        self.record(now, AuditAction::View, None, Detail::Code(AUDIT_LOG))?;
        self.audit_rows(&filter)
    }

    /// The entries `filter` selects as rows, oldest first. Neither checked
    /// nor audited: the caller does both.
    pub(crate) fn audit_rows(&self, filter: &Filter) -> Result<Vec<AuditRow>> {
        let entries = self.decoded_entries()?;
        let mut rows: Vec<AuditRow> = entries
            .iter()
            .filter(|e| filter.matches(e))
            .map(|e| AuditRow {
                time: e.time,
                node: e.node.to_string(),
                seq: e.seq,
                user_id: e.user,
                user: e
                    .user
                    .and_then(|u| self.org.users.get(&u))
                    .map(|u| u.login.clone()),
                action: e.action.to_string(),
                target: e.target,
                detail: detail_text(&e.detail),
            })
            .collect();
        rows.sort_by(|a, b| (a.time, &a.node, a.seq).cmp(&(b.time, &b.node, b.seq)));
        Ok(rows)
    }

    /// Verify every stored chain. `Ok(Ok(summary))` when all verify,
    /// `Ok(Err(problem))` naming the first bad entry.
    pub fn audit_verify(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<VerifySummary, AuditProblem>> {
        self.check(Action::ViewAudit, Target::Organisation, None, now)?;
        let result = read_verified(&self.store)?;
        // Only an intact log gets a new entry: a damaged chain is not extended.
        if result.is_ok() {
            self.record(now, AuditAction::View, None, Detail::Code(AUDIT_VERIFY))?;
        }
        Ok(result.map(|(_, summary)| summary))
    }

    /// Merge another node's audit entries (from sync or an imported copy) into
    /// this store's log: append-only, idempotent, order-independent. A different
    /// entry at a position already held is kept as fork evidence, which
    /// [`Session::audit_verify`] reports. The merge itself is audited.
    pub fn merge_audit(&mut self, entries: Vec<Entry>, now: DateTime<Utc>) -> Result<AuditMerge> {
        let report = merge_entries(&self.store, entries)?;
        let count = u32::try_from(report.added).unwrap_or(u32::MAX);
        self.record(now, AuditAction::Sync, None, Detail::Count(count))?;
        Ok(report)
    }

    /// Every stored entry of every chain (for sync and export), unverified.
    /// Needs the audit right.
    pub fn audit_entries(&mut self, now: DateTime<Utc>) -> Result<Vec<Entry>> {
        self.check(Action::ViewAudit, Target::Organisation, None, now)?;
        self.decoded_entries()
    }

    pub(crate) fn decoded_entries(&self) -> Result<Vec<Entry>> {
        self.store
            .audit_entries()?
            .into_iter()
            .map(|(_, seq, bytes)| {
                Entry::decode(&bytes).map_err(|_| ApiError::AuditDamaged { seq })
            })
            .collect()
    }
}
