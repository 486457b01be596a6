//! Document operations specific to one kind of document: a client's two
//! documents read and written as one, addressing text fields for direct
//! edits.

use automerge::{AutoCommit, ChangeHash};

use super::{
    ActivityMemoDoc, ActorId, BasicDoc, BriefDoc, Conflict, ConflictValue, DocError, OrgDoc,
    RecordDoc,
};
use crate::ids::{ClientId, DocId, DocKind, MemoId, PeriodId, RecordId};
use crate::model::{
    ActivityMemo, BackgroundField, BriefContactLog, Client, ClientRecord, ClientSummary,
    Organisation, record_doc_id,
};

/// A free-text field of a client document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientTextField {
    /// One background (taustatiedot) text.
    Background(BackgroundField),
    /// Goals of a period.
    PeriodGoals(PeriodId),
    /// Final assessment of a period.
    PeriodFinalAssessment(PeriodId),
    /// Text of a memo.
    Memo(MemoId),
    /// Follow-up decided on a referral.
    ReferralFollowUp(RecordId),
    /// Notes of a follow-up.
    FollowUpNotes(RecordId),
}

impl ClientTextField {
    fn path(self) -> (String, Option<String>, &'static str) {
        match self {
            ClientTextField::Background(f) => ("background".into(), None, f.as_str()),
            ClientTextField::PeriodGoals(p) => ("periods".into(), Some(p.to_string()), "goals"),
            ClientTextField::PeriodFinalAssessment(p) => {
                ("periods".into(), Some(p.to_string()), "final_assessment")
            }
            ClientTextField::Memo(m) => ("memos".into(), Some(m.to_string()), "text"),
            ClientTextField::ReferralFollowUp(r) => {
                ("referrals".into(), Some(r.to_string()), "follow_up")
            }
            ClientTextField::FollowUpNotes(r) => {
                ("follow_ups".into(), Some(r.to_string()), "notes")
            }
        }
    }
}

/// Top-level keys of a client's basic-data document.
const BASIC_KEYS: [&str; 5] = ["id", "created_at", "basic", "unit", "responsible"];

impl RecordDoc {
    /// The first change of `client`'s record document, the same bytes on
    /// every node: its actor is derived from the client's id and it carries no
    /// time or message. Two devices that each start the record (offline)
    /// therefore share its maps and texts, and their later changes merge
    /// instead of hiding each other behind a conflict. Later changes are
    /// written with a fresh random actor.
    pub fn genesis(client: ClientId) -> Result<Self, DocError> {
        let mut h = blake3::Hasher::new_derive_key("polku 2026-12 client record genesis actor v1");
        h.update(client.0.as_bytes());
        let actor = ActorId::from(&h.finalize().as_bytes()[..16]);
        let mut doc = Self::new_with_actor(&ClientRecord::empty(client), actor)?;
        doc.set_actor(ActorId::random());
        Ok(doc)
    }
}

/// Both documents of one client, read and written together: the basic data
/// ([`BasicDoc`], id = the client's id) and the rest of the record
/// ([`RecordDoc`], id = [`record_doc_id`]). A user with the basic-data right
/// only holds no record document: the client then reads with an empty
/// record, and writing to the record is refused by rights before it gets here.
#[derive(Debug)]
pub struct ClientDoc {
    basic: BasicDoc,
    record: Option<RecordDoc>,
    /// The record document was started here and is not stored yet.
    record_new: bool,
}

/// What [`ClientDoc::save_changes`] returns for one of the two documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartSave {
    /// The document's id.
    pub id: DocId,
    /// Its kind.
    pub kind: DocKind,
    /// New here: the whole document (store it as a new document). Else the
    /// changes since the last save (append them to its change log).
    pub new: bool,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Heads after them.
    pub heads: Vec<ChangeHash>,
}

impl ClientDoc {
    /// New documents holding `client` (the record document only when there
    /// is something in it), with fresh random actors.
    pub fn new(client: &Client) -> Result<Self, DocError> {
        Self::new_with_message(client, None)
    }

