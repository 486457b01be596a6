//! The `activity`, `contact` and `attachment` verbs: activity memos, brief
//! contacts and client attachments. Free text is personal data: given as
//! `-` it is read from standard input, or with `--text-file` from a file, so
//! it stays out of shell history and the process list.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand};
use polku_api::{ActivityEdit, ActivityFilter, ActivityInput, ContactEdit, ContactInput, Session};
use polku_core::{ActivityMemoId, AttachmentId, BriefContactId, ClientId};

/// Activity memos (toimintamuistiot).
#[derive(Debug, Subcommand)]
pub enum ActivityCommand {
    /// Record an activity memo; prints its id.
    Add(ActivityAddArgs),
    /// Change an activity memo (only the options given).
    Edit(ActivityEditArgs),
    /// List the activity memos you may see.
    List(ListArgs),
    /// Show one activity memo.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete an activity memo (a soft delete: `restore` brings it back).
    Rm { id: String },
    /// Restore a deleted activity memo.
    Restore { id: String },
}

/// Fields of `activity add`.
#[derive(Debug, Args)]
pub struct ActivityAddArgs {
    /// Kind code (list activity_kind), e.g. street_work, online_work, group_meeting, training.
    #[arg(long)]
    kind: String,
    /// Date, YYYY-MM-DD; defaults to today.
    #[arg(long)]
    date: Option<NaiveDate>,
    /// Duration in minutes.
    #[arg(long, default_value_t = 0)]
    minutes: u32,
    /// Place, e.g. "Kauppatori" or "Discord".
    #[arg(long, default_value = "")]
    place: String,
    /// Unit name or id; defaults to your first unit.
    #[arg(long)]
    unit: Option<String>,
    /// Another worker present (login name; repeat). You are always one.
    #[arg(long = "worker")]
    workers: Vec<String>,
    /// Young people met: GENDER:AGE_GROUP:COUNT, e.g. female:16-17:3 (repeat).
    #[arg(long = "met")]
    met: Vec<String>,
    #[command(flatten)]
    text: TextArgs,
}

/// Fields of `activity edit`.
#[derive(Debug, Args)]
pub struct ActivityEditArgs {
    id: String,
    /// New kind code.
    #[arg(long)]
    kind: Option<String>,
    /// New date.
    #[arg(long)]
    date: Option<NaiveDate>,
    /// New duration in minutes.
    #[arg(long)]
    minutes: Option<u32>,
    /// New place.
    #[arg(long)]
    place: Option<String>,
    /// Move to this unit.
    #[arg(long)]
    unit: Option<String>,
    /// Replace the other workers present (login names; repeat).
    #[arg(long = "worker")]
    workers: Vec<String>,
    /// Set a count GENDER:AGE_GROUP:COUNT (0 removes it; repeat).
    #[arg(long = "met")]
    met: Vec<String>,
    #[command(flatten)]
    text: TextArgs,
}

/// The free text of an entry.
#[derive(Debug, Args)]
pub struct TextArgs {
    /// The text, or `-` to read all of standard input.
    #[arg(long, conflicts_with = "text_file")]
    text: Option<String>,
    /// Read the text from this file.
    #[arg(long)]
    text_file: Option<PathBuf>,
}

impl TextArgs {
    fn read(self) -> Result<Option<String>> {
        if let Some(path) = self.text_file {
            let t = std::fs::read_to_string(&path).context("could not read the text file")?;
            return Ok(Some(t.trim_end_matches(['\r', '\n']).to_owned()));
        }
        self.text.map(crate::cli::text_arg).transpose()
    }
}

/// Filters of the list verbs.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only entries on or after this date.
    #[arg(long)]
    from: Option<NaiveDate>,
    /// Only entries on or before this date.
    #[arg(long)]
    to: Option<NaiveDate>,
    /// Only this unit's (name or id).
    #[arg(long)]
    unit: Option<String>,
    #[arg(long)]
    json: bool,
}

impl ListArgs {
    fn filter(&self) -> ActivityFilter {
        ActivityFilter {
            from: self.from,
            to: self.to,
            unit: self.unit.clone(),
        }
    }
}

/// Brief contacts (lyhyet kontaktit): young people met who give no name.
#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// Record a brief contact; prints its id. Nothing identifying is asked.
    Add(ContactAddArgs),
    /// List the brief contacts you may see.
    List(ListArgs),
    /// Change a brief contact.
    Edit(ContactEditArgs),
    /// Delete a brief contact (a soft delete: `restore` brings it back).
    Rm { id: String },
    /// Restore a deleted brief contact.
    Restore { id: String },
}

