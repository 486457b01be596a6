//! Brief contacts (lyhyet kontaktit): young people met who give no name.
//! Stored per unit and month in one document each (see
//! [`polku_core::model::BriefContactLog`] for why); never identifying.
//!
//! Rights: recording follows the unit like activity memos
//! ([`polku_core::rights::may_record_unit_work`]), reading
//! [`polku_core::rights::may_view_unit_work`]; a refusal is audited.
//!
//! Audit: `create` with `contact_add` (target: the contact's id) in the same
//! transaction as the change; `update` with `contact_edit`, `delete` with
//! `contact_delete` and `update` with `contact_restore` likewise; `view` with
//! `contact_list` and the count.
//!
//! Delete is a soft delete ([`BriefContact::deleted`]): the entry stays in
//! its log so that an edit made at the same time on another device is not
//! lost, and it can be restored; deleted contacts are neither listed nor
//! counted. Moving a contact to a date of another month moves it to that
//! month's log (deleted in the old one, in one transaction).

use chrono::{DateTime, NaiveDate, Utc};
use polku_audit::{Action as AuditAction, Code, Detail};
use polku_core::codes::CodeList;
use polku_core::doc::BriefDoc;
use polku_core::model::{BriefContact, BriefContactLog, brief_log_doc_id};
use polku_core::rights::{may_record_unit_work, may_view_unit_work};
use polku_core::{BriefContactId, DocKind, UnitId};
use polku_store::StoreError;
use serde::Serialize;

use crate::activity::{ActivityFilter, check_len};
use crate::{ApiError, Result, Session};

const fn code(s: &'static str) -> Code {
    match Code::new(s) {
        Ok(c) => c,
        Err(_) => panic!("invalid audit code in the program text"),
    }
}

/// Audit detail codes. Do not change (they are in signed entries).
const CONTACT_ADD: Code = code("contact_add");
const CONTACT_LIST: Code = code("contact_list");
const CONTACT_EDIT: Code = code("contact_edit");
const CONTACT_DELETE: Code = code("contact_delete");
const CONTACT_RESTORE: Code = code("contact_restore");

/// A change to a brief contact: each `Some` field replaces the old value
/// (`Some(None)` clears an optional code; the text as a character diff).
#[derive(Debug, Clone, Default)]
pub struct ContactEdit {
    /// New date.
    pub date: Option<NaiveDate>,
    /// New channel code.
    pub channel: Option<String>,
    /// New gender code, or cleared.
    pub gender: Option<Option<String>>,
    /// New age-group code, or cleared.
    pub age_group: Option<Option<String>>,
    /// New topic code, or cleared.
    pub topic: Option<Option<String>>,
    /// New text.
    pub text: Option<String>,
}

/// The fields of a new brief contact. There is no field for anything that
/// identifies the young person.
#[derive(Debug, Clone)]
pub struct ContactInput {
    /// Date of the contact.
    pub date: NaiveDate,
    /// Channel code, list `contact_channel`.
    pub channel: String,
    /// Gender code, when known.
    pub gender: Option<String>,
    /// Age-group code, when known.
    pub age_group: Option<String>,
    /// Topic code, list `contact_topic`.
    pub topic: Option<String>,
    /// Optional free text.
    pub text: String,
    /// Unit name or id; `None` for the user's first unit.
    pub unit: Option<String>,
}

/// A brief contact with the unit whose log holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactEntry {
    /// The unit.
    pub unit: UnitId,
    /// The contact.
    pub contact: BriefContact,
}

