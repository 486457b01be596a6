//! The mandatory-field check before a report is sent: which clients miss
//! something that would make the report wrong. The list names clients by
//! their random id and responsible workers by user id, and the missing items
//! by kind; no other data about the client.

use polku_core::codes::Lang;
use polku_core::model::Client;
use polku_core::validate::{Missing, missing};
use polku_core::{ClientId, PeriodId, UnitId, UserId};
use serde::Serialize;

use crate::compute::dates_in_range;
use crate::period::DateRange;

/// One client to fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckRow {
    /// The client's id.
    pub client: ClientId,
    /// Responsible workers.
    pub responsible: Vec<UserId>,
    /// Kinds of the missing items, in [`polku_core::validate::missing`]'s
    /// order, each once (see [`missing_label`]).
    pub missing: Vec<&'static str>,
}

/// The kind code of a missing item.
fn kind(m: &Missing) -> Option<&'static str> {
    Some(match m {
        // Names are never in a report.
        Missing::FirstName | Missing::LastName => return None,
        Missing::BirthDate => "birth_date",
        Missing::Gender => "gender",
        Missing::MotherTongue => "mother_tongue",
        Missing::Unit => "unit",
        Missing::PeriodArrivalRoute(_) => "period_arrival_route",
        Missing::PeriodStart(_) => "period_start",
        Missing::PeriodMeasure(_) => "period_measure",
        Missing::PeriodEnd(_) => "period_end",
        Missing::PeriodOutcome(_) => "period_outcome",
        Missing::Situation => "situation",
        Missing::SnapshotHighestEducation(_) => "snapshot_highest_education",
        Missing::SnapshotEducationStatus(_) => "snapshot_education_status",
        Missing::SnapshotMainActivity(_) => "snapshot_main_activity",
        Missing::SnapshotLivelihood(_) => "snapshot_livelihood",
        Missing::SnapshotHousing(_) => "snapshot_housing",
    })
}

/// The label of a missing-item kind.
pub fn missing_label(kind: &str, lang: Lang) -> &'static str {
    let (fi, sv, en) = match kind {
        "birth_date" => ("syntymäaika", "födelsedatum", "birth date"),
        "gender" => ("sukupuoli", "kön", "gender"),
        "mother_tongue" => ("äidinkieli", "modersmål", "mother tongue"),
        "unit" => ("yksikkö", "enhet", "unit"),
        "period_arrival_route" => (
            "jakson saapumisreitti",
            "periodens kontaktväg",
            "period arrival route",
        ),
        "period_start" => (
            "jakson alkupäivä",
            "periodens startdatum",
            "period start date",
        ),
        "period_measure" => ("jakson toimenpide", "periodens åtgärd", "period measure"),
        "period_end" => (
            "jakson loppupäivä",
            "periodens slutdatum",
            "period end date",
        ),
        "period_outcome" => (
            "jakson sijoittuminen",
            "periodens placering",
            "period outcome",
        ),
        "situation" => ("tilannetiedot", "situationsuppgifter", "situation"),
        "snapshot_highest_education" => {
            ("korkein koulutus", "högsta utbildning", "highest education")
        }
        "snapshot_education_status" => ("opiskelutilanne", "studiesituation", "education status"),
        "snapshot_main_activity" => (
            "pääasiallinen toiminta",
            "huvudsaklig verksamhet",
            "main activity",
        ),
        "snapshot_livelihood" => ("toimeentulo", "försörjning", "livelihood"),
        "snapshot_housing" => ("asuminen", "boende", "housing"),
        _ => ("?", "?", "?"),
    };
    match lang {
        Lang::Fi => fi,
        Lang::Sv => sv,
        Lang::En => en,
    }
}

/// Clients counted in `range` (or possibly counted: a period without a
/// start date) whose missing mandatory items would make the report wrong:
/// basic data the tables use, the unit, items of periods in the range (or
/// without a start date) and of their situation snapshots. Names do not
/// matter to statistics and are not listed. Sorted by client id.
pub fn check(clients: &[Client], range: DateRange, unit: Option<UnitId>) -> Vec<CheckRow> {
    let mut out: Vec<CheckRow> = clients
        .iter()
        .filter(|c| unit.is_none() || c.unit == unit)
        .filter_map(|c| check_client(c, range))
        .collect();
    out.sort_by_key(|r| r.client);
    out
}

fn check_client(client: &Client, range: DateRange) -> Option<CheckRow> {
    let reached = client
        .periods
        .values()
        .any(|p| dates_in_range(p.start, p.end, p.closed, range))
        || client
            .memos
            .values()
            .any(|m| m.deleted.is_none() && range.contains(m.date));
    // Periods that matter: in the range, or without a start date.
    let relevant: Vec<PeriodId> = client
        .periods
        .values()
        .filter(|p| p.start.is_none() || dates_in_range(p.start, p.end, p.closed, range))
        .map(|p| p.id)
        .collect();
    if !reached && relevant.is_empty() {
        return None;
    }
    let snapshot_relevant = |id| {
        client
            .snapshots
            .get(&id)
            .is_none_or(|s| s.period.is_none_or(|p| relevant.contains(&p)))
    };
    let mut kinds: Vec<&'static str> = Vec::new();
    for m in missing(client) {
        let matters = match m {
            Missing::PeriodArrivalRoute(p)
            | Missing::PeriodStart(p)
            | Missing::PeriodMeasure(p)
            | Missing::PeriodEnd(p)
            | Missing::PeriodOutcome(p) => relevant.contains(&p),
            Missing::SnapshotHighestEducation(s)
            | Missing::SnapshotEducationStatus(s)
            | Missing::SnapshotMainActivity(s)
            | Missing::SnapshotLivelihood(s)
            | Missing::SnapshotHousing(s) => snapshot_relevant(s),
            // Situations are counted per period: without one it changes nothing.
            Missing::Situation => !relevant.is_empty(),
            _ => true,
        };
        if let Some(k) = kind(&m).filter(|_| matters)
            && !kinds.contains(&k)
        {
            kinds.push(k);
        }
    }
    if kinds.is_empty() {
        return None;
    }
    Some(CheckRow {
        client: client.id,
        responsible: client.responsible.iter().copied().collect(),
        missing: kinds,
    })
}