/// Fields of `contact edit`: each given field replaces the old value.
#[derive(Debug, Args)]
pub struct ContactEditArgs {
    id: String,
    /// New date, YYYY-MM-DD.
    #[arg(long)]
    date: Option<NaiveDate>,
    /// New channel code.
    #[arg(long)]
    channel: Option<String>,
    /// New gender code, or `none` to clear it.
    #[arg(long)]
    gender: Option<String>,
    /// New age-group code, or `none` to clear it.
    #[arg(long = "age")]
    age_group: Option<String>,
    /// New topic code, or `none` to clear it.
    #[arg(long)]
    topic: Option<String>,
    #[command(flatten)]
    text: TextArgs,
}

/// `none` clears an optional code; any other value sets it.
fn optional_code(value: Option<String>) -> Option<Option<String>> {
    value.map(|v| (v != "none").then_some(v))
}

/// Fields of `contact add`.
#[derive(Debug, Args)]
pub struct ContactAddArgs {
    /// Date, YYYY-MM-DD; defaults to today.
    #[arg(long)]
    date: Option<NaiveDate>,
    /// Channel code (list contact_channel): street, online, phone, school, event, drop_in, other.
    #[arg(long, default_value = "street")]
    channel: String,
    /// Gender code, if known.
    #[arg(long)]
    gender: Option<String>,
    /// Age-group code, if known (0-15, 16-17, 18-20, 21-24, 25-29, 30-).
    #[arg(long = "age")]
    age_group: Option<String>,
    /// Topic code (list contact_topic), e.g. housing, education, employment.
    #[arg(long)]
    topic: Option<String>,
    /// Unit name or id; defaults to your first unit.
    #[arg(long)]
    unit: Option<String>,
    #[command(flatten)]
    text: TextArgs,
}

/// Attachments (liitteet) of a client.
#[derive(Debug, Subcommand)]
pub enum AttachmentCommand {
    /// Add a file to a client's record (encrypted as it is read); prints its id.
    Add {
        client: String,
        file: PathBuf,
        /// File name to record; defaults to the file's own name.
        #[arg(long)]
        name: Option<String>,
    },
    /// List a client's attachments.
    List {
        client: String,
        #[arg(long)]
        json: bool,
    },
    /// Write an attachment, decrypted, to a file.
    Get {
        client: String,
        id: String,
        /// Where to write it (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Delete an attachment (its reference and its file).
    Rm { client: String, id: String },
}

fn parse_met(cells: &[String]) -> Result<Vec<(String, String, u32)>> {
    cells
        .iter()
        .map(|c| {
            let mut parts = c.splitn(3, ':');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(g), Some(a), Some(n)) => Ok((
                    g.to_owned(),
                    a.to_owned(),
                    n.parse().context("the count in --met is not a number")?,
                )),
                _ => bail!("use --met GENDER:AGE_GROUP:COUNT, e.g. female:16-17:3"),
            }
        })
        .collect()
}

fn parse_id<T: std::str::FromStr>(s: &str, what: &str) -> Result<T> {
    s.parse::<T>()
        .map_err(|_| anyhow::anyhow!("not {what} (expected a UUID)"))
}

/// Run an `activity` verb.
pub fn activity(session: &mut Session, cmd: ActivityCommand, now: DateTime<Utc>) -> Result<()> {
    match cmd {
        ActivityCommand::Add(a) => {
            let id = session.add_activity(
                ActivityInput {
                    kind: a.kind,
                    date: a.date.unwrap_or_else(|| now.date_naive()),
                    duration_minutes: a.minutes,
                    place: a.place,
                    unit: a.unit,
                    workers: a.workers,
                    met: parse_met(&a.met)?,
                    text: a.text.read()?.unwrap_or_default(),
                },
                now,
            )?;
            println!("{id}");
        }
        ActivityCommand::Edit(a) => {
            let id: ActivityMemoId = parse_id(&a.id, "an activity memo id")?;
            session.edit_activity(
                id,
                ActivityEdit {
                    kind: a.kind,
                    date: a.date,
                    duration_minutes: a.minutes,
                    place: a.place,
                    unit: a.unit,
                    workers: (!a.workers.is_empty()).then_some(a.workers),
                    met: parse_met(&a.met)?,
                    text: a.text.read()?,
                },
                now,
            )?;
        }
        ActivityCommand::List(l) => {
            let list = session.list_activities(&l.filter(), now)?;
            if l.json {
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(());
            }
            let org = session.organisation();
            for m in &list {
                let unit = org.units.get(&m.unit).map_or("?", |u| u.name.as_str());
                println!(
                    "{}  {}  {:<14} {:>4} min  {:>3} met  {}",
                    m.id,
                    m.date,
                    m.kind,
                    m.duration_minutes,
                    m.met.total(),
                    unit
                );
            }
        }
        ActivityCommand::Show { id, json } => {
            let id: ActivityMemoId = parse_id(&id, "an activity memo id")?;
            let m = session.show_activity(id, now)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&m)?);
                return Ok(());
            }
            let org = session.organisation();
            let workers: Vec<&str> = m
                .workers
                .iter()
                .map(|w| org.users.get(w).map_or("?", |u| u.login.as_str()))
                .collect();
            println!("Activity memo {}", m.id);
            println!("Kind:     {}", m.kind);
            println!("Date:     {}", m.date);
            println!("Duration: {} min", m.duration_minutes);
            println!("Place:    {}", m.place);
            println!(
                "Unit:     {}",
                org.units.get(&m.unit).map_or("?", |u| u.name.as_str())
            );
            println!("Workers:  {}", workers.join(", "));
            for (g, a, n) in m.met.iter() {
                println!("Met:      {g} {a}: {n}");
            }
            if !m.text.is_empty() {
                println!("\n{}", m.text);
            }
        }
        ActivityCommand::Rm { id } => {
            let id: ActivityMemoId = parse_id(&id, "an activity memo id")?;
            session.delete_activity(id, now)?;
        }
        ActivityCommand::Restore { id } => {
            let id: ActivityMemoId = parse_id(&id, "an activity memo id")?;
            session.restore_activity(id, now)?;
        }
    }
    Ok(())
}

