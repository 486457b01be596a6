//! The client list as the app shows it: search (name or birth date) with the
//! filters own / unit / all clients, active / ended, and missing mandatory
//! fields, and one row per client with what the list needs (unit name,
//! responsible workers' logins, whether a period is open, how many mandatory
//! items are missing).
//!
//! Rights: a row is listed only when the user may view the client's basic
//! data; whether the client is active and what it lacks come from the rest
//! of the record, so they are given only when the user may view that too (a
//! row says so with `record: hidden_by_rights`, and the active/ended and
//! missing filters never select a client whose record the user may not see).
//! The listing is audited as one view of the list with its count, as
//! [`Session::list_clients`] is.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use polku_core::model::{Client, ClientSummary};
use polku_core::rights::{Action, Scope};
use polku_core::validate::{self, Missing};
use polku_core::{ClientId, PeriodId, SnapshotId};
use serde::{Deserialize, Serialize};

use crate::session::{Part, Session, matches_words, query_words};
use crate::{ApiError, Result};

/// Which clients a list shows, by the user's relation to them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListScope {
    /// Clients the user is responsible for.
    Own,
    /// Clients of the user's units.
    Unit,
    /// Every client the user may view.
    #[default]
    All,
}

/// Active or ended clients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListStatus {
    /// With an open period, or none at all yet.
    Active,
    /// With periods, all of them ended.
    Ended,
    /// Both.
    #[default]
    Any,
}

/// What the client list selects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientListQuery {
    /// Words matched against names (prefix) and the birth date; empty: all.
    pub query: String,
    /// Own, unit or all clients.
    pub scope: ListScope,
    /// Active, ended or any.
    pub status: ListStatus,
    /// Only clients with missing mandatory fields.
    pub missing_only: bool,
}

/// One row of the client list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientRow {
    /// The client.
    pub id: ClientId,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
    /// The unit's name.
    pub unit: Option<String>,
    /// Login names of the responsible workers.
    pub responsible: Vec<String>,
    /// Whether the client is active (an open period, or none yet); `true`
    /// when the record is hidden by rights.
    pub active: bool,
    /// How many mandatory items the record lacks; `0` when the record is
    /// hidden by rights.
    pub missing: u32,
    /// Whether the rest of the record was seen for `active` and `missing`.
    pub record: Part,
}

/// One missing mandatory item, as the app marks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingItem {
    /// What is missing, e.g. `basic.gender`, `period.outcome`.
    pub what: &'static str,
    /// The period it is missing from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<PeriodId>,
    /// The situation snapshot it is missing from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotId>,
}

impl From<&Missing> for MissingItem {
    fn from(m: &Missing) -> Self {
        let (what, period, snapshot) = match *m {
            Missing::FirstName => ("basic.first_name", None, None),
            Missing::LastName => ("basic.last_name", None, None),
            Missing::BirthDate => ("basic.birth_date", None, None),
            Missing::Gender => ("basic.gender", None, None),
            Missing::MotherTongue => ("basic.mother_tongue", None, None),
            Missing::Unit => ("unit", None, None),
            Missing::PeriodArrivalRoute(p) => ("period.arrival_route", Some(p), None),
            Missing::PeriodStart(p) => ("period.start", Some(p), None),
            Missing::PeriodMeasure(p) => ("period.measure", Some(p), None),
            Missing::PeriodEnd(p) => ("period.end", Some(p), None),
            Missing::PeriodOutcome(p) => ("period.outcome", Some(p), None),
            Missing::Situation => ("situation", None, None),
            Missing::SnapshotHighestEducation(s) => ("situation.highest_education", None, Some(s)),
            Missing::SnapshotEducationStatus(s) => ("situation.education_status", None, Some(s)),
            Missing::SnapshotMainActivity(s) => ("situation.main_activity", None, Some(s)),
            Missing::SnapshotLivelihood(s) => ("situation.livelihood", None, Some(s)),
            Missing::SnapshotHousing(s) => ("situation.housing", None, Some(s)),
        };
        MissingItem {
            what,
            period,
            snapshot,
        }
    }
}

/// Whether a client counts as active: a period still open, or no period
/// yet (a young person just met).
pub fn is_active(client: &Client) -> bool {
    client.periods.is_empty() || client.periods.values().any(|p| !p.is_ended())
}

impl Session {
    /// The client list with its filters (see the module docs), sorted by
    /// last name, first name. Audited as one view of the list.
    pub fn client_rows(
        &mut self,
        query: &ClientListQuery,
        now: DateTime<Utc>,
    ) -> Result<Vec<ClientRow>> {
        if self.must_change_password() {
            return Err(ApiError::MustChangePassword);
        }
        let words = query_words(&query.query);
        let me = self.user().id;
        let my_units = self.user().units.clone();
        let in_scope = |s: &ClientSummary| match query.scope {
            ListScope::Own => s.responsible.contains(&me),
            ListScope::Unit => s.unit.is_some_and(|u| my_units.contains(&u)),
            ListScope::All => true,
        };
        // Only clients whose record the user may view come back here.
        let records: BTreeMap<ClientId, Client> = if self.rights().view == Scope::None {
            BTreeMap::new()
        } else {
            self.load_clients(true)?
                .into_iter()
                .map(|c| (c.id, c))
                .collect()
        };
        let status_ok = |s: &ClientSummary| {
            let record = records.get(&s.id);
            let status = match (query.status, record) {
                (ListStatus::Any, _) => true,
                (_, None) => false,
                (ListStatus::Active, Some(c)) => is_active(c),
                (ListStatus::Ended, Some(c)) => !is_active(c),
            };
            status
                && (!query.missing_only || record.is_some_and(|c| !validate::missing(c).is_empty()))
        };
        let summaries = self.visible_clients(
            |s| in_scope(s) && matches_words(s, &words) && status_ok(s),
            now,
        )?;
        let org = self.organisation();
        Ok(summaries
            .into_iter()
            .map(|s| {
                let record = records.get(&s.id);
                ClientRow {
                    id: s.id,
                    unit: s
                        .unit
                        .and_then(|u| org.units.get(&u))
                        .map(|u| u.name.clone()),
                    responsible: s
                        .responsible
                        .iter()
                        .filter_map(|u| org.users.get(u).map(|u| u.login.clone()))
                        .collect(),
                    active: record.is_none_or(is_active),
                    missing: record.map_or(0, |c| {
                        u32::try_from(validate::missing(c).len()).unwrap_or(u32::MAX)
                    }),
                    record: if record.is_some() {
                        Part::Shown
                    } else {
                        Part::HiddenByRights
                    },
                    first_name: s.first_name,
                    last_name: s.last_name,
                    birth_date: s.birth_date,
                }
            })
            .collect())
    }

    /// What the client's record lacks, as the app marks it
    /// ([`Session::missing_fields`]: the record right, audited); empty when
    /// the user may see the basic data only.
    pub fn missing_items(
        &mut self,
        client: ClientId,
        now: DateTime<Utc>,
    ) -> Result<Vec<MissingItem>> {
        let Some(summary) = self.summary_of(client).cloned() else {
            return Err(ApiError::ClientNotFound(client));
        };
        if !self.may(Action::ViewRecord, &summary) {
            return Ok(Vec::new());
        }
        Ok(self
            .missing_fields(client, now)?
            .iter()
            .map(MissingItem::from)
            .collect())
    }
}

#[cfg(test)]
pub(crate) mod tests;
