//! The client document: basic data, background, situation snapshots, periods,
//! memos, attachments and the Youth Act records.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::string_enum;
use crate::ids::{
    AttachmentId, ClientId, DocId, MeasureId, MemoId, PeriodId, RecordId, SnapshotId, UnitId,
    UserId,
};

/// Client (asiakas): one young person, as the API shows it. Stored as two
/// Automerge documents: [`ClientBasic`] and [`ClientRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    /// Also the id of the client's document.
    pub id: ClientId,
    /// When the client was first recorded.
    pub created_at: DateTime<Utc>,
    /// Basic data (perustiedot).
    pub basic: BasicData,
    /// Background (taustatiedot), free text.
    pub background: Background,
    /// Unit (yksikkö) the client belongs to.
    pub unit: Option<UnitId>,
    /// Responsible worker(s) (vastuutyöntekijät).
    pub responsible: BTreeSet<UserId>,
    /// Dated situation snapshots (tilannetiedot).
    pub snapshots: BTreeMap<SnapshotId, SituationSnapshot>,
    /// Periods (jaksot).
    pub periods: BTreeMap<PeriodId, Period>,
    /// Memos (muistiot).
    pub memos: BTreeMap<MemoId, Memo>,
    /// References to encrypted attachments (liitteet).
    pub attachments: BTreeMap<AttachmentId, AttachmentRef>,
    /// Referrals (ilmoitukset) under the Youth Act §11–12.
    pub referrals: BTreeMap<RecordId, Referral>,
    /// Consents (suostumukset).
    pub consents: BTreeMap<RecordId, Consent>,
    /// Disclosure log (luovutukset).
    pub disclosures: BTreeMap<RecordId, Disclosure>,
    /// Follow-ups (seurannat) after one and two years.
    pub follow_ups: BTreeMap<RecordId, FollowUp>,
}

/// Basic data (perustiedot) of a client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BasicData {
    /// First name (etunimi); empty when not known.
    pub first_name: String,
    /// Last name (sukunimi); empty when not known.
    pub last_name: String,
    /// Birth date (syntymäaika).
    pub birth_date: Option<NaiveDate>,
    /// Gender code (list [`crate::codes::CodeList::Gender`]).
    pub gender: Option<String>,
    /// Mother tongue group code (list [`crate::codes::CodeList::MotherTongue`]).
    pub mother_tongue: Option<String>,
    /// Personal identity code (henkilötunnus); workshops only.
    pub henkilotunnus: Option<String>,
    /// Email address; empty when not known.
    pub email: String,
    /// Phone number; empty when not known.
    pub phone: String,
    /// Postal address.
    pub address: Address,
}

/// Postal address (osoite).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Street address (katuosoite).
    pub street: String,
    /// Postal code (postinumero).
    pub postal_code: String,
    /// Post office / town (postitoimipaikka).
    pub city: String,
}

/// Background (taustatiedot): free text, merged character by character.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Background {
    /// Education (koulutus).
    pub education: String,
    /// Work experience (työkokemus).
    pub work_experience: String,
    /// Skills (osaaminen).
    pub skills: String,
    /// Strengths (vahvuudet).
    pub strengths: String,
    /// The young person's goal (tavoite).
    pub goal: String,
    /// Health (terveys).
    pub health: String,
    /// Family (perhe).
    pub family: String,
    /// Other (muuta).
    pub other: String,
}

string_enum! {
    /// One free-text field of [`Background`].
    BackgroundField {
        /// [`Background::education`]
        Education = "education",
        /// [`Background::work_experience`]
        WorkExperience = "work_experience",
        /// [`Background::skills`]
        Skills = "skills",
        /// [`Background::strengths`]
        Strengths = "strengths",
        /// [`Background::goal`]
        Goal = "goal",
        /// [`Background::health`]
        Health = "health",
        /// [`Background::family`]
        Family = "family",
        /// [`Background::other`]
        Other = "other",
    }
}

impl Background {
    /// The text of one field.
    pub fn get(&self, field: BackgroundField) -> &str {
        match field {
            BackgroundField::Education => &self.education,
            BackgroundField::WorkExperience => &self.work_experience,
            BackgroundField::Skills => &self.skills,
            BackgroundField::Strengths => &self.strengths,
            BackgroundField::Goal => &self.goal,
            BackgroundField::Health => &self.health,
            BackgroundField::Family => &self.family,
            BackgroundField::Other => &self.other,
        }
    }

