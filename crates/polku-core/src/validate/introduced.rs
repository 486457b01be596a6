//! Which codes and units a change brings in, and whether they may be
//! chosen now: the rule the hub applies to changes arriving by sync, the same
//! one the API applies to its own writes (a code known and not retired, a
//! unit known and not retired). Only what a change *introduces* is judged:
//! a record that used a code before it was retired stays valid, and so does
//! every later change that leaves that use as it was.

use std::collections::BTreeSet;

use uuid::Uuid;

use crate::codes::{CodeList, CodeSet};
use crate::ids::UnitId;
use crate::model::{ActivityMemo, BriefContactLog, ClientBasic, ClientRecord, Organisation};

/// One use of a code: its list, where it sits (the field and the id of the
/// item holding it, `None` for the document itself) and the code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CodeUse {
    /// The code list.
    pub list: CodeList,
    /// The field (fixed text).
    pub field: &'static str,
    /// The item holding the field (a snapshot, period, measure, memo, …).
    pub item: Option<Uuid>,
    /// The code (blank values are no use).
    pub code: String,
}

#[derive(Default)]
struct Uses(BTreeSet<CodeUse>);

impl Uses {
    fn add(&mut self, list: CodeList, field: &'static str, item: Option<Uuid>, code: Option<&str>) {
        if let Some(code) = code.filter(|c| !c.trim().is_empty()) {
            self.0.insert(CodeUse {
                list,
                field,
                item,
                code: code.to_owned(),
            });
        }
    }
}

/// The codes of a client's basic data.
pub fn basic_code_uses(b: &ClientBasic) -> BTreeSet<CodeUse> {
    let mut u = Uses::default();
    u.add(CodeList::Gender, "gender", None, b.basic.gender.as_deref());
    u.add(
        CodeList::MotherTongue,
        "mother_tongue",
        None,
        b.basic.mother_tongue.as_deref(),
    );
    u.0
}

/// The codes of a client's record (situations, periods and measures, memos,
/// referrals, follow-ups).
pub fn record_code_uses(r: &ClientRecord) -> BTreeSet<CodeUse> {
    let mut u = Uses::default();
    for (id, s) in &r.snapshots {
        let item = Some(id.0);
        u.add(
            CodeList::HighestEducation,
            "highest_education",
            item,
            s.highest_education.as_deref(),
        );
        u.add(
            CodeList::EducationStatus,
            "education_status",
            item,
            s.education_status.as_deref(),
        );
        u.add(
            CodeList::MainActivity,
            "main_activity",
            item,
            s.main_activity.as_deref(),
        );
        u.add(
            CodeList::Livelihood,
            "livelihood",
            item,
            s.livelihood.as_deref(),
        );
        u.add(CodeList::Housing, "housing", item, s.housing.as_deref());
    }
    for (id, p) in &r.periods {
        let item = Some(id.0);
        u.add(
            CodeList::ArrivalRoute,
            "arrival_route",
            item,
            p.arrival_route.as_deref(),
        );
        u.add(CodeList::Outcome, "outcome", item, p.outcome.as_deref());
        for (mid, m) in &p.measures {
            u.add(CodeList::Measure, "measure", Some(mid.0), Some(&m.code));
        }
    }
    for (id, m) in &r.memos {
        u.add(CodeList::MemoType, "memo_kind", Some(id.0), Some(&m.kind));
    }
    for (id, x) in &r.referrals {
        u.add(
            CodeList::ReferralSource,
            "referral_source",
            Some(id.0),
            Some(&x.source),
        );
    }
    for (id, f) in &r.follow_ups {
        u.add(
            CodeList::Outcome,
            "follow_up_result",
            Some(id.0),
            f.result.as_deref(),
        );
    }
    u.0
}

/// The codes of an activity memo (its kind, the genders and age groups of
/// its counts).
pub fn activity_code_uses(m: &ActivityMemo) -> BTreeSet<CodeUse> {
    let mut u = Uses::default();
    u.add(CodeList::ActivityKind, "activity_kind", None, Some(&m.kind));
    for (gender, groups) in &m.met.0 {
        u.add(CodeList::Gender, "met_gender", None, Some(gender));
        for group in groups.keys() {
            u.add(CodeList::AgeGroup, "met_age_group", None, Some(group));
        }
    }
    u.0
}

/// The codes of a brief-contact log (each contact's channel, gender, age
/// group and topic).
pub fn brief_code_uses(log: &BriefContactLog) -> BTreeSet<CodeUse> {
    let mut u = Uses::default();
    for (id, c) in &log.contacts {
        let item = Some(id.0);
        u.add(CodeList::ContactChannel, "channel", item, Some(&c.channel));
        u.add(CodeList::Gender, "gender", item, c.gender.as_deref());
        u.add(
            CodeList::AgeGroup,
            "age_group",
            item,
            c.age_group.as_deref(),
        );
        u.add(CodeList::ContactTopic, "topic", item, c.topic.as_deref());
    }
    u.0
}

