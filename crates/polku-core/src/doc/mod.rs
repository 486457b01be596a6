//! Automerge documents: two per client ([`BasicDoc`] with the basic data,
//! [`RecordDoc`] with the rest, read and written together as a
//! [`ClientDoc`]), one per activity memo ([`ActivityMemoDoc`]) and one
//! organisation document ([`OrgDoc`]).
//!
//! A [`Doc<T>`] wraps an [`AutoCommit`] and maps it to the domain type `T`:
//! - [`Doc::get`] hydrates the whole value in one pass;
//! - [`Doc::update`] runs a closure on the value and writes back only the
//!   fields that changed; free-text fields (memo text, background, goals,
//!   final assessment, activity memo text, …) are Automerge text, and a new
//!   whole string is applied as a minimal splice diff, so concurrent edits
//!   merge character by character;
//! - concurrent writes to the same scalar field are kept as conflicts:
//!   [`Doc::conflicts`] lists them and [`Doc::resolve_conflict`] settles one;
//! - [`Doc::save`] / [`Doc::save_incremental`] / [`Doc::load_incremental`]
//!   feed the store's snapshots and append-only change log.
//!
//! The document root holds `@kind` (the [`DocKind`]) and `@schema` (the
//! layout version) next to the value's own fields.

mod client;
mod conflict;
pub mod credential;
pub(crate) mod modes;
mod schema;
pub(crate) mod value;

use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};

pub use automerge::{ActorId, AutoCommit, ChangeHash};
use automerge::{ObjType, ROOT, ReadDoc, ScalarValue, transaction::Transactable};

pub use client::{ClientDoc, ClientTextField};
pub use conflict::{Conflict, ConflictValue};

use crate::anonymised::{AnonymisedEntry, StatsExtract};
use crate::ids::{DocId, DocKind};
use crate::model::{ActivityMemo, BriefContactLog, ClientBasic, ClientRecord, Organisation};
use value::At;

/// Layout version written into new documents.
pub const SCHEMA_VERSION: u64 = 1;
/// Root key holding the document kind.
pub const KIND_KEY: &str = "@kind";
/// Root key holding the layout version.
pub const SCHEMA_KEY: &str = "@schema";