    /// Mutable access to one field.
    pub fn get_mut(&mut self, field: BackgroundField) -> &mut String {
        match field {
            BackgroundField::Education => &mut self.education,
            BackgroundField::WorkExperience => &mut self.work_experience,
            BackgroundField::Skills => &mut self.skills,
            BackgroundField::Strengths => &mut self.strengths,
            BackgroundField::Goal => &mut self.goal,
            BackgroundField::Health => &mut self.health,
            BackgroundField::Family => &mut self.family,
            BackgroundField::Other => &mut self.other,
        }
    }
}

string_enum! {
    /// When in a period a situation snapshot was taken.
    SnapshotPhase {
        /// At the start of a period (tilanne jakson alussa).
        Start = "start",
        /// At the end of a period (tilanne jakson lopussa).
        End = "end",
        /// Any other time.
        Interim = "interim",
    }
}

/// Situation snapshot (tilannetiedot) on a date. All values are codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SituationSnapshot {
    /// Key of the snapshot in [`Client::snapshots`].
    pub id: SnapshotId,
    /// Date the situation applies to.
    pub date: NaiveDate,
    /// The period the snapshot belongs to, if any.
    pub period: Option<PeriodId>,
    /// Start, end or interim.
    pub phase: SnapshotPhase,
    /// Highest completed education (list `highest_education`).
    pub highest_education: Option<String>,
    /// Education status (list `education_status`).
    pub education_status: Option<String>,
    /// Main activity (list `main_activity`).
    pub main_activity: Option<String>,
    /// Livelihood (list `livelihood`).
    pub livelihood: Option<String>,
    /// Housing (list `housing`).
    pub housing: Option<String>,
}

impl SituationSnapshot {
    /// An empty snapshot on `date`.
    pub fn new(id: SnapshotId, date: NaiveDate, phase: SnapshotPhase) -> Self {
        Self {
            id,
            date,
            period: None,
            phase,
            highest_education: None,
            education_status: None,
            main_activity: None,
            livelihood: None,
            housing: None,
        }
    }
}

/// Period (jakso): one stretch of work with the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// Key of the period in [`Client::periods`].
    pub id: PeriodId,
    /// Arrival route (mitä kautta saapunut), list `arrival_route`.
    pub arrival_route: Option<String>,
    /// Start date.
    pub start: Option<NaiveDate>,
    /// End date.
    pub end: Option<NaiveDate>,
    /// Marked as ended by a worker (even if the end date is still missing).
    pub closed: bool,
    /// Measures (toimenpiteet).
    pub measures: BTreeMap<MeasureId, Measure>,
    /// Placement / outcome (sijoittuminen), list `outcome`.
    pub outcome: Option<String>,
    /// The referral (ilmoitus) the period started from, if any.
    pub referral: Option<RecordId>,
    /// Goals (tavoitteet), free text.
    pub goals: String,
    /// Final assessment (loppuarvio), free text.
    pub final_assessment: String,
}

impl Period {
    /// An empty open period.
    pub fn new(id: PeriodId) -> Self {
        Self {
            id,
            arrival_route: None,
            start: None,
            end: None,
            closed: false,
            measures: BTreeMap::new(),
            outcome: None,
            referral: None,
            goals: String::new(),
            final_assessment: String::new(),
        }
    }

    /// Whether the period has ended: it has an end date or was closed.
    pub fn is_ended(&self) -> bool {
        self.closed || self.end.is_some()
    }

    /// Whether the period is running on `date`: started on or before it and
    /// not ended before it.
    pub fn is_active_on(&self, date: NaiveDate) -> bool {
        let started = self.start.is_some_and(|s| s <= date);
        let not_ended = match self.end {
            Some(end) => date <= end,
            None => !self.closed,
        };
        started && not_ended
    }

    /// Adds or replaces a measure under its own id.
    pub fn insert_measure(&mut self, measure: Measure) {
        self.measures.insert(measure.id, measure);
    }
}

string_enum! {
    /// Status of a measure.
    MeasureStatus {
        /// Agreed but not started (suunniteltu).
        Planned = "planned",
        /// Going on (käynnissä).
        Ongoing = "ongoing",
        /// Completed (toteutunut).
        Completed = "completed",
        /// Discontinued (keskeytynyt).
        Discontinued = "discontinued",
    }
}

