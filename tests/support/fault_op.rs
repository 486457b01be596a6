//! Child process of the fault tests (`tests/atomic_ops.rs`): runs one
//! operation on a store and prints `before N` (rows written by the store so
//! far, after the login) and `after M` (when the operation returned). With
//! `POLKU_FAULT_KILL_AT_WRITE` set, the store kills the process at that row
//! write. Usage: fault-op OP STORE_DIR [TICKET]; OP is one of add-user,
//! change-password, reset-password, ticket, redeem, init.

use chrono::Utc;
use polku_api::{KdfParams, UserInput, Workspace};
use polku_core::model::Role;
use polku_scenarios::{PASSWORD, TEMPORARY, chosen};
use std::io::Write;

/// The password `change-password` sets, and the one `redeem` chooses.
const NEW: &str = "fault-new-password";
/// The password `reset-password` sets.
const RESET: &str = "fault-reset-password";

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(op), Some(dir)) = (args.next(), args.next()) else {
        return Err("usage: fault-op OP STORE_DIR [TICKET]".into());
    };
    let dir = std::path::PathBuf::from(dir);
    let now = Utc::now();
    if op == "init" {
        say(&format!("before {}", polku_store::fault::writes()));
        Workspace::init_hub_with(&dir, "admin", PASSWORD, now, KdfParams::INSECURE_FOR_TESTS)?;
        say(&format!("after {}", polku_store::fault::writes()));
        return Ok(());
    }
    let (login, password) = match op.as_str() {
        "change-password" => ("maija", TEMPORARY),
        _ => ("admin", PASSWORD),
    };
    let mut s = Workspace::open(&dir)?.login(login, password, now)?;
    say(&format!("before {}", polku_store::fault::writes()));
    match op.as_str() {
        "add-user" => {
            s.add_user(
                UserInput {
                    login: "maija".into(),
                    display_name: None,
                    role: Role::Worker,
                    units: vec![],
                },
                TEMPORARY,
                now,
            )?;
        }
        "change-password" => s.change_password(NEW, now)?,
        "reset-password" => s.reset_password("maija", RESET, now)?,
        "ticket" => {
            let t = s.create_ticket("maija", [1; 32], vec![], now)?;
            say(&format!("ticket {}", t.encode()));
        }
        "redeem" => {
            let ticket = polku_api::Ticket::decode(&args.next().ok_or("no ticket")?)?;
            let node = polku_audit::NodeKey::from_bytes(&[42; 32]).node_id();
            s.redeem_ticket(
                &ticket.secret,
                node,
                "maija",
                TEMPORARY,
                chosen(NEW),
                "L",
                now,
            )?
            .map_err(|r| format!("refused: {r}"))?;
        }
        other => return Err(format!("unknown operation {other}").into()),
    }
    say(&format!("after {}", polku_store::fault::writes()));
    s.close_at(now)?;
    Ok(())
}
