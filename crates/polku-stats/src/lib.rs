//! Polku statistics: the outreach youth work (etsivä nuorisotyö) report as
//! PARKki collects it, over live clients, anonymised records of erased
//! clients and activity memos.
//!
//! Pure computation: no I/O, no clock (the caller passes the time in the
//! [`Query`]). Exports are built in memory ([`Report::to_csv`],
//! [`Report::to_xlsx`], [`Report::to_json`], [`Report::to_text`]).
//!
//! - Reporting periods: [`ReportPeriod`] (`2026-1`, `2026-2`, `2026`, custom).
//! - Definitions of reached, new, continuing and longer-term young people,
//!   age group and the rest: see the `compute` module.
//! - Small-cell suppression: see the `suppress` module.
//! - The mandatory-field check: [`check()`].
//!
//! A report never holds a name, birth date, identity code or free text:
//! clients are counted through their [`AnonymisedRecord`] projection, which
//! holds none of them, and every label comes from the code lists, the
//! organisation's unit and worker names, or this crate's fixed texts.
//!
//! [`AnonymisedRecord`]: polku_core::anonymised::AnonymisedRecord

mod build;
mod check;
mod compute;
mod export;
mod labels;
mod period;
mod report;
mod suppress;

pub use build::report;
pub use check::{CheckRow, check, missing_label};
pub use compute::{Inputs, Query};
pub use export::{
    RowStyle, Sheet, SheetCell, check_sheet, check_text, sheet_to_csv, sheet_to_xlsx,
};
pub use period::{DateRange, ReportPeriod};
pub use report::{
    Cell, Column, Group, GroupKind, MISSING, NO_PERIOD, Report, Row, TOTAL, Table, TableKey,
    UNKNOWN, Workforce,
};

/// What went wrong making a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatsError {
    /// The period is not `YEAR`, `YEAR-1`, `YEAR-2` or `FROM..TO`.
    #[error("invalid reporting period: use YEAR, YEAR-1, YEAR-2 or YYYY-MM-DD..YYYY-MM-DD")]
    InvalidPeriod,
    /// The range ends before it starts.
    #[error("the date range ends before it starts")]
    EmptyRange,
    /// The XLSX writer failed.
    #[error("could not write the XLSX workbook")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// JSON serialisation failed.
    #[error("could not write the JSON export")]
    Json,
    /// More rows or columns than a sheet holds.
    #[error("the report is too large for one sheet")]
    TooLarge,
}
