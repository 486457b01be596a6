//! From raw counts to labelled tables, with totals and suppression.

use polku_core::codes::{CodeSet, Lang};
use polku_core::model::Organisation;

use crate::compute::{Acc, Dim, Dims, Inputs, Query, count, unit_groups, worker_groups};
use crate::labels::{Text, text};
use crate::report::{
    Cell, Column, Group, GroupKind, MISSING, NO_PERIOD, Report, Row, TOTAL, Table, TableKey,
    UNKNOWN,
};
use crate::suppress::{Grid, Mark, RowSum, suppress, suppress_together};

/// Make the report `query` asks for over `inputs`.
///
/// Pure: the caller supplies the organisation (unit and user names), the
/// code set (labels) and the time in `query`.
pub fn report(inputs: &Inputs<'_>, query: &Query, org: &Organisation, codes: &CodeSet) -> Report {
    let dims = Dims::new(codes);
    let mut query = query.clone();
    if query.unit.is_some() {
        query.per_unit = false;
    }
    // A suppressed report is one to publish: it holds its top group only.
    // Unit and worker tables published beside the organisation's would
    // give away their hidden cells (the organisation's cell minus the other
    // units' cells), so they are made only unsuppressed, for internal use
    // (see the `suppress` module's "Limits").
    if query.suppress.is_some() {
        query.per_unit = false;
        query.per_worker = false;
    }
    let counts = count(inputs, &query, &dims);
    let ctx = Ctx {
        lang: query.lang,
        codes,
        dims: &dims,
        threshold: query.suppress,
    };
    let lang = query.lang;
    let unit_name = query.unit.map(|u| {
        org.units
            .get(&u)
            .map_or_else(|| u.to_string(), |x| x.name.clone())
    });
    let mut groups = vec![Group {
        kind: GroupKind::Organisation,
        id: None,
        label: match &unit_name {
            Some(name) => format!("{}: {name}", text(lang, Text::UnitGroup)),
            None => text(lang, Text::WholeOrganisation).to_owned(),
        },
        tables: ctx.tables(&counts.org),
    }];
    if query.per_unit {
        let empty = Acc::new(&dims);
        for id in unit_groups(&counts, org) {
            let acc = counts.units.get(&id).unwrap_or(&empty);
            let label = match id {
                Some(u) => format!(
                    "{}: {}",
                    text(lang, Text::UnitGroup),
                    org.units
                        .get(&u)
                        .map_or_else(|| u.to_string(), |x| x.name.clone())
                ),
                None => text(lang, Text::NoUnit).to_owned(),
            };
            groups.push(Group {
                kind: GroupKind::Unit,
                id: id.map(|u| u.to_string()),
                label,
                tables: ctx.tables(acc),
            });
        }
    }
    if query.per_worker {
        for id in worker_groups(&counts, org) {
            let Some(acc) = counts.workers.get(&id) else {
                continue;
            };
            let label = match id {
                Some(u) => format!(
                    "{}: {}",
                    text(lang, Text::WorkerGroup),
                    org.users
                        .get(&u)
                        .map_or_else(|| u.to_string(), |x| x.display_name.clone())
                ),
                None => text(lang, Text::NoWorker).to_owned(),
            };
            groups.push(Group {
                kind: GroupKind::Worker,
                id: id.map(|u| u.to_string()),
                label,
                tables: ctx.tables(acc),
            });
        }
    }
    Report {
        lang,
        title: text(lang, Text::Title).to_owned(),
        organisation: org.name.clone(),
        period: query.period,
        range: query.period.range(),
        unit: unit_name,
        generated_at: query.generated_at,
        suppression: query.suppress,
        workforce: query.workforce,
        groups,
    }
}

struct Ctx<'a> {
    lang: Lang,
    codes: &'a CodeSet,
    dims: &'a Dims,
    threshold: Option<u32>,
}

