//! The mapping between Rust values and Automerge values.
//!
//! Three operations per type:
//! - `to_am`: the whole value as an [`hv::Value`] tree, written in one batch
//!   when a value is new;
//! - `from_am`: the value out of a hydrated tree (one pass over the document,
//!   see [`automerge::ReadDoc::hydrate`]);
//! - `update_am`: write only what differs between an old value (what the
//!   document holds) and a new one. Unchanged fields are never rewritten, so
//!   an update does not silently resolve a conflict on a field it did not
//!   touch, and text changes become minimal splices.
//!
//! Layout rules: structs are maps keyed by field name; `Option::None` is an
//! absent key; id-keyed collections are maps keyed by the id's text; sets are
//! maps `{key: true}`; two-level maps are flattened to `"outer/inner"` keys
//! so that two devices adding the first entry under the same outer key can
//! never create two competing nested objects. Dates are `"YYYY-MM-DD"`
//! strings, instants are Automerge timestamps (milliseconds), enums are
//! their stable strings.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, hydrate as hv};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::DocError;

/// A position in the document, for error messages. Built without allocating;
/// only rendered when an error is reported. Holds field names and ids, never
/// values.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    parent: Option<&'a At<'a>>,
    key: &'a str,
}

impl<'a> At<'a> {
    /// The document root.
    pub fn root() -> At<'static> {
        At {
            parent: None,
            key: "",
        }
    }

    /// A child position.
    pub fn child(&'a self, key: &'a str) -> At<'a> {
        At {
            parent: Some(self),
            key,
        }
    }

    /// A schema error at this position.
    pub fn error(&self, expected: &'static str) -> DocError {
        DocError::Schema {
            path: self.to_string(),
            expected,
        }
    }
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.parent {
            None => f.write_str("/"),
            Some(p) if p.parent.is_none() => write!(f, "/{}", self.key),
            Some(p) => write!(f, "{p}/{}", self.key),
        }
    }
}

/// A Rust value with an Automerge representation.
pub trait AmValue: Sized + PartialEq {
    /// The whole value; `None` means "no key at all".
    fn to_am(&self) -> Option<hv::Value>;

