//! Document layout of every domain type (see [`super::value`] for the rules).
//!
//! Changing a field name here changes the stored format: add new fields
//! freely (absent values read as empty/`None`), never rename or reuse one.

use automerge::hydrate as hv;
use automerge::{AutoCommit, ObjId};

use super::DocError;
use super::modes::{am_struct, flat};
use super::value::{AmValue, At};
use crate::anonymised::{AnonymisedEntry, StatsExtract};
use crate::codes::Labels;
use crate::ids::*;
use crate::model::*;
use crate::rights::RightsAdjustment;

am_struct!(ClientBasic {
    id: val,
    created_at: val,
    basic: val,
    unit: val,
    responsible: val,
});

am_struct!(ClientRecord {
    id: val,
    client: val,
    background: val,
    snapshots: val,
    periods: val,
    memos: val,
    attachments: val,
    referrals: val,
    consents: val,
    disclosures: val,
    follow_ups: val,
});

am_struct!(StatsExtract {
    id: val,
    records: val,
    activity: val,
    brief: val,
});

am_struct!(AnonymisedEntry {
    id: val,
    record: val,
});

am_struct!(BriefContactLog {
    id: val,
    unit: val,
    month: val,
    contacts: val,
});

am_struct!(BriefContact [id: BriefContactId] {
    date: val,
    channel: val,
    gender: val,
    age_group: val,
    topic: val,
    author: val,
    text: text,
    deleted: val,
});

am_struct!(BasicData {
    first_name: val,
    last_name: val,
    birth_date: val,
    gender: val,
    mother_tongue: val,
    henkilotunnus: val,
    email: val,
    phone: val,
    address: val,
});

am_struct!(Address {
    street: val,
    postal_code: val,
    city: val,
});

am_struct!(Background {
    education: text,
    work_experience: text,
    skills: text,
    strengths: text,
    goal: text,
    health: text,
    family: text,
    other: text,
});

am_struct!(SituationSnapshot [id: SnapshotId] {
    date: val,
    period: val,
    phase: val,
    highest_education: val,
    education_status: val,
    main_activity: val,
    livelihood: val,
    housing: val,
});

am_struct!(Period [id: PeriodId] {
    arrival_route: val,
    start: val,
    end: val,
    closed: val,
    measures: val,
    outcome: val,
    referral: val,
    goals: text,
    final_assessment: text,
});

am_struct!(Measure [id: MeasureId] {
    code: val,
    start: val,
    status: val,
    end: val,
});

am_struct!(Memo [id: MemoId] {
    date: val,
    author: val,
    kind: val,
    text: text,
    deleted: val,
});

am_struct!(AttachmentRef [id: AttachmentId] {
    file_name: val,
    media_type: val,
    size: val,
    blake3_hex: val,
    added_at: val,
    memo: val,
});

am_struct!(Referral [id: RecordId] {
    source: val,
    received: val,
    follow_up: text,
    follow_up_decided: val,
});

am_struct!(Consent [id: RecordId] {
    topic: val,
    note: val,
    given: val,
    withdrawn: val,
});

am_struct!(Disclosure [id: RecordId] {
    what: val,
    recipient: val,
    date: val,
    basis: val,
});

am_struct!(FollowUp [id: RecordId] {
    period: val,
    interval: val,
    due: val,
    done: val,
    result: val,
    notes: text,
});

am_struct!(ActivityMemo {
    id: val,
    kind: val,
    date: val,
    duration_minutes: val,
    place: val,
    unit: val,
    workers: val,
    met: val,
    text: text,
    deleted: val,
});

impl AmValue for MetCounts {
    fn to_am(&self) -> Option<hv::Value> {
        flat::to_am(&self.0)
    }
    fn from_am(v: Option<&hv::Value>, at: At<'_>) -> Result<Self, DocError> {
        flat::from_am(v, at).map(MetCounts)
    }
    fn update_am(
        &self,
        old: &Self,
        doc: &mut AutoCommit,
        obj: &ObjId,
        key: &str,
    ) -> Result<(), DocError> {
        flat::update(&self.0, &old.0, doc, obj, key)
    }
}

am_struct!(Organisation {
    id: val,
    name: val,
    units: val,
    users: val,
    own_codes: flat,
    retired_codes: flatset,
    settings: val,
    devices: val,
    backup_keys: val,
});

am_struct!(Unit [id: UnitId] {
    name: val,
    municipality: val,
    active: val,
});

am_struct!(User [id: UserId] {
    login: val,
    display_name: val,
    role: val,
    units: val,
    active: val,
    rights: val,
});

am_struct!(RightsAdjustment {
    admin: val,
    view: val,
    modify: val,
    basic_data_only: val,
    memos: val,
});

am_struct!(OwnCode {
    code: val,
    labels: val,
    parent: val,
});

am_struct!(Labels {
    fi: val,
    sv: val,
    en: val,
});

am_struct!(Settings {
    retention_years: val,
    offline_lease_days: val,
    idle_lock_minutes: val,
    small_cell_threshold: val,
});

am_struct!(BackupKey {
    label: val,
    added_at: val,
});

am_struct!(Device {
    node_id: val,
    user: val,
    label: val,
    enrolled_at: val,
    revoked_at: val,
});
