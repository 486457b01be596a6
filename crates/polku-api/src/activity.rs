//! Activity memos (toimintamuistiot): street work, online work, group
//! meetings, training… — work not tied to one client, one Automerge
//! document each.
//!
//! Rights: one rule for local writes and for the hub's judgement of a
//! laptop's change, [`polku_core::rights::may_record_unit_work`] (the memo's
//! unit, before and after an edit, among the user's units unless the user may
//! modify all); reading follows
//! [`polku_core::rights::may_view_unit_work`]. A refusal is audited.
//!
//! Audit: `create` with `activity_add`, `update` with `activity_edit`,
//! `view` with `activity` (one memo) or `activity_list` and the count, each
//! in the same transaction as the change it records.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use polku_audit::{Action as AuditAction, Code, Detail, Reason};
use polku_core::codes::CodeList;
use polku_core::doc::ActivityMemoDoc;
use polku_core::limits::TextField;
use polku_core::model::{ActivityMemo, MetCounts};
use polku_core::rights::{Denied, may_record_unit_work, may_view_unit_work};
use polku_core::{ActivityMemoId, DocKind, UnitId, UserId};
use polku_store::StoreError;
use uuid::Uuid;

use crate::{ApiError, Result, Session};

const fn code(s: &'static str) -> Code {
    match Code::new(s) {
        Ok(c) => c,
        Err(_) => panic!("invalid audit code in the program text"),
    }
}

/// Audit detail codes. Do not change (they are in signed entries).
const ACTIVITY_ADD: Code = code("activity_add");
const ACTIVITY_EDIT: Code = code("activity_edit");
const ACTIVITY_DELETE: Code = code("activity_delete");
const ACTIVITY_RESTORE: Code = code("activity_restore");
const ACTIVITY_VIEW: Code = code("activity");
const ACTIVITY_LIST: Code = code("activity_list");

/// Longest place text, in characters.
pub const MAX_PLACE_CHARS: usize = TextField::Place.max_chars();
/// Longest free text of an entry (activity memo, brief contact), in characters.
pub const MAX_TEXT_CHARS: usize = TextField::LongText.max_chars();
/// Most young people one activity memo may count in one cell.
pub const MAX_MET_PER_CELL: u32 = 10_000;
/// Longest duration of one activity memo, in minutes (one day).
pub const MAX_DURATION_MINUTES: u32 = 24 * 60;

/// The fields of a new activity memo.
#[derive(Debug, Clone)]
pub struct ActivityInput {
    /// Kind code, list `activity_kind`.
    pub kind: String,
    /// Date of the activity.
    pub date: NaiveDate,
    /// Duration in minutes.
    pub duration_minutes: u32,
    /// Place (free text).
    pub place: String,
    /// Unit name or id; `None` for the user's first unit.
    pub unit: Option<String>,
    /// Login names of the workers present; the user is always one of them.
    pub workers: Vec<String>,
    /// Young people met: `(gender code, age-group code, count)`.
    pub met: Vec<(String, String, u32)>,
    /// Free text.
    pub text: String,
}

/// A change to an activity memo: each `Some` field replaces the old value
/// (the text as a character diff, so a concurrent edit merges).
#[derive(Debug, Clone, Default)]
pub struct ActivityEdit {
    /// New kind code.
    pub kind: Option<String>,
    /// New date.
    pub date: Option<NaiveDate>,
    /// New duration in minutes.
    pub duration_minutes: Option<u32>,
    /// New place.
    pub place: Option<String>,
    /// Move to this unit (name or id).
    pub unit: Option<String>,
    /// Replace the workers (login names).
    pub workers: Option<Vec<String>>,
    /// Set these counts `(gender, age group, count)`; 0 removes a cell.
    pub met: Vec<(String, String, u32)>,
    /// New text.
    pub text: Option<String>,
}

/// Which activity memos to list.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    /// Only memos on or after this date.
    pub from: Option<NaiveDate>,
    /// Only memos on or before this date.
    pub to: Option<NaiveDate>,
    /// Only this unit's (name or id).
    pub unit: Option<String>,
}

pub(crate) fn check_len(text: &str, field: TextField) -> Result<()> {
    Ok(polku_core::limits::check_len(field, text)?)
}

impl Session {
    /// Audit a refusal of a unit-work right and return it as an error.
    pub(crate) fn unit_work_right(
        &mut self,
        decision: std::result::Result<(), Denied>,
        target: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if self.must_change_password() {
            return Err(ApiError::MustChangePassword);
        }
        match decision {
            Ok(()) => Ok(()),
            Err(denied) => {
                self.record(
                    now,
                    AuditAction::Denied,
                    target,
                    Detail::Reason(Reason::NotPermitted),
                )?;
                Err(ApiError::Denied(denied))
            }
        }
    }

