//! Test-only (cargo feature `tamper`, off by default): a hook called inside
//! and right after every write transaction that appended a document change,
//! so that crash tests can kill a process in the middle of a write at a
//! point they choose rather than at a random moment.

use std::cell::Cell;
use std::sync::Mutex;

/// Where in a write transaction the hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritePoint {
    /// Every row of the transaction is written; it is not committed yet.
    BeforeCommit,
    /// The transaction is committed; the call has not returned yet.
    AfterCommit,
}

/// A write hook.
pub type WriteHook = Box<dyn Fn(WritePoint) + Send>;

static HOOK: Mutex<Option<WriteHook>> = Mutex::new(None);

thread_local! {
    static APPENDED: Cell<u64> = const { Cell::new(0) };
}

/// Sets (or with `None` removes) the hook of this process.
pub fn set_write_hook(hook: Option<WriteHook>) {
    *HOOK.lock().unwrap_or_else(|p| p.into_inner()) = hook;
}

pub(crate) fn note_change_appended() {
    APPENDED.with(|a| a.set(a.get() + 1));
}

pub(crate) fn changes_appended() -> u64 {
    APPENDED.with(Cell::get)
}

pub(crate) fn at(point: WritePoint) {
    if let Some(hook) = HOOK.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
        hook(point);
    }
}
