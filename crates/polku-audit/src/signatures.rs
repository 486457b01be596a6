//! Checking many signatures at once, on every core.
//!
//! Signature checks are independent of each other and are nearly all of the
//! cost of verification, so large batches are split over scoped threads
//! (plain `std`, no runtime). The chain rules are then applied in order, on
//! the results, by the callers: outcomes and the first error reported are
//! the same as checking one entry after another.

use std::collections::HashMap;
use std::num::NonZeroUsize;

use ed25519_dalek::VerifyingKey;

use crate::entry::{Entry, Scratch};
use crate::key::{EntryHash, NodeId};

/// An entry's signature checked against its own node's key: the entry's hash
/// if the signature is valid, `None` if not (or not checked).
pub(crate) type Signed = Option<EntryHash>;

/// Below this many entries, threads cost more than they save.
const PARALLEL_MIN: usize = 256;

/// Checks the signatures of `entries`, each against its own node's key;
/// entries with `wanted[i] == false` are skipped (`None`).
pub(crate) fn check_signatures(entries: &[Entry], wanted: Option<&[bool]>) -> Vec<Signed> {
    let threads = if entries.len() < PARALLEL_MIN {
        1
    } else {
        std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
    };
    if threads < 2 {
        return check_run(entries, 0, wanted);
    }
    let chunk_len = entries.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let mut chunks = entries.chunks(chunk_len).enumerate();
        // The current thread takes the first chunk itself.
        let first = chunks.next();
        let workers: Vec<_> = chunks
            .map(|(k, chunk)| {
                let offset = k * chunk_len;
                let spawned = std::thread::Builder::new()
                    .name("polku-audit-verify".into())
                    .spawn_scoped(scope, move || check_run(chunk, offset, wanted));
                // If no thread can be started, check the chunk here instead.
                spawned.map_err(|_| (chunk, offset))
            })
            .collect();
        let mut out = first.map_or_else(Vec::new, |(_, chunk)| check_run(chunk, 0, wanted));
        out.reserve(entries.len().saturating_sub(out.len()));
        for worker in workers {
            match worker {
                Ok(handle) => match handle.join() {
                    Ok(part) => out.extend(part),
                    Err(panic) => std::panic::resume_unwind(panic),
                },
                Err((chunk, offset)) => out.extend(check_run(chunk, offset, wanted)),
            }
        }
        out
    })
}

fn check_run(entries: &[Entry], offset: usize, wanted: Option<&[bool]>) -> Vec<Signed> {
    let mut keys = Keys::default();
    let mut scratch = Scratch::default();
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let want = wanted.is_none_or(|w| w.get(offset + i).copied().unwrap_or(true));
            if want {
                keys.check(entry, &mut scratch)
            } else {
                None
            }
        })
        .collect()
}

/// Verifying keys by node, decompressed once each.
#[derive(Debug, Default)]
struct Keys {
    last: Option<(NodeId, Option<VerifyingKey>)>,
    others: HashMap<NodeId, Option<VerifyingKey>>,
}

impl Keys {
    fn check(&mut self, entry: &Entry, scratch: &mut Scratch) -> Signed {
        let key = match &self.last {
            Some((node, key)) if *node == entry.node => *key,
            _ => {
                let key = *self
                    .others
                    .entry(entry.node)
                    .or_insert_with(|| entry.node.verifying_key());
                self.last = Some((entry.node, key));
                key
            }
        };
        scratch.check(entry, &key?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Action, AuditLog, Detail, NodeKey};

    #[test]
    fn parallel_results_match_one_by_one() {
        let keys = [NodeKey::from_bytes(&[1; 32]), NodeKey::from_bytes(&[2; 32])];
        let mut log = AuditLog::new();
        let time = chrono::DateTime::UNIX_EPOCH;
        let mut entries: Vec<Entry> = (0..2 * PARALLEL_MIN)
            .map(|i| log.append(&keys[i % 2], time, None, Action::View, None, Detail::None))
            .collect();
        entries[7].action = Action::Erase;
        entries[300].signature.0[0] ^= 1;
        let wanted: Vec<bool> = (0..entries.len()).map(|i| i % 5 != 0).collect();

        let all = check_signatures(&entries, None);
        let some = check_signatures(&entries, Some(&wanted));
        assert_eq!(all.len(), entries.len());
        for (i, e) in entries.iter().enumerate() {
            let valid = i != 7 && i != 300;
            assert_eq!(all[i], valid.then(|| e.hash()), "entry {i}");
            assert_eq!(some[i], (valid && wanted[i]).then(|| e.hash()), "entry {i}");
        }
    }
}