    fn resolve_workers(&self, logins: &[String]) -> Result<BTreeSet<UserId>> {
        let mut out: BTreeSet<UserId> = [self.user.id].into_iter().collect();
        for login in logins {
            let u = self
                .org
                .user_by_login(login.trim())
                .ok_or(ApiError::UnknownLogin)?;
            out.insert(u.id);
        }
        Ok(out)
    }

    fn check_met(&self, met: &[(String, String, u32)]) -> Result<()> {
        let codes = self.codes()?;
        for (g, a, n) in met {
            codes.lookup_for_new(CodeList::Gender, g)?;
            codes.lookup_for_new(CodeList::AgeGroup, a)?;
            if *n > MAX_MET_PER_CELL {
                return Err(ApiError::Invalid("too many young people in one count"));
            }
        }
        Ok(())
    }

    /// Record an activity memo; returns its id. Durable with its audit entry
    /// when this returns.
    pub fn add_activity(
        &mut self,
        input: ActivityInput,
        now: DateTime<Utc>,
    ) -> Result<ActivityMemoId> {
        self.codes()?
            .lookup_for_new(CodeList::ActivityKind, &input.kind)?;
        self.check_met(&input.met)?;
        check_len(&input.place, TextField::Place)?;
        check_len(&input.text, TextField::LongText)?;
        if input.duration_minutes > MAX_DURATION_MINUTES {
            return Err(ApiError::Invalid("the duration is longer than a day"));
        }
        let unit = self.resolve_unit(input.unit.as_deref())?;
        let decision = may_record_unit_work(&self.user, &self.rights, &[unit]);
        self.unit_work_right(decision, None, now)?;
        let mut memo = ActivityMemo::new(ActivityMemoId::new(), input.kind, input.date, unit);
        memo.duration_minutes = input.duration_minutes;
        memo.place = input.place;
        memo.workers = self.resolve_workers(&input.workers)?;
        let mut met = MetCounts::default();
        for (g, a, n) in &input.met {
            met.set(g, a, met.get(g, a).saturating_add(*n));
        }
        memo.met = met;
        memo.text = input.text;
        let mut doc = ActivityMemoDoc::new_with_message(&memo, Some(self.trail.change_message()))?;
        let bytes = doc.save();
        let id = memo.id;
        self.record_with(
            now,
            AuditAction::Create,
            Some(id.0),
            Detail::Code(ACTIVITY_ADD),
            |b| {
                b.create_doc(id.into(), DocKind::ActivityMemo, &bytes)
                    .map(|_| ())
            },
        )?;
        Ok(id)
    }

    fn load_activity(&self, id: ActivityMemoId) -> Result<ActivityMemoDoc> {
        let am = match self.store.load_doc(id.into()) {
            Ok(am) => am,
            Err(StoreError::DocNotFound(_)) => return Err(ApiError::ActivityNotFound(id)),
            Err(e) => return Err(e.into()),
        };
        let mut doc = ActivityMemoDoc::from_automerge(am)?;
        doc.mark_saved();
        doc.set_commit_message(Some(self.trail.change_message()));
        Ok(doc)
    }

    /// Change an activity memo (see [`ActivityEdit`]). The user needs the
    /// right to record work in the memo's unit before and after the change.
    pub fn edit_activity(
        &mut self,
        id: ActivityMemoId,
        edit: ActivityEdit,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if let Some(k) = &edit.kind {
            self.codes()?.lookup_for_new(CodeList::ActivityKind, k)?;
        }
        self.check_met(&edit.met)?;
        if let Some(p) = &edit.place {
            check_len(p, TextField::Place)?;
        }
        if let Some(t) = &edit.text {
            check_len(t, TextField::LongText)?;
        }
        if edit
            .duration_minutes
            .is_some_and(|d| d > MAX_DURATION_MINUTES)
        {
            return Err(ApiError::Invalid("the duration is longer than a day"));
        }
        let mut doc = self.load_activity(id)?;
        let before = doc.activity_memo()?;
        let unit = match &edit.unit {
            Some(u) => self.unit_by_name(u)?,
            None => before.unit,
        };
        let decision = may_record_unit_work(&self.user, &self.rights, &[before.unit, unit]);
        self.unit_work_right(decision, Some(id.0), now)?;
        let workers = edit
            .workers
            .as_deref()
            .map(|w| self.resolve_workers(w))
            .transpose()?;
        doc.update(|m| {
            if let Some(k) = edit.kind {
                m.kind = k;
            }
            if let Some(d) = edit.date {
                m.date = d;
            }
            if let Some(d) = edit.duration_minutes {
                m.duration_minutes = d;
            }
            if let Some(p) = edit.place {
                m.place = p;
            }
            m.unit = unit;
            if let Some(w) = workers {
                m.workers = w;
            }
            for (g, a, n) in &edit.met {
                m.met.set(g, a, *n);
            }
            if let Some(t) = edit.text {
                m.text = t;
            }
        })?;
        if !doc.has_unsaved_changes() {
            return Ok(());
        }
        let bytes = doc.save_incremental();
        let heads = doc.heads();
        self.record_with(
            now,
            AuditAction::Update,
            Some(id.0),
            Detail::Code(ACTIVITY_EDIT),
            |b| b.append_change(id.into(), &bytes, &heads).map(|_| ()),
        )
    }