/// The code uses `after` brings in over `before` that a new record may not
/// choose (unknown, or retired), by list. Uses already in `before` stay valid.
pub fn refused_new_codes(
    before: &BTreeSet<CodeUse>,
    after: &BTreeSet<CodeUse>,
    codes: &CodeSet,
) -> Vec<CodeList> {
    after
        .difference(before)
        .filter(|u| codes.lookup_for_new(u.list, &u.code).is_err())
        .map(|u| u.list)
        .collect()
}

/// Whether a document may be put in unit `after` (it was in `before`): no
/// unit, the same unit as before, or a unit of the organisation that is not
/// retired.
pub fn unit_allowed(org: &Organisation, before: Option<UnitId>, after: Option<UnitId>) -> bool {
    match after {
        None => true,
        Some(u) if before == Some(u) => true,
        Some(u) => org.units.get(&u).is_some_and(|unit| unit.active),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate};

    use super::*;
    use crate::ids::{ClientId, OrgId, SnapshotId};
    use crate::model::{Client, OwnCode, SituationSnapshot, SnapshotPhase, Unit};

    fn org_with(retired_gender: &str) -> (Organisation, UnitId, UnitId) {
        let mut org = Organisation::new(OrgId::new(), "Org");
        let (open, closed) = (UnitId::new(), UnitId::new());
        for (id, active) in [(open, true), (closed, false)] {
            org.units.insert(
                id,
                Unit {
                    id,
                    name: format!("{active}"),
                    municipality: None,
                    active,
                },
            );
        }
        org.retired_codes
            .entry(CodeList::Gender)
            .or_default()
            .insert(retired_gender.to_owned());
        org.own_codes.entry(CodeList::Housing).or_default().insert(
            "own_housing".into(),
            OwnCode {
                code: "own_housing".into(),
                labels: Default::default(),
                parent: None,
            },
        );
        (org, open, closed)
    }

    fn basic(gender: Option<&str>) -> ClientBasic {
        let mut c = Client::new(
            ClientId::new(),
            DateTime::from_timestamp_millis(0).expect("time"),
        );
        c.basic.gender = gender.map(str::to_owned);
        c.split().0
    }

    /// What a change brings in is judged; what it keeps is not.
    #[test]
    fn only_codes_a_change_brings_in_are_judged() {
        let (org, _, _) = org_with("female");
        let codes = CodeSet::for_organisation(&org);
        let none = BTreeSet::new();
        // (before, after, refused)
        let table: &[(Option<&str>, Option<&str>, bool)] = &[
            (None, Some("male"), false),
            (None, Some("female"), true),            // retired
            (None, Some("no-such-code"), true),      // unknown
            (Some("female"), Some("female"), false), // kept as it was
            (Some("male"), Some("female"), true),    // changed to a retired one
            (Some("female"), None, false),           // cleared
            (None, Some("  "), false),               // blank is no code
        ];
        for &(before, after, refused) in table {
            let b = before.map_or(none.clone(), |g| basic_code_uses(&basic(Some(g))));
            let a = basic_code_uses(&basic(after));
            assert_eq!(
                !refused_new_codes(&b, &a, &codes).is_empty(),
                refused,
                "{before:?} -> {after:?}"
            );
        }
    }

    #[test]
    fn a_new_snapshot_may_not_reuse_a_retired_code_an_old_one_keeps() {
        let (mut org, _, _) = org_with("female");
        let client = ClientId::new();
        let mut before = ClientRecord::empty(client);
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        let mut old = SituationSnapshot::new(SnapshotId::new(), day, SnapshotPhase::Start);
        old.housing = Some("own_housing".into());
        before.snapshots.insert(old.id, old);
        // The own code is retired later.
        org.retired_codes
            .entry(CodeList::Housing)
            .or_default()
            .insert("own_housing".into());
        let codes = CodeSet::for_organisation(&org);
        let uses = record_code_uses(&before);
        assert!(refused_new_codes(&uses, &uses, &codes).is_empty());
        let mut after = before.clone();
        let mut new = SituationSnapshot::new(SnapshotId::new(), day, SnapshotPhase::End);
        new.housing = Some("own_housing".into());
        after.snapshots.insert(new.id, new);
        assert_eq!(
            refused_new_codes(&uses, &record_code_uses(&after), &codes),
            [CodeList::Housing]
        );
    }

    #[test]
    fn units_a_change_brings_in_must_be_in_use() {
        let (org, open, closed) = org_with("female");
        let unknown = UnitId::new();
        // (before, after, allowed)
        let table = [
            (None, None, true),
            (None, Some(open), true),
            (None, Some(closed), false),
            (None, Some(unknown), false),
            (Some(closed), Some(closed), true),
            (Some(open), Some(closed), false),
            (Some(closed), Some(open), true),
        ];
        for (before, after, allowed) in table {
            assert_eq!(
                unit_allowed(&org, before, after),
                allowed,
                "{before:?} -> {after:?}"
            );
        }
    }
}