/// Errors of document operations. Messages name fields and ids only, never
/// values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocError {
    /// The bytes are not an Automerge document.
    #[error("bytes are not a valid Automerge document")]
    Decode(#[source] automerge::AutomergeError),
    /// The Automerge decoder panicked on the bytes (caught).
    #[error("the Automerge decoder failed on malformed bytes")]
    DecodePanic,
    /// The document has no `@kind`: not a Polku document.
    #[error("not a Polku document")]
    NotPolku,
    /// The document is of another kind.
    #[error("expected a {expected:?} document, found {found:?}")]
    WrongKind {
        /// The kind asked for.
        expected: DocKind,
        /// The kind found (`None` if not a known kind).
        found: Option<DocKind>,
    },
    /// Written by a newer version of Polku.
    #[error("document layout version {found} is newer than the supported {supported}")]
    UnsupportedSchema {
        /// Version in the document.
        found: u64,
        /// Newest version this build reads.
        supported: u64,
    },
    /// A value does not have the expected shape.
    #[error("document does not match the schema at {path}: expected {expected}")]
    Schema {
        /// Where (field names and ids).
        path: String,
        /// What was expected there.
        expected: &'static str,
    },
    /// An Automerge operation failed.
    #[error("automerge operation failed")]
    Automerge(#[from] automerge::AutomergeError),
    /// Two different documents cannot be merged.
    #[error("cannot merge two different documents")]
    DifferentDocument,
    /// An update tried to change the document's id.
    #[error("the id of a document cannot change")]
    IdChanged,
    /// Nothing at the given path (e.g. no memo with that id).
    #[error("nothing at {path}")]
    NotFound {
        /// Where.
        path: String,
    },
    /// A text splice outside the text.
    #[error("text range {pos}+{delete} is outside a text of length {len}")]
    OutOfRange {
        /// Start, in Unicode code points.
        pos: usize,
        /// Characters to delete.
        delete: usize,
        /// Length of the text in Unicode code points.
        len: usize,
    },
    /// The chosen value is not one of the values in conflict, or cannot be
    /// set back (an object).
    #[error("the chosen value is not a resolvable value of the conflict at {path}")]
    NotAConflictValue {
        /// Where.
        path: String,
    },
}

mod sealed {
    /// Keeps [`super::DocModel`] implementable only in this crate.
    pub trait Sealed: super::value::AmStruct + Clone {}
    impl Sealed for crate::model::ClientBasic {}
    impl Sealed for crate::model::ClientRecord {}
    impl Sealed for crate::anonymised::StatsExtract {}
    impl Sealed for crate::anonymised::AnonymisedEntry {}
    impl Sealed for crate::model::ActivityMemo {}
    impl Sealed for crate::model::BriefContactLog {}
    impl Sealed for crate::model::Organisation {}
}

/// A domain type that is a whole document.
pub trait DocModel: sealed::Sealed {
    /// The kind of document.
    const KIND: DocKind;
    /// The document id the value belongs to.
    fn doc_id(&self) -> DocId;
}

impl DocModel for ClientBasic {
    const KIND: DocKind = DocKind::Client;
    fn doc_id(&self) -> DocId {
        self.id.into()
    }
}
impl DocModel for ClientRecord {
    const KIND: DocKind = DocKind::ClientRecord;
    fn doc_id(&self) -> DocId {
        self.id
    }
}
impl DocModel for StatsExtract {
    const KIND: DocKind = DocKind::StatsExtract;
    fn doc_id(&self) -> DocId {
        self.id
    }
}
impl DocModel for AnonymisedEntry {
    const KIND: DocKind = DocKind::Anonymised;
    fn doc_id(&self) -> DocId {
        self.id
    }
}
impl DocModel for ActivityMemo {
    const KIND: DocKind = DocKind::ActivityMemo;
    fn doc_id(&self) -> DocId {
        self.id.into()
    }
}
impl DocModel for BriefContactLog {
    const KIND: DocKind = DocKind::BriefContacts;
    fn doc_id(&self) -> DocId {
        self.id
    }
}
impl DocModel for Organisation {
    const KIND: DocKind = DocKind::Organisation;
    fn doc_id(&self) -> DocId {
        self.id.into()
    }
}

fn kind_str(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Client => "client",
        DocKind::ActivityMemo => "activity_memo",
        DocKind::Organisation => "organisation",
        DocKind::Credential => "credential",
        DocKind::ClientRecord => "client_record",
        DocKind::StatsExtract => "stats_extract",
        DocKind::BriefContacts => "brief_contacts",
        DocKind::Anonymised => "anonymised",
    }
}

fn kind_from_str(s: &str) -> Option<DocKind> {
    [
        DocKind::Client,
        DocKind::ActivityMemo,
        DocKind::Organisation,
        DocKind::Credential,
        DocKind::ClientRecord,
        DocKind::StatsExtract,
        DocKind::BriefContacts,
        DocKind::Anonymised,
    ]
    .into_iter()
    .find(|k| kind_str(*k) == s)
}

/// A client's basic-data document.
pub type BasicDoc = Doc<ClientBasic>;
/// The rest of a client's record.
pub type RecordDoc = Doc<ClientRecord>;
/// The statistics extract document (see [`crate::anonymised::StatsExtract`]).
pub type ExtractDoc = Doc<StatsExtract>;
/// An erased client's anonymised record (see [`crate::anonymised::AnonymisedEntry`]).
pub type AnonymisedDoc = Doc<AnonymisedEntry>;
/// An activity memo document.
pub type ActivityMemoDoc = Doc<ActivityMemo>;
/// One unit's brief contacts of one month (see [`crate::model::BriefContactLog`]).
pub type BriefDoc = Doc<BriefContactLog>;
/// The organisation document.
pub type OrgDoc = Doc<Organisation>;

/// An Automerge document holding one `T`.
pub struct Doc<T> {
    am: AutoCommit,
    /// Heads at the last save (or load): `save_incremental` writes what came after.
    saved: Vec<ChangeHash>,
    /// Message of the changes this document commits (see [`Doc::set_commit_message`]).
    message: Option<String>,
    _model: PhantomData<fn() -> T>,
}

