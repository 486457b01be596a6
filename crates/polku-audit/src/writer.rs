//! Appending to a node's own chain without holding the whole log in memory.
//!
//! A device appends an entry for every view and change; loading a log of
//! hundreds of thousands of entries for that would be wasteful. A
//! [`ChainWriter`] only needs the node key and the chain's last entry.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use polku_core::UserId;

use crate::entry::{Draft, Head, Scratch};
use crate::{Action, Detail, Entry, NodeKey, VerifyError, verify_entry};

/// Signs and links new entries of one node's chain.
///
/// Invariants, checked by [`ChainWriter::resume`]:
/// - the last entry given belongs to the key's node;
/// - its signature verifies (a damaged tail is not extended).
#[derive(Debug)]
pub struct ChainWriter {
    key: NodeKey,
    head: Option<Head>,
    scratch: Scratch,
}

impl ChainWriter {
    /// A writer continuing after `last` (the chain's last stored entry), or
    /// starting a new chain when `last` is `None`.
    pub fn resume(key: NodeKey, last: Option<&Entry>) -> Result<Self, VerifyError> {
        let mut writer = Self {
            key,
            head: None,
            scratch: Scratch::default(),
        };
        writer.reset_to(last)?;
        Ok(writer)
    }

    /// Continue after `last` instead (the chain grew elsewhere, e.g. another
    /// session on the same device). Checks `last` as [`ChainWriter::resume`] does.
    pub fn reset_to(&mut self, last: Option<&Entry>) -> Result<(), VerifyError> {
        self.head = match last {
            None => None,
            Some(entry) => {
                if entry.node != self.key.node_id() {
                    return Err(VerifyError::ForeignNode {
                        chain: self.key.node_id(),
                        node: entry.node,
                        seq: entry.seq,
                    });
                }
                Some(Head {
                    seq: entry.seq,
                    hash: verify_entry(entry)?,
                })
            }
        };
        Ok(())
    }

    /// The node this writer signs for.
    pub fn node_id(&self) -> crate::NodeId {
        self.key.node_id()
    }

    /// The chain's last entry, if any.
    pub fn head(&self) -> Option<Head> {
        self.head
    }

    /// Signs the next entry. The caller persists it; if persisting fails, call
    /// [`ChainWriter::rewind`] with the previous head so the number is reused.
    pub fn append(
        &mut self,
        time: DateTime<Utc>,
        user: Option<UserId>,
        action: Action,
        target: Option<Uuid>,
        detail: Detail,
    ) -> Entry {
        let draft = Draft {
            seq: self.head.map_or(0, |h| h.seq + 1),
            prev_hash: self.head.map(|h| h.hash),
            time,
            user,
            action,
            target,
            detail,
        };
        let (entry, hash) = Entry::sign(&self.key, draft, &mut self.scratch);
        self.head = Some(Head {
            seq: entry.seq,
            hash,
        });
        entry
    }

    /// Sets the head back (after a failed write of the entries signed since).
    pub fn rewind(&mut self, head: Option<Head>) {
        self.head = head;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuditLog, verify_chain};

    fn key(b: u8) -> NodeKey {
        NodeKey::from_bytes(&[b; 32])
    }

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).expect("time")
    }

    #[test]
    fn writer_entries_form_a_valid_chain_across_resumes() {
        let mut w = ChainWriter::resume(key(1), None).expect("new");
        let mut all = vec![w.append(t(0), None, Action::Login, None, Detail::None)];
        all.push(w.append(t(1), None, Action::View, Some(Uuid::nil()), Detail::None));
        // A new process resumes from the last stored entry.
        let mut w = ChainWriter::resume(key(1), all.last()).expect("resume");
        all.push(w.append(t(2), None, Action::Logout, None, Detail::None));
        assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![0, 1, 2]);
        verify_chain(&all).expect("valid chain");
        // The same entries merge into a log as if appended there.
        let log = AuditLog::from_entries(all.clone()).expect("log");
        assert_eq!(log.len(), 3);
    }

    #[test]
    fn resume_refuses_a_foreign_or_forged_tail() {
        let mut other = ChainWriter::resume(key(2), None).expect("new");
        let foreign = other.append(t(0), None, Action::Login, None, Detail::None);
        assert!(matches!(
            ChainWriter::resume(key(1), Some(&foreign)),
            Err(VerifyError::ForeignNode { .. })
        ));
        let mut mine = ChainWriter::resume(key(1), None).expect("new");
        let mut e = mine.append(t(0), None, Action::Login, None, Detail::None);
        e.action = Action::Export;
        assert!(matches!(
            ChainWriter::resume(key(1), Some(&e)),
            Err(VerifyError::SignatureMismatch { .. })
        ));
    }

    #[test]
    fn rewind_reuses_the_sequence_number() {
        let mut w = ChainWriter::resume(key(3), None).expect("new");
        let first = w.append(t(0), None, Action::Login, None, Detail::None);
        let head = w.head();
        let _lost = w.append(t(1), None, Action::View, None, Detail::None);
        w.rewind(head);
        let second = w.append(t(2), None, Action::Logout, None, Detail::None);
        assert_eq!(second.seq, 1);
        verify_chain(&[first, second]).expect("valid");
    }
}
