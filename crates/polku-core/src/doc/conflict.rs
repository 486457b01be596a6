//! Concurrent values of the same field, shown to a person to resolve.
//!
//! When two devices set the same field concurrently, Automerge keeps both
//! values and picks one deterministically for reading. Polku never hides
//! the other one: [`Doc::conflicts`] lists every field with more than one
//! distinct value, and [`Doc::resolve_conflict`] writes the chosen value,
//! which supersedes all of them. Text fields never conflict (they merge
//! character by character).

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ROOT, ReadDoc, ScalarValue};

use super::{Doc, DocError, DocModel, value::child_map};

/// A field with several concurrent values.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// Map keys from the document root, e.g. `["basic", "gender"]` or
    /// `["periods", "<period id>", "outcome"]`.
    pub path: Vec<String>,
    /// The distinct values; the first is the one currently read.
    pub values: Vec<ConflictValue>,
}

/// One of the values in a conflict.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConflictValue {
    /// Null.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    Uint(u64),
    /// A float.
    F64(f64),
    /// A string (codes, names, ids, dates as `YYYY-MM-DD`).
    Str(String),
    /// An instant, milliseconds since the Unix epoch.
    Timestamp(i64),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A counter's value.
    Counter(i64),
    /// A text object (shown, but cannot be chosen).
    Text(String),
    /// A map object (cannot be chosen).
    Map,
    /// A list object (cannot be chosen).
    List,
    /// A value from a newer Automerge.
    Unknown,
}

impl ConflictValue {
    fn from_am(doc: &automerge::AutoCommit, value: &automerge::Value<'_>, id: &ObjId) -> Self {
        match value {
            automerge::Value::Object(ObjType::Text) => {
                ConflictValue::Text(doc.text(id).unwrap_or_default())
            }
            automerge::Value::Object(ObjType::Map | ObjType::Table) => ConflictValue::Map,
            automerge::Value::Object(ObjType::List) => ConflictValue::List,
            automerge::Value::Scalar(s) => match s.as_ref() {
                ScalarValue::Null => ConflictValue::Null,
                ScalarValue::Boolean(b) => ConflictValue::Bool(*b),
                ScalarValue::Int(n) => ConflictValue::Int(*n),
                ScalarValue::Uint(n) => ConflictValue::Uint(*n),
                ScalarValue::F64(n) => ConflictValue::F64(*n),
                ScalarValue::Str(s) => ConflictValue::Str(s.to_string()),
                ScalarValue::Timestamp(t) => ConflictValue::Timestamp(*t),
                ScalarValue::Bytes(b) => ConflictValue::Bytes(b.clone()),
                ScalarValue::Counter(c) => ConflictValue::Counter(i64::from(c)),
                ScalarValue::Unknown { .. } => ConflictValue::Unknown,
            },
        }
    }

    fn to_scalar(&self) -> Option<ScalarValue> {
        Some(match self {
            ConflictValue::Null => ScalarValue::Null,
            ConflictValue::Bool(b) => ScalarValue::Boolean(*b),
            ConflictValue::Int(n) => ScalarValue::Int(*n),
            ConflictValue::Uint(n) => ScalarValue::Uint(*n),
            ConflictValue::F64(n) => ScalarValue::F64(*n),
            ConflictValue::Str(s) => ScalarValue::Str(s.as_str().into()),
            ConflictValue::Timestamp(t) => ScalarValue::Timestamp(*t),
            ConflictValue::Bytes(b) => ScalarValue::Bytes(b.clone()),
            ConflictValue::Counter(_)
            | ConflictValue::Text(_)
            | ConflictValue::Map
            | ConflictValue::List
            | ConflictValue::Unknown => return None,
        })
    }
}

fn values_at(
    doc: &automerge::AutoCommit,
    obj: &ObjId,
    key: &str,
) -> Result<Vec<ConflictValue>, DocError> {
    let all = doc.get_all(obj, key)?;
    // Automerge orders by operation id; the last one wins reads.
    let mut values: Vec<ConflictValue> = Vec::with_capacity(all.len());
    for (v, id) in all.iter().rev() {
        let v = ConflictValue::from_am(doc, v, id);
        if !values.contains(&v) {
            values.push(v);
        }
    }
    Ok(values)
}

fn walk(
    doc: &automerge::AutoCommit,
    obj: &ObjId,
    path: &mut Vec<String>,
    out: &mut Vec<Conflict>,
) -> Result<(), DocError> {
    for item in doc.map_range(obj, ..) {
        let key = item.key.as_ref();
        if path.is_empty() && key.starts_with('@') {
            continue;
        }
        if item.conflict {
            let values = values_at(doc, obj, key)?;
            if values.len() > 1 {
                let mut p = path.clone();
                p.push(key.to_owned());
                out.push(Conflict { path: p, values });
            }
        }
        if matches!(item.value, automerge::ValueRef::Object(ObjType::Map)) {
            path.push(key.to_owned());
            walk(doc, &item.id(), path, out)?;
            path.pop();
        }
    }
    Ok(())
}

impl<T: DocModel> Doc<T> {
    /// Every field that currently holds more than one distinct value.
    pub fn conflicts(&self) -> Result<Vec<Conflict>, DocError> {
        let mut out = Vec::new();
        walk(self.as_automerge(), &ROOT, &mut Vec::new(), &mut out)?;
        Ok(out)
    }

    /// Settles the conflict at `path` by writing `chosen`, which must be one
    /// of its scalar values. The write supersedes every concurrent value.
    pub fn resolve_conflict(
        &mut self,
        path: &[String],
        chosen: &ConflictValue,
    ) -> Result<(), DocError> {
        let path_str = || format!("/{}", path.join("/"));
        let (last, parents) = path
            .split_last()
            .ok_or_else(|| DocError::NotFound { path: path_str() })?;
        let mut obj = ROOT;
        for key in parents {
            obj = child_map(self.as_automerge(), &obj, key)?
                .ok_or_else(|| DocError::NotFound { path: path_str() })?;
        }
        let values = values_at(self.as_automerge(), &obj, last)?;
        let scalar = chosen
            .to_scalar()
            .filter(|_| values.contains(chosen))
            .ok_or_else(|| DocError::NotAConflictValue { path: path_str() })?;
        let am = self.as_automerge_mut();
        am.put(&obj, last.as_str(), scalar)?;
        self.commit_pending();
        Ok(())
    }
}
