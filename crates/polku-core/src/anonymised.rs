//! Anonymised records (anonymisoidut tiedot): what remains of an erased client
//! for statistics.
//!
//! An [`AnonymisedRecord`] keeps exactly what the statistics count, and nothing
//! that names or identifies the young person:
//! - no name, birth date, identity code, contact details or address;
//! - no free text (goals, final assessments, memo texts, background, notes);
//! - no id of the client, its periods, measures, memos or snapshots: the record
//!   gets a fresh random id ([`AnonymisedId`]) and its lists are sorted by
//!   value, so nothing in it points back to the erased document;
//! - the age only as an age group: at the start of each period and on the date
//!   of each contact;
//! - codes only where the client held codes; a stored "code" that is not a
//!   well-formed code is replaced by [`INVALID_CODE`], so text typed into a code
//!   field cannot survive erasure.
//!
//! Dates of periods, contacts and referrals are kept at day precision: counts
//! for any reporting range must not change when a client is erased. The unit
//! and the responsible workers' ids are kept for per-unit and per-worker
//! tables; they identify staff, not the young person.
//!
//! The statistics count live clients through the same projection
//! ([`AnonymisedRecord::from_client`]), so an erased client counts exactly as
//! it did before erasure.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::codes::age_group_on;
use crate::ids::{DocId, OrgId, PeriodId, UnitId, UserId};
use crate::model::{
    ActivityMemo, BriefContactLog, Client, MeasureStatus, SituationSnapshot, SnapshotPhase,
};

/// Stands for a stored code that is not a well-formed code (see [`is_code`]).
pub const INVALID_CODE: &str = "?";

/// Id of an anonymised record: random (UUID v4), unrelated to any id the
/// erased client had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AnonymisedId(pub Uuid);

impl AnonymisedId {
    /// The nil id, used for the transient projection of a live client.
    pub const NIL: AnonymisedId = AnonymisedId(Uuid::nil());

    /// An id from 16 random bytes supplied by the caller (this crate has no
    /// randomness of its own).
    pub fn from_random(bytes: [u8; 16]) -> Self {
        Self(uuid::Builder::from_random_bytes(bytes).into_uuid())
    }
}

impl From<Uuid> for AnonymisedId {
    fn from(u: Uuid) -> Self {
        Self(u)
    }
}

impl std::fmt::Display for AnonymisedId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// What remains of an erased client for statistics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnonymisedRecord {
    /// Fresh random id.
    pub id: AnonymisedId,
    /// Unit (yksikkö) the client belonged to.
    pub unit: Option<UnitId>,
    /// Responsible workers.
    pub responsible: BTreeSet<UserId>,
    /// Gender code.
    pub gender: Option<String>,
    /// Mother-tongue group code.
    pub mother_tongue: Option<String>,
    /// Periods, sorted by value (start date first).
    pub periods: Vec<AnonymisedPeriod>,
    /// Contacts (client memos without their text), sorted by value.
    pub contacts: Vec<AnonymisedContact>,
    /// Referrals (Youth Act §11–12) without their follow-up text, sorted.
    pub referrals: Vec<AnonymisedReferral>,
}

/// A period without ids or free text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AnonymisedPeriod {
    /// Start date.
    pub start: Option<NaiveDate>,
    /// End date.
    pub end: Option<NaiveDate>,
    /// Marked as ended.
    pub closed: bool,
    /// Age group (list `age_group`) at the start date; `None` when the birth
    /// date or the start date was missing.
    pub age_group: Option<String>,
    /// Arrival route code.
    pub arrival_route: Option<String>,
    /// Measures, sorted.
    pub measures: Vec<AnonymisedMeasure>,
    /// Outcome (sijoittuminen) code.
    pub outcome: Option<String>,
    /// Situation at the start of the period (its earliest start snapshot).
    pub at_start: Option<Situation>,
    /// Situation at the end of the period (its latest end snapshot).
    pub at_end: Option<Situation>,
}

impl AnonymisedPeriod {
    /// Whether the period has ended (an end date, or marked closed).
    pub fn is_ended(&self) -> bool {
        self.closed || self.end.is_some()
    }
}

/// A measure: its code and status only.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AnonymisedMeasure {
    /// Measure code.
    pub code: String,
    /// Status.
    pub status: MeasureStatus,
}

/// A situation snapshot's codes.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Situation {
    /// Highest completed education code.
    pub highest_education: Option<String>,
    /// Education status code.
    pub education_status: Option<String>,
    /// Main activity code.
    pub main_activity: Option<String>,
    /// Livelihood code.
    pub livelihood: Option<String>,
    /// Housing code.
    pub housing: Option<String>,
}

