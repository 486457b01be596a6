//! Statistics (PARKki reports) and the mandatory-field check over the whole
//! organisation.
//!
//! Rights: the reporting right ([`Action::RunStatistics`]) runs a report over
//! every client of the organisation — a report holds counts only, so the
//! user's client view scope does not limit it; per-worker tables are added
//! only for users with the supervisor-reports right
//! ([`Action::RunSupervisorReports`]). A refusal is audited.
//!
//! Audit: the client documents are read through a crate-internal read, and
//! the whole run writes one entry: `export` with `stats_csv` / `stats_xlsx` /
//! `stats_json` when the report leaves the program as a file, else `view`
//! with `stats_view`, with the number of records counted; the check writes
//! `view` with `stats_check` and the number of clients listed.

use chrono::{DateTime, Utc};
use polku_audit::{Action as AuditAction, Detail};
use polku_core::DocKind;
use polku_core::anonymised::AnonymisedRecord;
use polku_core::codes::Lang;
use polku_core::doc::ActivityMemoDoc;
use polku_core::model::ActivityMemo;
use polku_core::rights::{Action, Target, can};
use polku_stats::{CheckRow, Inputs, Query, Report, ReportPeriod, Workforce};

use crate::audit_codes::{STATS_CHECK, STATS_CSV, STATS_JSON, STATS_VIEW, STATS_XLSX};
use crate::{Result, Session};

/// The file format a report is exported in (decides the audit entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsFormat {
    /// CSV.
    Csv,
    /// XLSX.
    Xlsx,
    /// JSON.
    Json,
}

/// What report to make.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsQuery {
    /// Reporting period.
    pub period: ReportPeriod,
    /// Limit to one unit (name or id).
    pub unit: Option<String>,
    /// Suppress cells under this threshold.
    pub suppress: Option<u32>,
    /// Suppress small cells under the organisation's small-cell threshold
    /// ([`polku_core::model::Settings::small_cell_threshold`]) when
    /// `suppress` names no threshold.
    pub suppress_small_cells: bool,
    /// Language of the labels.
    pub lang: Lang,
    /// The organisation's worker data (yearly report).
    pub workforce: Option<Workforce>,
    /// `Some` when the report is written to a file in this format (audited as
    /// an export); `None` when it is only shown.
    pub export: Option<StatsFormat>,
}

impl StatsQuery {
    /// A Finnish report of `period`, shown, not suppressed.
    pub fn new(period: ReportPeriod) -> Self {
        Self {
            period,
            unit: None,
            suppress: None,
            suppress_small_cells: false,
            lang: Lang::Fi,
            workforce: None,
            export: None,
        }
    }
}

impl Session {
    /// Make a statistics report (see the module docs for rights and audit).
    pub fn stats(&mut self, query: &StatsQuery, now: DateTime<Utc>) -> Result<Report> {
        self.check(Action::RunStatistics, Target::Organisation, None, now)?;
        let per_worker = can(
            &self.user,
            &self.rights,
            Action::RunSupervisorReports,
            Target::Organisation,
        )
        .is_ok();
        let unit = query
            .unit
            .as_deref()
            .map(|u| self.unit_by_name(u))
            .transpose()?;
        // A laptop whose user may not hold the clients' records counts the
        // hub's extract of them; everyone else counts the clients.
        let extract = if self.is_hub()? {
            None
        } else {
            self.load_extract()?
        };
        let (clients, anonymised, activity_memos, brief_contacts) = match extract {
            Some(e) => (
                Vec::new(),
                e.decoded(),
                e.decoded_activity(),
                e.decoded_brief(),
            ),
            None => (
                self.load_clients(false)?,
                self.load_anonymised()?,
                self.load_activity_memos()?,
                self.load_brief_logs()?,
            ),
        };
        let codes = self.codes()?;
        let mut q = Query::new(query.period, now);
        q.unit = unit;
        q.per_worker = per_worker;
        q.suppress = query.suppress.or(query
            .suppress_small_cells
            .then(|| self.org.settings.small_cell_threshold()));
        q.lang = query.lang;
        q.workforce = query.workforce;
        let report = polku_stats::report(
            &Inputs {
                clients: &clients,
                anonymised: &anonymised,
                activity_memos: &activity_memos,
                brief_contacts: &brief_contacts,
            },
            &q,
            &self.org,
            &codes,
        );
        let (action, code) = match query.export {
            None => (AuditAction::View, STATS_VIEW),
            Some(StatsFormat::Csv) => (AuditAction::Export, STATS_CSV),
            Some(StatsFormat::Xlsx) => (AuditAction::Export, STATS_XLSX),
            Some(StatsFormat::Json) => (AuditAction::Export, STATS_JSON),
        };
        let count = u32::try_from(clients.len() + anonymised.len()).unwrap_or(u32::MAX);
        self.record(now, action, None, Detail::CodeCount { code, count })?;
        Ok(report)
    }

    /// The clients whose missing mandatory fields would make the report of
    /// `query` wrong (ids and responsible workers only).
    pub fn stats_check(&mut self, query: &StatsQuery, now: DateTime<Utc>) -> Result<Vec<CheckRow>> {
        self.check(Action::RunStatistics, Target::Organisation, None, now)?;
        let unit = query
            .unit
            .as_deref()
            .map(|u| self.unit_by_name(u))
            .transpose()?;
        let clients = self.load_clients(false)?;
        let rows = polku_stats::check(&clients, query.period.range(), unit);
        let count = u32::try_from(rows.len()).unwrap_or(u32::MAX);
        self.record(
            now,
            AuditAction::View,
            None,
            Detail::CodeCount {
                code: STATS_CHECK,
                count,
            },
        )?;
        Ok(rows)
    }

    /// Every activity memo (toimintamuistio) document. Not audited: the
    /// caller audits the run.
    pub(crate) fn load_activity_memos(&self) -> Result<Vec<ActivityMemo>> {
        self.store
            .load_all(DocKind::ActivityMemo)?
            .into_iter()
            .map(|(_, am)| Ok(ActivityMemoDoc::from_automerge(am)?.activity_memo()?))
            .collect()
    }

    /// Anonymised records of erased clients (documents of kind
    /// [`DocKind::Anonymised`], written by the erasure: see `erase.rs`),
    /// counted by the statistics as the live clients were
    /// (`polku_stats::Inputs::anonymised`).
    pub(crate) fn load_anonymised(&self) -> Result<Vec<AnonymisedRecord>> {
        self.load_anonymised_records()
    }
}

#[cfg(test)]
mod tests;
