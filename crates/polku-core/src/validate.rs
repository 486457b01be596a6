//! Missing mandatory items for reporting (PAR's bold fields).
//!
//! A client is complete for statistics when:
//! - basic data has a first and last name, birth date, gender and mother
//!   tongue, and the client has a unit;
//! - every period has an arrival route, a start date and at least one
//!   measure; an ended period (closed or with an end date) also has its end
//!   date and outcome;
//! - there is at least one situation snapshot, and every snapshot has the
//!   highest education, education status, main activity, livelihood and
//!   housing.
//!
//! The result names fields and ids only, never values, so it can be logged.

use serde::{Deserialize, Serialize};

use crate::codes::{CodeList, CodeSet};
use crate::ids::{MeasureId, MemoId, PeriodId, RecordId, SnapshotId};
use crate::model::Client;

/// One missing mandatory item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "item", content = "id", rename_all = "snake_case")]
pub enum Missing {
    /// First name.
    FirstName,
    /// Last name.
    LastName,
    /// Birth date.
    BirthDate,
    /// Gender.
    Gender,
    /// Mother tongue.
    MotherTongue,
    /// Unit.
    Unit,
    /// Arrival route of a period.
    PeriodArrivalRoute(PeriodId),
    /// Start date of a period.
    PeriodStart(PeriodId),
    /// A period without any measure.
    PeriodMeasure(PeriodId),
    /// End date of an ended period.
    PeriodEnd(PeriodId),
    /// Outcome (sijoittuminen) of an ended period.
    PeriodOutcome(PeriodId),
    /// No situation snapshot at all.
    Situation,
    /// Highest education on a snapshot.
    SnapshotHighestEducation(SnapshotId),
    /// Education status on a snapshot.
    SnapshotEducationStatus(SnapshotId),
    /// Main activity on a snapshot.
    SnapshotMainActivity(SnapshotId),
    /// Livelihood on a snapshot.
    SnapshotLivelihood(SnapshotId),
    /// Housing on a snapshot.
    SnapshotHousing(SnapshotId),
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn no_code(code: &Option<String>) -> bool {
    code.as_deref().is_none_or(blank)
}

/// The missing mandatory items of a client, in a fixed order: basic data,
/// unit, periods (by id), snapshots (by id).
pub fn missing(client: &Client) -> Vec<Missing> {
    let mut out = Vec::new();
    let b = &client.basic;
    if blank(&b.first_name) {
        out.push(Missing::FirstName);
    }
    if blank(&b.last_name) {
        out.push(Missing::LastName);
    }
    if b.birth_date.is_none() {
        out.push(Missing::BirthDate);
    }
    if no_code(&b.gender) {
        out.push(Missing::Gender);
    }
    if no_code(&b.mother_tongue) {
        out.push(Missing::MotherTongue);
    }
    if client.unit.is_none() {
        out.push(Missing::Unit);
    }
    for (&id, p) in &client.periods {
        if no_code(&p.arrival_route) {
            out.push(Missing::PeriodArrivalRoute(id));
        }
        if p.start.is_none() {
            out.push(Missing::PeriodStart(id));
        }
        if p.measures.is_empty() {
            out.push(Missing::PeriodMeasure(id));
        }
        if p.is_ended() {
            if p.end.is_none() {
                out.push(Missing::PeriodEnd(id));
            }
            if no_code(&p.outcome) {
                out.push(Missing::PeriodOutcome(id));
            }
        }
    }
    if client.snapshots.is_empty() {
        out.push(Missing::Situation);
    }
    for (&id, s) in &client.snapshots {
        if no_code(&s.highest_education) {
            out.push(Missing::SnapshotHighestEducation(id));
        }
        if no_code(&s.education_status) {
            out.push(Missing::SnapshotEducationStatus(id));
        }
        if no_code(&s.main_activity) {
            out.push(Missing::SnapshotMainActivity(id));
        }
        if no_code(&s.livelihood) {
            out.push(Missing::SnapshotLivelihood(id));
        }
        if no_code(&s.housing) {
            out.push(Missing::SnapshotHousing(id));
        }
    }
    out
}

/// Where in a client a code was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "field", content = "id", rename_all = "snake_case")]
pub enum CodeField {
    /// Basic data.
    Basic,
    /// A situation snapshot.
    Snapshot(SnapshotId),
    /// A period.
    Period(PeriodId),
    /// A measure.
    Measure(MeasureId),
    /// A memo.
    Memo(MemoId),
    /// A referral or follow-up.
    Record(RecordId),
}

/// A code in a client that the code set does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UnknownCodeAt {
    /// The list the code should be in.
    pub list: CodeList,
    /// Where it was found.
    pub field: CodeField,
}

/// Codes in a client that `codes` cannot resolve (retired codes resolve).
pub fn unknown_codes(client: &Client, codes: &CodeSet) -> Vec<UnknownCodeAt> {
    let mut out = Vec::new();
    let mut check = |list: CodeList, code: Option<&str>, field: CodeField| {
        if let Some(code) = code.filter(|c| !blank(c))
            && codes.lookup(list, code).is_err()
        {
            out.push(UnknownCodeAt { list, field });
        }
    };
    let b = &client.basic;
    check(CodeList::Gender, b.gender.as_deref(), CodeField::Basic);
    check(
        CodeList::MotherTongue,
        b.mother_tongue.as_deref(),
        CodeField::Basic,
    );
    for (&id, s) in &client.snapshots {
        let f = CodeField::Snapshot(id);
        check(
            CodeList::HighestEducation,
            s.highest_education.as_deref(),
            f,
        );
        check(CodeList::EducationStatus, s.education_status.as_deref(), f);
        check(CodeList::MainActivity, s.main_activity.as_deref(), f);
        check(CodeList::Livelihood, s.livelihood.as_deref(), f);
        check(CodeList::Housing, s.housing.as_deref(), f);
    }
    for (&id, p) in &client.periods {
        check(
            CodeList::ArrivalRoute,
            p.arrival_route.as_deref(),
            CodeField::Period(id),
        );
        check(
            CodeList::Outcome,
            p.outcome.as_deref(),
            CodeField::Period(id),
        );
        for (&mid, m) in &p.measures {
            check(CodeList::Measure, Some(&m.code), CodeField::Measure(mid));
        }
    }
    for (&id, m) in &client.memos {
        check(CodeList::MemoType, Some(&m.kind), CodeField::Memo(id));
    }
    for (&id, r) in &client.referrals {
        check(
            CodeList::ReferralSource,
            Some(&r.source),
            CodeField::Record(id),
        );
    }
    for (&id, f) in &client.follow_ups {
        check(
            CodeList::Outcome,
            f.result.as_deref(),
            CodeField::Record(id),
        );
    }
    out
}

mod introduced;
pub use introduced::{
    CodeUse, activity_code_uses, basic_code_uses, brief_code_uses, record_code_uses,
    refused_new_codes, unit_allowed,
};

#[cfg(test)]
mod tests;