/// A contact (client memo) without its text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AnonymisedContact {
    /// Date of the contact.
    pub date: NaiveDate,
    /// Memo type code.
    pub kind: String,
    /// The worker who wrote the memo.
    pub author: UserId,
    /// Age group of the young person on that date.
    pub age_group: Option<String>,
}

/// A referral without its follow-up text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AnonymisedReferral {
    /// Date received.
    pub received: NaiveDate,
    /// Source code (list `referral_source`).
    pub source: String,
}

/// Whether `s` is a well-formed code: 1–64 characters of `a-z`, `0-9`, `_`,
/// `-`, `.` (the rule for own codes; national codes follow it too).
pub fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.".contains(&b))
}

/// A stored code as the record keeps it: blank → `None`, malformed →
/// [`INVALID_CODE`].
fn code(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() {
        None
    } else if is_code(s) {
        Some(s.to_owned())
    } else {
        Some(INVALID_CODE.to_owned())
    }
}

fn opt_code(s: &Option<String>) -> Option<String> {
    s.as_deref().and_then(code)
}

fn situation(s: &SituationSnapshot) -> Situation {
    Situation {
        highest_education: opt_code(&s.highest_education),
        education_status: opt_code(&s.education_status),
        main_activity: opt_code(&s.main_activity),
        livelihood: opt_code(&s.livelihood),
        housing: opt_code(&s.housing),
    }
}

/// The snapshot of `period` in `phase`: the earliest one for the start, the
/// latest one for the end (ties: the first in id order).
fn snapshot_of(client: &Client, period: PeriodId, phase: SnapshotPhase) -> Option<Situation> {
    let matching = client
        .snapshots
        .values()
        .filter(|s| s.period == Some(period) && s.phase == phase);
    let chosen = if phase == SnapshotPhase::End {
        matching.fold(None::<&SituationSnapshot>, |best, s| match best {
            Some(b) if b.date >= s.date => Some(b),
            _ => Some(s),
        })
    } else {
        matching.fold(None::<&SituationSnapshot>, |best, s| match best {
            Some(b) if b.date <= s.date => Some(b),
            _ => Some(s),
        })
    };
    chosen.map(situation)
}

impl AnonymisedRecord {
    /// The statistical projection of a live client, with the nil id. The
    /// statistics count every client through this function.
    pub fn from_client(client: &Client) -> AnonymisedRecord {
        let birth = client.basic.birth_date;
        let age_group = |date: Option<NaiveDate>| {
            birth
                .zip(date)
                .and_then(|(b, d)| age_group_on(b, d))
                .map(str::to_owned)
        };
        let mut periods: Vec<AnonymisedPeriod> = client
            .periods
            .values()
            .map(|p| {
                let mut measures: Vec<AnonymisedMeasure> = p
                    .measures
                    .values()
                    .map(|m| AnonymisedMeasure {
                        code: code(&m.code).unwrap_or_else(|| INVALID_CODE.to_owned()),
                        status: m.status,
                    })
                    .collect();
                measures.sort();
                AnonymisedPeriod {
                    start: p.start,
                    end: p.end,
                    closed: p.closed,
                    age_group: age_group(p.start),
                    arrival_route: opt_code(&p.arrival_route),
                    measures,
                    outcome: opt_code(&p.outcome),
                    at_start: snapshot_of(client, p.id, SnapshotPhase::Start),
                    at_end: snapshot_of(client, p.id, SnapshotPhase::End),
                }
            })
            .collect();
        periods.sort();
        let mut contacts: Vec<AnonymisedContact> = client
            .memos
            .values()
            // A deleted memo is no contact.
            .filter(|m| m.deleted.is_none())
            .map(|m| AnonymisedContact {
                date: m.date,
                kind: code(&m.kind).unwrap_or_else(|| INVALID_CODE.to_owned()),
                author: m.author,
                age_group: age_group(Some(m.date)),
            })
            .collect();
        contacts.sort();
        let mut referrals: Vec<AnonymisedReferral> = client
            .referrals
            .values()
            .map(|r| AnonymisedReferral {
                received: r.received,
                source: code(&r.source).unwrap_or_else(|| INVALID_CODE.to_owned()),
            })
            .collect();
        referrals.sort();
        AnonymisedRecord {
            id: AnonymisedId::NIL,
            unit: client.unit,
            responsible: client.responsible.clone(),
            gender: opt_code(&client.basic.gender),
            mother_tongue: opt_code(&client.basic.mother_tongue),
            periods,
            contacts,
            referrals,
        }
    }
}