impl Session {
    /// Record a brief contact; returns its id. Durable with its audit entry
    /// when this returns.
    pub fn add_contact(
        &mut self,
        input: ContactInput,
        now: DateTime<Utc>,
    ) -> Result<BriefContactId> {
        let codes = self.codes()?;
        codes.lookup_for_new(CodeList::ContactChannel, &input.channel)?;
        if let Some(g) = &input.gender {
            codes.lookup_for_new(CodeList::Gender, g)?;
        }
        if let Some(a) = &input.age_group {
            codes.lookup_for_new(CodeList::AgeGroup, a)?;
        }
        if let Some(t) = &input.topic {
            codes.lookup_for_new(CodeList::ContactTopic, t)?;
        }
        check_len(&input.text, polku_core::limits::TextField::LongText)?;
        let unit = self.resolve_unit(input.unit.as_deref())?;
        let decision = may_record_unit_work(&self.user, &self.rights, &[unit]);
        self.unit_work_right(decision, None, now)?;
        let doc_id = brief_log_doc_id(unit, input.date);
        let (mut doc, new) = match self.store.load_doc(doc_id) {
            Ok(am) => {
                let mut d = BriefDoc::from_automerge(am)?;
                d.mark_saved();
                (d, false)
            }
            Err(StoreError::DocNotFound(_)) => (BriefDoc::genesis(unit, input.date)?, true),
            Err(e) => return Err(e.into()),
        };
        doc.set_commit_message(Some(self.trail.change_message()));
        let contact = BriefContact {
            id: BriefContactId::new(),
            date: input.date,
            channel: input.channel,
            gender: input.gender,
            age_group: input.age_group,
            topic: input.topic,
            author: self.user.id,
            text: input.text.trim_end().to_owned(),
            deleted: None,
        };
        let id = contact.id;
        doc.update(|log| {
            log.contacts.insert(id, contact);
        })?;
        let bytes = if new {
            doc.save()
        } else {
            doc.save_incremental()
        };
        let heads = doc.heads();
        self.record_with(
            now,
            AuditAction::Create,
            Some(id.0),
            Detail::Code(CONTACT_ADD),
            |b| {
                if new {
                    b.create_doc(doc_id, DocKind::BriefContacts, &bytes)?;
                } else {
                    b.append_change(doc_id, &bytes, &heads)?;
                }
                Ok(())
            },
        )?;
        Ok(id)
    }

    /// The brief contacts the user may see that match `filter`, by date then
    /// id (audited as one view with the count).
    pub fn list_contacts(
        &mut self,
        filter: &ActivityFilter,
        now: DateTime<Utc>,
    ) -> Result<Vec<ContactEntry>> {
        if self.must_change_password() {
            return Err(ApiError::MustChangePassword);
        }
        let unit: Option<UnitId> = filter
            .unit
            .as_deref()
            .map(|u| self.unit_by_name(u))
            .transpose()?;
        let mut list: Vec<ContactEntry> = self
            .load_brief_logs()?
            .into_iter()
            .filter(|l| may_view_unit_work(&self.user, &self.rights, l.unit).is_ok())
            .filter(|l| unit.is_none_or(|u| l.unit == u))
            .flat_map(|l| {
                let unit = l.unit;
                l.contacts
                    .into_values()
                    .filter(|c| c.deleted.is_none())
                    .map(move |contact| ContactEntry { unit, contact })
            })
            .filter(|e| filter.from.is_none_or(|f| e.contact.date >= f))
            .filter(|e| filter.to.is_none_or(|t| e.contact.date <= t))
            .collect();
        list.sort_by_key(|e| (e.contact.date, e.contact.id));
        let count = u32::try_from(list.len()).unwrap_or(u32::MAX);
        self.record(
            now,
            AuditAction::View,
            None,
            Detail::CodeCount {
                code: CONTACT_LIST,
                count,
            },
        )?;
        Ok(list)
    }

    /// Every brief-contact log held here. Not audited: the caller audits.
    pub(crate) fn load_brief_logs(&self) -> Result<Vec<BriefContactLog>> {
        self.store
            .load_all(DocKind::BriefContacts)?
            .into_iter()
            .map(|(_, am)| Ok(BriefDoc::from_automerge(am)?.log()?))
            .collect()
    }
}

/// What a change does to one contact, given its current state.
enum ContactChange {
    Edit(ContactEdit),
    Delete,
    Restore,
}

impl Session {
    /// Change a brief contact (see [`ContactEdit`]). The user needs the
    /// right to record work in the contact's unit.
    pub fn edit_contact(
        &mut self,
        id: BriefContactId,
        edit: ContactEdit,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let codes = self.codes()?;
        if let Some(c) = &edit.channel {
            codes.lookup_for_new(CodeList::ContactChannel, c)?;
        }
        if let Some(Some(g)) = &edit.gender {
            codes.lookup_for_new(CodeList::Gender, g)?;
        }
        if let Some(Some(a)) = &edit.age_group {
            codes.lookup_for_new(CodeList::AgeGroup, a)?;
        }
        if let Some(Some(t)) = &edit.topic {
            codes.lookup_for_new(CodeList::ContactTopic, t)?;
        }
        if let Some(t) = &edit.text {
            check_len(t, polku_core::limits::TextField::LongText)?;
        }
        self.change_contact(id, ContactChange::Edit(edit), now)
    }