/// Measure (toimenpide) within a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measure {
    /// Key of the measure in [`Period::measures`].
    pub id: MeasureId,
    /// Measure code, list `measure`.
    pub code: String,
    /// Start date.
    pub start: Option<NaiveDate>,
    /// Status.
    pub status: MeasureStatus,
    /// End date.
    pub end: Option<NaiveDate>,
}

/// Memo (muistio) on a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memo {
    /// Key of the memo in [`Client::memos`].
    pub id: MemoId,
    /// Date the memo is about.
    pub date: NaiveDate,
    /// The worker who wrote it.
    pub author: UserId,
    /// Memo type code, list `memo_type`.
    pub kind: String,
    /// Free text, merged character by character.
    pub text: String,
    /// When it was deleted (a soft delete: the memo and its text stay in the
    /// record, so an edit made elsewhere at the same time is not lost, and a
    /// deleted memo can be restored; erasure removes it for real).
    pub deleted: Option<DateTime<Utc>>,
}

/// Reference to an encrypted attachment (liite) blob held by the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    /// Key in [`Client::attachments`]; also the blob id in the store.
    pub id: AttachmentId,
    /// Original file name.
    pub file_name: String,
    /// Media type, e.g. `application/pdf`.
    pub media_type: String,
    /// Plaintext size in bytes.
    pub size: u64,
    /// BLAKE3 hash of the plaintext, lowercase hex.
    pub blake3_hex: String,
    /// When the attachment was added.
    pub added_at: DateTime<Utc>,
    /// The memo the attachment belongs to, if any.
    pub memo: Option<MemoId>,
}

/// Referral (ilmoitus) under the Youth Act §11–12.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    /// Key in [`Client::referrals`].
    pub id: RecordId,
    /// Who reported the young person, list `referral_source`.
    pub source: String,
    /// Date the referral was received.
    pub received: NaiveDate,
    /// The follow-up decided (free text).
    pub follow_up: String,
    /// Date the follow-up was decided.
    pub follow_up_decided: Option<NaiveDate>,
}

string_enum! {
    /// What a consent covers.
    ConsentTopic {
        /// Follow-up contact after one and two years (seuranta).
        FollowUp = "follow_up",
        /// Disclosure of data to another party (tietojen luovutus).
        Disclosure = "disclosure",
        /// Anything else; see [`Consent::note`].
        Other = "other",
    }
}

/// Consent (suostumus): what, given when, withdrawn when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// Key in [`Client::consents`].
    pub id: RecordId,
    /// What the consent covers.
    pub topic: ConsentTopic,
    /// Details of what was consented to.
    pub note: String,
    /// Date given.
    pub given: NaiveDate,
    /// Date withdrawn.
    pub withdrawn: Option<NaiveDate>,
}

impl Consent {
    /// Whether the consent is in force on `date`.
    pub fn is_active_on(&self, date: NaiveDate) -> bool {
        self.given <= date && self.withdrawn.is_none_or(|w| date < w)
    }
}

/// Disclosure (luovutus): what data went to whom, when, on what basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disclosure {
    /// Key in [`Client::disclosures`].
    pub id: RecordId,
    /// What data was disclosed.
    pub what: String,
    /// To whom.
    pub recipient: String,
    /// When.
    pub date: NaiveDate,
    /// Legal basis or consent.
    pub basis: String,
}

string_enum! {
    /// How long after a period a follow-up is due.
    FollowUpInterval {
        /// One year after.
        OneYear = "one_year",
        /// Two years after.
        TwoYears = "two_years",
    }
}

impl FollowUpInterval {
    /// Whole years after the period end.
    pub fn years(self) -> u32 {
        match self {
            FollowUpInterval::OneYear => 1,
            FollowUpInterval::TwoYears => 2,
        }
    }

    /// The due date after a period ending on `period_end` (same day of the
    /// year; 29 February falls back to 28 February).
    pub fn due_after(self, period_end: NaiveDate) -> NaiveDate {
        let target = period_end.checked_add_months(chrono::Months::new(12 * self.years()));
        target.unwrap_or(NaiveDate::MAX)
    }
}