    /// Delete an activity memo: a soft delete (the memo stays, so that an
    /// edit made at the same time on another device is not lost, and it can
    /// be restored); a deleted memo is neither listed nor counted. The user
    /// needs the right to record work in the memo's unit.
    pub fn delete_activity(&mut self, id: ActivityMemoId, now: DateTime<Utc>) -> Result<()> {
        self.set_activity_deleted(id, Some(now), now)
    }

    /// Restore a deleted activity memo.
    pub fn restore_activity(&mut self, id: ActivityMemoId, now: DateTime<Utc>) -> Result<()> {
        self.set_activity_deleted(id, None, now)
    }

    fn set_activity_deleted(
        &mut self,
        id: ActivityMemoId,
        deleted: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if self.must_change_password() {
            return Err(ApiError::MustChangePassword);
        }
        let mut doc = self.load_activity(id)?;
        let before = doc.activity_memo()?;
        let decision = may_record_unit_work(&self.user, &self.rights, &[before.unit]);
        self.unit_work_right(decision, Some(id.0), now)?;
        if before.deleted.is_some() == deleted.is_some() {
            return Ok(());
        }
        doc.update(|m| m.deleted = deleted)?;
        let bytes = doc.save_incremental();
        let heads = doc.heads();
        let code = if deleted.is_some() {
            ACTIVITY_DELETE
        } else {
            ACTIVITY_RESTORE
        };
        self.record_with(
            now,
            AuditAction::Update,
            Some(id.0),
            Detail::Code(code),
            |b| b.append_change(id.into(), &bytes, &heads).map(|_| ()),
        )
    }

    /// One activity memo (audited as a view).
    pub fn show_activity(
        &mut self,
        id: ActivityMemoId,
        now: DateTime<Utc>,
    ) -> Result<ActivityMemo> {
        let memo = self.load_activity(id)?.activity_memo()?;
        let decision = may_view_unit_work(&self.user, &self.rights, memo.unit);
        self.unit_work_right(decision, Some(id.0), now)?;
        self.record(
            now,
            AuditAction::View,
            Some(id.0),
            Detail::Code(ACTIVITY_VIEW),
        )?;
        Ok(memo)
    }

    /// The activity memos the user may see that match `filter`, by date then
    /// id (audited as one view with the count).
    pub fn list_activities(
        &mut self,
        filter: &ActivityFilter,
        now: DateTime<Utc>,
    ) -> Result<Vec<ActivityMemo>> {
        if self.must_change_password() {
            return Err(ApiError::MustChangePassword);
        }
        let unit: Option<UnitId> = filter
            .unit
            .as_deref()
            .map(|u| self.unit_by_name(u))
            .transpose()?;
        let mut list: Vec<ActivityMemo> = self
            .load_activity_memos()?
            .into_iter()
            .filter(|m| m.deleted.is_none())
            .filter(|m| may_view_unit_work(&self.user, &self.rights, m.unit).is_ok())
            .filter(|m| filter.from.is_none_or(|f| m.date >= f))
            .filter(|m| filter.to.is_none_or(|t| m.date <= t))
            .filter(|m| unit.is_none_or(|u| m.unit == u))
            .collect();
        list.sort_by_key(|a| (a.date, a.id));
        let count = u32::try_from(list.len()).unwrap_or(u32::MAX);
        self.record(
            now,
            AuditAction::View,
            None,
            Detail::CodeCount {
                code: ACTIVITY_LIST,
                count,
            },
        )?;
        Ok(list)
    }
}
