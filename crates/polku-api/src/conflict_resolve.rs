//! Conflicts as the app shows them, and resolving one: when two devices set
//! the same field concurrently, both values are kept (Automerge) and shown
//! to a person, who picks one. A field is named by its path from the
//! client's root joined with dots (`basic.phone`, `periods.<id>.outcome`);
//! each value comes as JSON (strings, numbers, booleans, `null`).
//!
//! Rights: listing needs the view right of the part the field is in (basic
//! data, the record, memos) and is audited as a view with the count;
//! resolving needs the modify right of that part (a memo's field: the memo
//! right), is one incremental change and is audited with the code
//! `conflict_resolve` (never a value).

use chrono::{DateTime, Utc};
use polku_audit::{Action as AuditAction, Code, Detail};
use polku_core::ClientId;
use polku_core::doc::ConflictValue;
use polku_core::rights::Action;
use serde::Serialize;
use serde_json::Value;

use crate::session::Session;
use crate::{ApiError, Result};

const CONFLICT_RESOLVE: Code = match Code::new("conflict_resolve") {
    Ok(c) => c,
    Err(_) => panic!("invalid audit code in the program text"),
};
const CONFLICTS: Code = match Code::new("conflicts") {
    Ok(c) => c,
    Err(_) => panic!("invalid audit code in the program text"),
};

/// One of a conflict's values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConflictChoice {
    /// The value (`null` for a value that cannot be chosen: a map or list).
    pub value: Value,
    /// Who wrote it, when known.
    pub by: Option<String>,
}

/// A field with several concurrent values; the first is the one shown now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConflictRow {
    /// The field's path joined with dots, e.g. `basic.phone`.
    pub field: String,
    /// Its values.
    pub values: Vec<ConflictChoice>,
}

fn to_json(v: &ConflictValue) -> Value {
    match v {
        ConflictValue::Bool(b) => Value::Bool(*b),
        ConflictValue::Int(n) | ConflictValue::Timestamp(n) | ConflictValue::Counter(n) => {
            Value::from(*n)
        }
        ConflictValue::Uint(n) => Value::from(*n),
        ConflictValue::F64(n) => Value::from(*n),
        ConflictValue::Str(s) | ConflictValue::Text(s) => Value::String(s.clone()),
        _ => Value::Null,
    }
}

/// The part of a client a field path is in: what it takes to view and to
/// change it.
fn rights_of(path: &[String]) -> (Action, Action) {
    match path.first().map(String::as_str) {
        Some("basic" | "unit" | "responsible") => (Action::ViewBasic, Action::ModifyBasic),
        Some("memos") => (Action::ViewMemos, Action::WriteMemo),
        _ => (Action::ViewRecord, Action::ModifyRecord),
    }
}

impl Session {
    /// The client's conflicts the user may see (see the module docs).
    pub fn conflict_rows(
        &mut self,
        client: ClientId,
        now: DateTime<Utc>,
    ) -> Result<Vec<ConflictRow>> {
        let summary = self.check_client_for(Action::ViewBasic, client, now)?;
        let doc = self.load_client_doc(client)?;
        let rows: Vec<ConflictRow> = doc
            .conflicts()?
            .into_iter()
            .filter(|c| self.may(rights_of(&c.path).0, &summary))
            .map(|c| ConflictRow {
                field: c.path.join("."),
                values: c
                    .values
                    .iter()
                    .map(|v| ConflictChoice {
                        value: to_json(v),
                        by: None,
                    })
                    .collect(),
            })
            .collect();
        self.record(
            now,
            AuditAction::View,
            Some(client.0),
            Detail::CodeCount {
                code: CONFLICTS,
                count: u32::try_from(rows.len()).unwrap_or(u32::MAX),
            },
        )?;
        Ok(rows)
    }

    /// Settles the conflict of `field` by choosing `value`, one of its
    /// values as [`Session::conflict_rows`] gave them.
    pub fn resolve_conflict(
        &mut self,
        client: ClientId,
        field: &str,
        value: &Value,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let path: Vec<String> = field.split('.').map(str::to_owned).collect();
        self.check_client_for(rights_of(&path).1, client, now)?;
        let mut doc = self.load_client_doc(client)?;
        let conflict = doc
            .conflicts()?
            .into_iter()
            .find(|c| c.path == path)
            .ok_or(ApiError::NotFound("conflict"))?;
        let chosen = conflict
            .values
            .iter()
            .find(|v| !matches!(v, ConflictValue::Text(_)) && to_json(v) == *value)
            .ok_or(ApiError::NotFound("conflict value"))?
            .clone();
        doc.resolve_conflict(&path, &chosen)?;
        let summary = doc.client()?.summary();
        self.write_client_change(
            client,
            &mut doc,
            Some(&summary),
            now,
            Detail::Code(CONFLICT_RESOLVE),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Workspace;
    use polku_core::doc::ClientDoc;

    #[test]
    fn a_conflict_is_listed_with_both_values_and_resolved_to_the_one_chosen() {
        let dir = tempfile::tempdir().expect("tempdir");
        crate::listing::tests::store(dir.path());
        let now = Utc::now();
        let mut s = Workspace::open(dir.path())
            .and_then(|w| w.login("maija", "listing-test-password", now))
            .expect("login");
        let id = s
            .add_client(
                crate::ClientInput {
                    first_name: "Aino".into(),
                    gender: Some("female".into()),
                    ..Default::default()
                },
                now,
            )
            .expect("add");
        // Two devices set the gender concurrently: fork the document, change
        // both sides, merge the other side's change in as a sync would.
        let mut doc = s.load_client_doc(id).expect("doc");
        let mut other: ClientDoc = doc.fork();
        other
            .update(|c| c.basic.gender = Some("male".into()))
            .expect("other");
        doc.update(|c| c.basic.gender = Some("other".into()))
            .expect("here");
        doc.merge(&mut other).expect("merge");
        s.write_client_change(id, &mut doc, None, now, Detail::None)
            .expect("write");

        let rows = s.conflict_rows(id, now).expect("conflicts");
        let row = rows
            .iter()
            .find(|r| r.field == "basic.gender")
            .expect("gender conflict");
        let mut values: Vec<&str> = row.values.iter().filter_map(|v| v.value.as_str()).collect();
        values.sort_unstable();
        assert_eq!(values, ["male", "other"]);

        assert!(matches!(
            s.resolve_conflict(id, "basic.gender", &Value::from("female"), now),
            Err(ApiError::NotFound(_))
        ));
        s.resolve_conflict(id, "basic.gender", &Value::from("male"), now)
            .expect("resolve");
        assert!(s.conflict_rows(id, now).expect("conflicts").is_empty());
        let b = s.client_view(id, now).expect("view").client.basic;
        assert_eq!(b.gender.as_deref(), Some("male"));
        s.close().expect("close");
    }
}
