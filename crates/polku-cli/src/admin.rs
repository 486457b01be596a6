//! `polku unit …`, `polku code …`, `polku org …` and `polku user rights …`:
//! arguments and output of the organisation's administration. The rules are
//! in `polku-api` (`org_admin`).

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::{Result, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use polku_api::Session;
use polku_core::codes::{CodeList, Labels, Lang};
use polku_core::model::{OwnCode, SettingKey};
use polku_core::rights::{AdminRight, Rights, RightsAdjustment, Scope};

/// `polku unit …`
#[derive(Debug, Subcommand)]
pub enum UnitCommand {
    /// Add a unit.
    Add {
        name: String,
        /// Municipality code (kuntanumero) for statistics, three digits.
        #[arg(long)]
        municipality: Option<String>,
    },
    /// Rename a unit (its clients and users keep it).
    Rename { old: String, new: String },
    /// Retire a unit: no new clients; old clients keep it and still show it.
    Retire { name: String },
    /// List the units, retired ones marked.
    List {
        #[arg(long)]
        json: bool,
    },
}

/// `polku code …`
#[derive(Debug, Subcommand)]
pub enum CodeCommand {
    /// The codes that may be chosen for new records (national and own).
    List {
        /// One list (e.g. gender, memo_type); every list when left out.
        list: Option<String>,
        /// Also retired codes, marked.
        #[arg(long)]
        all: bool,
        /// Language of the labels: fi, sv or en.
        #[arg(long, default_value = "fi")]
        lang: String,
        #[arg(long)]
        json: bool,
    },
    /// Add an own code to a list.
    Add {
        list: String,
        code: String,
        /// Finnish label (mandatory).
        #[arg(long)]
        fi: String,
        /// Swedish label.
        #[arg(long, default_value = "")]
        sv: String,
        /// English label.
        #[arg(long, default_value = "")]
        en: String,
        /// The national code it counts as in national statistics.
        #[arg(long)]
        parent: Option<String>,
    },
    /// Retire a code: old records keep it, new ones cannot choose it.
    Retire { list: String, code: String },
}

/// `polku org …`
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// The organisation's settings, with their defaults and bounds.
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Change a setting: retention_years, offline_lease_days,
    /// idle_lock_minutes or small_cell_threshold.
    Set { key: String, value: String },
    /// The privacy notice (tietosuojaseloste) from the organisation's real
    /// settings, to complete where marked and publish.
    PrivacyNotice {
        /// fi or sv.
        #[arg(long, default_value = "fi")]
        lang: String,
    },
}

/// `polku user rights LOGIN …`: PAR's check boxes for one user. Flags
/// given change those rights only; `--reset` returns to the role's defaults.
#[derive(Debug, Args)]
pub struct RightsArgs {
    login: String,
    /// Which clients the user may view: none, own, unit or all.
    #[arg(long)]
    view: Option<String>,
    /// Which clients the user may modify: none, own, unit or all.
    #[arg(long)]
    modify: Option<String>,
    /// Basic data only: true or false.
    #[arg(long)]
    basic_only: Option<bool>,
    /// Memo rights: true or false.
    #[arg(long)]
    memos: Option<bool>,
    /// Administrative rights, comma-separated: users, codes, audit,
    /// supervisor, statistics (or `none`).
    #[arg(long)]
    admin: Option<String>,
    /// Back to the role's defaults.
    #[arg(long, conflicts_with_all = ["view", "modify", "basic_only", "memos", "admin"])]
    reset: bool,
}

fn parse_list(list: &str) -> Result<CodeList> {
    list.trim()
        .to_lowercase()
        .parse()
        .map_err(|_| anyhow::anyhow!("unknown code list; `polku code list` shows them"))
}

fn parse_lang(lang: &str) -> Result<Lang> {
    lang.trim()
        .to_lowercase()
        .parse()
        .map_err(|_| anyhow::anyhow!("unknown language; use fi, sv or en"))
}

fn parse_scope(s: &str) -> Result<Scope> {
    s.trim()
        .to_lowercase()
        .parse()
        .map_err(|_| anyhow::anyhow!("unknown scope; use none, own, unit or all"))
}

fn parse_admin(s: &str) -> Result<BTreeSet<AdminRight>> {
    let mut out = BTreeSet::new();
    for word in s.split(',').map(|w| w.trim().to_lowercase()) {
        match word.as_str() {
            "" | "none" => {}
            "supervisor" => {
                out.insert(AdminRight::SupervisorReports);
            }
            w => match w.parse() {
                Ok(r) => {
                    out.insert(r);
                }
                Err(_) => bail!(
                    "unknown administrative right; use users, codes, audit, supervisor, statistics or none"
                ),
            },
        }
    }
    Ok(out)
}

/// Rights in one line: `view=unit modify=own memos admin=…`.
pub fn rights_summary(r: &Rights) -> String {
    let mut out = format!("view={} modify={}", r.view, r.modify);
    if r.basic_data_only {
        out.push_str(" basic-only");
    }
    if r.memos {
        out.push_str(" memos");
    }
    if !r.admin.is_empty() {
        let names: Vec<&str> = r
            .admin
            .iter()
            .map(|a| match a {
                AdminRight::SupervisorReports => "supervisor",
                a => a.as_str(),
            })
            .collect();
        out.push_str(&format!(" admin={}", names.join(",")));
    }
    out
}

