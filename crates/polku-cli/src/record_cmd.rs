//! Verbs for the rest of a client's record: periods, measures, situations,
//! background, referrals, consents, disclosures and follow-ups. Each parses
//! its arguments and calls one polku-api method; the rules live there.
//!
//! Personal free text (background, goals, final assessment, follow-ups,
//! notes) given as `-` is read from standard input, so that it stays out of
//! shell history and the process list.

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use clap::Subcommand;
use polku_api::{
    DisclosureInput, PeriodClose, PeriodInput, PeriodText, ReferralInput, Session, SituationInput,
};
use polku_core::model::{
    BackgroundField, ConsentTopic, FollowUpInterval, MeasureStatus, SnapshotPhase,
};
use polku_core::{ClientId, MeasureId, PeriodId, RecordId};

/// The record verbs (flattened into the top-level commands).
#[derive(Debug, Subcommand)]
pub(crate) enum RecordCommand {
    /// Periods (jaksot): open, set goals or final assessment, close.
    #[command(subcommand)]
    Period(PeriodCommand),
    /// Measures (toimenpiteet) of a period.
    #[command(subcommand)]
    Measure(MeasureCommand),
    /// Situation snapshots (tilannetiedot).
    #[command(subcommand)]
    Situation(SituationCommand),
    /// Background (taustatiedot) texts.
    #[command(subcommand)]
    Background(BackgroundCommand),
    /// Referrals under the Youth Act §11 (ilmoitukset).
    #[command(subcommand)]
    Referral(ReferralCommand),
    /// Consents (suostumukset).
    #[command(subcommand)]
    Consent(ConsentCommand),
    /// Disclosures of a client's data (luovutukset).
    #[command(subcommand)]
    Disclosure(DisclosureCommand),
    /// Follow-ups (seurannat) one or two years after a period.
    #[command(subcommand, name = "followup")]
    FollowUp(FollowUpCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum PeriodCommand {
    /// Open a period; prints its id.
    Open {
        client: String,
        /// Start date (YYYY-MM-DD); today by default.
        #[arg(long)]
        start: Option<NaiveDate>,
        /// Arrival route code (`polku code list arrival_route`).
        #[arg(long)]
        arrival: Option<String>,
        /// The referral (its id) the period starts from.
        #[arg(long)]
        referral: Option<String>,
        /// Goals, or `-` to read them from standard input.
        #[arg(long)]
        goals: Option<String>,
    },
    /// Set a period's goals: the text, or `-` for standard input.
    Goals {
        client: String,
        period: String,
        text: String,
    },
    /// Set a period's final assessment: the text, or `-` for standard input.
    Assessment {
        client: String,
        period: String,
        text: String,
    },
    /// Close a period with its end date and outcome (sijoittuminen).
    Close {
        client: String,
        period: String,
        /// End date; today by default.
        #[arg(long)]
        end: Option<NaiveDate>,
        /// Outcome code (`polku code list outcome`).
        #[arg(long)]
        outcome: Option<String>,
        /// Final assessment, or `-` for standard input.
        #[arg(long)]
        assessment: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum MeasureCommand {
    /// Add a measure to an open period; prints its id.
    Add {
        client: String,
        period: String,
        /// Measure code (`polku code list measure`).
        code: String,
        /// Start date; today by default.
        #[arg(long)]
        start: Option<NaiveDate>,
    },
    /// End a measure (completed by default, or discontinued).
    End {
        client: String,
        period: String,
        measure: String,
        /// `completed` or `discontinued`.
        #[arg(long, default_value = "completed")]
        status: String,
        /// End date; today by default.
        #[arg(long)]
        end: Option<NaiveDate>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SituationCommand {
    /// Record the client's situation on a date; prints its id.
    Add {
        client: String,
        /// Date; today by default.
        #[arg(long)]
        date: Option<NaiveDate>,
        /// `start`, `end` or `interim` (of a period).
        #[arg(long, default_value = "interim")]
        phase: String,
        /// The period it belongs to.
        #[arg(long)]
        period: Option<String>,
        /// Highest completed education code.
        #[arg(long)]
        education: Option<String>,
        /// Education status code.
        #[arg(long)]
        education_status: Option<String>,
        /// Main activity code.
        #[arg(long)]
        activity: Option<String>,
        /// Livelihood code.
        #[arg(long)]
        livelihood: Option<String>,
        /// Housing code.
        #[arg(long)]
        housing: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum BackgroundCommand {
    /// Set one background text (education, work_experience, skills,
    /// strengths, goal, health, family, other): the text, or `-` for
    /// standard input.
    Set {
        client: String,
        field: String,
        text: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ReferralCommand {
    /// Record a referral; prints its id.
    Add {
        client: String,
        /// Who reported (`polku code list referral_source`).
        #[arg(long)]
        source: String,
        /// Date received; today by default.
        #[arg(long)]
        received: Option<NaiveDate>,
        /// The follow-up decided, or `-` for standard input.
        #[arg(long)]
        follow_up: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConsentCommand {
    /// Record a consent given (topic follow_up, disclosure or other); prints its id.
    Add {
        client: String,
        #[arg(long)]
        topic: String,
        /// Date given; today by default.
        #[arg(long)]
        given: Option<NaiveDate>,
        /// A note, or `-` for standard input.
        #[arg(long)]
        note: Option<String>,
    },
    /// Record that a consent was withdrawn.
    Withdraw {
        client: String,
        consent: String,
        /// Date withdrawn; today by default.
        #[arg(long)]
        date: Option<NaiveDate>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum DisclosureCommand {
    /// Log a disclosure of the client's data; prints its id. Texts given as
    /// `-` are read from standard input, one line each, in the order what,
    /// recipient, basis.
    Add {
        client: String,
        #[arg(long)]
        what: String,
        #[arg(long = "to")]
        recipient: String,
        #[arg(long)]
        basis: String,
        /// Date; today by default.
        #[arg(long)]
        date: Option<NaiveDate>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum FollowUpCommand {
    /// Plan a follow-up of an ended period (needs the client's consent);
    /// prints its id.
    Add {
        client: String,
        period: String,
        /// `one_year` or `two_years`.
        #[arg(long, default_value = "one_year")]
        after: String,
    },
    /// Record a follow-up as done.
    Done {
        client: String,
        followup: String,
        /// The situation found (`polku code list outcome`).
        #[arg(long)]
        result: Option<String>,
        /// Notes, or `-` for standard input.
        #[arg(long)]
        notes: Option<String>,
    },
}

fn id<T: std::str::FromStr>(s: &str, what: &str) -> Result<T> {
    s.parse::<T>()
        .map_err(|_| anyhow::anyhow!("not a {what} id (expected a UUID)"))
}

fn word<T: std::str::FromStr>(s: &str, what: &str, choices: &str) -> Result<T> {
    s.trim()
        .parse::<T>()
        .map_err(|_| anyhow::anyhow!("unknown {what}; use {choices}"))
}

use crate::cli::{StdinLines as Stdin, text_arg as text};

fn opt_text(arg: Option<String>) -> Result<Option<String>> {
    arg.map(text).transpose()
}

/// Runs one record verb in `session`; prints the new id for the verbs that
/// create something.
pub(crate) fn run(session: &mut Session, cmd: RecordCommand, now: DateTime<Utc>) -> Result<()> {
    let client = |s: &str| id::<ClientId>(s, "client");
    let period = |s: &str| id::<PeriodId>(s, "period");
    match cmd {
        RecordCommand::Period(PeriodCommand::Open {
            client: c,
            start,
            arrival,
            referral,
            goals,
        }) => {
            let referral = referral
                .map(|r| id::<RecordId>(&r, "referral"))
                .transpose()?;
            let p = session.open_period(
                client(&c)?,
                PeriodInput {
                    start,
                    arrival_route: arrival,
                    referral,
                    goals: opt_text(goals)?.unwrap_or_default(),
                },
                now,
            )?;
            println!("{p}");
        }
        RecordCommand::Period(PeriodCommand::Goals {
            client: c,
            period: p,
            text: t,
        }) => {
            session.set_period_text(client(&c)?, period(&p)?, PeriodText::Goals, &text(t)?, now)?
        }
        RecordCommand::Period(PeriodCommand::Assessment {
            client: c,
            period: p,
            text: t,
        }) => session.set_period_text(
            client(&c)?,
            period(&p)?,
            PeriodText::FinalAssessment,
            &text(t)?,
            now,
        )?,
        RecordCommand::Period(PeriodCommand::Close {
            client: c,
            period: p,
            end,
            outcome,
            assessment,
        }) => session.close_period(
            client(&c)?,
            period(&p)?,
            PeriodClose {
                end,
                outcome,
                final_assessment: opt_text(assessment)?,
            },
            now,
        )?,
        RecordCommand::Measure(MeasureCommand::Add {
            client: c,
            period: p,
            code,
            start,
        }) => {
            let m = session.add_measure(client(&c)?, period(&p)?, &code, start, now)?;
            println!("{m}");
        }
        RecordCommand::Measure(MeasureCommand::End {
            client: c,
            period: p,
            measure,
            status,
            end,
        }) => {
            let status: MeasureStatus = word(&status, "status", "completed or discontinued")?;
            if !matches!(
                status,
                MeasureStatus::Completed | MeasureStatus::Discontinued
            ) {
                anyhow::bail!("a measure ends as completed or discontinued");
            }
            session.set_measure_status(
                client(&c)?,
                period(&p)?,
                id::<MeasureId>(&measure, "measure")?,
                status,
                end,
                now,
            )?;
        }
        RecordCommand::Situation(SituationCommand::Add {
            client: c,
            date,
            phase,
            period: p,
            education,
            education_status,
            activity,
            livelihood,
            housing,
        }) => {
            let phase: SnapshotPhase = word(&phase, "phase", "start, end or interim")?;
            let s = session.add_situation(
                client(&c)?,
                SituationInput {
                    date,
                    phase: Some(phase),
                    period: p.map(|p| period(&p)).transpose()?,
                    highest_education: education,
                    education_status,
                    main_activity: activity,
                    livelihood,
                    housing,
                },
                now,
            )?;
            println!("{s}");
        }
        RecordCommand::Background(BackgroundCommand::Set {
            client: c,
            field,
            text: t,
        }) => {
            let field: BackgroundField = word(
                &field,
                "background field",
                "education, work_experience, skills, strengths, goal, health, family or other",
            )?;
            session.set_background(client(&c)?, field, &text(t)?, now)?;
        }
        RecordCommand::Referral(ReferralCommand::Add {
            client: c,
            source,
            received,
            follow_up,
        }) => {
            let follow_up = opt_text(follow_up)?;
            let decided = follow_up.as_ref().map(|_| now.date_naive());
            let r = session.add_referral(
                client(&c)?,
                ReferralInput {
                    source,
                    received,
                    follow_up: follow_up.unwrap_or_default(),
                    follow_up_decided: decided,
                },
                now,
            )?;
            println!("{r}");
        }
        RecordCommand::Consent(ConsentCommand::Add {
            client: c,
            topic,
            given,
            note,
        }) => {
            let topic: ConsentTopic = word(&topic, "topic", "follow_up, disclosure or other")?;
            let k = session.add_consent(
                client(&c)?,
                topic,
                given,
                &opt_text(note)?.unwrap_or_default(),
                now,
            )?;
            println!("{k}");
        }
        RecordCommand::Consent(ConsentCommand::Withdraw {
            client: c,
            consent,
            date,
        }) => session.withdraw_consent(
            client(&c)?,
            id::<RecordId>(&consent, "consent")?,
            date,
            now,
        )?,
        RecordCommand::Disclosure(DisclosureCommand::Add {
            client: c,
            what,
            recipient,
            basis,
            date,
        }) => {
            let mut stdin = Stdin::default();
            let input = DisclosureInput {
                what: stdin.or_arg(what)?,
                recipient: stdin.or_arg(recipient)?,
                basis: stdin.or_arg(basis)?,
                date,
            };
            let d = session.add_disclosure(client(&c)?, input, now)?;
            println!("{d}");
        }
        RecordCommand::FollowUp(FollowUpCommand::Add {
            client: c,
            period: p,
            after,
        }) => {
            let interval: FollowUpInterval = word(&after, "interval", "one_year or two_years")?;
            let f = session.add_follow_up(client(&c)?, period(&p)?, interval, now)?;
            println!("{f}");
        }
        RecordCommand::FollowUp(FollowUpCommand::Done {
            client: c,
            followup,
            result,
            notes,
        }) => session.complete_follow_up(
            client(&c)?,
            id::<RecordId>(&followup, "follow-up")?,
            result.as_deref(),
            &opt_text(notes)?.unwrap_or_default(),
            now,
        )?,
    }
    Ok(())
}