    /// [`ClientDoc::new`] whose changes carry `message` (see
    /// [`Doc::set_commit_message`]).
    pub fn new_with_message(client: &Client, message: Option<String>) -> Result<Self, DocError> {
        let (basic, record) = client.split();
        let mut doc = Self {
            basic: BasicDoc::new_with_message(&basic, message.clone())?,
            record: None,
            record_new: false,
        };
        if !record.is_empty() {
            doc.record_mut()?.set(&record)?;
        }
        Ok(doc)
    }

    /// [`ClientDoc::new`] written by `actor` (the record's first change is
    /// still the shared one, see [`RecordDoc::genesis`]).
    pub fn new_with_actor(client: &Client, actor: ActorId) -> Result<Self, DocError> {
        let mut doc = Self::new(client)?;
        doc.basic.set_actor(actor.clone());
        if let Some(r) = doc.record.as_mut() {
            r.set_actor(actor);
        }
        Ok(doc)
    }

    /// Loads the two saved documents (see [`Doc::load_with_actor`]), written
    /// from now on by `actor`.
    pub fn load_parts_with_actor(
        basic: &[u8],
        record: Option<&[u8]>,
        actor: ActorId,
    ) -> Result<Self, DocError> {
        let basic = BasicDoc::load_with_actor(basic, actor.clone())?.into_automerge();
        let record = match record {
            Some(r) => Some(RecordDoc::load_with_actor(r, actor)?.into_automerge()),
            None => None,
        };
        Self::from_parts(basic, record)
    }

    /// The heads of both documents (the record's when this node holds one).
    pub fn heads(&mut self) -> (Vec<ChangeHash>, Option<Vec<ChangeHash>>) {
        (self.basic.heads(), self.record.as_mut().map(|r| r.heads()))
    }

    /// Loads the two saved documents with fresh random actors.
    pub fn load_parts(basic: &[u8], record: Option<&[u8]>) -> Result<Self, DocError> {
        Self::load_parts_with_actor(basic, record, ActorId::random())
    }

    /// The actor id this instance writes with.
    pub fn actor(&self) -> &ActorId {
        self.basic.actor()
    }

    /// Wraps the two stored documents (after checking their kinds and that
    /// they belong together). Everything in them counts as saved.
    pub fn from_parts(basic: AutoCommit, record: Option<AutoCommit>) -> Result<Self, DocError> {
        let mut basic = BasicDoc::from_automerge(basic)?;
        basic.mark_saved();
        let record = match record {
            Some(am) => {
                let mut r = RecordDoc::from_automerge(am)?;
                let id = basic.doc_id()?;
                if r.doc_id()? != record_doc_id(ClientId(id.0)) {
                    return Err(DocError::DifferentDocument);
                }
                r.mark_saved();
                Some(r)
            }
            None => None,
        };
        Ok(Self {
            basic,
            record,
            record_new: false,
        })
    }

    /// The client's id.
    pub fn id(&self) -> Result<ClientId, DocError> {
        Ok(ClientId(self.basic.doc_id()?.0))
    }

    /// Hydrates the client (with an empty record when this node holds none).
    pub fn client(&self) -> Result<Client, DocError> {
        let basic = self.basic.get()?;
        let record = self.record.as_ref().map(|r| r.get()).transpose()?;
        Ok(Client::join(basic, record))
    }

    /// The basic-data document.
    pub fn basic(&self) -> &BasicDoc {
        &self.basic
    }

    /// The basic-data document, mutable (sync, tests).
    pub fn basic_mut(&mut self) -> &mut BasicDoc {
        &mut self.basic
    }

    /// The record document, when this node holds one.
    pub fn record(&self) -> Option<&RecordDoc> {
        self.record.as_ref()
    }

    /// The record document, mutable, when this node holds one.
    pub fn record_if_held(&mut self) -> Option<&mut RecordDoc> {
        self.record.as_mut()
    }

    /// The record document, started here from its shared first change when
    /// this node holds none yet.
    pub fn record_mut(&mut self) -> Result<&mut RecordDoc, DocError> {
        if self.record.is_none() {
            let mut r = RecordDoc::genesis(self.id()?)?;
            r.set_commit_message(self.basic.message.clone());
            self.record = Some(r);
            self.record_new = true;
        }
        Ok(self.record.as_mut().expect("just set"))
    }