    /// Reads the value; `v` is `None` when the key is absent.
    fn from_am(v: Option<&hv::Value>, at: At<'_>) -> Result<Self, DocError>;

    /// Reads an entry of an id-keyed map; entries that carry their own id
    /// take it from the key.
    fn from_am_entry<K: MapKey>(
        _key: &K,
        v: Option<&hv::Value>,
        at: At<'_>,
    ) -> Result<Self, DocError> {
        Self::from_am(v, at)
    }

    /// Writes the difference from `old` (the value the document holds at
    /// `obj[key]`) to `self`.
    fn update_am(
        &self,
        old: &Self,
        doc: &mut AutoCommit,
        obj: &ObjId,
        key: &str,
    ) -> Result<(), DocError> {
        if self != old {
            write(doc, obj, key, self.to_am())?;
        }
        Ok(())
    }
}

/// A struct stored as a map, whose fields can be updated one by one.
pub trait AmStruct: AmValue {
    /// Writes the changed fields into the map `obj`.
    fn update_fields(&self, old: &Self, doc: &mut AutoCommit, obj: &ObjId) -> Result<(), DocError>;
}

/// Writes a whole value at `obj[key]`, replacing what is there.
pub fn write(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    value: Option<hv::Value>,
) -> Result<(), DocError> {
    match value {
        None => doc.delete(obj, key)?,
        Some(hv::Value::Scalar(s)) => doc.put(obj, key, s)?,
        Some(v) => {
            doc.batch_create_object(obj, key, &v, false)?;
        }
    }
    Ok(())
}

/// The id of the map at `obj[key]`, if there is one.
pub fn child_map(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Option<ObjId>, DocError> {
    Ok(match doc.get(obj, key)? {
        Some((automerge::Value::Object(ObjType::Map), id)) => Some(id),
        _ => None,
    })
}

/// Builds a map value from `(key, value)` pairs, skipping absent values.
pub fn map_value<I>(entries: I) -> hv::Value
where
    I: IntoIterator<Item = (String, Option<hv::Value>)>,
{
    let m: HashMap<String, hv::Value> = entries
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    hv::Value::Map(hv::Map::from(m))
}

/// The map at `v`, or a schema error.
pub fn as_map<'v>(v: Option<&'v hv::Value>, at: At<'_>) -> Result<&'v hv::Map, DocError> {
    match v {
        Some(hv::Value::Map(m)) => Ok(m),
        _ => Err(at.error("a map")),
    }
}

fn scalar(v: Option<&hv::Value>) -> Option<&ScalarValue> {
    match v {
        Some(hv::Value::Scalar(s)) => Some(s),
        _ => None,
    }
}

// ---------------------------------------------------------------- map keys

/// A type usable as a map key in a document.
pub trait MapKey: Ord + Sized + Clone {
    /// The key text.
    fn to_key(&self) -> String;
    /// Parses key text.
    fn from_key(s: &str) -> Option<Self>;
    /// The UUID behind an id key.
    fn as_uuid(&self) -> Option<Uuid> {
        None
    }
    /// Whether an unparsable key is skipped (a value a newer version added,
    /// e.g. a new code list) rather than an error.
    const SKIP_UNKNOWN: bool = false;
}

impl MapKey for String {
    fn to_key(&self) -> String {
        self.clone()
    }
    fn from_key(s: &str) -> Option<Self> {
        Some(s.to_owned())
    }
}

macro_rules! id_value {
    ($($t:ty),* $(,)?) => {$(
        impl MapKey for $t {
            fn to_key(&self) -> String {
                self.to_string()
            }
            fn from_key(s: &str) -> Option<Self> {
                Uuid::try_parse(s).ok().map(Self::from)
            }
            fn as_uuid(&self) -> Option<Uuid> {
                Some(self.0)
            }
        }
        impl AmValue for $t {
            fn to_am(&self) -> Option<hv::Value> {
                Some(hv::Value::Scalar(ScalarValue::Str(self.to_string().into())))
            }
            fn from_am(v: Option<&hv::Value>, at: At<'_>) -> Result<Self, DocError> {
                match scalar(v) {
                    Some(ScalarValue::Str(s)) => Uuid::try_parse(s).map(Self::from).map_err(|_| at.error("an id")),
                    _ => Err(at.error("an id")),
                }
            }
        }
    )*};
}
use crate::anonymised::{AnonymisedId, EncodedRecord};
use crate::ids::*;
id_value!(
    ClientId,
    PeriodId,
    MeasureId,
    MemoId,
    AttachmentId,
    SnapshotId,
    RecordId,
    ActivityMemoId,
    BriefContactId,
    OrgId,
    UnitId,
    UserId,
    DocId,
    AnonymisedId
);

/// Enums stored as their stable strings.
macro_rules! enum_value {
    ($($t:ty),* $(,)?) => {$(
        impl MapKey for $t {
            const SKIP_UNKNOWN: bool = true;
            fn to_key(&self) -> String {
                self.as_str().to_owned()
            }
            fn from_key(s: &str) -> Option<Self> {
                s.parse().ok()
            }
        }
        impl AmValue for $t {
            fn to_am(&self) -> Option<hv::Value> {
                Some(hv::Value::Scalar(ScalarValue::Str(self.as_str().into())))
            }
            fn from_am(v: Option<&hv::Value>, at: At<'_>) -> Result<Self, DocError> {
                match scalar(v) {
                    Some(ScalarValue::Str(s)) => s.parse().map_err(|_| at.error(stringify!($t))),
                    _ => Err(at.error(stringify!($t))),
                }
            }
        }
    )*};
}
use crate::codes::CodeList;
use crate::model::{
    BackgroundField, ConsentTopic, FollowUpInterval, MeasureStatus, Role, SnapshotPhase,
};
use crate::rights::{AdminRight, Scope};
enum_value!(
    AdminRight,
    Scope,
    CodeList,
    BackgroundField,
    ConsentTopic,
    FollowUpInterval,
    MeasureStatus,
    Role,
    SnapshotPhase
);

// ---------------------------------------------------------------- scalars

impl AmValue for String {
    fn to_am(&self) -> Option<hv::Value> {
        Some(hv::Value::Scalar(ScalarValue::Str(self.as_str().into())))
    }
    /// Absent is empty. A text object is accepted too.
    fn from_am(v: Option<&hv::Value>, at: At<'_>) -> Result<Self, DocError> {
        match v {
            None => Ok(String::new()),
            Some(hv::Value::Scalar(ScalarValue::Str(s))) => Ok(s.to_string()),
            Some(hv::Value::Text(t)) => Ok(String::from(t)),
            _ => Err(at.error("a string")),
        }
    }
}

impl AmValue for EncodedRecord {
    fn to_am(&self) -> Option<hv::Value> {
        Some(hv::Value::Scalar(ScalarValue::Bytes(self.0.clone())))
    }
    fn from_am(v: Option<&hv::Value>, at: At<'_>) -> Result<Self, DocError> {
        match v {
            Some(hv::Value::Scalar(ScalarValue::Bytes(b))) => Ok(EncodedRecord(b.clone())),
            _ => Err(at.error("bytes")),
        }
    }
}

impl AmValue for bool {
    fn to_am(&self) -> Option<hv::Value> {
        Some(hv::Value::Scalar(ScalarValue::Boolean(*self)))
    }
    /// Absent is `false`.
    fn from_am(v: Option<&hv::Value>, at: At<'_>) -> Result<Self, DocError> {
        match v {
            None => Ok(false),
            Some(hv::Value::Scalar(ScalarValue::Boolean(b))) => Ok(*b),
            _ => Err(at.error("a boolean")),
        }
    }
}

fn read_u64(v: Option<&hv::Value>, at: At<'_>) -> Result<u64, DocError> {
    match v {
        None => Ok(0),
        Some(hv::Value::Scalar(ScalarValue::Uint(n))) => Ok(*n),
        Some(hv::Value::Scalar(ScalarValue::Int(n))) => {
            u64::try_from(*n).map_err(|_| at.error("a non-negative integer"))
        }
        _ => Err(at.error("a non-negative integer")),
    }
}

impl AmValue for u64 {
    fn to_am(&self) -> Option<hv::Value> {
        Some(hv::Value::Scalar(ScalarValue::Uint(*self)))
    }
    /// Absent is 0.
    fn from_am(v: Option<&hv::Value>, at: At<'_>) -> Result<Self, DocError> {
        read_u64(v, at)
    }
}

impl AmValue for u32 {
    fn to_am(&self) -> Option<hv::Value> {
        Some(hv::Value::Scalar(ScalarValue::Uint(u64::from(*self))))
    }
    /// Absent is 0.
    fn from_am(v: Option<&hv::Value>, at: At<'_>) -> Result<Self, DocError> {
        u32::try_from(read_u64(v, at)?).map_err(|_| at.error("a 32-bit integer"))
    }
}

impl AmValue for NaiveDate {
    fn to_am(&self) -> Option<hv::Value> {
        Some(hv::Value::Scalar(ScalarValue::Str(
            self.format("%Y-%m-%d").to_string().into(),
        )))
    }
    fn from_am(v: Option<&hv::Value>, at: At<'_>) -> Result<Self, DocError> {
        match scalar(v) {
            Some(ScalarValue::Str(s)) => {
                NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| at.error("a date"))
            }
            _ => Err(at.error("a date")),
        }
    }
}

impl AmValue for DateTime<Utc> {
    fn to_am(&self) -> Option<hv::Value> {
        Some(hv::Value::Scalar(ScalarValue::Timestamp(
            self.timestamp_millis(),
        )))
    }
    fn from_am(v: Option<&hv::Value>, at: At<'_>) -> Result<Self, DocError> {
        match scalar(v) {
            Some(ScalarValue::Timestamp(ms)) | Some(ScalarValue::Int(ms)) => {
                DateTime::from_timestamp_millis(*ms).ok_or_else(|| at.error("a timestamp"))
            }
            _ => Err(at.error("a timestamp")),
        }
    }
    fn update_am(
        &self,
        old: &Self,
        doc: &mut AutoCommit,
        obj: &ObjId,
        key: &str,
    ) -> Result<(), DocError> {
        // Stored at millisecond precision: sub-millisecond differences are no change.
        if self.timestamp_millis() != old.timestamp_millis() {
            write(doc, obj, key, self.to_am())?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- option

impl<T: AmValue> AmValue for Option<T> {
    fn to_am(&self) -> Option<hv::Value> {
        self.as_ref().and_then(T::to_am)
    }
    /// Absent or null is `None`.
    fn from_am(v: Option<&hv::Value>, at: At<'_>) -> Result<Self, DocError> {
        match v {
            None | Some(hv::Value::Scalar(ScalarValue::Null)) => Ok(None),
            Some(v) => T::from_am(Some(v), at).map(Some),
        }
    }
    fn update_am(
        &self,
        old: &Self,
        doc: &mut AutoCommit,
        obj: &ObjId,
        key: &str,
    ) -> Result<(), DocError> {
        match (self, old) {
            (None, None) => Ok(()),
            (None, Some(_)) => {
                doc.delete(obj, key)?;
                Ok(())
            }
            (Some(new), Some(old)) => new.update_am(old, doc, obj, key),
            (Some(new), None) => write(doc, obj, key, new.to_am()),
        }
    }
}

// ---------------------------------------------------------------- collections

impl<K: MapKey, V: AmValue> AmValue for BTreeMap<K, V> {
    fn to_am(&self) -> Option<hv::Value> {
        Some(map_value(self.iter().map(|(k, v)| (k.to_key(), v.to_am()))))
    }
    /// Absent is empty.
    fn from_am(v: Option<&hv::Value>, at: At<'_>) -> Result<Self, DocError> {
        let Some(v) = v else {
            return Ok(BTreeMap::new());
        };
        let m = as_map(Some(v), at)?;
        let mut out = BTreeMap::new();
        for (k, mv) in m.iter() {
            let at = at.child(k);
            let key = match K::from_key(k) {
                Some(key) => key,
                None if K::SKIP_UNKNOWN => continue,
                None => return Err(at.error("a valid key")),
            };
            let value = V::from_am_entry(&key, Some(&mv.value), at)?;
            out.insert(key, value);
        }
        Ok(out)
    }
    fn update_am(
        &self,
        old: &Self,
        doc: &mut AutoCommit,
        obj: &ObjId,
        key: &str,
    ) -> Result<(), DocError> {
        if self == old {
            return Ok(());
        }
        let Some(map) = child_map(doc, obj, key)? else {
            return write(doc, obj, key, self.to_am());
        };
        for k in old.keys() {
            if !self.contains_key(k) {
                doc.delete(&map, k.to_key())?;
            }
        }
        for (k, new) in self {
            let kt = k.to_key();
            match old.get(k) {
                Some(old) => new.update_am(old, doc, &map, &kt)?,
                None => write(doc, &map, &kt, new.to_am())?,
            }
        }
        Ok(())
    }
}

impl<K: MapKey> AmValue for BTreeSet<K> {
    fn to_am(&self) -> Option<hv::Value> {
        Some(map_value(self.iter().map(|k| {
            (
                k.to_key(),
                Some(hv::Value::Scalar(ScalarValue::Boolean(true))),
            )
        })))
    }
    /// Absent is empty.
    fn from_am(v: Option<&hv::Value>, at: At<'_>) -> Result<Self, DocError> {
        let Some(v) = v else {
            return Ok(BTreeSet::new());
        };
        let m = as_map(Some(v), at)?;
        m.keys()
            .filter_map(|k| match K::from_key(k) {
                Some(key) => Some(Ok(key)),
                None if K::SKIP_UNKNOWN => None,
                None => Some(Err(at.child(k).error("a valid key"))),
            })
            .collect()
    }
    fn update_am(
        &self,
        old: &Self,
        doc: &mut AutoCommit,
        obj: &ObjId,
        key: &str,
    ) -> Result<(), DocError> {
        if self == old {
            return Ok(());
        }
        let Some(map) = child_map(doc, obj, key)? else {
            return write(doc, obj, key, self.to_am());
        };
        for k in old.difference(self) {
            doc.delete(&map, k.to_key())?;
        }
        for k in self.difference(old) {
            doc.put(&map, k.to_key(), true)?;
        }
        Ok(())
    }
}