/// Run a `contact` verb.
pub fn contact(session: &mut Session, cmd: ContactCommand, now: DateTime<Utc>) -> Result<()> {
    match cmd {
        ContactCommand::Add(a) => {
            let id = session.add_contact(
                ContactInput {
                    date: a.date.unwrap_or_else(|| now.date_naive()),
                    channel: a.channel,
                    gender: a.gender,
                    age_group: a.age_group,
                    topic: a.topic,
                    text: a.text.read()?.unwrap_or_default(),
                    unit: a.unit,
                },
                now,
            )?;
            println!("{id}");
        }
        ContactCommand::List(l) => {
            let list = session.list_contacts(&l.filter(), now)?;
            if l.json {
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(());
            }
            for e in &list {
                let c = &e.contact;
                println!(
                    "{}  {}  {:<8} {:<8} {:<6} {}",
                    c.id,
                    c.date,
                    c.channel,
                    c.gender.as_deref().unwrap_or("-"),
                    c.age_group.as_deref().unwrap_or("-"),
                    c.topic.as_deref().unwrap_or("-"),
                );
            }
        }
        ContactCommand::Edit(a) => {
            let id: BriefContactId = parse_id(&a.id, "a brief contact id")?;
            session.edit_contact(
                id,
                ContactEdit {
                    date: a.date,
                    channel: a.channel,
                    gender: optional_code(a.gender),
                    age_group: optional_code(a.age_group),
                    topic: optional_code(a.topic),
                    text: a.text.read()?,
                },
                now,
            )?;
        }
        ContactCommand::Rm { id } => {
            let id: BriefContactId = parse_id(&id, "a brief contact id")?;
            session.delete_contact(id, now)?;
        }
        ContactCommand::Restore { id } => {
            let id: BriefContactId = parse_id(&id, "a brief contact id")?;
            session.restore_contact(id, now)?;
        }
    }
    Ok(())
}

/// Run an `attachment` verb.
pub fn attachment(session: &mut Session, cmd: AttachmentCommand, now: DateTime<Utc>) -> Result<()> {
    match cmd {
        AttachmentCommand::Add { client, file, name } => {
            let client: ClientId = parse_id(&client, "a client id")?;
            let name = match name {
                Some(n) => n,
                None => file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .context("the file has no name; give --name")?,
            };
            let reader = std::fs::File::open(&file).context("could not open the file")?;
            let id = session.add_attachment(client, std::io::BufReader::new(reader), &name, now)?;
            println!("{id}");
        }
        AttachmentCommand::List { client, json } => {
            let client: ClientId = parse_id(&client, "a client id")?;
            let list = session.list_attachments(client, now)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(());
            }
            for a in &list {
                println!(
                    "{}  {:>10} B  {}  {}",
                    a.id,
                    a.size,
                    a.added_at.format("%Y-%m-%d %H:%M"),
                    a.file_name
                );
            }
        }
        AttachmentCommand::Get { client, id, out } => {
            let client: ClientId = parse_id(&client, "a client id")?;
            let id: AttachmentId = parse_id(&id, "an attachment id")?;
            let (_, mut reader) = session.open_attachment(client, id, now)?;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&out)
                .context("could not create the output file (it must not exist)")?;
            if let Err(e) = std::io::copy(&mut reader, &mut file) {
                drop(file);
                let _ = std::fs::remove_file(&out);
                return Err(anyhow::Error::new(e).context("the attachment could not be read"));
            }
            file.sync_all().context("could not write the output file")?;
        }
        AttachmentCommand::Rm { client, id } => {
            let client: ClientId = parse_id(&client, "a client id")?;
            let id: AttachmentId = parse_id(&id, "an attachment id")?;
            session.delete_attachment(client, id, now)?;
        }
    }
    Ok(())
}
