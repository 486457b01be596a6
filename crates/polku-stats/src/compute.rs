//! Counting: every client through its statistical projection
//! ([`AnonymisedRecord::from_client`]), every anonymised record as it is, and
//! every activity memo, into per-group accumulators.
//!
//! Definitions (for a range `from..=to`):
//! - a period **is in the range** when it has a start date on or before `to`
//!   and has not ended before `from` (an open period runs on; a period marked
//!   closed without an end date counts as ending on its start date);
//! - a young person is **reached** (tavoitettu) when they have a period in the
//!   range or a contact (client memo) dated in the range;
//! - **new** when their first period start or contact, ever, is in the range;
//!   otherwise **continuing** from before;
//! - a **longer-term client** (pidempiaikainen asiakas) has a period in the
//!   range with at least one measure;
//! - the **reference period** is their earliest-starting period in the range;
//!   arrival route and the situation at the start come from it;
//! - **age group**: the age at the start of the reference period; for a young
//!   person reached by contacts only, the age on their first contact in the
//!   range. So a young person stays in one age group in all three cumulative
//!   PARKki reports of a year, and an anonymised record (which keeps only the
//!   age group at each period start and contact) counts exactly the same;
//! - **ended periods** are periods in the range that ended inside it; the
//!   outcome and the situation at the end are counted per ended period;
//! - **measures**: a young person counts once on each measure row they have in
//!   a period in the range;
//! - **referrals** and **contacts** are counted by the date received or
//!   written; activity memos by their date;
//! - **brief contacts** (lyhyet kontaktit) are young people reached who gave
//!   no name: each contact dated in the range counts once, by the gender and
//!   age group recorded with it, in a column of their own beside the named
//!   young people (the same person met twice cannot be told apart).
//!
//! Groups: the organisation; each unit (the client's unit, the activity
//! memo's unit); each worker (young people they are responsible for, contacts
//! they wrote, activity memos they took part in).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use polku_core::anonymised::{AnonymisedPeriod, AnonymisedRecord};
use polku_core::codes::{CodeList, CodeSet, Lang};
use polku_core::model::{ActivityMemo, BriefContactLog, Client, Organisation};
use polku_core::{UnitId, UserId};

use crate::period::{DateRange, ReportPeriod};
use crate::report::Workforce;

/// What a report counts.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// Live clients.
    pub clients: &'a [Client],
    /// Anonymised records of erased clients.
    pub anonymised: &'a [AnonymisedRecord],
    /// Activity memos.
    pub activity_memos: &'a [ActivityMemo],
    /// Brief contacts, by unit and month.
    pub brief_contacts: &'a [BriefContactLog],
}

/// What report to make.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The reporting period.
    pub period: ReportPeriod,
    /// Count only this unit's clients and activity memos.
    pub unit: Option<UnitId>,
    /// Add the tables of each unit (unsuppressed reports only).
    pub per_unit: bool,
    /// Add the tables of each worker (supervisor reports; unsuppressed
    /// reports only).
    pub per_worker: bool,
    /// Suppress cells under this threshold. A suppressed report holds only
    /// its top group: unit and worker tables beside it would give away its
    /// hidden cells by subtraction.
    pub suppress: Option<u32>,
    /// Language of the labels.
    pub lang: Lang,
    /// Worker data for the yearly report.
    pub workforce: Option<Workforce>,
    /// When the report is made (shown in it).
    pub generated_at: DateTime<Utc>,
}

impl Query {
    /// Default suppression threshold.
    pub const DEFAULT_THRESHOLD: u32 = 5;

    /// A Finnish report of `period` with unit and worker tables and no
    /// suppression.
    pub fn new(period: ReportPeriod, generated_at: DateTime<Utc>) -> Self {
        Self {
            period,
            unit: None,
            per_unit: true,
            per_worker: true,
            suppress: None,
            lang: Lang::Fi,
            workforce: None,
            generated_at,
        }
    }
}

/// Rows of one code list: its codes, then "missing", "unknown code" and,
/// for period-based tables, "no period".
#[derive(Debug, Clone)]
pub(crate) struct Dim {
    pub list: CodeList,
    pub codes: Vec<String>,
    index: HashMap<String, usize>,
    pub no_period: bool,
}

