//! Brief contacts (lyhyet kontaktit): young people met on the street or
//! online who give no name.
//!
//! # Document layout: one document per unit and calendar month
//!
//! A brief contact is the most common entry an outreach worker makes —
//! thousands a year in one organisation — and each is a few codes. One
//! Automerge document each would cost a document row, a sync-set entry, an
//! Automerge sync state per peer and a snapshot per contact; one document
//! for everything would grow without bound and could not follow the units'
//! access scopes. So a unit's contacts of one month share one
//! [`BriefContactLog`], an id-keyed map:
//! - **scope**: the hub sends a log to the users who may see its unit's
//!   work ([`crate::rights::may_view_unit_work`]), like activity memos;
//! - **cost**: a unit makes some hundreds of contacts a month, so a log
//!   stays small (tens of kilobytes), and a new contact syncs as one small
//!   Automerge change of one document, whatever the size of the store;
//! - **offline**: the id of a month's log is derived from the unit and the
//!   month ([`brief_log_doc_id`]) and its first change is the same bytes on
//!   every node ([`crate::doc::BriefDoc::genesis`]), so two laptops that
//!   each start the month offline share one map and their contacts merge;
//! - **concurrency**: contacts are keyed by a random id, so concurrent
//!   inserts never clash; statistics and retention work by month.
//!
//! # Never identifying
//!
//! [`BriefContact`] has no field for a name, a birth date, an identity code
//! or contact details, and the anonymous person has no id: only the date,
//! the channel, gender and age group when known, a topic, the worker and an
//! optional text.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::ids::{BriefContactId, DocId, UnitId, UserId};

/// One brief contact (lyhyt kontakti). Never identifying: see the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BriefContact {
    /// Key in [`BriefContactLog::contacts`].
    pub id: BriefContactId,
    /// Date of the contact.
    pub date: NaiveDate,
    /// How the young person was met, list `contact_channel`.
    pub channel: String,
    /// Gender code (list `gender`) when known.
    pub gender: Option<String>,
    /// Age-group code (list `age_group`) when known.
    pub age_group: Option<String>,
    /// What the contact was about, list `contact_topic`.
    pub topic: Option<String>,
    /// The worker who recorded it.
    pub author: UserId,
    /// Optional free text (merged character by character).
    pub text: String,
    /// When it was deleted: a soft delete (the entry stays, so that an edit
    /// made concurrently on another device is not lost, and it can be
    /// restored); deleted contacts are not listed or counted.
    #[serde(default)]
    pub deleted: Option<chrono::DateTime<chrono::Utc>>,
}

/// The brief contacts of one unit in one calendar month: one Automerge
/// document (see the module docs for why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BriefContactLog {
    /// The id of this document ([`brief_log_doc_id`] of `unit` and `month`).
    pub id: DocId,
    /// The unit whose contacts these are.
    pub unit: UnitId,
    /// The month, `YYYY-MM`.
    pub month: String,
    /// The contacts, by id.
    pub contacts: BTreeMap<BriefContactId, BriefContact>,
}

/// The month key (`YYYY-MM`) of a date.
pub fn month_key(date: NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

/// The id of `unit`'s brief-contact log of the month of `date`: derived, so
/// that every node that records a contact of that month finds (or starts)
/// the same document.
pub fn brief_log_doc_id(unit: UnitId, date: NaiveDate) -> DocId {
    let mut h = blake3::Hasher::new_derive_key("polku 2026-12 brief contact log document id v1");
    h.update(unit.0.as_bytes());
    h.update(month_key(date).as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&h.finalize().as_bytes()[..16]);
    DocId(uuid::Builder::from_random_bytes(bytes).into_uuid())
}

impl BriefContactLog {
    /// The empty log of `unit` for the month of `date`.
    pub fn empty(unit: UnitId, date: NaiveDate) -> Self {
        Self {
            id: brief_log_doc_id(unit, date),
            unit,
            month: month_key(date),
            contacts: BTreeMap::new(),
        }
    }

    /// Whether the log's id is the one its unit and month derive (a log
    /// re-pointed at another unit or month no longer matches).
    pub fn id_matches(&self) -> bool {
        NaiveDate::parse_from_str(&format!("{}-01", self.month), "%Y-%m-%d")
            .is_ok_and(|d| month_key(d) == self.month && brief_log_doc_id(self.unit, d) == self.id)
    }

    /// Whether every contact is dated in the log's month.
    pub fn dates_match(&self) -> bool {
        self.contacts
            .values()
            .all(|c| month_key(c.date) == self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn a_log_is_one_per_unit_and_month() {
        let (u, v) = (UnitId::new(), UnitId::new());
        assert_eq!(
            brief_log_doc_id(u, date(2026, 3, 1)),
            brief_log_doc_id(u, date(2026, 3, 31))
        );
        assert_ne!(
            brief_log_doc_id(u, date(2026, 3, 31)),
            brief_log_doc_id(u, date(2026, 4, 1))
        );
        assert_ne!(
            brief_log_doc_id(u, date(2026, 3, 1)),
            brief_log_doc_id(v, date(2026, 3, 1))
        );
        let mut log = BriefContactLog::empty(u, date(2026, 3, 9));
        assert!(log.id_matches());
        log.unit = v;
        assert!(!log.id_matches(), "re-pointed at another unit");
    }

    /// What a brief contact can hold, by its type: no name, birth date,
    /// identity code or contact details.
    #[test]
    fn a_brief_contact_has_no_identifying_field() {
        let c = BriefContact {
            id: BriefContactId::new(),
            date: date(2026, 3, 9),
            channel: "street".into(),
            gender: Some("female".into()),
            age_group: Some("16-17".into()),
            topic: Some("housing".into()),
            author: UserId::new(),
            text: String::new(),
            deleted: None,
        };
        let value = serde_json::to_value(&c).expect("json");
        let keys: Vec<&str> = value
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "age_group",
                "author",
                "channel",
                "date",
                "deleted",
                "gender",
                "id",
                "text",
                "topic"
            ]
        );
    }
}
