//! `polku stats`: arguments and output of the statistics report and of the
//! mandatory-field check. Everything else is in `polku-api` / `polku-stats`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand, ValueEnum};
use polku_api::{Session, StatsFormat, StatsQuery};
use polku_core::codes::Lang;
use polku_stats::{ReportPeriod, Workforce};

/// `polku stats …`
#[derive(Debug, Args)]
#[command(subcommand_negates_reqs = true)]
pub struct StatsArgs {
    #[command(subcommand)]
    what: Option<StatsWhat>,
    #[command(flatten)]
    range: RangeArgs,
    #[command(flatten)]
    common: CommonArgs,
    /// Show cells under N (default: the organisation's small-cell threshold,
    /// `org show`) as "<N", hiding further cells so they cannot be
    /// recomputed from totals. A suppressed report holds only the
    /// organisation's (or the --unit's) tables, no unit or worker tables.
    #[arg(long, value_name = "N", num_args = 0..=1)]
    suppress: Option<Option<u32>>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    format: ReportFormat,
    /// Number of outreach workers, for the yearly report.
    #[arg(long)]
    workers: Option<u32>,
    /// Person-years (henkilötyövuodet) worked, for the yearly report.
    #[arg(long, requires = "workers")]
    person_years: Option<f64>,
}

#[derive(Debug, Subcommand)]
enum StatsWhat {
    /// List the clients whose missing mandatory fields would make the report
    /// wrong (client ids and responsible workers only).
    Check {
        #[command(flatten)]
        range: RangeArgs,
        #[command(flatten)]
        common: CommonArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
        format: CheckFormat,
    },
}

#[derive(Debug, Args)]
struct RangeArgs {
    /// PARKki period: YEAR-1 (1.1.–30.4.), YEAR-2 (1.1.–31.8.) or YEAR.
    #[arg(long, conflicts_with_all = ["from", "to"], required_unless_present_all = ["from", "to"])]
    period: Option<String>,
    /// First day of a custom range (YYYY-MM-DD).
    #[arg(long, requires = "to")]
    from: Option<NaiveDate>,
    /// Last day of a custom range (YYYY-MM-DD).
    #[arg(long, requires = "from")]
    to: Option<NaiveDate>,
}

#[derive(Debug, Args)]
struct CommonArgs {
    /// Only this unit (name or id).
    #[arg(long)]
    unit: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Language of the labels: fi, sv or en.
    #[arg(long, default_value = "fi")]
    lang: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Table,
    Csv,
    Xlsx,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    Table,
    Csv,
    Json,
}

impl RangeArgs {
    fn period(&self) -> Result<ReportPeriod> {
        match (&self.period, self.from, self.to) {
            (Some(p), _, _) => Ok(p.parse()?),
            (None, Some(from), Some(to)) => Ok(ReportPeriod::custom(from, to)?),
            _ => bail!("give --period, or --from and --to"),
        }
    }
}

impl CommonArgs {
    fn query(&self, range: &RangeArgs) -> Result<StatsQuery> {
        let lang: Lang = self
            .lang
            .trim()
            .to_lowercase()
            .parse()
            .map_err(|_| anyhow::anyhow!("unknown language; use fi, sv or en"))?;
        let mut q = StatsQuery::new(range.period()?);
        q.unit = self.unit.clone();
        q.lang = lang;
        Ok(q)
    }
}

/// Run `polku stats` in a logged-in session.
pub fn run(session: &mut Session, args: StatsArgs, now: DateTime<Utc>) -> Result<()> {
    if let Some(StatsWhat::Check {
        range,
        common,
        format,
    }) = &args.what
    {
        let query = common.query(range)?;
        let rows = session.stats_check(&query, now)?;
        let org = session.organisation();
        let range = query.period.range();
        let bytes = match format {
            CheckFormat::Table => {
                polku_stats::check_text(&rows, org, range, query.lang).into_bytes()
            }
            CheckFormat::Csv => {
                polku_stats::sheet_to_csv(&polku_stats::check_sheet(&rows, org, range, query.lang))
            }
            CheckFormat::Json => serde_json::to_vec_pretty(&rows)?,
        };
        return emit(&bytes, common.out.as_deref());
    }
    let mut query = args.common.query(&args.range)?;
    query.suppress = args.suppress.flatten();
    query.suppress_small_cells = args.suppress.is_some();
    query.workforce = args.workers.map(|workers| Workforce {
        workers,
        person_years: args.person_years.unwrap_or(0.0),
    });
    query.export = match args.format {
        ReportFormat::Table => None,
        ReportFormat::Csv => Some(StatsFormat::Csv),
        ReportFormat::Xlsx => Some(StatsFormat::Xlsx),
        ReportFormat::Json => Some(StatsFormat::Json),
    };
    if args.format == ReportFormat::Xlsx && args.common.out.is_none() {
        bail!("--format xlsx needs --out FILE");
    }
    let report = session.stats(&query, now)?;
    let bytes = match args.format {
        ReportFormat::Table => report.to_text().into_bytes(),
        ReportFormat::Csv => report.to_csv(),
        ReportFormat::Xlsx => report.to_xlsx()?,
        ReportFormat::Json => report.to_json()?,
    };
    emit(&bytes, args.common.out.as_deref())
}

fn emit(bytes: &[u8], out: Option<&Path>) -> Result<()> {
    match out {
        Some(path) => {
            std::fs::write(path, bytes)
                .with_context(|| format!("could not write {}", path.display()))?;
            eprintln!("Wrote {}", path.display());
        }
        None => std::io::stdout().lock().write_all(bytes)?,
    }
    Ok(())
}