    /// Sets the message of every change both documents commit from now on.
    pub fn set_commit_message(&mut self, message: Option<String>) {
        if let Some(r) = self.record.as_mut() {
            r.set_commit_message(message.clone());
        }
        self.basic.set_commit_message(message);
    }

    /// Runs `f` on the client and writes back only what it changed, to the
    /// document(s) holding it. The id cannot change.
    pub fn update<R>(&mut self, f: impl FnOnce(&mut Client) -> R) -> Result<R, DocError> {
        let old = self.client()?;
        let mut new = old.clone();
        let r = f(&mut new);
        if new.id != old.id {
            return Err(DocError::IdChanged);
        }
        let (old_basic, old_record) = old.split();
        let (new_basic, new_record) = new.split();
        if new_basic != old_basic {
            self.basic.set(&new_basic)?;
        }
        if new_record != old_record {
            self.record_mut()?.set(&new_record)?;
        }
        Ok(r)
    }

    /// Sets a text field to `text` as a minimal splice diff.
    pub fn set_text(&mut self, field: ClientTextField, text: &str) -> Result<(), DocError> {
        let (a, b, c) = field.path();
        let record = self.record_mut()?;
        match &b {
            Some(b) => record.set_text_at(&[&a, b, c], text),
            None => record.set_text_at(&[&a, c], text),
        }
    }

    /// Deletes `delete` characters at `pos` of a text field and inserts
    /// `insert` there. Positions count Unicode code points.
    pub fn splice_text(
        &mut self,
        field: ClientTextField,
        pos: usize,
        delete: usize,
        insert: &str,
    ) -> Result<(), DocError> {
        let (a, b, c) = field.path();
        let record = self.record_mut()?;
        match &b {
            Some(b) => record.splice_text_at(&[&a, b, c], pos, delete, insert),
            None => record.splice_text_at(&[&a, c], pos, delete, insert),
        }
    }

    /// Sets a memo's text to `text` as a minimal splice diff.
    pub fn set_memo_text(&mut self, memo: MemoId, text: &str) -> Result<(), DocError> {
        self.set_text(ClientTextField::Memo(memo), text)
    }

    /// Splices a memo's text (positions in Unicode code points).
    pub fn splice_memo_text(
        &mut self,
        memo: MemoId,
        pos: usize,
        delete: usize,
        insert: &str,
    ) -> Result<(), DocError> {
        self.splice_text(ClientTextField::Memo(memo), pos, delete, insert)
    }

    /// Concurrent values of both documents (paths from each document's root;
    /// the two documents' top-level keys differ).
    pub fn conflicts(&self) -> Result<Vec<Conflict>, DocError> {
        let mut out = self.basic.conflicts()?;
        if let Some(r) = &self.record {
            out.extend(r.conflicts()?);
        }
        Ok(out)
    }

    /// Settles the conflict at `path` (see [`Doc::resolve_conflict`]) in the
    /// document that holds it.
    pub fn resolve_conflict(
        &mut self,
        path: &[String],
        chosen: &ConflictValue,
    ) -> Result<(), DocError> {
        let in_basic = path
            .first()
            .is_some_and(|k| BASIC_KEYS.contains(&k.as_str()));
        match (in_basic, self.record.as_mut()) {
            (true, _) => self.basic.resolve_conflict(path, chosen),
            (false, Some(r)) => r.resolve_conflict(path, chosen),
            (false, None) => Err(DocError::NotFound {
                path: format!("/{}", path.join("/")),
            }),
        }
    }

    /// Whether either document has changes not saved yet.
    pub fn has_unsaved_changes(&mut self) -> bool {
        self.basic.has_unsaved_changes()
            || self.record_new
            || self
                .record
                .as_mut()
                .is_some_and(|r| r.has_unsaved_changes())
    }

