//! The finished report: groups (organisation, units, workers) of labelled
//! tables whose cells are counts or suppression marks. This is all an export
//! sees: raw values of suppressed cells are not in it.

use chrono::{DateTime, Utc};
use polku_core::codes::Lang;
use serde::{Serialize, Serializer};

use crate::period::{DateRange, ReportPeriod};

/// The organisation's worker data for the yearly report (PARKki asks them in
/// January with the whole year's figures).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Workforce {
    /// Number of outreach workers.
    pub workers: u32,
    /// Person-years (henkilötyövuodet) worked in the year.
    pub person_years: f64,
}

/// One cell of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// The exact count.
    Count(u64),
    /// Suppressed because it is under the threshold: shown as `<threshold`.
    Below(u32),
    /// Suppressed so that no `Below` cell can be recomputed from totals: `x`.
    Hidden,
}

impl Cell {
    /// The count, if shown.
    pub fn count(self) -> Option<u64> {
        match self {
            Cell::Count(n) => Some(n),
            _ => None,
        }
    }

    /// The text shown for a suppressed cell (`None` for a count).
    pub fn mark(self) -> Option<String> {
        match self {
            Cell::Count(_) => None,
            Cell::Below(t) => Some(format!("<{t}")),
            Cell::Hidden => Some("x".to_owned()),
        }
    }

    /// The text shown.
    pub fn text(self) -> String {
        match self {
            Cell::Count(n) => n.to_string(),
            other => other.mark().unwrap_or_default(),
        }
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Count(n) => s.serialize_u64(*n),
            other => s.serialize_str(&other.text()),
        }
    }
}

/// Which table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKey {
    /// Key figures.
    Summary,
    /// Young people reached by gender.
    Gender,
    /// … by age group (at the reference period's start).
    AgeGroup,
    /// … by mother-tongue group.
    MotherTongue,
    /// … by arrival route of the reference period.
    ArrivalRoute,
    /// … by main activity at the start of the reference period.
    MainActivityStart,
    /// … by livelihood at the start of the reference period.
    LivelihoodStart,
    /// Periods ended in the range by outcome.
    Outcome,
    /// Periods ended in the range by main activity at the end.
    MainActivityEnd,
    /// Periods ended in the range by livelihood at the end.
    LivelihoodEnd,
    /// Young people by measure taken.
    Measures,
    /// Referrals received in the range by source.
    Referrals,
    /// Contacts (client memos) by type.
    Contacts,
    /// Activity memos by kind.
    Activities,
    /// Young people met in activity memos by gender and age group.
    Met,
}

impl TableKey {
    /// Every table, in report order.
    pub const ALL: [TableKey; 15] = [
        TableKey::Summary,
        TableKey::Gender,
        TableKey::AgeGroup,
        TableKey::MotherTongue,
        TableKey::ArrivalRoute,
        TableKey::MainActivityStart,
        TableKey::LivelihoodStart,
        TableKey::Outcome,
        TableKey::MainActivityEnd,
        TableKey::LivelihoodEnd,
        TableKey::Measures,
        TableKey::Referrals,
        TableKey::Contacts,
        TableKey::Activities,
        TableKey::Met,
    ];
}

/// A column of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    /// Stable key (`new`, `continuing`, `reached`, `longer_term`, an age-group code…).
    pub key: String,
    /// Label in the report's language.
    pub label: String,
}

/// A row of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// Stable key: a code of the row's code list, or `_missing`, `_unknown`,
    /// `_no_period`, `_total`, or a summary item.
    pub key: String,
    /// Label in the report's language.
    pub label: String,
    /// One cell per column.
    pub cells: Vec<Cell>,
}

/// Row key of a missing value.
pub const MISSING: &str = "_missing";
/// Row key of a code the code lists do not know.
pub const UNKNOWN: &str = "_unknown";
/// Row key of young people reached without a period in the range.
pub const NO_PERIOD: &str = "_no_period";
/// Row key of the totals row.
pub const TOTAL: &str = "_total";

/// A labelled table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    /// Which table.
    pub key: TableKey,
    /// Title.
    pub title: String,
    /// Header of the label column.
    pub row_header: String,
    /// Columns.
    pub columns: Vec<Column>,
    /// Rows; the last one is the totals row when the table has one.
    pub rows: Vec<Row>,
}

impl Table {
    /// The row with this key.
    pub fn row(&self, key: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.key == key)
    }

    /// The cell at (row key, column key).
    pub fn cell(&self, row: &str, column: &str) -> Option<Cell> {
        let c = self.columns.iter().position(|c| c.key == column)?;
        self.row(row).and_then(|r| r.cells.get(c).copied())
    }
}

/// What a group of tables covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// The whole organisation (or the one unit the report was limited to).
    Organisation,
    /// One unit; `id` is the unit id, none for clients without a unit.
    Unit,
    /// One worker; `id` is the user id, none for clients without a responsible worker.
    Worker,
}

/// The tables of one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// What the group covers.
    pub kind: GroupKind,
    /// Unit or user id.
    pub id: Option<String>,
    /// Heading.
    pub label: String,
    /// Tables in [`TableKey::ALL`] order.
    pub tables: Vec<Table>,
}

impl Group {
    /// The table with this key.
    pub fn table(&self, key: TableKey) -> Option<&Table> {
        self.tables.iter().find(|t| t.key == key)
    }
}

/// A finished report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Language of the labels.
    #[serde(serialize_with = "lang_code")]
    pub lang: Lang,
    /// Title.
    pub title: String,
    /// Organisation name.
    pub organisation: String,
    /// The reporting period asked for.
    pub period: ReportPeriod,
    /// Its dates.
    pub range: DateRange,
    /// The unit the report is limited to, if any (its name).
    pub unit: Option<String>,
    /// When the report was made.
    pub generated_at: DateTime<Utc>,
    /// Suppression threshold, if small cells are suppressed.
    pub suppression: Option<u32>,
    /// The organisation's worker data (yearly report).
    pub workforce: Option<Workforce>,
    /// The organisation first, then units, then workers.
    pub groups: Vec<Group>,
}

fn lang_code<S: Serializer>(lang: &Lang, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(lang.as_str())
}

impl Report {
    /// The organisation-wide group.
    pub fn organisation_group(&self) -> Option<&Group> {
        self.groups
            .iter()
            .find(|g| g.kind == GroupKind::Organisation)
    }

    /// A group by kind and id (`None` id: the organisation, or the "no unit" /
    /// "no worker" group).
    pub fn group(&self, kind: GroupKind, id: Option<&str>) -> Option<&Group> {
        self.groups
            .iter()
            .find(|g| g.kind == kind && g.id.as_deref() == id)
    }

    /// The JSON export (pretty-printed, UTF-8).
    pub fn to_json(&self) -> Result<Vec<u8>, crate::StatsError> {
        serde_json::to_vec_pretty(self).map_err(|_| crate::StatsError::Json)
    }
}
