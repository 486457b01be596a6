//! The credential document (salasanatieto): one per user, holding the user's
//! current password record as opaque bytes (the service layer's encoding of a
//! password verifier and its temporary flag). It syncs between the hub and
//! that user's own devices only, so that a password changed on one device, or
//! reset on the hub, reaches the others at their next sync.
//!
//! The record is one register (a scalar under `record`): two devices that
//! change the password at the same time leave both values as a conflict, and
//! [`records`] returns every one of them so the caller can pick the newest.

use automerge::{AutoCommit, ROOT, ReadDoc, ScalarValue, Value, transaction::Transactable};

use crate::ids::{DocId, UserId};

/// The id of `user`'s credential document: derived from the user id, so that
/// every node finds it without a lookup (and it tells nothing the user id
/// does not).
pub fn credential_doc_id(user: UserId) -> DocId {
    let mut h = blake3::Hasher::new_derive_key("polku 2026-12 credential document id v1");
    h.update(user.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&h.finalize().as_bytes()[..16]);
    DocId(uuid::Builder::from_random_bytes(bytes).into_uuid())
}

/// The user a credential document belongs to.
pub fn credential_user(doc: &AutoCommit) -> Option<UserId> {
    match doc.get(ROOT, "user").ok()?? {
        (Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Bytes(b) => uuid::Uuid::from_slice(b).ok().map(UserId),
            _ => None,
        },
        _ => None,
    }
}

/// Every current value of the record (more than one after concurrent changes).
pub fn records(doc: &AutoCommit) -> Vec<Vec<u8>> {
    doc.get_all(ROOT, "record")
        .map(|all| {
            all.into_iter()
                .filter_map(|(v, _)| match v {
                    Value::Scalar(s) => match s.as_ref() {
                        ScalarValue::Bytes(b) => Some(b.clone()),
                        _ => None,
                    },
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A new credential document for `user` holding `record`.
pub fn new_credential_doc(user: UserId, record: &[u8]) -> AutoCommit {
    let mut doc = AutoCommit::new();
    // Writing fresh keys to a new document cannot fail.
    let _ = doc.put(ROOT, "user", ScalarValue::Bytes(user.as_bytes().to_vec()));
    let _ = doc.put(ROOT, "record", ScalarValue::Bytes(record.to_vec()));
    doc.commit();
    doc
}

/// Replace the record (one change; resolves any conflict to this value).
pub fn set_record(doc: &mut AutoCommit, record: &[u8]) -> Result<(), automerge::AutomergeError> {
    doc.put(ROOT, "record", ScalarValue::Bytes(record.to_vec()))?;
    doc.commit();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_per_user_and_stable() {
        let a = UserId::from_parts(1, [1; 10]);
        let b = UserId::from_parts(1, [2; 10]);
        assert_eq!(credential_doc_id(a), credential_doc_id(a));
        assert_ne!(credential_doc_id(a), credential_doc_id(b));
        assert_ne!(credential_doc_id(a).0, a.0);
    }

    #[test]
    fn concurrent_changes_keep_both_records() {
        let user = UserId::from_parts(1, [1; 10]);
        let mut a = new_credential_doc(user, b"first");
        let mut b = a.fork();
        set_record(&mut a, b"from a").expect("a");
        set_record(&mut b, b"from b").expect("b");
        a.merge(&mut b).expect("merge");
        let mut all = records(&a);
        all.sort();
        assert_eq!(all, vec![b"from a".to_vec(), b"from b".to_vec()]);
        assert_eq!(credential_user(&a), Some(user));
        set_record(&mut a, b"resolved").expect("set");
        assert_eq!(records(&a), vec![b"resolved".to_vec()]);
    }
}