/// The anonymised record an erasure writes for `client`: its statistical
/// projection under a fresh id made from `random` (16 bytes from the caller's
/// CSPRNG).
pub fn anonymise(client: &Client, random: [u8; 16]) -> AnonymisedRecord {
    AnonymisedRecord {
        id: AnonymisedId::from_random(random),
        ..AnonymisedRecord::from_client(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// What the hub's statistics extract stores reads back as it was.
        #[test]
        fn records_round_trip_through_their_encoding(c in crate::testing::client()) {
            let record = AnonymisedRecord::from_client(&c);
            let encoded = record.encode();
            prop_assert_eq!(AnonymisedRecord::decode(&encoded), Some(record));
        }
    }

    use crate::ids::{ClientId, MemoId, PeriodId, SnapshotId};
    use crate::model::{Memo, Period};

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    fn client() -> Client {
        let mut c = Client::new(ClientId::new(), chrono::Utc::now());
        c.basic.first_name = "Sointu".into();
        c.basic.last_name = "Kivirinta".into();
        c.basic.birth_date = Some(date(2008, 3, 20));
        c.basic.henkilotunnus = Some("200308A123X".into());
        c.basic.gender = Some("female".into());
        c.basic.mother_tongue = Some("Ruotsi ja jotain muuta".into());
        c.background.goal = "Oma asunto".into();
        let mut p = Period::new(PeriodId::new());
        p.start = Some(date(2026, 1, 15));
        p.goals = "Salainen tavoite".into();
        p.arrival_route = Some("family".into());
        let mut s =
            SituationSnapshot::new(SnapshotId::new(), date(2026, 1, 15), SnapshotPhase::Start);
        s.period = Some(p.id);
        s.main_activity = Some("outside".into());
        c.insert_snapshot(s);
        c.insert_period(p);
        c.insert_memo(Memo {
            id: MemoId::new(),
            date: date(2026, 3, 25),
            author: UserId::new(),
            kind: "meeting".into(),
            text: "Tapasimme kahvilassa".into(),
            deleted: None,
        });
        c
    }

    #[test]
    fn keeps_age_groups_codes_and_dates_only() {
        let c = client();
        let r = anonymise(&c, [9; 16]);
        assert_eq!(r.id.0.get_version_num(), 4);
        assert_ne!(r.id.0, c.id.0);
        let p = &r.periods[0];
        // 17 at the period start, 18 at the contact.
        assert_eq!(p.age_group.as_deref(), Some("16-17"));
        assert_eq!(r.contacts[0].age_group.as_deref(), Some("18-20"));
        assert_eq!(
            p.at_start.as_ref().and_then(|s| s.main_activity.as_deref()),
            Some("outside")
        );
        // Text in a code field does not survive.
        assert_eq!(r.mother_tongue.as_deref(), Some(INVALID_CODE));
        let json = serde_json::to_string(&r).expect("json");
        for secret in [
            "Sointu",
            "Kivirinta",
            "2008-03-20",
            "200308A123X",
            "Oma asunto",
            "Salainen",
            "kahvilassa",
            "Ruotsi",
            &c.id.to_string(),
        ] {
            assert!(!json.contains(secret), "{secret} leaked into {json}");
        }
    }

    #[test]
    fn the_projection_does_not_depend_on_ids() {
        let a = client();
        let mut b = a.clone();
        // Same content under other ids.
        b.periods = a
            .periods
            .values()
            .map(|p| {
                let mut p = p.clone();
                p.id = PeriodId::new();
                (p.id, p)
            })
            .collect();
        let new_period = *b.periods.keys().next().expect("period");
        for s in b.snapshots.values_mut() {
            s.period = Some(new_period);
        }
        assert_eq!(
            AnonymisedRecord::from_client(&a),
            AnonymisedRecord::from_client(&b)
        );
    }
}

/// Version byte of an encoded [`AnonymisedRecord`]. Do not change.
const RECORD_VERSION: u8 = 1;
/// Version of the encoded brief-contact logs and activity memos of an
/// extract (2: with the soft-delete field; version 1 entries are skipped
/// until the hub's next refresh replaces them).
const WORK_RECORD_VERSION: u8 = 2;

impl AnonymisedRecord {
    /// The record as bytes: `[1] ‖ postcard(record)`.
    pub fn encode(&self) -> EncodedRecord {
        let mut out = vec![RECORD_VERSION];
        out.extend(postcard::to_allocvec(self).unwrap_or_default());
        EncodedRecord(out)
    }

    /// Inverse of [`AnonymisedRecord::encode`]; `None` for other bytes.
    pub fn decode(bytes: &EncodedRecord) -> Option<Self> {
        match bytes.0.split_first() {
            Some((&RECORD_VERSION, rest)) => postcard::from_bytes(rest).ok(),
            _ => None,
        }
    }
}

/// An [`AnonymisedRecord`] as stored in a [`StatsExtract`] (one value, so
/// that a change replaces the record whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedRecord(pub Vec<u8>);

/// The anonymised record of one erased client as a document of its own
/// (kind [`crate::DocKind::Anonymised`]): written by the node that erases the
/// client, in the same transaction as the tombstone, and synced like any
/// other document, so that it reaches the hub (where statistics are merged)
/// and every device that held the client's basic data. Its id is the
/// record's own random [`AnonymisedId`], unrelated to the client's; it is
/// never changed after it is written (the hub refuses a change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnonymisedEntry {
    /// The document id (the record's [`AnonymisedId`]).
    pub id: DocId,
    /// The record ([`AnonymisedRecord::encode`]).
    pub record: EncodedRecord,
}

