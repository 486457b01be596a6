//! Child process of the tombstone crash test: logs in on a hub store and a
//! laptop store and syncs them in memory, then prints `synced`. Run with
//! `POLKU_FAULT_POINT` (feature `fault-injection`) it stops inside the
//! laptop's tombstone transaction until killed.
//! Usage: tomb-sync HUB_DIR LAPTOP_DIR LAPTOP_LOGIN (password from POLKU_PASSWORD,
//! the same for the hub's admin and the laptop's user).

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(hub_dir), Some(laptop_dir), Some(login)) = (args.next(), args.next(), args.next())
    else {
        return Err("usage: tomb-sync HUB_DIR LAPTOP_DIR LAPTOP_LOGIN".into());
    };
    let password = std::env::var("POLKU_PASSWORD")?;
    let now = chrono::Utc::now();
    let mut hub = polku_api::Workspace::open(&hub_dir)?
        .login("admin", &password, now)?
        .into_replica()?;
    let mut laptop = polku_api::Workspace::open(&laptop_dir)?
        .login(&login, &password, now)?
        .into_replica()?;
    let (h, l) = polku_scenarios::sync_in_memory(&mut hub, &mut laptop);
    h?;
    l?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "synced")?;
    out.flush()?;
    Ok(())
}
