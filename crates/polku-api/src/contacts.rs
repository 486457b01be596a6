//! Brief contacts (lyhyet kontaktit): young people met who give no name.
//! Stored per unit and month in one document each (see
//! [`polku_core::model::BriefContactLog`] for why); never identifying.
//!
//! Rights: recording follows the unit like activity memos
//! ([`polku_core::rights::may_record_unit_work`]), reading
//! [`polku_core::rights::may_view_unit_work`]; a refusal is audited.
//!
//! Audit: `create` with `contact_add` (target: the contact's id) in the same
//! transaction as the change; `view` with `contact_list` and the count.

use chrono::{DateTime, NaiveDate, Utc};
use polku_audit::{Action as AuditAction, Detail};
use polku_core::codes::CodeList;
use polku_core::doc::BriefDoc;
use polku_core::model::{BriefContact, BriefContactLog, brief_log_doc_id};
use polku_core::rights::{may_record_unit_work, may_view_unit_work};
use polku_core::{BriefContactId, DocKind, UnitId};
use polku_store::StoreError;
use serde::Serialize;

use crate::activity::{ActivityFilter, check_len};
use crate::audit_codes::{CONTACT_ADD, CONTACT_LIST};
use crate::{ApiError, Result, Session};

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
