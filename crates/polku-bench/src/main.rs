//! `polku-bench`: Polku's speed and memory figures, each printed beside a
//! baseline measured in the same run (ratios, not absolute targets). Kept out
//! of the shipped `polku` binary and of the production APIs.

mod audit;
mod stats;
mod store;
mod sync;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

/// Benchmarks of the store, the audit log, the statistics and sync.
#[derive(Debug, Parser)]
#[command(name = "polku-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, Subcommand)]
enum What {
    /// Unlock, open every client and storage figures of a scratch store of N
    /// clients × M memos (the store directory only names where the scratch
    /// store's login comes from; nothing is written to it).
    Store {
        /// Store directory (for the login's argon2 parameters).
        #[arg(long, env = "POLKU_STORE")]
        store: PathBuf,
        /// Login name.
        #[arg(long, env = "POLKU_USER")]
        user: String,
        /// Clients in the scratch store.
        #[arg(long, default_value_t = 2000)]
        clients: usize,
        /// Memos per client.
        #[arg(long, default_value_t = 50)]
        memos: usize,
    },
    /// Appending to and verifying an audit chain of N entries.
    Audit {
        /// Login name.
        #[arg(long, env = "POLKU_USER")]
        user: String,
        /// Entries.
        #[arg(long, default_value_t = 100_000)]
        entries: usize,
    },
    /// A full-year statistics report over synthetic clients in memory, at a
    /// tenth of the size and at the full size.
    Stats {
        /// Clients at the full size.
        #[arg(long, default_value_t = 100_000)]
        clients: usize,
        /// Runs per size (the median is shown).
        #[arg(long, default_value_t = 3)]
        repeats: usize,
    },
    /// First sync and resyncs of real stores over iroh on loopback, beside a
    /// naive baseline that sends every document whole.
    Sync {
        /// Clients in the hub store.
        #[arg(long, default_value_t = 2000)]
        clients: usize,
        /// First syncs (each of a new laptop, each followed by the naive
        /// baseline): the medians are printed, and their ratio.
        #[arg(long, default_value_t = 3)]
        first_runs: usize,
        /// Documents in the incremental test store.
        #[arg(long, default_value_t = 10_000)]
        of: usize,
        /// Documents changed for the incremental sync.
        #[arg(long, default_value_t = 10)]
        changed: usize,
        /// Incremental syncs, each after changing `changed` documents on the
        /// hub (the median is printed; more of them make a profile of it).
        #[arg(long, default_value_t = 5)]
        incrementals: usize,
        /// Unchanged resyncs after the incremental one (their median is
        /// printed; more of them make a profile of the resync path).
        #[arg(long, default_value_t = 5)]
        resyncs: usize,
        /// Laptops whose first syncs run at once, beside the same number one
        /// after another (0 skips this part).
        #[arg(long, default_value_t = 10)]
        laptops: usize,
        /// Clients in the hub store those laptops sync.
        #[arg(long, default_value_t = 200)]
        laptop_clients: usize,
    },
    /// The hub of `sync`'s incremental part, run by `sync` itself in a
    /// process of its own (its peak RSS is the hub's alone).
    #[command(hide = true)]
    SyncHub {
        /// Hub store directory.
        #[arg(long)]
        dir: PathBuf,
        /// Loopback UDP port to serve on.
        #[arg(long)]
        port: u16,
    },
}

fn password() -> Result<String> {
    if let Ok(p) = std::env::var("POLKU_PASSWORD") {
        return Ok(p);
    }
    rpassword::prompt_password("Password: ").context("could not read the password")
}

fn run(cli: Cli) -> Result<()> {
    match cli.what {
        What::Store {
            store,
            user,
            clients,
            memos,
        } => println!(
            "{}",
            store::run(&store, &user, &password()?, clients, memos)?
        ),
        What::Audit { user, entries } => {
            println!("{}", audit::run(&user, &password()?, entries)?);
        }
        What::Stats { clients, repeats } => {
            println!("{}", stats::run(&[clients / 10, clients], repeats));
        }
        What::Sync {
            clients,
            first_runs,
            of,
            changed,
            incrementals,
            resyncs,
            laptops,
            laptop_clients,
        } => sync::run(&sync::Options {
            clients,
            first_runs,
            of,
            changed,
            incrementals,
            resyncs,
            laptops,
            laptop_clients,
        })?,
        What::SyncHub { dir, port } => sync::serve_hub(&dir, port)?,
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("polku-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