const PERSON_TABLES: [(TableKey, Text, Text); 6] = [
    (TableKey::Gender, Text::TGender, Text::HGender),
    (TableKey::AgeGroup, Text::TAgeGroup, Text::HAgeGroup),
    (
        TableKey::MotherTongue,
        Text::TMotherTongue,
        Text::HMotherTongue,
    ),
    (
        TableKey::ArrivalRoute,
        Text::TArrivalRoute,
        Text::HArrivalRoute,
    ),
    (
        TableKey::MainActivityStart,
        Text::TMainActivityStart,
        Text::HMainActivity,
    ),
    (
        TableKey::LivelihoodStart,
        Text::TLivelihoodStart,
        Text::HLivelihood,
    ),
];

const ENDED_TABLES: [(TableKey, Text, Text); 3] = [
    (TableKey::Outcome, Text::TOutcome, Text::HOutcome),
    (
        TableKey::MainActivityEnd,
        Text::TMainActivityEnd,
        Text::HMainActivity,
    ),
    (
        TableKey::LivelihoodEnd,
        Text::TLivelihoodEnd,
        Text::HLivelihood,
    ),
];

impl Ctx<'_> {
    fn t(&self, t: Text) -> String {
        text(self.lang, t).to_owned()
    }

    fn column(&self, key: &str, t: Text) -> Column {
        Column {
            key: key.to_owned(),
            label: self.t(t),
        }
    }

    /// Row keys and labels of a code list's rows.
    fn dim_rows(&self, dim: &Dim) -> Vec<(String, String)> {
        let mut rows: Vec<(String, String)> = dim
            .codes
            .iter()
            .map(|c| {
                let label = self
                    .codes
                    .label(dim.list, c, self.lang)
                    .map_or_else(|_| c.clone(), str::to_owned);
                (c.clone(), label)
            })
            .collect();
        rows.push((MISSING.to_owned(), self.t(Text::Missing)));
        rows.push((UNKNOWN.to_owned(), self.t(Text::UnknownCode)));
        if dim.no_period {
            rows.push((NO_PERIOD.to_owned(), self.t(Text::NoPeriod)));
        }
        rows
    }

    fn with_total(&self, mut rows: Vec<(String, String)>) -> Vec<(String, String)> {
        rows.push((TOTAL.to_owned(), self.t(Text::Total)));
        rows
    }

    fn tables(&self, acc: &Acc) -> Vec<Table> {
        let d = self.dims;
        // Person tables: new + continuing = reached; "of whom longer-term" <= reached.
        let person_cols = vec![
            self.column("new", Text::New),
            self.column("continuing", Text::Continuing),
            self.column("reached", Text::Reached),
            self.column("longer_term", Text::LongerTerm),
        ];
        let person_grids: Vec<Grid> = acc
            .person
            .iter()
            .map(|rows| {
                let mut values: Vec<u64> = rows.iter().flatten().copied().collect();
                let mut total = [0u64; 4];
                for r in rows {
                    for (t, v) in total.iter_mut().zip(r) {
                        *t += v;
                    }
                }
                values.extend(total);
                Grid {
                    rows: rows.len() + 1,
                    cols: 4,
                    values,
                    col_total: true,
                    row_sum: Some(RowSum {
                        parts: vec![0, 1],
                        total: 2,
                    }),
                    le: vec![(3, 2)],
                }
            })
            .collect();
        let person_marks = self.threshold.map(|t| suppress_together(&person_grids, t));
        let ended_grids: Vec<Grid> = acc.ended.iter().map(|v| column_grid(v, true)).collect();
        let ended_marks = self.threshold.map(|t| suppress_together(&ended_grids, t));
        let referral_grid = column_grid(&acc.referrals, true);
        let referral_marks = self.threshold.map(|t| suppress(&referral_grid, t, &[]));
        let measure_grid = column_grid(&acc.measures, false);
        let measure_marks = self.threshold.map(|t| suppress(&measure_grid, t, &[]));

        let mut person_tables = Vec::new();
        for (i, (key, title, header)) in PERSON_TABLES.iter().enumerate() {
            person_tables.push(self.table(
                *key,
                *title,
                *header,
                person_cols.clone(),
                self.with_total(self.dim_rows(&d.person[i])),
                &person_grids[i],
                person_marks.as_ref().map(|m| m[i].as_slice()),
            ));
        }
        // Brief contacts: a column of their own in the gender and age-group
        // tables (the two share their total, so they are suppressed together).
        let brief_grids = [
            column_grid(&acc.brief_gender, true),
            column_grid(&acc.brief_age, true),
        ];
        let brief_marks = self.threshold.map(|t| suppress_together(&brief_grids, t));
        for (i, grid) in brief_grids.iter().enumerate() {
            let column = self.table(
                TableKey::Gender,
                Text::BriefContacts,
                Text::BriefContacts,
                vec![self.column("brief_contacts", Text::BriefContacts)],
                self.with_total(self.dim_rows(&d.person[i])),
                grid,
                brief_marks.as_ref().map(|m| m[i].as_slice()),
            );
            let table = &mut person_tables[i];
            table.columns.extend(column.columns);
            for (row, extra) in table.rows.iter_mut().zip(column.rows) {
                row.cells.extend(extra.cells);
            }
        }
        let ended_col = vec![self.column("ended", Text::EndedPeriods)];
        let mut ended_tables = Vec::new();
        for (i, (key, title, header)) in ENDED_TABLES.iter().enumerate() {
            ended_tables.push(self.table(
                *key,
                *title,
                *header,
                ended_col.clone(),
                self.with_total(self.dim_rows(&d.ended[i])),
                &ended_grids[i],
                ended_marks.as_ref().map(|m| m[i].as_slice()),
            ));
        }
        let measures = self.table(
            TableKey::Measures,
            Text::TMeasures,
            Text::HMeasure,
            vec![self.column("young_people", Text::YoungPeople)],
            self.dim_rows(&d.measure),
            &measure_grid,
            measure_marks.as_deref(),
        );
        let referrals = self.table(
            TableKey::Referrals,
            Text::TReferrals,
            Text::HReferralSource,
            vec![self.column("referrals", Text::Referrals)],
            self.with_total(self.dim_rows(&d.referral)),
            &referral_grid,
            referral_marks.as_deref(),
        );
        // Events, not people: never suppressed.
        let contacts = self.table(
            TableKey::Contacts,
            Text::TContacts,
            Text::HMemoType,
            vec![self.column("contacts", Text::Contacts)],
            self.with_total(self.dim_rows(&d.memo_type)),
            &column_grid(&acc.contacts, true),
            None,
        );
        let mut activity_values: Vec<u64> = acc.activities.iter().flatten().copied().collect();
        let act_total = acc
            .activities
            .iter()
            .fold([0u64; 2], |t, a| [t[0] + a[0], t[1] + a[1]]);
        activity_values.extend(act_total);
        let activities = self.table(
            TableKey::Activities,
            Text::TActivities,
            Text::HActivityKind,
            vec![
                self.column("activity_memos", Text::ActivityMemos),
                self.column("met", Text::Met),
            ],
            self.with_total(self.dim_rows(&d.activity)),
            &Grid {
                rows: acc.activities.len() + 1,
                cols: 2,
                values: activity_values,
                col_total: true,
                row_sum: None,
                le: Vec::new(),
            },
            None,
        );
        let met = self.met_table(acc);
        let summary = self.summary(
            acc,
            &person_tables,
            &ended_tables,
            &referrals,
            &contacts,
            &activities,
        );

        let mut out = vec![summary];
        out.extend(person_tables);
        out.extend(ended_tables);
        out.extend([measures, referrals, contacts, activities, met]);
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn table(
        &self,
        key: TableKey,
        title: Text,
        header: Text,
        columns: Vec<Column>,
        rows: Vec<(String, String)>,
        grid: &Grid,
        marks: Option<&[Mark]>,
    ) -> Table {
        let t = self.threshold.unwrap_or(0);
        let rows = rows
            .into_iter()
            .enumerate()
            .map(|(r, (key, label))| Row {
                key,
                label,
                cells: (0..grid.cols)
                    .map(|c| {
                        let i = r * grid.cols + c;
                        match marks.map(|m| m[i]) {
                            Some(Mark::Below) => Cell::Below(t),
                            Some(Mark::Hidden) => Cell::Hidden,
                            _ => Cell::Count(grid.values[i]),
                        }
                    })
                    .collect(),
            })
            .collect();
        Table {
            key,
            title: self.t(title),
            row_header: self.t(header),
            columns,
            rows,
        }
    }

    fn met_table(&self, acc: &Acc) -> Table {
        let d = self.dims;
        let (g, a) = (d.gender.len(), d.age.len());
        let mut columns: Vec<Column> = self
            .dim_rows(&d.age)
            .into_iter()
            .map(|(key, label)| Column { key, label })
            .collect();
        columns.push(self.column(TOTAL, Text::Total));
        let mut values = Vec::with_capacity((g + 1) * (a + 1));
        let mut col_totals = vec![0u64; a + 1];
        for r in 0..g {
            let row = &acc.met[r * a..(r + 1) * a];
            let sum: u64 = row.iter().sum();
            for (c, v) in row.iter().chain([&sum]).enumerate() {
                values.push(*v);
                col_totals[c] += v;
            }
        }
        values.extend(&col_totals);
        self.table(
            TableKey::Met,
            Text::TMet,
            Text::HGenderByAge,
            columns,
            self.with_total(self.dim_rows(&d.gender)),
            &Grid {
                rows: g + 1,
                cols: a + 1,
                values,
                col_total: true,
                row_sum: None,
                le: Vec::new(),
            },
            None,
        )
    }

    fn summary(
        &self,
        acc: &Acc,
        person: &[Table],
        ended: &[Table],
        referrals: &Table,
        contacts: &Table,
        activities: &Table,
    ) -> Table {
        let total_cell = |t: &Table, col: &str| t.cell(TOTAL, col).unwrap_or(Cell::Count(0));
        let standalone = |v: u64| match self.threshold {
            Some(t) if v < u64::from(t) => Cell::Below(t),
            _ => Cell::Count(v),
        };
        let p = &person[0];
        let items: Vec<(&str, Text, Cell)> = vec![
            ("reached", Text::SReached, total_cell(p, "reached")),
            ("new", Text::SNew, total_cell(p, "new")),
            ("continuing", Text::SContinuing, total_cell(p, "continuing")),
            (
                "longer_term",
                Text::SLongerTerm,
                total_cell(p, "longer_term"),
            ),
            (
                "periods_active",
                Text::SPeriodsActive,
                standalone(acc.periods_active),
            ),
            (
                "periods_started",
                Text::SPeriodsStarted,
                standalone(acc.periods_started),
            ),
            (
                "periods_ended",
                Text::SPeriodsEnded,
                total_cell(&ended[0], "ended"),
            ),
            (
                "referrals",
                Text::SReferrals,
                total_cell(referrals, "referrals"),
            ),
            (
                "contacts",
                Text::SContacts,
                total_cell(contacts, "contacts"),
            ),
            (
                "activity_memos",
                Text::SActivityMemos,
                total_cell(activities, "activity_memos"),
            ),
            ("met", Text::SMet, total_cell(activities, "met")),
            (
                "brief_contacts",
                Text::SBriefContacts,
                total_cell(p, "brief_contacts"),
            ),
        ];
        Table {
            key: TableKey::Summary,
            title: self.t(Text::TSummary),
            row_header: self.t(Text::HItem),
            columns: vec![self.column("count", Text::Count)],
            rows: items
                .into_iter()
                .map(|(key, label, cell)| Row {
                    key: key.to_owned(),
                    label: self.t(label),
                    cells: vec![cell],
                })
                .collect(),
        }
    }
}

/// A one-column table, with a totals row when `total`.
fn column_grid(values: &[u64], total: bool) -> Grid {
    let mut v = values.to_vec();
    if total {
        v.push(values.iter().sum());
    }
    Grid {
        rows: v.len(),
        cols: 1,
        values: v,
        col_total: total,
        row_sum: None,
        le: Vec::new(),
    }
}