impl Dim {
    fn new(codes: &CodeSet, list: CodeList, no_period: bool) -> Self {
        let codes: Vec<String> = codes.all(list).map(|c| c.code.clone()).collect();
        let index = codes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), i))
            .collect();
        Self {
            list,
            codes,
            index,
            no_period,
        }
    }
    pub fn len(&self) -> usize {
        self.codes.len() + 2 + usize::from(self.no_period)
    }
    pub fn missing(&self) -> usize {
        self.codes.len()
    }
    pub fn unknown(&self) -> usize {
        self.codes.len() + 1
    }
    pub fn no_period_row(&self) -> usize {
        self.codes.len() + 2
    }
    fn row(&self, code: Option<&str>) -> usize {
        match code {
            None => self.missing(),
            Some(c) => self.index.get(c).copied().unwrap_or(self.unknown()),
        }
    }
}

/// The code lists the tables use.
#[derive(Debug, Clone)]
pub(crate) struct Dims {
    /// Person tables: gender, age group, mother tongue, arrival route, main
    /// activity at start, livelihood at start.
    pub person: [Dim; 6],
    /// Ended-period tables: outcome, main activity at end, livelihood at end.
    pub ended: [Dim; 3],
    pub measure: Dim,
    pub referral: Dim,
    pub memo_type: Dim,
    pub activity: Dim,
    pub gender: Dim,
    pub age: Dim,
}

impl Dims {
    pub(crate) fn new(codes: &CodeSet) -> Self {
        let d = |list, no_period| Dim::new(codes, list, no_period);
        Self {
            person: [
                d(CodeList::Gender, false),
                d(CodeList::AgeGroup, false),
                d(CodeList::MotherTongue, false),
                d(CodeList::ArrivalRoute, true),
                d(CodeList::MainActivity, true),
                d(CodeList::Livelihood, true),
            ],
            ended: [
                d(CodeList::Outcome, false),
                d(CodeList::MainActivity, false),
                d(CodeList::Livelihood, false),
            ],
            measure: d(CodeList::Measure, false),
            referral: d(CodeList::ReferralSource, false),
            memo_type: d(CodeList::MemoType, false),
            activity: d(CodeList::ActivityKind, false),
            gender: d(CodeList::Gender, false),
            age: d(CodeList::AgeGroup, false),
        }
    }
}

/// Raw counts of one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Acc {
    /// Per person table and row: new, continuing, reached, longer-term.
    pub person: [Vec<[u64; 4]>; 6],
    /// Per ended-period table and row.
    pub ended: [Vec<u64>; 3],
    pub measures: Vec<u64>,
    pub referrals: Vec<u64>,
    pub contacts: Vec<u64>,
    /// Per activity kind: memos, young people met.
    pub activities: Vec<[u64; 2]>,
    /// Gender row × age-group column.
    pub met: Vec<u64>,
    /// Brief contacts per gender row.
    pub brief_gender: Vec<u64>,
    /// Brief contacts per age-group row.
    pub brief_age: Vec<u64>,
    pub periods_active: u64,
    pub periods_started: u64,
}

impl Acc {
    pub(crate) fn new(d: &Dims) -> Self {
        Self {
            person: std::array::from_fn(|i| vec![[0; 4]; d.person[i].len()]),
            ended: std::array::from_fn(|i| vec![0; d.ended[i].len()]),
            measures: vec![0; d.measure.len()],
            referrals: vec![0; d.referral.len()],
            contacts: vec![0; d.memo_type.len()],
            activities: vec![[0; 2]; d.activity.len()],
            met: vec![0; d.gender.len() * d.age.len()],
            brief_gender: vec![0; d.gender.len()],
            brief_age: vec![0; d.age.len()],
            periods_active: 0,
            periods_started: 0,
        }
    }
}

/// What one record adds to the groups it belongs to (contacts aside).
#[derive(Debug, Default)]
struct Facts {
    /// Person-table rows, and new / longer-term, when reached.
    person: Option<([usize; 6], bool, bool)>,
    ended: Vec<[usize; 3]>,
    measures: BTreeSet<usize>,
    referrals: Vec<usize>,
    periods_active: u64,
    periods_started: u64,
}

impl Facts {
    fn add_to(&self, acc: &mut Acc) {
        if let Some((rows, new, longer)) = self.person {
            for (table, &row) in acc.person.iter_mut().zip(&rows) {
                let cell = &mut table[row];
                cell[if new { 0 } else { 1 }] += 1;
                cell[2] += 1;
                if longer {
                    cell[3] += 1;
                }
            }
        }
        for rows in &self.ended {
            for (table, &row) in acc.ended.iter_mut().zip(rows) {
                table[row] += 1;
            }
        }
        for &m in &self.measures {
            acc.measures[m] += 1;
        }
        for &r in &self.referrals {
            acc.referrals[r] += 1;
        }
        acc.periods_active += self.periods_active;
        acc.periods_started += self.periods_started;
    }
}

