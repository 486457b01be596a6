//! Child process of the crash test: writes memos to one client in a loop and prints
//! `ack N` after each write has returned, so the parent knows which writes must
//! survive a SIGKILL. After `STOP_AFTER` acknowledged memos it stops inside the
//! next memo's write, at `POINT` (`before-commit`: every row written, the
//! transaction not committed; `after-commit`: committed, the call not returned),
//! prints `in-write N` and waits there to be killed.
//! Usage: crash-writer STORE_DIR LOGIN CLIENT_ID START_N STOP_AFTER POINT
//! (password from POLKU_PASSWORD).

use std::io::Write;

use polku_store::write_hook::{WritePoint, set_write_hook};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(login), Some(client), Some(start), Some(stop_after), Some(point)) = (
        args.next(),
        args.next(),
        args.next(),
        args.next(),
        args.next(),
        args.next(),
    ) else {
        return Err(
            "usage: crash-writer STORE_DIR LOGIN CLIENT_ID START_N STOP_AFTER POINT".into(),
        );
    };
    let password = std::env::var("POLKU_PASSWORD")?;
    let client: polku_core::ClientId = client.parse()?;
    let start: u64 = start.parse()?;
    let stop_after: u64 = stop_after.parse()?;
    let point = match point.as_str() {
        "before-commit" => WritePoint::BeforeCommit,
        "after-commit" => WritePoint::AfterCommit,
        _ => return Err("POINT is before-commit or after-commit".into()),
    };
    let workspace = polku_api::Workspace::open(&dir)?;
    let mut session = workspace.login(&login, &password, chrono::Utc::now())?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "ready")?;
    out.flush()?;
    for n in start.. {
        if n == start + stop_after {
            set_write_hook(Some(Box::new(move |at| {
                if at == point {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "in-write {n}");
                    let _ = out.flush();
                    // Wait here, inside the write, for the SIGKILL.
                    loop {
                        std::thread::park();
                    }
                }
            })));
        }
        let text = format!("crash-memo-{n}");
        session.add_memo(client, &text, None, chrono::Utc::now())?;
        writeln!(out, "ack {n}")?;
        out.flush()?;
    }
    Ok(())
}
