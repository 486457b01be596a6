//! Argument parsing and dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use polku_api::{ApiError, AuditQuery, ClientInput, Session, UserInput, Workspace};
use polku_core::ClientId;
use polku_core::model::Role;

use crate::output;

/// Polku: the offline-first client and statistics register for outreach youth work.
#[derive(Debug, Parser)]
#[command(name = "polku", version, about)]
struct Cli {
    /// Store directory. Defaults to $POLKU_STORE, else the user's data directory.
    #[arg(long, env = "POLKU_STORE")]
    store: Option<PathBuf>,
    /// Login name of the user running the command.
    #[arg(long, env = "POLKU_USER")]
    user: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new store and its first administrator.
    Init {
        /// Login name of the first administrator.
        #[arg(long)]
        admin: String,
        /// Create the organisation's hub store (laptops enrol with and sync to it).
        #[arg(long)]
        hub: bool,
    },
    /// Enrolled devices (laitteet) of the organisation.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Run the organisation's hub until stopped (SIGTERM or Ctrl-C), logging to stdout.
    Hub {
        /// Address to listen on.
        #[arg(long, default_value = "0.0.0.0:4646")]
        bind: std::net::SocketAddr,
    },
    /// Enrol this device with a hub using a ticket and create its store.
    Join {
        /// The ticket printed by `polku device ticket`.
        ticket: String,
        /// The user the ticket is for.
        #[arg(long)]
        user: Option<String>,
    },
    /// Sync once with the hub and print what moved.
    Sync,
    /// Add synthetic, realistic demo data (same seed, same data).
    Demo {
        /// Number of clients to add.
        #[arg(long)]
        clients: usize,
        /// Seed of the generator.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Clients (asiakkaat).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Memos (muistiot) on clients.
    #[command(subcommand)]
    Memo(MemoCommand),
    #[command(flatten)]
    Record(crate::record_cmd::RecordCommand),
    /// Activity memos (toimintamuistiot): street work, online work, groups, training.
    #[command(subcommand)]
    Activity(crate::entries::ActivityCommand),
    /// Brief contacts (lyhyet kontaktit): young people met who give no name.
    #[command(subcommand)]
    Contact(crate::entries::ContactCommand),
    /// Attachments (liitteet) of a client.
    #[command(subcommand)]
    Attachment(crate::entries::AttachmentCommand),
    /// Users, roles and passwords.
    #[command(subcommand)]
    User(UserCommand),
    /// The signed audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Retention (säilytysaika): clients past the organisation's retention.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Erasures: which devices have acknowledged each one.
    #[command(subcommand)]
    Erasure(crate::erase_cmd::ErasureCommand),
    /// Units (yksiköt) of the organisation.
    #[command(subcommand)]
    Unit(crate::admin::UnitCommand),
    /// Code lists (koodistot): the codes to choose from, and own codes.
    #[command(subcommand)]
    Code(crate::admin::CodeCommand),
    /// The organisation's settings.
    #[command(subcommand)]
    Org(crate::admin::OrgCommand),
    /// Backups (varmuuskopiot): keys, backup now, list, verify, restore.
    #[command(subcommand)]
    Backup(crate::backup_cmd::BackupCommand),
    /// Statistics (PARKki): the outreach report, or `check` for missing mandatory fields.
    Stats(crate::stats::StatsArgs),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user with a temporary password (from POLKU_NEW_PASSWORD or a prompt).
    Add {
        login: String,
        /// admin, coordinator or worker.
        #[arg(long, default_value = "worker")]
        role: String,
        /// Unit name or id (repeat for several units).
        #[arg(long = "unit")]
        units: Vec<String>,
        /// Name shown to colleagues.
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List the organisation's users.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Deactivate a user: no login anywhere.
    Deactivate { login: String },
    /// Activate a user again.
    Activate { login: String },
    /// Change a user's role.
    SetRole {
        login: String,
        /// admin, coordinator or worker.
        role: String,
    },
    /// Change your own password (the new one from POLKU_NEW_PASSWORD or a prompt).
    Passwd,
    /// Set a temporary password for a user, who must change it at the next login.
    ResetPassword { login: String },
    /// Adjust a user's rights (PAR's check boxes) or reset them to the role's.
    Rights(crate::admin::RightsArgs),
}

#[derive(Debug, Subcommand)]
enum RetentionCommand {
    /// The clients you may see who are past retention, by responsible worker.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Erase the clients past retention whose last period ended before a
    /// date (each keeps its anonymised record for statistics). Run with
    /// --dry-run first: it lists exactly who would be erased.
    Apply {
        /// YYYY-MM-DD: only clients whose last period ended before it.
        #[arg(long)]
        ended_before: chrono::NaiveDate,
        /// List only; erase nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// List audit entries.
    List {
        /// Only entries about this client.
        #[arg(long)]
        client: Option<String>,
        /// Only entries by this user (login name).
        #[arg(long)]
        user: Option<String>,
        /// Only entries on or after this date (YYYY-MM-DD).
        #[arg(long)]
        since: Option<chrono::NaiveDate>,
        #[arg(long)]
        json: bool,
    },
    /// Verify every chain: exit 0 with a summary, or non-zero naming the first bad entry.
    Verify,
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Print a one-time enrolment ticket for a user's laptop (or `cancel` one).
    #[command(args_conflicts_with_subcommands = true)]
    Ticket {
        #[command(subcommand)]
        action: Option<TicketCommand>,
        /// The user the laptop is for.
        #[arg(long)]
        for_user: Option<String>,
        /// Address the laptop reaches the hub at (repeatable); defaults to the
        /// addresses the hub daemon last listened on.
        #[arg(long = "addr")]
        addrs: Vec<std::net::SocketAddr>,
    },
    /// List enrolled devices.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a device (node id or a unique prefix of it).
    Revoke { node: String },
}

#[derive(Debug, Subcommand)]
enum TicketCommand {
    /// Cancel a ticket that has not been used.
    Cancel {
        /// The ticket as printed by `polku device ticket`.
        ticket: String,
    },
}

#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// List clients visible to the user.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one client.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Add a client.
    Add(ClientAddArgs),
    /// What a client's record still lacks for the statistics.
    Missing {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Move a client to another unit.
    Unit { id: String, unit: String },
    /// Erase a client everywhere (documents, history, attachments; an
    /// anonymised record stays for statistics). Audited; needs the erase right.
    Erase {
        id: String,
        /// Why: request, retention or refused (refused help: the Youth Act).
        #[arg(long, default_value = "request")]
        reason: String,
    },
    /// Subject access (tarkastusoikeus): everything held on the client, with
    /// the history of every field and every audit entry about them, as a
    /// printable page (subject-access.html), JSON (subject-access.json) and
    /// the attachments, into a new folder. Audited.
    Export {
        id: String,
        /// The folder to create (it must not exist).
        #[arg(long)]
        out: std::path::PathBuf,
        /// Language of the page: fi or sv.
        #[arg(long, default_value = "fi")]
        lang: String,
    },
    /// Add (or with --remove, remove) a responsible worker by login name.
    Responsible {
        id: String,
        login: String,
        #[arg(long)]
        remove: bool,
    },
}

/// Names and memo text are personal data: given as `-`, they are read from
/// standard input (one line each, in the order first name, last name), so that
/// they stay out of shell history and the process list.
#[derive(Debug, Args)]
struct ClientAddArgs {
    /// First name, or `-` to read it from standard input.
    #[arg(long)]
    first_name: String,
    /// Last name, or `-` to read it from standard input.
    #[arg(long)]
    last_name: String,
    /// Birth date, YYYY-MM-DD.
    #[arg(long)]
    birth_date: Option<chrono::NaiveDate>,
    /// Gender code (see the national code list).
    #[arg(long)]
    gender: Option<String>,
    /// Mother-tongue group code.
    #[arg(long)]
    mother_tongue: Option<String>,
    /// Unit name or id; defaults to the user's first unit.
    #[arg(long)]
    unit: Option<String>,
    /// Print the new id as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum MemoCommand {
    /// Add a memo to a client. The text is the argument, or with `-` all of
    /// standard input (kept out of shell history and the process list).
    Add {
        client_id: String,
        text: String,
        /// Memo type code; defaults to a contact.
        #[arg(long = "type")]
        kind: Option<String>,
    },
    /// Replace a memo's text: the argument, or `-` for standard input.
    Edit {
        client_id: String,
        memo_id: String,
        text: String,
    },
    /// Delete a memo (it can be restored).
    Rm { client_id: String, memo_id: String },
    /// Restore a deleted memo.
    Restore { client_id: String, memo_id: String },
}

/// Exit codes: 1 for any failure, 3 for a refused login, 4 for a damaged store,
/// 5 for an audit log that does not verify, 6 for a missing right, 7 for a
/// sync refused for who this device or user is (not enrolled, revoked,
/// deactivated, not the pinned hub).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("polku: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            let service = err.downcast_ref::<polku_service::ServiceError>();
            let api = err
                .downcast_ref::<ApiError>()
                .or_else(|| service.and_then(polku_service::ServiceError::api));
            let code = match api {
                Some(e) if e.is_auth_failure() => 3,
                _ if matches!(
                    service,
                    Some(polku_service::ServiceError::EnrolmentRefused(_))
                ) =>
                {
                    3
                }
                Some(e) if e.is_corrupt() => 4,
                Some(ApiError::Denied(_)) => 6,
                _ if err.downcast_ref::<polku_api::AuditProblem>().is_some() => 5,
                _ if crate::net::is_sync_refusal(&err) => 7,
                _ => 1,
            };
            ExitCode::from(code)
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let store_dir = match cli.store {
        Some(dir) => dir,
        None => default_store_dir()?,
    };
    let now = chrono::Utc::now();
    match cli.command {
        Command::Init { admin, hub } => {
            let password =
                read_new_password_from("POLKU_PASSWORD", &format!("New password for {admin}: "))?;
            if hub {
                Workspace::init_hub(&store_dir, &admin, &password, now)?;
                println!("Created hub store {}", store_dir.display());
            } else {
                Workspace::init(&store_dir, &admin, &password, now)?;
                println!("Created store {}", store_dir.display());
            }
            Ok(())
        }
        Command::Hub { bind } => {
            let session = login(&store_dir, cli.user, now)?;
            crate::net::hub(session, bind)
        }
        Command::Join { ticket, user } => {
            let user = require_user(user.or(cli.user))?;
            let password = read_password("Password: ")?;
            // A new password given beforehand is set while joining; otherwise
            // it is asked for only if the hub says the password is temporary.
            let mut new_password = || Ok(std::env::var("POLKU_NEW_PASSWORD").ok());
            crate::net::join(&store_dir, &ticket, &user, &password, &mut new_password)
        }
        Command::Sync => {
            // Syncing is how an expired offline lease is renewed: allowed then too.
            let user = require_user(cli.user)?;
            let password = read_password("Password: ")?;
            let session = Workspace::open(&store_dir)?.login_to_sync(&user, &password, now)?;
            if session.must_change_password() {
                session.close_at(now)?;
                return Err(ApiError::MustChangePassword.into());
            }
            crate::net::sync(session)
        }
        Command::Device(cmd) => {
            let mut session = login(&store_dir, cli.user, now)?;
            match cmd {
                DeviceCommand::Ticket {
                    action: Some(TicketCommand::Cancel { ticket }),
                    ..
                } => {
                    let ticket = polku_api::Ticket::decode(&ticket)?;
                    session.cancel_ticket(&ticket, now)?;
                    println!("Ticket cancelled.");
                }
                DeviceCommand::Ticket {
                    action: None,
                    for_user,
                    addrs,
                } => {
                    let Some(for_user) = for_user else {
                        session.close_at(now)?;
                        bail!("give --for-user NAME (or `device ticket cancel TICKET`)");
                    };
                    let ticket = session.create_ticket_for_hub(&for_user, addrs, now)?;
                    println!("{}", ticket.encode());
                }
                DeviceCommand::List { json } => {
                    let devices = session.devices(now)?;
                    let org = session.organisation().clone();
                    output::devices(&devices, &org, json)?;
                }
                DeviceCommand::Revoke { node } => session.revoke_device(&node, now)?,
            }
            session.close_at(now)?;
            Ok(())
        }
        Command::Demo { clients, seed } => {
            let mut session = login(&store_dir, cli.user, now)?;
            let report = session.add_demo(clients, seed, now)?;
            println!(
                "Added {} clients, {} memos and {} activity memos (seed {seed}).",
                report.clients, report.memos, report.activity_memos
            );
            session.close_at(now)?;
            Ok(())
        }
        Command::Client(cmd) => {
            let mut session = login(&store_dir, cli.user, now)?;
            match cmd {
                ClientCommand::List { json } => {
                    let list = session.list_clients(now)?;
                    output::client_list(&list, json)?;
                }
                ClientCommand::Show { id, json } => {
                    let id = parse_client_id(&id)?;
                    let client = session.show_client(id, now)?;
                    let codes = session.codes()?;
                    output::client(&client, &codes, session.organisation(), json)?;
                }
                ClientCommand::Missing { id, json } => {
                    let missing = session.missing_fields(parse_client_id(&id)?, now)?;
                    if json {
                        println!("{}", serde_json::to_string_pretty(&missing)?);
                    } else if missing.is_empty() {
                        println!("Nothing is missing.");
                    } else {
                        for m in &missing {
                            println!("{}", serde_json::to_string(m)?);
                        }
                    }
                }
                ClientCommand::Export { id, out, lang } => {
                    crate::entries::subject_access(
                        &mut session,
                        parse_client_id(&id)?,
                        &out,
                        &lang,
                        now,
                    )?;
                }
                ClientCommand::Erase { id, reason } => {
                    crate::erase_cmd::erase(&mut session, parse_client_id(&id)?, &reason, now)?;
                }
                ClientCommand::Unit { id, unit } => {
                    session.set_client_unit(parse_client_id(&id)?, &unit, now)?;
                }
                ClientCommand::Responsible { id, login, remove } => {
                    session.set_responsible(parse_client_id(&id)?, &login, !remove, now)?;
                }
                ClientCommand::Add(args) => {
                    let mut stdin = StdinLines::default();
                    let first_name = stdin.or_arg(args.first_name)?;
                    let last_name = stdin.or_arg(args.last_name)?;
                    let id = session.add_client(
                        ClientInput {
                            first_name,
                            last_name,
                            birth_date: args.birth_date,
                            gender: args.gender,
                            mother_tongue: args.mother_tongue,
                            unit: args.unit,
                        },
                        now,
                    )?;
                    if args.json {
                        println!("{}", serde_json::json!({ "id": id.to_string() }));
                    } else {
                        println!("{id}");
                    }
                }
            }
            session.close_at(now)?;
            Ok(())
        }
        Command::Record(cmd) => in_session(&store_dir, cli.user, now, |s| {
            crate::record_cmd::run(s, cmd, now)
        }),
        Command::Memo(
            ref cmd @ (MemoCommand::Edit { .. }
            | MemoCommand::Rm { .. }
            | MemoCommand::Restore { .. }),
        ) => {
            let mut session = login(&store_dir, cli.user, now)?;
            let memo_id = |s: &str| {
                s.parse::<polku_core::MemoId>()
                    .map_err(|_| anyhow::anyhow!("not a memo id (expected a UUID)"))
            };
            match cmd {
                MemoCommand::Edit {
                    client_id,
                    memo_id: m,
                    text,
                } => {
                    let text = text_arg(text.clone())?;
                    session.edit_memo(parse_client_id(client_id)?, memo_id(m)?, &text, now)?;
                }
                MemoCommand::Rm {
                    client_id,
                    memo_id: m,
                } => session.delete_memo(parse_client_id(client_id)?, memo_id(m)?, now)?,
                MemoCommand::Restore {
                    client_id,
                    memo_id: m,
                } => session.restore_memo(parse_client_id(client_id)?, memo_id(m)?, now)?,
                MemoCommand::Add { .. } => {}
            }
            session.close_at(now)?;
            Ok(())
        }
        Command::Memo(MemoCommand::Add {
            client_id,
            text,
            kind,
        }) => {
            let mut session = login(&store_dir, cli.user, now)?;
            let id = parse_client_id(&client_id)?;
            let text = text_arg(text)?;
            let memo = session.add_memo(id, &text, kind.as_deref(), now)?;
            println!("{memo}");
            session.close_at(now)?;
            Ok(())
        }
        Command::Activity(cmd) => in_session(&store_dir, cli.user, now, |s| {
            crate::entries::activity(s, cmd, now)
        }),
        Command::Contact(cmd) => in_session(&store_dir, cli.user, now, |s| {
            crate::entries::contact(s, cmd, now)
        }),
        Command::Attachment(cmd) => in_session(&store_dir, cli.user, now, |s| {
            crate::entries::attachment(s, cmd, now)
        }),
        Command::User(cmd) => {
            let passwd = matches!(cmd, UserCommand::Passwd);
            let mut session = login_for(&store_dir, cli.user, passwd, now)?;
            match cmd {
                UserCommand::Add {
                    login,
                    role,
                    units,
                    display_name,
                } => {
                    let role = parse_role(&role)?;
                    let password = read_new_password(&format!("Temporary password for {login}: "))?;
                    let id = session.add_user(
                        UserInput {
                            login,
                            display_name,
                            role,
                            units,
                        },
                        &password,
                        now,
                    )?;
                    println!("{id}");
                }
                UserCommand::List { json } => {
                    let users = session.list_users(now)?;
                    let org = session.organisation().clone();
                    output::users(&users, &org, json)?;
                }
                UserCommand::Deactivate { login } => session.set_active(&login, false, now)?,
                UserCommand::Activate { login } => session.set_active(&login, true, now)?,
                UserCommand::SetRole { login, role } => {
                    session.set_role(&login, parse_role(&role)?, now)?
                }
                UserCommand::Passwd => {
                    let password = read_new_password("New password: ")?;
                    session.change_password(&password, now)?;
                    println!("Password changed.");
                }
                UserCommand::ResetPassword { login } => {
                    let password = read_new_password(&format!("Temporary password for {login}: "))?;
                    session.reset_password(&login, &password, now)?;
                }
                UserCommand::Rights(args) => crate::admin::rights(&mut session, args, now)?,
            }
            session.close_at(now)?;
            Ok(())
        }
        Command::Retention(RetentionCommand::List { json }) => {
            let mut session = login(&store_dir, cli.user, now)?;
            let rows = session.retention_due(now)?;
            session.close_at(now)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else if rows.is_empty() {
                println!("Nobody is past retention.");
            } else {
                let mut current: Option<&str> = None;
                for r in &rows {
                    let who = r
                        .responsible
                        .first()
                        .map_or("(no responsible worker)", String::as_str);
                    if current != Some(who) {
                        println!("{who}:");
                        current = Some(who);
                    }
                    let ended = r
                        .last_period_end
                        .map_or("no period".to_owned(), |d| format!("last period ended {d}"));
                    println!(
                        "  {}  {}, {}  {ended}, kept until {}",
                        r.client, r.last_name, r.first_name, r.keep_until
                    );
                }
            }
            Ok(())
        }
        Command::Audit(cmd) => {
            let mut session = login(&store_dir, cli.user, now)?;
            match cmd {
                AuditCommand::List {
                    client,
                    user,
                    since,
                    json,
                } => {
                    let client = client.as_deref().map(parse_client_id).transpose()?;
                    let rows = session.audit_list(
                        &AuditQuery {
                            client,
                            user,
                            since,
                        },
                        now,
                    )?;
                    output::audit_rows(&rows, json)?;
                }
                AuditCommand::Verify => match session.audit_verify(now)? {
                    Ok(summary) => {
                        println!(
                            "Audit log verified: {} entries in {} chains; every signature, back-link and sequence number is intact.",
                            summary.entries, summary.nodes
                        );
                        let gaps = session.audit_gaps(now)?;
                        for g in &gaps {
                            let held = g.held.map_or("none".to_owned(), |h| h.to_string());
                            match (g.doc, g.mismatch) {
                                (Some(doc), true) => println!(
                                    "Audit gap: entry {} of chain {} does not record the change of document {doc} that references it (the chain was cut and written again).",
                                    g.expected, g.node
                                ),
                                (Some(doc), false) => println!(
                                    "Audit gap: chain {} holds entries up to {held}, but a change of document {doc} references entry {}.",
                                    g.node, g.expected
                                ),
                                (None, _) => println!(
                                    "Audit gap: chain {} holds entries up to {held}, but the device announced entry {}.",
                                    g.node, g.expected
                                ),
                            }
                        }
                        if !gaps.is_empty() {
                            session.close_at(now)?;
                            anyhow::bail!(
                                "the audit log has {} gap(s): entries were removed before they reached this hub",
                                gaps.len()
                            );
                        }
                    }
                    Err(problem) => {
                        session.close_at(now)?;
                        return Err(
                            anyhow::Error::new(problem).context("the audit log does not verify")
                        );
                    }
                },
            }
            session.close_at(now)?;
            Ok(())
        }
        Command::Unit(cmd) => in_session(&store_dir, cli.user, now, |s| {
            crate::admin::unit(s, cmd, now)
        }),
        Command::Code(cmd) => in_session(&store_dir, cli.user, now, |s| {
            crate::admin::code(s, cmd, now)
        }),
        Command::Org(cmd) => in_session(&store_dir, cli.user, now, |s| {
            crate::admin::org(s, cmd, now)
        }),
        Command::Retention(RetentionCommand::Apply {
            ended_before,
            dry_run,
            json,
        }) => in_session(&store_dir, cli.user, now, |s| {
            crate::erase_cmd::retention_apply(s, ended_before, dry_run, json, now)
        }),
        Command::Erasure(cmd) => in_session(&store_dir, cli.user, now, |s| {
            crate::erase_cmd::erasure(s, cmd, now)
        }),
        Command::Backup(cmd) if crate::backup_cmd::needs_no_login(&cmd) => {
            crate::backup_cmd::offline(cmd)
        }
        Command::Backup(cmd) => in_session(&store_dir, cli.user, now, |s| {
            crate::backup_cmd::run(s, &store_dir, cmd, now)
        }),
        Command::Stats(args) => in_session(&store_dir, cli.user, now, |s| {
            crate::stats::run(s, args, now)
        }),
    }
}

/// The reader of our output went away (`polku client list | head`): not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn login(store_dir: &std::path::Path, user: Option<String>, now: DateTime<Utc>) -> Result<Session> {
    login_for(store_dir, user, false, now)
}

/// Log in; unless `changing_password`, refuse to go on while the user must
/// change a temporary password.
fn login_for(
    store_dir: &std::path::Path,
    user: Option<String>,
    changing_password: bool,
    now: DateTime<Utc>,
) -> Result<Session> {
    let user = require_user(user)?;
    let password = read_password("Password: ")?;
    let workspace = Workspace::open(store_dir)?;
    let session = workspace.login(&user, &password, now)?;
    if session.must_change_password() && !changing_password {
        session.close_at(now)?;
        return Err(ApiError::MustChangePassword.into());
    }
    Ok(session)
}

fn parse_role(role: &str) -> Result<Role> {
    role.trim()
        .to_lowercase()
        .parse::<Role>()
        .map_err(|_| anyhow::anyhow!("unknown role; use admin, coordinator or worker"))
}

/// A new password: `POLKU_NEW_PASSWORD` when set, else asked twice on the terminal.
pub(crate) fn read_new_password(prompt: &str) -> Result<String> {
    read_new_password_from("POLKU_NEW_PASSWORD", prompt)
}

/// A new password from the environment variable `var` when set, else asked
/// twice on the terminal (and refused if the two differ).
fn read_new_password_from(var: &str, prompt: &str) -> Result<String> {
    if let Ok(p) = std::env::var(var) {
        return Ok(p);
    }
    let first = rpassword::prompt_password(prompt)
        .context("could not read the password from the terminal")?;
    let again = rpassword::prompt_password("Again: ")
        .context("could not read the password from the terminal")?;
    if first != again {
        bail!("the passwords differ");
    }
    Ok(first)
}

/// `arg`, or when it is `-`, all of standard input without the final newline
/// (personal text kept out of shell history and the process list).
pub(crate) fn text_arg(arg: String) -> Result<String> {
    if arg != "-" {
        return Ok(arg);
    }
    let mut all = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut all)
        .context("could not read the text from standard input")?;
    Ok(all.trim_end_matches(['\r', '\n']).to_owned())
}