    /// Delete a brief contact (a soft delete: see the module docs).
    pub fn delete_contact(&mut self, id: BriefContactId, now: DateTime<Utc>) -> Result<()> {
        self.change_contact(id, ContactChange::Delete, now)
    }

    /// Restore a deleted brief contact.
    pub fn restore_contact(&mut self, id: BriefContactId, now: DateTime<Utc>) -> Result<()> {
        self.change_contact(id, ContactChange::Restore, now)
    }

    fn change_contact(
        &mut self,
        id: BriefContactId,
        change: ContactChange,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if self.must_change_password() {
            return Err(ApiError::MustChangePassword);
        }
        // The log holding the contact: the one where it is not deleted, if
        // any (a contact moved to another month stays deleted in the old one).
        let mut holding: Vec<BriefContactLog> = self
            .load_brief_logs()?
            .into_iter()
            .filter(|l| l.contacts.contains_key(&id))
            .collect();
        holding.sort_by_key(|l| l.contacts[&id].deleted.is_none());
        let Some(log) = holding.pop() else {
            return Err(ApiError::ContactNotFound(id));
        };
        let old = log.contacts[&id].clone();
        let decision = may_record_unit_work(&self.user, &self.rights, &[log.unit]);
        self.unit_work_right(decision, Some(id.0), now)?;
        let (action, detail) = match &change {
            ContactChange::Edit(_) => (AuditAction::Update, CONTACT_EDIT),
            ContactChange::Delete => (AuditAction::Update, CONTACT_DELETE),
            ContactChange::Restore => (AuditAction::Update, CONTACT_RESTORE),
        };
        let mut new = old.clone();
        match change {
            ContactChange::Edit(edit) => {
                if let Some(d) = edit.date {
                    new.date = d;
                }
                if let Some(c) = edit.channel {
                    new.channel = c;
                }
                if let Some(g) = edit.gender {
                    new.gender = g;
                }
                if let Some(a) = edit.age_group {
                    new.age_group = a;
                }
                if let Some(t) = edit.topic {
                    new.topic = t;
                }
                if let Some(t) = edit.text {
                    new.text = t.trim_end().to_owned();
                }
            }
            ContactChange::Delete => {
                if old.deleted.is_none() {
                    new.deleted = Some(now);
                }
            }
            ContactChange::Restore => new.deleted = None,
        }
        if new == old {
            return Ok(());
        }
        let target = brief_log_doc_id(log.unit, new.date);
        let mut writes: Vec<(polku_core::DocId, bool, Vec<u8>, Vec<automerge::ChangeHash>)> =
            Vec::new();
        if target == log.id {
            let mut doc = self.load_brief_doc(log.id)?;
            doc.update(|l| {
                l.contacts.insert(id, new.clone());
            })?;
            writes.push((log.id, false, doc.save_incremental(), doc.heads()));
        } else {
            // Another month: deleted here, live in that month's log.
            let mut doc = self.load_brief_doc(log.id)?;
            doc.update(|l| {
                if let Some(c) = l.contacts.get_mut(&id) {
                    c.deleted = Some(now);
                }
            })?;
            writes.push((log.id, false, doc.save_incremental(), doc.heads()));
            let (mut other, created) = match self.store.load_doc(target) {
                Ok(am) => {
                    let mut d = BriefDoc::from_automerge(am)?;
                    d.mark_saved();
                    (d, false)
                }
                Err(StoreError::DocNotFound(_)) => (BriefDoc::genesis(log.unit, new.date)?, true),
                Err(e) => return Err(e.into()),
            };
            other.set_commit_message(Some(self.trail.change_message()));
            other.update(|l| {
                l.contacts.insert(id, new.clone());
            })?;
            let bytes = if created {
                other.save()
            } else {
                other.save_incremental()
            };
            writes.push((target, created, bytes, other.heads()));
        }
        self.record_with(now, action, Some(id.0), Detail::Code(detail), |b| {
            for (doc_id, created, bytes, heads) in &writes {
                if *created {
                    b.create_doc(*doc_id, DocKind::BriefContacts, bytes)?;
                } else {
                    b.append_change(*doc_id, bytes, heads)?;
                }
            }
            Ok(())
        })
    }

    fn load_brief_doc(&self, id: polku_core::DocId) -> Result<BriefDoc> {
        let mut doc = BriefDoc::from_automerge(self.store.load_doc(id)?)?;
        doc.mark_saved();
        doc.set_commit_message(Some(self.trail.change_message()));
        Ok(doc)
    }
}
