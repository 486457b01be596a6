//! Fault-injection points for crash tests (feature `fault-injection`).
//!
//! With the feature on and `POLKU_FAULT_POINT` set to a point's name, the
//! process writes `polku-fault-point NAME` to stderr when it reaches that
//! point and then waits there until it is killed: a test kills it (SIGKILL)
//! in the middle of an operation, e.g. inside an open store transaction.
//! Without the feature a point does nothing.

/// Inside the transaction that applies a tombstone: after the tombstone is
/// recorded, before the document is deleted and the audit entry written.
pub const TOMBSTONE_RECORDED: &str = "tombstone-recorded";

/// A fault point (see the module docs).
#[cfg(feature = "fault-injection")]
pub(crate) fn point(name: &str) {
    if std::env::var("POLKU_FAULT_POINT").is_ok_and(|v| v == name) {
        eprintln!("polku-fault-point {name}");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(60));
        }
    }
}

/// A fault point (see the module docs): nothing without the feature.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn point(_name: &str) {}