impl<T: DocModel> std::fmt::Debug for Doc<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Doc")
            .field("kind", &T::KIND)
            .field("actor", self.am.get_actor())
            .finish_non_exhaustive()
    }
}

impl<T: DocModel> Doc<T> {
    /// A new document holding `value`, with a fresh random actor id.
    pub fn new(value: &T) -> Result<Self, DocError> {
        Self::new_with_actor(value, ActorId::random())
    }

    /// A new document holding `value`, written by `actor`.
    pub fn new_with_actor(value: &T, actor: ActorId) -> Result<Self, DocError> {
        let mut doc = Self::new_uncommitted(value, actor)?;
        doc.commit_pending();
        Ok(doc)
    }

    /// A new document holding `value`, with a fresh random actor id, whose
    /// changes (the first one included) carry `message` (see
    /// [`Doc::set_commit_message`]).
    pub fn new_with_message(value: &T, message: Option<String>) -> Result<Self, DocError> {
        let mut doc = Self::new_uncommitted(value, ActorId::random())?;
        doc.message = message;
        doc.commit_pending();
        Ok(doc)
    }

    fn new_uncommitted(value: &T, actor: ActorId) -> Result<Self, DocError> {
        let mut am = AutoCommit::new().with_actor(actor);
        let Some(automerge::hydrate::Value::Map(mut root)) = value.to_am() else {
            return Err(At::root().error("a map"));
        };
        for (k, v) in [
            (KIND_KEY, ScalarValue::Str(kind_str(T::KIND).into())),
            (SCHEMA_KEY, ScalarValue::Uint(SCHEMA_VERSION)),
        ] {
            root.insert(
                k.to_owned(),
                automerge::hydrate::MapValue {
                    value: automerge::hydrate::Value::Scalar(v),
                    conflict: false,
                },
            );
        }
        am.init_root_from_hydrate(&root)?;
        Ok(Self {
            am,
            saved: Vec::new(),
            message: None,
            _model: PhantomData,
        })
    }

    /// Loads a saved document (the output of [`Doc::save`], optionally
    /// followed by incremental saves) with a fresh random actor id. Garbage
    /// gives an error, never a panic.
    pub fn load(bytes: &[u8]) -> Result<Self, DocError> {
        Self::load_with_actor(bytes, ActorId::random())
    }

    /// [`Doc::load`] with a given actor id.
    pub fn load_with_actor(bytes: &[u8], actor: ActorId) -> Result<Self, DocError> {
        let loaded = catch_unwind(|| AutoCommit::load(bytes)).map_err(|_| DocError::DecodePanic)?;
        let am = loaded.map_err(DocError::Decode)?.with_actor(actor);
        let mut doc = Self::from_automerge(am)?;
        doc.mark_saved();
        Ok(doc)
    }