impl AnonymisedEntry {
    /// The document of `record` (its id is the record's id).
    pub fn of(record: &AnonymisedRecord) -> Self {
        Self {
            id: DocId(record.id.0),
            record: record.encode(),
        }
    }

    /// The record, when it decodes and carries the document's id.
    pub fn decoded(&self) -> Option<AnonymisedRecord> {
        AnonymisedRecord::decode(&self.record).filter(|r| DocId(r.id.0) == self.id)
    }
}

/// Statistics extract (tilastopoiminta): anonymised records of every client
/// of the organisation, derived by the hub for users who run statistics but
/// may not hold the clients' records (basic-data-only or reporting-only
/// rights). One document per organisation, changed only by the hub. The keys
/// are keyed hashes of the clients' ids under a secret only the hub has, so
/// that a record keeps its key from one derivation to the next (a resync
/// sends what changed) without pointing back to its client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsExtract {
    /// The id of this document ([`stats_extract_doc_id`]).
    pub id: DocId,
    /// The records.
    pub records: BTreeMap<AnonymisedId, EncodedRecord>,
    /// Activity memos (toimintamuistiot) without their place and text
    /// ([`anonymised_activity`]), encoded the same way.
    pub activity: BTreeMap<AnonymisedId, EncodedRecord>,
    /// Brief-contact logs without their texts ([`anonymised_brief`]),
    /// encoded the same way.
    pub brief: BTreeMap<AnonymisedId, EncodedRecord>,
}

/// A brief-contact log as the statistics count it: no text, a key instead
/// of its id. (Brief contacts hold nothing identifying; the worker who
/// recorded each is kept for the supervisor's per-worker tables, as activity
/// memos keep theirs.)
pub fn anonymised_brief(log: &BriefContactLog, key: AnonymisedId) -> EncodedRecord {
    let mut l = log.clone();
    l.id = DocId(key.0);
    l.contacts.retain(|_, c| c.deleted.is_none());
    for c in l.contacts.values_mut() {
        c.text = String::new();
    }
    let mut out = vec![WORK_RECORD_VERSION];
    out.extend(postcard::to_allocvec(&l).unwrap_or_default());
    EncodedRecord(out)
}

/// An activity memo as the statistics count it: no place, no text, a key
/// instead of its id.
pub fn anonymised_activity(memo: &ActivityMemo, key: AnonymisedId) -> EncodedRecord {
    let mut m = memo.clone();
    m.id = crate::ids::ActivityMemoId(key.0);
    m.place = String::new();
    m.text = String::new();
    let mut out = vec![WORK_RECORD_VERSION];
    out.extend(postcard::to_allocvec(&m).unwrap_or_default());
    EncodedRecord(out)
}

/// The id of an organisation's statistics extract document.
pub fn stats_extract_doc_id(org: OrgId) -> DocId {
    let mut h = blake3::Hasher::new_derive_key("polku 2026-12 statistics extract document id v1");
    h.update(org.0.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&h.finalize().as_bytes()[..16]);
    DocId(uuid::Builder::from_random_bytes(bytes).into_uuid())
}

impl StatsExtract {
    /// An empty extract of `org`.
    pub fn empty(org: OrgId) -> Self {
        Self {
            id: stats_extract_doc_id(org),
            records: BTreeMap::new(),
            activity: BTreeMap::new(),
            brief: BTreeMap::new(),
        }
    }

    /// The decodable records (sorted by key).
    pub fn decoded(&self) -> Vec<AnonymisedRecord> {
        self.records
            .values()
            .filter_map(AnonymisedRecord::decode)
            .collect()
    }

    /// The decodable brief-contact logs (sorted by key).
    pub fn decoded_brief(&self) -> Vec<BriefContactLog> {
        self.brief
            .values()
            .filter_map(|e| match e.0.split_first() {
                Some((&WORK_RECORD_VERSION, rest)) => postcard::from_bytes(rest).ok(),
                _ => None,
            })
            .collect()
    }

    /// The decodable activity memos (sorted by key).
    pub fn decoded_activity(&self) -> Vec<ActivityMemo> {
        self.activity
            .values()
            .filter_map(|e| match e.0.split_first() {
                Some((&WORK_RECORD_VERSION, rest)) => postcard::from_bytes(rest).ok(),
                _ => None,
            })
            .collect()
    }
}
