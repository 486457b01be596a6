//! `polku` — the command-line tool of Polku: stores, demo data, clients, memos and
//! benchmarks. Thin: parsing, the password prompt and output formatting only; every
//! rule lives in `polku-api` and below.

mod cli;
mod output;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
