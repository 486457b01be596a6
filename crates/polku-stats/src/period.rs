//! Reporting periods: PARKki's three cumulative collections and custom ranges.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::StatsError;

/// An inclusive range of calendar dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DateRange {
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
}

impl DateRange {
    /// A range; refused when `to` is before `from`.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, StatsError> {
        if to < from {
            return Err(StatsError::EmptyRange);
        }
        Ok(Self { from, to })
    }

    /// Whether `date` is inside the range.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }

    /// `1.1.2026–30.4.2026`.
    pub fn label(&self) -> String {
        format!(
            "{}–{}",
            self.from.format("%-d.%-m.%Y"),
            self.to.format("%-d.%-m.%Y")
        )
    }
}

/// A reporting period. PARKki collects cumulatively from 1 January:
/// `2026-1` is 1.1.–30.4.2026 (sent in May), `2026-2` is 1.1.–31.8.2026
/// (September) and `2026` the whole year (January, with the worker data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportPeriod {
    /// 1 January – 30 April of the year.
    JanApr(i32),
    /// 1 January – 31 August of the year.
    JanAug(i32),
    /// The calendar year.
    Year(i32),
    /// Any range.
    Custom(DateRange),
}

impl ReportPeriod {
    /// The dates covered.
    pub fn range(&self) -> DateRange {
        let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN);
        match *self {
            ReportPeriod::JanApr(y) => DateRange {
                from: ymd(y, 1, 1),
                to: ymd(y, 4, 30),
            },
            ReportPeriod::JanAug(y) => DateRange {
                from: ymd(y, 1, 1),
                to: ymd(y, 8, 31),
            },
            ReportPeriod::Year(y) => DateRange {
                from: ymd(y, 1, 1),
                to: ymd(y, 12, 31),
            },
            ReportPeriod::Custom(r) => r,
        }
    }

    /// A custom period.
    pub fn custom(from: NaiveDate, to: NaiveDate) -> Result<Self, StatsError> {
        DateRange::new(from, to).map(ReportPeriod::Custom)
    }

    /// Whether this is the yearly report (the one with the worker data).
    pub fn is_year(&self) -> bool {
        matches!(self, ReportPeriod::Year(_))
    }
}

impl fmt::Display for ReportPeriod {
    /// The code the CLI takes: `2026-1`, `2026-2`, `2026`, or
    /// `2026-03-01..2026-03-31`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportPeriod::JanApr(y) => write!(f, "{y}-1"),
            ReportPeriod::JanAug(y) => write!(f, "{y}-2"),
            ReportPeriod::Year(y) => write!(f, "{y}"),
            ReportPeriod::Custom(r) => write!(f, "{}..{}", r.from, r.to),
        }
    }
}

impl FromStr for ReportPeriod {
    type Err = StatsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Some((from, to)) = s.split_once("..") {
            let parse = |d: &str| {
                NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                    .map_err(|_| StatsError::InvalidPeriod)
            };
            return ReportPeriod::custom(parse(from)?, parse(to)?);
        }
        let (year, part) = match s.split_once('-') {
            Some((y, p)) => (y, Some(p)),
            None => (s, None),
        };
        let year: i32 = year.parse().map_err(|_| StatsError::InvalidPeriod)?;
        if !(1900..=9999).contains(&year) {
            return Err(StatsError::InvalidPeriod);
        }
        match part {
            None => Ok(ReportPeriod::Year(year)),
            Some("1") => Ok(ReportPeriod::JanApr(year)),
            Some("2") => Ok(ReportPeriod::JanAug(year)),
            Some(_) => Err(StatsError::InvalidPeriod),
        }
    }
}

impl Serialize for ReportPeriod {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ReportPeriod {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn parkki_periods_are_cumulative_from_1_january() {
        let p: ReportPeriod = "2026-1".parse().expect("parse");
        assert_eq!(
            p.range(),
            DateRange::new(d(2026, 1, 1), d(2026, 4, 30)).expect("r")
        );
        let p: ReportPeriod = "2026-2".parse().expect("parse");
        assert_eq!(p.range().to, d(2026, 8, 31));
        let p: ReportPeriod = "2026".parse().expect("parse");
        assert_eq!(p.range().to, d(2026, 12, 31));
        assert!(p.is_year());
        let p: ReportPeriod = "2026-03-01..2026-03-31".parse().expect("parse");
        assert_eq!(p.range().label(), "1.3.2026–31.3.2026");
        for s in ["2026", "2026-1", "2026-2", "2026-03-01..2026-03-31"] {
            assert_eq!(s.parse::<ReportPeriod>().expect("parse").to_string(), s);
        }
        for bad in ["2026-3", "26", "x", "2026-04-01..2026-03-01", ""] {
            assert!(bad.parse::<ReportPeriod>().is_err(), "{bad}");
        }
    }
}