    /// Loads a snapshot and then the change-log entries written after it
    /// (outputs of [`Doc::save_incremental`]); the result counts as saved.
    pub fn load_with_log<'a, I>(snapshot: &[u8], log: I) -> Result<Self, DocError>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let mut doc = Self::load(snapshot)?;
        for entry in log {
            doc.load_incremental(entry)?;
        }
        doc.mark_saved();
        Ok(doc)
    }

    /// Wraps an Automerge document after checking its kind and layout
    /// version. Everything in it counts as unsaved.
    pub fn from_automerge(am: AutoCommit) -> Result<Self, DocError> {
        check_kind(&am, T::KIND)?;
        Ok(Self {
            am,
            saved: Vec::new(),
            message: None,
            _model: PhantomData,
        })
    }

    /// The inner Automerge document (for sync).
    pub fn as_automerge(&self) -> &AutoCommit {
        &self.am
    }

    /// The inner Automerge document, mutable (for sync). Writing values by
    /// hand bypasses the schema: prefer [`Doc::update`].
    pub fn as_automerge_mut(&mut self) -> &mut AutoCommit {
        &mut self.am
    }

    /// Unwraps the Automerge document.
    pub fn into_automerge(self) -> AutoCommit {
        self.am
    }

    /// The actor id this instance writes with.
    pub fn actor(&self) -> &ActorId {
        self.am.get_actor()
    }

    /// Changes the actor id this instance writes with.
    pub fn set_actor(&mut self, actor: ActorId) {
        self.am.set_actor(actor);
    }

    /// The document id stored in the document.
    pub fn doc_id(&self) -> Result<DocId, DocError> {
        match self.am.get(ROOT, "id")? {
            Some((automerge::Value::Scalar(s), _)) => match s.as_ref() {
                ScalarValue::Str(s) => uuid::Uuid::try_parse(s)
                    .map(DocId)
                    .map_err(|_| At::root().child("id").error("an id")),
                _ => Err(At::root().child("id").error("an id")),
            },
            _ => Err(At::root().child("id").error("an id")),
        }
    }

    /// The current heads.
    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.am.get_heads()
    }

    /// Hydrates the value of an Automerge document of this kind without
    /// wrapping (or copying) it; its kind and layout version are checked.
    pub fn read(am: &AutoCommit) -> Result<T, DocError> {
        check_kind(am, T::KIND)?;
        let root = am.hydrate(ROOT, None)?;
        T::from_am(Some(&root), At::root())
    }

    /// Hydrates the value.
    pub fn get(&self) -> Result<T, DocError> {
        let root = self.am.hydrate(ROOT, None)?;
        T::from_am(Some(&root), At::root())
    }

    /// Sets the message of every change this document commits from now on
    /// (Polku records the author's audit-chain position there; no personal
    /// data). `None`: no message.
    pub fn set_commit_message(&mut self, message: Option<String>) {
        self.message = message;
    }

    /// Commits pending operations as one change, with the commit message.
    pub(crate) fn commit_pending(&mut self) {
        match &self.message {
            Some(m) => {
                self.am.commit_with(
                    automerge::transaction::CommitOptions::default().with_message(m.clone()),
                );
            }
            None => {
                self.am.commit();
            }
        }
    }

    /// Runs `f` on the current value and writes back only what it changed,
    /// as one Automerge change. The id cannot change.
    pub fn update<R>(&mut self, f: impl FnOnce(&mut T) -> R) -> Result<R, DocError> {
        let old = self.get()?;
        let mut new = old.clone();
        let r = f(&mut new);
        self.write_diff(&old, &new)?;
        Ok(r)
    }

    /// Makes the document hold `value`, writing only the differences.
    pub fn set(&mut self, value: &T) -> Result<(), DocError> {
        let old = self.get()?;
        self.write_diff(&old, value)
    }

    fn write_diff(&mut self, old: &T, new: &T) -> Result<(), DocError> {
        if new.doc_id() != old.doc_id() {
            return Err(DocError::IdChanged);
        }
        let res = new.update_fields(old, &mut self.am, &ROOT);
        if res.is_err() {
            self.am.rollback();
            return res;
        }
        self.commit_pending();
        Ok(())
    }

    /// The whole document, compacted. Marks everything as saved.
    pub fn save(&mut self) -> Vec<u8> {
        let bytes = self.am.save();
        self.mark_saved();
        bytes
    }

    /// The changes since the last save, load or `save_incremental` (empty
    /// when there are none), for an append-only change log.
    pub fn save_incremental(&mut self) -> Vec<u8> {
        let bytes = self.am.save_after(&self.saved);
        self.mark_saved();
        bytes
    }

    /// Whether there are changes that neither `save` nor `save_incremental`
    /// has returned yet.
    pub fn has_unsaved_changes(&mut self) -> bool {
        self.am.get_heads() != self.saved
    }

    /// Declares the current state persisted.
    pub fn mark_saved(&mut self) {
        self.saved = self.am.get_heads();
    }

    /// Applies saved bytes or changes (e.g. a change-log entry) to this
    /// document. They count as unsaved until the next save.
    pub fn load_incremental(&mut self, bytes: &[u8]) -> Result<(), DocError> {
        let am = &mut self.am;
        catch_unwind(AssertUnwindSafe(|| am.load_incremental(bytes)))
            .map_err(|_| DocError::DecodePanic)?
            .map_err(DocError::Decode)?;
        Ok(())
    }

    /// Takes all changes of `other` that this document lacks.
    pub fn merge(&mut self, other: &mut Doc<T>) -> Result<Vec<ChangeHash>, DocError> {
        if self.doc_id()? != other.doc_id()? {
            return Err(DocError::DifferentDocument);
        }
        Ok(self.am.merge(&mut other.am)?)
    }

    /// Creates an independent copy at the same state with a fresh actor id
    /// (e.g. a second device in tests).
    pub fn fork(&mut self) -> Doc<T> {
        Doc {
            am: self.am.fork().with_actor(ActorId::random()),
            saved: Vec::new(),
            message: None,
            _model: PhantomData,
        }
    }

    /// Sets a text field (addressed by map keys from the root) to `new`,
    /// applying a minimal diff.
    fn set_text_at(&mut self, path: &[&str], new: &str) -> Result<(), DocError> {
        let obj = self.text_obj(path)?;
        self.am.update_text(&obj, new)?;
        self.commit_pending();
        Ok(())
    }

    /// Splices a text field: deletes `delete` characters at `pos` and
    /// inserts `insert` there (positions in Unicode code points).
    fn splice_text_at(
        &mut self,
        path: &[&str],
        pos: usize,
        delete: usize,
        insert: &str,
    ) -> Result<(), DocError> {
        let obj = self.text_obj(path)?;
        let len = self.am.length(&obj);
        let del = isize::try_from(delete).map_err(|_| DocError::OutOfRange { pos, delete, len })?;
        if pos.checked_add(delete).is_none_or(|end| end > len) {
            return Err(DocError::OutOfRange { pos, delete, len });
        }
        self.am.splice_text(&obj, pos, del, insert)?;
        self.commit_pending();
        Ok(())
    }

    fn text_obj(&self, path: &[&str]) -> Result<automerge::ObjId, DocError> {
        let not_found = || DocError::NotFound {
            path: format!("/{}", path.join("/")),
        };
        let (last, parents) = path.split_last().ok_or_else(not_found)?;
        let mut obj = ROOT;
        for key in parents {
            obj = value::child_map(&self.am, &obj, key)?.ok_or_else(not_found)?;
        }
        match self.am.get(&obj, *last)? {
            Some((automerge::Value::Object(ObjType::Text), id)) => Ok(id),
            _ => Err(not_found()),
        }
    }
}