/// Log in, run `f` in the session, and close it whatever `f` returned.
fn in_session(
    store_dir: &std::path::Path,
    user: Option<String>,
    now: DateTime<Utc>,
    f: impl FnOnce(&mut Session) -> Result<()>,
) -> Result<()> {
    let mut session = login(store_dir, user, now)?;
    let result = f(&mut session);
    session.close_at(now)?;
    result
}

/// Standard input read line by line, for arguments given as `-`.
#[derive(Default)]
pub(crate) struct StdinLines {
    lines: Option<std::io::Lines<std::io::StdinLock<'static>>>,
}

impl StdinLines {
    /// `arg`, or when it is `-`, the next line of standard input.
    pub(crate) fn or_arg(&mut self, arg: String) -> Result<String> {
        if arg != "-" {
            return Ok(arg);
        }
        let lines = self
            .lines
            .get_or_insert_with(|| std::io::BufRead::lines(std::io::stdin().lock()));
        match lines.next() {
            Some(line) => Ok(line
                .context("could not read standard input")?
                .trim_end_matches('\r')
                .to_owned()),
            None => bail!("standard input ended before every `-` argument was read"),
        }
    }
}

fn require_user(user: Option<String>) -> Result<String> {
    match user {
        Some(u) if !u.trim().is_empty() => Ok(u),
        _ => bail!("this command needs --user NAME (or POLKU_USER)"),
    }
}

fn parse_client_id(id: &str) -> Result<ClientId> {
    id.parse::<ClientId>()
        .map_err(|_| anyhow::anyhow!("not a client id (expected a UUID)"))
}

/// The password comes from `POLKU_PASSWORD` when set, else from a prompt on the
/// terminal; never from an argument.
fn read_password(prompt: &str) -> Result<String> {
    if let Ok(p) = std::env::var("POLKU_PASSWORD") {
        return Ok(p);
    }
    rpassword::prompt_password(prompt).context("could not read the password from the terminal")
}

fn default_store_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("polku"));
    }
    let home = std::env::var_os("HOME").context("no --store given and HOME is not set")?;
    Ok(PathBuf::from(home).join(".local/share/polku"))
}