/// The last day a period counts on: its end date; for a period closed
/// without one, its start date; `None` while it runs.
fn effective_end(p: &AnonymisedPeriod) -> Option<NaiveDate> {
    effective_end_of(p.start, p.end, p.closed)
}

fn effective_end_of(
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    closed: bool,
) -> Option<NaiveDate> {
    match (end, closed) {
        (Some(end), _) => Some(end),
        (None, true) => start,
        (None, false) => None,
    }
}

/// Whether a period with these dates is in the range (see the module docs).
pub(crate) fn dates_in_range(
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    closed: bool,
    range: DateRange,
) -> bool {
    match start {
        Some(s) if s <= range.to => {
            effective_end_of(start, end, closed).is_none_or(|e| e >= range.from)
        }
        _ => false,
    }
}

fn in_range(p: &AnonymisedPeriod, range: DateRange) -> bool {
    dates_in_range(p.start, p.end, p.closed, range)
}

fn facts(rec: &AnonymisedRecord, range: DateRange, d: &Dims) -> Facts {
    let mut f = Facts::default();
    let mut reference: Option<&AnonymisedPeriod> = None;
    let mut longer = false;
    for p in rec.periods.iter().filter(|p| in_range(p, range)) {
        // Periods are sorted by start date: the first one is the reference.
        reference = reference.or(Some(p));
        longer |= !p.measures.is_empty();
        f.periods_active += 1;
        if p.start.is_some_and(|s| s >= range.from) {
            f.periods_started += 1;
        }
        for m in &p.measures {
            f.measures.insert(d.measure.row(Some(&m.code)));
        }
        if p.is_ended() && effective_end(p).is_some_and(|e| range.contains(e)) {
            let at_end = p.at_end.as_ref();
            f.ended.push([
                d.ended[0].row(p.outcome.as_deref()),
                d.ended[1].row(at_end.and_then(|s| s.main_activity.as_deref())),
                d.ended[2].row(at_end.and_then(|s| s.livelihood.as_deref())),
            ]);
        }
    }
    let first_contact = rec.contacts.iter().find(|c| range.contains(c.date));
    if reference.is_some() || first_contact.is_some() {
        let first_ever = rec
            .periods
            .iter()
            .filter_map(|p| p.start)
            .chain(rec.contacts.iter().map(|c| c.date))
            .min();
        let new = first_ever.is_some_and(|first| first >= range.from);
        let age = match reference {
            Some(p) => p.age_group.as_deref(),
            None => first_contact.and_then(|c| c.age_group.as_deref()),
        };
        let [g, a, mt, route, ma, lh] = &d.person;
        let (route_row, ma_row, lh_row) = match reference {
            Some(p) => {
                let s = p.at_start.as_ref();
                (
                    route.row(p.arrival_route.as_deref()),
                    ma.row(s.and_then(|s| s.main_activity.as_deref())),
                    lh.row(s.and_then(|s| s.livelihood.as_deref())),
                )
            }
            None => (
                route.no_period_row(),
                ma.no_period_row(),
                lh.no_period_row(),
            ),
        };
        let rows = [
            g.row(rec.gender.as_deref()),
            a.row(age),
            mt.row(rec.mother_tongue.as_deref()),
            route_row,
            ma_row,
            lh_row,
        ];
        f.person = Some((rows, new, longer));
    }
    f.referrals = rec
        .referrals
        .iter()
        .filter(|r| range.contains(r.received))
        .map(|r| d.referral.row(Some(&r.source)))
        .collect();
    f
}

/// Which groups a record or memo adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum GroupId {
    Organisation,
    Unit(Option<UnitId>),
    Worker(Option<UserId>),
}

/// Raw counts of every group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Counts {
    pub org: Acc,
    pub units: BTreeMap<Option<UnitId>, Acc>,
    pub workers: BTreeMap<Option<UserId>, Acc>,
}

impl Counts {
    fn group(&mut self, id: GroupId, d: &Dims) -> &mut Acc {
        match id {
            GroupId::Organisation => &mut self.org,
            GroupId::Unit(u) => self.units.entry(u).or_insert_with(|| Acc::new(d)),
            GroupId::Worker(w) => self.workers.entry(w).or_insert_with(|| Acc::new(d)),
        }
    }
}