/// Follow-up (seuranta) after one or two years; only with consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    /// Key in [`Client::follow_ups`].
    pub id: RecordId,
    /// The period followed up.
    pub period: Option<PeriodId>,
    /// One or two years.
    pub interval: FollowUpInterval,
    /// Due date.
    pub due: NaiveDate,
    /// Date done.
    pub done: Option<NaiveDate>,
    /// Situation found, list `outcome`.
    pub result: Option<String>,
    /// Notes, free text.
    pub notes: String,
}

/// What the store's encrypted search index keeps per client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSummary {
    /// The client.
    pub id: ClientId,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
    /// Unit.
    pub unit: Option<UnitId>,
    /// Responsible workers.
    pub responsible: BTreeSet<UserId>,
}

/// The basic-data part of a client (perustiedot), kept in its own document
/// (id: the client's id) so that users with the basic-data right only receive
/// nothing else: name, birth date, contact details, unit and responsible workers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientBasic {
    /// The client's id, also the id of this document.
    pub id: ClientId,
    /// When the client was first recorded.
    pub created_at: DateTime<Utc>,
    /// Basic data (perustiedot).
    pub basic: BasicData,
    /// Unit (yksikkö) the client belongs to.
    pub unit: Option<UnitId>,
    /// Responsible worker(s) (vastuutyöntekijät).
    pub responsible: BTreeSet<UserId>,
}

/// The rest of a client's record, in its own document (id:
/// [`record_doc_id`] of the client): background, situation, periods, memos,
/// attachments and the Youth Act records. Only users with the record right
/// receive it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRecord {
    /// The id of this document ([`record_doc_id`] of `client`).
    pub id: DocId,
    /// The client it belongs to.
    pub client: ClientId,
    /// Background (taustatiedot), free text.
    pub background: Background,
    /// Dated situation snapshots (tilannetiedot).
    pub snapshots: BTreeMap<SnapshotId, SituationSnapshot>,
    /// Periods (jaksot).
    pub periods: BTreeMap<PeriodId, Period>,
    /// Memos (muistiot).
    pub memos: BTreeMap<MemoId, Memo>,
    /// References to encrypted attachments (liitteet).
    pub attachments: BTreeMap<AttachmentId, AttachmentRef>,
    /// Referrals (ilmoitukset) under the Youth Act §11–12.
    pub referrals: BTreeMap<RecordId, Referral>,
    /// Consents (suostumukset).
    pub consents: BTreeMap<RecordId, Consent>,
    /// Disclosure log (luovutukset).
    pub disclosures: BTreeMap<RecordId, Disclosure>,
    /// Follow-ups (seurannat) after one and two years.
    pub follow_ups: BTreeMap<RecordId, FollowUp>,
}

/// The id of a client's record document: derived from the client's id, so
/// every node finds it without a lookup (and erasing the client names it).
pub fn record_doc_id(client: ClientId) -> DocId {
    let mut h = blake3::Hasher::new_derive_key("polku 2026-12 client record document id v1");
    h.update(client.0.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&h.finalize().as_bytes()[..16]);
    DocId(uuid::Builder::from_random_bytes(bytes).into_uuid())
}

impl ClientRecord {
    /// An empty record of `client`.
    pub fn empty(client: ClientId) -> Self {
        Self {
            id: record_doc_id(client),
            client,
            background: Background::default(),
            snapshots: BTreeMap::new(),
            periods: BTreeMap::new(),
            memos: BTreeMap::new(),
            attachments: BTreeMap::new(),
            referrals: BTreeMap::new(),
            consents: BTreeMap::new(),
            disclosures: BTreeMap::new(),
            follow_ups: BTreeMap::new(),
        }
    }

    /// Whether it holds nothing but its ids.
    pub fn is_empty(&self) -> bool {
        *self == Self::empty(self.client)
    }
}

impl Client {
    /// The two documents' parts: basic data and the rest of the record.
    pub fn split(&self) -> (ClientBasic, ClientRecord) {
        let c = self.clone();
        (
            ClientBasic {
                id: c.id,
                created_at: c.created_at,
                basic: c.basic,
                unit: c.unit,
                responsible: c.responsible,
            },
            ClientRecord {
                id: record_doc_id(c.id),
                client: c.id,
                background: c.background,
                snapshots: c.snapshots,
                periods: c.periods,
                memos: c.memos,
                attachments: c.attachments,
                referrals: c.referrals,
                consents: c.consents,
                disclosures: c.disclosures,
                follow_ups: c.follow_ups,
            },
        )
    }