    /// What to write to the store for the changes since the last save: the
    /// changes of each document that has any (a record started here: whole).
    /// Marks them saved.
    pub fn save_changes(&mut self) -> Vec<PartSave> {
        let mut out = Vec::new();
        if self.basic.has_unsaved_changes() {
            let bytes = self.basic.save_incremental();
            out.push(PartSave {
                id: self.basic.doc_id().unwrap_or(DocId(uuid::Uuid::nil())),
                kind: DocKind::Client,
                new: false,
                bytes,
                heads: self.basic.heads(),
            });
        }
        let new = std::mem::take(&mut self.record_new);
        if let Some(r) = self.record.as_mut()
            && (new || r.has_unsaved_changes())
        {
            let bytes = if new { r.save() } else { r.save_incremental() };
            out.push(PartSave {
                id: r.doc_id().unwrap_or(DocId(uuid::Uuid::nil())),
                kind: DocKind::ClientRecord,
                new,
                bytes,
                heads: r.heads(),
            });
        }
        out
    }

    /// Both documents whole (a client created here): basic, then the record
    /// when there is one. Marks them saved.
    pub fn save_new(&mut self) -> (Vec<u8>, Option<Vec<u8>>) {
        self.record_new = false;
        (self.basic.save(), self.record.as_mut().map(|r| r.save()))
    }

    /// Takes all changes of `other` that these documents lack.
    pub fn merge(&mut self, other: &mut ClientDoc) -> Result<(), DocError> {
        self.basic.merge(&mut other.basic)?;
        if let Some(theirs) = other.record.as_mut() {
            match self.record.as_mut() {
                Some(mine) => {
                    mine.merge(theirs)?;
                }
                None => {
                    let mut copy = theirs.fork();
                    copy.set_commit_message(self.basic.message.clone());
                    self.record = Some(copy);
                    self.record_new = true;
                }
            }
        }
        Ok(())
    }

    /// Independent copies at the same state with fresh actor ids (a second
    /// device in tests).
    pub fn fork(&mut self) -> ClientDoc {
        ClientDoc {
            basic: self.basic.fork(),
            record: self.record.as_mut().map(|r| r.fork()),
            record_new: false,
        }
    }

    /// The search-index summary (from the basic-data document alone).
    pub fn summary(&self) -> Result<ClientSummary, DocError> {
        self.basic.summary()
    }
}

impl BasicDoc {
    /// The search-index summary.
    pub fn summary(&self) -> Result<ClientSummary, DocError> {
        Ok(self.get()?.summary())
    }
}

impl ActivityMemoDoc {
    /// Hydrates the activity memo.
    pub fn activity_memo(&self) -> Result<ActivityMemo, DocError> {
        self.get()
    }

    /// Sets the memo text to `text` as a minimal splice diff.
    pub fn set_text(&mut self, text: &str) -> Result<(), DocError> {
        self.set_text_at(&["text"], text)
    }

    /// Splices the memo text (positions in Unicode code points).
    pub fn splice_text(&mut self, pos: usize, delete: usize, insert: &str) -> Result<(), DocError> {
        self.splice_text_at(&["text"], pos, delete, insert)
    }
}

impl BriefDoc {
    /// The first change of `unit`'s log of the month of `date`, the same
    /// bytes on every node (its actor is derived from the log's id; no time,
    /// no message): two laptops that each start the month's log offline
    /// share its map, so their contacts merge. Later changes are written
    /// with a fresh random actor.
    pub fn genesis(unit: crate::ids::UnitId, date: chrono::NaiveDate) -> Result<Self, DocError> {
        let log = BriefContactLog::empty(unit, date);
        let mut h =
            blake3::Hasher::new_derive_key("polku 2026-12 brief contact log genesis actor v1");
        h.update(log.id.0.as_bytes());
        let actor = ActorId::from(&h.finalize().as_bytes()[..16]);
        let mut doc = Self::new_with_actor(&log, actor)?;
        doc.set_actor(ActorId::random());
        Ok(doc)
    }

    /// Hydrates the log.
    pub fn log(&self) -> Result<BriefContactLog, DocError> {
        self.get()
    }
}

impl OrgDoc {
    /// Hydrates the organisation.
    pub fn organisation(&self) -> Result<Organisation, DocError> {
        self.get()
    }
}
