//! Child process of the crash test: writes memos to one client in a loop and prints
//! `ack N` after each write has returned, so the parent knows which writes must
//! survive a SIGKILL. Usage: crash-writer STORE_DIR LOGIN CLIENT_ID START_N
//! (password from POLKU_PASSWORD).

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(login), Some(client), Some(start)) =
        (args.next(), args.next(), args.next(), args.next())
    else {
        return Err("usage: crash-writer STORE_DIR LOGIN CLIENT_ID START_N".into());
    };
    let password = std::env::var("POLKU_PASSWORD")?;
    let client: polku_core::ClientId = client.parse()?;
    let start: u64 = start.parse()?;
    let workspace = polku_api::Workspace::open(&dir)?;
    let mut session = workspace.login(&login, &password, chrono::Utc::now())?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "ready")?;
    out.flush()?;
    for n in start.. {
        let text = format!("crash-memo-{n}");
        session.add_memo(client, &text, None, chrono::Utc::now())?;
        writeln!(out, "ack {n}")?;
        out.flush()?;
    }
    Ok(())
}