/// Run `polku user rights`.
pub fn rights(session: &mut Session, args: RightsArgs, now: DateTime<Utc>) -> Result<()> {
    if args.reset {
        session.set_user_rights(&args.login, None, now)?;
    } else {
        let change = RightsAdjustment {
            admin: args.admin.as_deref().map(parse_admin).transpose()?,
            view: args.view.as_deref().map(parse_scope).transpose()?,
            modify: args.modify.as_deref().map(parse_scope).transpose()?,
            basic_data_only: args.basic_only,
            memos: args.memos,
        };
        if change.is_empty() {
            bail!(
                "give a right to change (--view, --modify, --basic-only, --memos, --admin) or --reset"
            );
        }
        session.adjust_user_rights(&args.login, &change, now)?;
    }
    let user = session
        .organisation()
        .users
        .values()
        .find(|u| u.login.eq_ignore_ascii_case(args.login.trim()))
        .map(Rights::for_user);
    if let Some(r) = user {
        println!("{}", rights_summary(&r));
    }
    Ok(())
}

/// Run `polku unit …`.
pub fn unit(session: &mut Session, cmd: UnitCommand, now: DateTime<Utc>) -> Result<()> {
    match cmd {
        UnitCommand::Add { name, municipality } => {
            let id = session.add_unit(&name, municipality.as_deref(), now)?;
            println!("{id}");
        }
        UnitCommand::Rename { old, new } => session.rename_unit(&old, &new, now)?,
        UnitCommand::Retire { name } => session.retire_unit(&name, now)?,
        UnitCommand::List { json } => {
            let units = session.units();
            let mut out = std::io::stdout().lock();
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&units)?)?;
                return Ok(());
            }
            for u in &units {
                writeln!(
                    out,
                    "{:<36}  {:<32}  {:<8}  {}",
                    u.id,
                    u.name,
                    u.municipality.as_deref().unwrap_or("-"),
                    if u.active { "" } else { "(retired)" }
                )?;
            }
            writeln!(out, "{} units", units.len())?;
        }
    }
    Ok(())
}

/// Run `polku code …`.
pub fn code(session: &mut Session, cmd: CodeCommand, now: DateTime<Utc>) -> Result<()> {
    match cmd {
        CodeCommand::List {
            list,
            all,
            lang,
            json,
        } => {
            let lang = parse_lang(&lang)?;
            let list = list.as_deref().map(parse_list).transpose()?;
            let codes = session.code_choices(list, all);
            let mut out = std::io::stdout().lock();
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&codes)?)?;
                return Ok(());
            }
            for c in &codes {
                let mut marks = Vec::new();
                if c.own {
                    marks.push("own");
                }
                if c.retired {
                    marks.push("retired");
                }
                let marks = if marks.is_empty() {
                    String::new()
                } else {
                    format!("  ({})", marks.join(", "))
                };
                writeln!(
                    out,
                    "{:<18}  {:<26}  {}{marks}",
                    c.list.as_str(),
                    c.code,
                    c.labels.get(lang)
                )?;
            }
        }
        CodeCommand::Add {
            list,
            code,
            fi,
            sv,
            en,
            parent,
        } => {
            let list = parse_list(&list)?;
            session.add_own_code(
                list,
                OwnCode {
                    code,
                    labels: Labels { fi, sv, en },
                    parent,
                },
                now,
            )?;
        }
        CodeCommand::Retire { list, code } => {
            session.retire_code(parse_list(&list)?, &code, now)?;
        }
    }
    Ok(())
}

/// Run `polku org …`.
pub fn org(session: &mut Session, cmd: OrgCommand, now: DateTime<Utc>) -> Result<()> {
    match cmd {
        OrgCommand::PrivacyNotice { lang } => {
            let lang = match lang.as_str() {
                "fi" => polku_api::ExportLang::Fi,
                "sv" => polku_api::ExportLang::Sv,
                _ => anyhow::bail!("the language is fi or sv"),
            };
            print!("{}", session.privacy_notice(lang));
        }
        OrgCommand::Show { json } => {
            let rows = session.settings();
            let mut out = std::io::stdout().lock();
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
                return Ok(());
            }
            writeln!(out, "{}", session.organisation().name)?;
            for r in &rows {
                writeln!(
                    out,
                    "{:<22}  {:>4}   (default {}, {}–{})",
                    r.key.as_str(),
                    r.value,
                    r.default,
                    r.min,
                    r.max
                )?;
            }
        }
        OrgCommand::Set { key, value } => {
            let key: SettingKey = key.trim().to_lowercase().parse().map_err(|_| {
                anyhow::anyhow!(
                    "unknown setting; use retention_years, offline_lease_days, idle_lock_minutes or small_cell_threshold"
                )
            })?;
            let value: u32 = value
                .trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("{key} takes a whole number"))?;
            session.set_setting(key, value, now)?;
        }
    }
    Ok(())
}