fn check_kind(am: &AutoCommit, expected: DocKind) -> Result<(), DocError> {
    let kind = match am.get(ROOT, KIND_KEY)? {
        Some((automerge::Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Str(s) => kind_from_str(s),
            _ => return Err(DocError::NotPolku),
        },
        _ => return Err(DocError::NotPolku),
    };
    if kind != Some(expected) {
        return Err(DocError::WrongKind {
            expected,
            found: kind,
        });
    }
    match am.get(ROOT, SCHEMA_KEY)? {
        Some((automerge::Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Uint(v) if *v <= SCHEMA_VERSION => Ok(()),
            ScalarValue::Uint(v) => Err(DocError::UnsupportedSchema {
                found: *v,
                supported: SCHEMA_VERSION,
            }),
            _ => Err(At::root().child(SCHEMA_KEY).error("a version number")),
        },
        _ => Err(At::root().child(SCHEMA_KEY).error("a version number")),
    }
}

/// The kind of a saved document, read without knowing it in advance.
pub fn peek_kind(bytes: &[u8]) -> Result<DocKind, DocError> {
    let am = catch_unwind(|| AutoCommit::load(bytes))
        .map_err(|_| DocError::DecodePanic)?
        .map_err(DocError::Decode)?;
    match am.get(ROOT, KIND_KEY)? {
        Some((automerge::Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Str(s) => kind_from_str(s).ok_or(DocError::NotPolku),
            _ => Err(DocError::NotPolku),
        },
        _ => Err(DocError::NotPolku),
    }
}

#[cfg(test)]
mod tests;