/// Count everything `query` asks for.
pub(crate) fn count(inputs: &Inputs<'_>, query: &Query, d: &Dims) -> Counts {
    let range = query.period.range();
    let mut counts = Counts {
        org: Acc::new(d),
        units: BTreeMap::new(),
        workers: BTreeMap::new(),
    };
    let mut add_record = |rec: &AnonymisedRecord| {
        if query.unit.is_some() && rec.unit != query.unit {
            return;
        }
        let f = facts(rec, range, d);
        let mut groups = vec![GroupId::Organisation];
        if query.per_unit {
            groups.push(GroupId::Unit(rec.unit));
        }
        if query.per_worker {
            if rec.responsible.is_empty() {
                groups.push(GroupId::Worker(None));
            } else {
                groups.extend(rec.responsible.iter().map(|w| GroupId::Worker(Some(*w))));
            }
        }
        let touches = f.person.is_some()
            || !f.referrals.is_empty()
            || !f.ended.is_empty()
            || f.periods_active > 0;
        if touches {
            for &g in &groups {
                f.add_to(counts.group(g, d));
            }
        }
        for c in rec.contacts.iter().filter(|c| range.contains(c.date)) {
            let row = d.memo_type.row(Some(&c.kind));
            counts.org.contacts[row] += 1;
            if query.per_unit {
                counts.group(GroupId::Unit(rec.unit), d).contacts[row] += 1;
            }
            if query.per_worker {
                counts.group(GroupId::Worker(Some(c.author)), d).contacts[row] += 1;
            }
        }
    };
    for client in inputs.clients {
        add_record(&AnonymisedRecord::from_client(client));
    }
    for rec in inputs.anonymised {
        add_record(rec);
    }
    for memo in inputs.activity_memos {
        if memo.deleted.is_some()
            || !range.contains(memo.date)
            || query.unit.is_some_and(|u| u != memo.unit)
        {
            continue;
        }
        let mut groups = vec![GroupId::Organisation];
        if query.per_unit {
            groups.push(GroupId::Unit(Some(memo.unit)));
        }
        if query.per_worker {
            groups.extend(memo.workers.iter().map(|w| GroupId::Worker(Some(*w))));
        }
        let kind = d.activity.row(Some(&memo.kind));
        let met: Vec<(usize, u64)> = memo
            .met
            .iter()
            .map(|(g, a, n)| {
                let cell = d.gender.row(Some(g)) * d.age.len() + d.age.row(Some(a));
                (cell, u64::from(n))
            })
            .collect();
        let total: u64 = met.iter().map(|(_, n)| n).sum();
        for g in groups {
            let acc = counts.group(g, d);
            acc.activities[kind][0] += 1;
            acc.activities[kind][1] += total;
            for &(cell, n) in &met {
                acc.met[cell] += n;
            }
        }
    }
    for log in inputs.brief_contacts {
        if query.unit.is_some_and(|u| u != log.unit) {
            continue;
        }
        for c in log
            .contacts
            .values()
            .filter(|c| c.deleted.is_none() && range.contains(c.date))
        {
            let g = d.gender.row(c.gender.as_deref());
            let a = d.age.row(c.age_group.as_deref());
            let mut groups = vec![GroupId::Organisation];
            if query.per_unit {
                groups.push(GroupId::Unit(Some(log.unit)));
            }
            if query.per_worker {
                groups.push(GroupId::Worker(Some(c.author)));
            }
            for grp in groups {
                let acc = counts.group(grp, d);
                acc.brief_gender[g] += 1;
                acc.brief_age[a] += 1;
            }
        }
    }
    counts
}

/// Units to show: those with data, and the organisation's active units.
pub(crate) fn unit_groups(counts: &Counts, org: &Organisation) -> Vec<Option<UnitId>> {
    let mut ids: BTreeSet<Option<UnitId>> = counts.units.keys().copied().collect();
    ids.extend(org.units.values().filter(|u| u.active).map(|u| Some(u.id)));
    let mut ids: Vec<Option<UnitId>> = ids.into_iter().collect();
    ids.sort_by_key(|id| {
        let name = id.and_then(|u| org.units.get(&u)).map(|u| u.name.clone());
        (id.is_none(), name, *id)
    });
    ids
}

/// Workers to show: those with data, by display name.
pub(crate) fn worker_groups(counts: &Counts, org: &Organisation) -> Vec<Option<UserId>> {
    let mut ids: Vec<Option<UserId>> = counts.workers.keys().copied().collect();
    ids.sort_by_key(|id| {
        let name = id
            .and_then(|u| org.users.get(&u))
            .map(|u| u.display_name.clone());
        (id.is_none(), name, *id)
    });
    ids
}
