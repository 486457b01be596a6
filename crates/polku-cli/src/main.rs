//! `polku` — the command-line tool of Polku: stores, demo data, clients, the
//! record, users, devices, sync and statistics. Thin: parsing, the password prompt and output formatting only; every
//! rule lives in `polku-api` and below.

mod admin;
mod backup_cmd;
mod cli;
mod entries;
mod erase_cmd;
mod net;
mod output;
mod record_cmd;
mod stats;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
