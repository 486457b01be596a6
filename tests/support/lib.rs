//! Shared helpers for scenario tests.

use std::path::{Path, PathBuf};

/// The password every scenario store uses (synthetic data only).
pub const PASSWORD: &str = "scenario-password-1";

/// Every regular file under `dir`, recursively (database, WAL, journal, attachments, temp files).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Whether `haystack` contains `needle` as a byte sequence.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
