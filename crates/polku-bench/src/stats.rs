//! `polku-bench stats`: a full-year report over synthetic clients generated in
//! memory (no store), at two sizes, to show the time and how it grows.

use std::fmt;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use polku_core::OrgId;
use polku_core::codes::CodeSet;
use polku_core::model::Organisation;
use polku_stats::{Inputs, Query, ReportPeriod};

/// Figures at one size.
#[derive(Debug, Clone)]
pub struct StatsBenchRow {
    /// Client documents counted.
    pub clients: usize,
    /// Activity memos counted.
    pub activity_memos: usize,
    /// Generating the synthetic data (not part of the report).
    pub generate: Duration,
    /// Median time of the report (organisation, 2 units, 4 workers).
    pub report: Duration,
    /// Median time with small-cell suppression (threshold 5).
    pub suppressed: Duration,
    /// Young people reached in the year (a sanity figure).
    pub reached: u64,
}

/// Figures of one run.
#[derive(Debug, Clone)]
pub struct StatsBenchReport {
    /// The year reported.
    pub year: i32,
    /// Runs per size (the median is shown).
    pub repeats: usize,
    /// Smallest size first.
    pub rows: Vec<StatsBenchRow>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl fmt::Display for StatsBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "polku-bench stats: full-year report {} over synthetic clients in memory ({} threads available; median of {})",
            self.year,
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            self.repeats
        )?;
        writeln!(
            f,
            "{:>9}  {:>9}  {:>9}  {:>12}  {:>16}  {:>12}",
            "clients", "activity", "reached", "report", "with suppression", "(generate)"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:>9}  {:>9}  {:>9}  {:>9.1} ms  {:>13.1} ms  {:>9.0} ms",
                r.clients,
                r.activity_memos,
                r.reached,
                ms(r.report),
                ms(r.suppressed),
                ms(r.generate)
            )?;
        }
        if let (Some(a), Some(b)) = (self.rows.first(), self.rows.last())
            && self.rows.len() > 1
        {
            write!(
                f,
                "growth {} -> {} clients ({:.0} x): report {:.2} x, with suppression {:.2} x",
                a.clients,
                b.clients,
                b.clients as f64 / a.clients.max(1) as f64,
                b.report.as_secs_f64() / a.report.as_secs_f64().max(1e-9),
                b.suppressed.as_secs_f64() / a.suppressed.as_secs_f64().max(1e-9)
            )?;
        }
        Ok(())
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// Time a full-year report at each size in `sizes` (e.g. 10,000 and 100,000).
pub fn run(sizes: &[usize], repeats: usize) -> StatsBenchReport {
    let year = 2026;
    let repeats = repeats.max(1);
    let staff = polku_demo::staff(1);
    let mut org = Organisation::new(OrgId::from_parts(0, [0; 10]), "Bench");
    for u in &staff.units {
        org.insert_unit(u.clone());
    }
    for w in &staff.workers {
        org.insert_user(w.clone());
    }
    let codes = CodeSet::for_organisation(&org);
    let today = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default();
    let rows = sizes
        .iter()
        .map(|&clients| {
            let t = Instant::now();
            let data = polku_demo::generate(
                &polku_demo::DemoConfig {
                    clients,
                    seed: 7,
                    today,
                    memos_per_client: None,
                },
                &staff,
            );
            let generate = t.elapsed();
            let inputs = Inputs {
                clients: &data.clients,
                anonymised: &[],
                activity_memos: &data.activity_memos,
                brief_contacts: &[],
            };
            let mut query = Query::new(ReportPeriod::Year(year), Utc::now());
            let time = |query: &Query| {
                let mut reached = 0;
                let times = (0..repeats)
                    .map(|_| {
                        let t = Instant::now();
                        let report = polku_stats::report(&inputs, query, &org, &codes);
                        let elapsed = t.elapsed();
                        reached = report
                            .organisation_group()
                            .and_then(|g| g.table(polku_stats::TableKey::Summary))
                            .and_then(|t| t.cell("reached", "count"))
                            .and_then(|c| c.count())
                            .unwrap_or(0);
                        elapsed
                    })
                    .collect();
                (median(times), reached)
            };
            let (report, reached) = time(&query);
            query.suppress = Some(Query::DEFAULT_THRESHOLD);
            let (suppressed, _) = time(&query);
            StatsBenchRow {
                clients,
                activity_memos: data.activity_memos.len(),
                generate,
                report,
                suppressed,
                reached,
            }
        })
        .collect();
    StatsBenchReport {
        year,
        repeats,
        rows,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_benchmark_runs_and_counts() {
        let r = super::run(&[50, 200], 1);
        assert_eq!(r.rows.len(), 2);
        assert!(r.rows.iter().all(|row| row.reached > 0));
        assert!(r.to_string().contains("growth 50 -> 200"));
    }
}
