//! Test-only fault injection (feature `fault-injection`; never enable in real
//! builds). With `POLKU_FAULT_KILL_AT_WRITE=N` in the environment, the process
//! sends itself SIGKILL at the N-th row written (inserted, updated or deleted)
//! through any store connection it opened: inside a transaction, before its
//! commit. Scenario tests run an operation in a child process once per write
//! it makes, to show that a crash at any step leaves a consistent store.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::Connection;

static WRITES: AtomicU64 = AtomicU64::new(0);
static KILL_AT: OnceLock<Option<u64>> = OnceLock::new();

/// Rows written through store connections so far in this process.
pub fn writes() -> u64 {
    WRITES.load(Ordering::SeqCst)
}

fn kill_at() -> Option<u64> {
    *KILL_AT.get_or_init(|| {
        std::env::var("POLKU_FAULT_KILL_AT_WRITE")
            .ok()
            .and_then(|v| v.parse().ok())
    })
}

fn kill_self() -> ! {
    let pid = std::process::id().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

pub(crate) fn install(conn: &mut Connection) {
    let _ = conn.update_hook(Some(
        |_: rusqlite::hooks::Action, _: &str, _: &str, _: i64| {
            let n = WRITES.fetch_add(1, Ordering::SeqCst) + 1;
            if kill_at() == Some(n) {
                kill_self();
            }
        },
    ));
}