    /// The client from its parts; without a record (a user with the
    /// basic-data right only) the rest is empty.
    pub fn join(basic: ClientBasic, record: Option<ClientRecord>) -> Client {
        let r = record.unwrap_or_else(|| ClientRecord::empty(basic.id));
        Client {
            id: basic.id,
            created_at: basic.created_at,
            basic: basic.basic,
            background: r.background,
            unit: basic.unit,
            responsible: basic.responsible,
            snapshots: r.snapshots,
            periods: r.periods,
            memos: r.memos,
            attachments: r.attachments,
            referrals: r.referrals,
            consents: r.consents,
            disclosures: r.disclosures,
            follow_ups: r.follow_ups,
        }
    }
}

impl ClientBasic {
    /// The fields kept in the search index.
    pub fn summary(&self) -> ClientSummary {
        ClientSummary {
            id: self.id,
            first_name: self.basic.first_name.clone(),
            last_name: self.basic.last_name.clone(),
            birth_date: self.basic.birth_date,
            unit: self.unit,
            responsible: self.responsible.clone(),
        }
    }
}

impl Client {
    /// An empty client record.
    pub fn new(id: ClientId, created_at: DateTime<Utc>) -> Self {
        Self {
            id,
            created_at,
            basic: BasicData::default(),
            background: Background::default(),
            unit: None,
            responsible: BTreeSet::new(),
            snapshots: BTreeMap::new(),
            periods: BTreeMap::new(),
            memos: BTreeMap::new(),
            attachments: BTreeMap::new(),
            referrals: BTreeMap::new(),
            consents: BTreeMap::new(),
            disclosures: BTreeMap::new(),
            follow_ups: BTreeMap::new(),
        }
    }

    /// The fields kept in the search index.
    pub fn summary(&self) -> ClientSummary {
        ClientSummary {
            id: self.id,
            first_name: self.basic.first_name.clone(),
            last_name: self.basic.last_name.clone(),
            birth_date: self.basic.birth_date,
            unit: self.unit,
            responsible: self.responsible.clone(),
        }
    }

    /// The latest end date over all periods (drives retention).
    pub fn last_period_end(&self) -> Option<NaiveDate> {
        self.periods.values().filter_map(|p| p.end).max()
    }

    /// Whether any period is still open.
    pub fn has_open_period(&self) -> bool {
        self.periods.values().any(|p| !p.is_ended())
    }

    /// Whether a follow-up contact is allowed on `date`: only with a
    /// follow-up consent in force.
    pub fn follow_up_permitted(&self, date: NaiveDate) -> bool {
        self.consents
            .values()
            .any(|c| c.topic == ConsentTopic::FollowUp && c.is_active_on(date))
    }

    /// Adds or replaces a snapshot under its own id.
    pub fn insert_snapshot(&mut self, snapshot: SituationSnapshot) {
        self.snapshots.insert(snapshot.id, snapshot);
    }
    /// Adds or replaces a period under its own id.
    pub fn insert_period(&mut self, period: Period) {
        self.periods.insert(period.id, period);
    }
    /// Adds or replaces a memo under its own id.
    pub fn insert_memo(&mut self, memo: Memo) {
        self.memos.insert(memo.id, memo);
    }
    /// Adds or replaces an attachment reference under its own id.
    pub fn insert_attachment(&mut self, attachment: AttachmentRef) {
        self.attachments.insert(attachment.id, attachment);
    }
    /// Adds or replaces a referral under its own id.
    pub fn insert_referral(&mut self, referral: Referral) {
        self.referrals.insert(referral.id, referral);
    }
    /// Adds or replaces a consent under its own id.
    pub fn insert_consent(&mut self, consent: Consent) {
        self.consents.insert(consent.id, consent);
    }
    /// Adds or replaces a disclosure under its own id.
    pub fn insert_disclosure(&mut self, disclosure: Disclosure) {
        self.disclosures.insert(disclosure.id, disclosure);
    }
    /// Adds or replaces a follow-up under its own id.
    pub fn insert_follow_up(&mut self, follow_up: FollowUp) {
        self.follow_ups.insert(follow_up.id, follow_up);
    }
}
