//! `polku` — the command-line tool of Polku: stores, demo data, clients, memos and
//! benchmarks. Thin: parsing, the password prompt and output formatting only; every
//! rule lives in `polku-api` and below.

mod bench_sync;
mod cli;
mod entries;
mod net;
mod output;
mod stats;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
