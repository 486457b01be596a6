//! The rest of a client's record through the API: background (taustatiedot),
//! dated situation snapshots (tilannetiedot), periods (jaksot) with their
//! measures (toimenpiteet), goals, final assessment and outcome, memos
//! (deleting one is a soft delete), referrals (ilmoitukset, Youth Act §11),
//! consents (suostumukset), disclosures (luovutukset), follow-ups (seurannat),
//! and the client's unit and responsible workers.
//!
//! Every change checks its right against the PAR matrix (a refusal is
//! audited), checks every code against the code lists (a retired code cannot
//! be chosen for a new entry), is written as one incremental Automerge change
//! of the document that holds it and audited in the same transaction, with a
//! code naming what changed and never a value.

use chrono::{DateTime, NaiveDate, Utc};
use polku_audit::{Code, Detail};
use polku_core::codes::CodeList;
use polku_core::limits::{TextField, check_len};
use polku_core::model::{
    BackgroundField, Client, Consent, ConsentTopic, Disclosure, FollowUp, FollowUpInterval,
    Measure, MeasureStatus, Period, Referral, SituationSnapshot, SnapshotPhase,
};
use polku_core::rights::{Action, Target};
use polku_core::validate::{self, Missing};
use polku_core::{ClientId, MeasureId, MemoId, PeriodId, RecordId, SnapshotId, UnitId, UserId};
use serde::{Deserialize, Serialize};

use crate::audit_codes as codes;
use crate::session::Session;
use crate::{ApiError, Result};

/// A situation snapshot to record: all values are codes of their lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SituationInput {
    /// Date the situation applies to.
    pub date: Option<NaiveDate>,
    /// Start, end or interim (default interim).
    pub phase: Option<SnapshotPhase>,
    /// The period it belongs to.
    pub period: Option<PeriodId>,
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

/// A period to open.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodInput {
    /// Start date (default: today).
    pub start: Option<NaiveDate>,
    /// Arrival route code (list `arrival_route`).
    pub arrival_route: Option<String>,
    /// The client's referral the period starts from.
    pub referral: Option<RecordId>,
    /// Goals, free text.
    pub goals: String,
}

/// A period's end.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodClose {
    /// End date (default: today).
    pub end: Option<NaiveDate>,
    /// Placement / outcome code (list `outcome`).
    pub outcome: Option<String>,
    /// Final assessment, free text (`None`: unchanged).
    pub final_assessment: Option<String>,
}

/// A referral (ilmoitus) received under the Youth Act §11.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralInput {
    /// Who reported (list `referral_source`).
    pub source: String,
    /// When it was received (default: today).
    pub received: Option<NaiveDate>,
    /// The follow-up decided, free text.
    pub follow_up: String,
    /// When the follow-up was decided.
    pub follow_up_decided: Option<NaiveDate>,
}

/// A disclosure (luovutus) of the client's data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisclosureInput {
    /// What was disclosed.
    pub what: String,
    /// To whom.
    pub recipient: String,
    /// When (default: today).
    pub date: Option<NaiveDate>,
    /// On what basis (consent, law).
    pub basis: String,
}

/// Which text of a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodText {
    /// Goals (tavoitteet).
    Goals,
    /// Final assessment (loppuarvio).
    FinalAssessment,
}

fn long(text: &str) -> Result<()> {
    Ok(check_len(TextField::LongText, text)?)
}

fn short(text: &str) -> Result<()> {
    Ok(check_len(TextField::ShortText, text)?)
}

fn required(value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(ApiError::Rejected(crate::Rejection::DisclosureIncomplete));
    }
    Ok(())
}

impl Session {
    /// Checks `action` on `client`, loads its documents, runs `f` on the
    /// client (which validates and changes it, or refuses with an error
    /// before anything is written) and writes the change with its audit
    /// entry `detail` in one transaction.
    fn change_record<R>(
        &mut self,
        client: ClientId,
        action: Action,
        detail: Code,
        now: DateTime<Utc>,
        f: impl FnOnce(&mut Client) -> Result<R>,
    ) -> Result<R> {
        self.check_client_for(action, client, now)?;
        let mut doc = self.load_client_doc(client)?;
        let mut value = doc.client()?;
        let out = f(&mut value)?;
        doc.update(|c| *c = value.clone())?;
        let summary = value.summary();
        let changed_summary = self.summary_of(client) != Some(&summary);
        self.write_client_change(
            client,
            &mut doc,
            changed_summary.then_some(&summary),
            now,
            Detail::Code(detail),
        )?;
        Ok(out)
    }

    /// Checks `code` of `list` for a new entry (known, not retired).
    fn new_code(&self, list: CodeList, code: &str) -> Result<()> {
        self.code_for_new(list, code)
    }

    fn new_opt_code(&self, list: CodeList, code: Option<&str>) -> Result<()> {
        match code {
            Some(c) => self.new_code(list, c),
            None => Ok(()),
        }
    }

    /// Sets one background (taustatiedot) text; written as a character
    /// diff, so an edit made elsewhere to the same text merges.
    pub fn set_background(
        &mut self,
        client: ClientId,
        field: BackgroundField,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        long(text)?;
        self.change_record(client, Action::ModifyRecord, codes::BACKGROUND, now, |c| {
            *c.background.get_mut(field) = text.to_owned();
            Ok(())
        })
    }

    /// Records a dated situation snapshot (tilannetiedot).
    pub fn add_situation(
        &mut self,
        client: ClientId,
        input: SituationInput,
        now: DateTime<Utc>,
    ) -> Result<SnapshotId> {
        for (list, value) in [
            (CodeList::HighestEducation, &input.highest_education),
            (CodeList::EducationStatus, &input.education_status),
            (CodeList::MainActivity, &input.main_activity),
            (CodeList::Livelihood, &input.livelihood),
            (CodeList::Housing, &input.housing),
        ] {
            self.new_opt_code(list, value.as_deref())?;
        }
        self.change_record(
            client,
            Action::ModifyRecord,
            codes::SITUATION_ADD,
            now,
            |c| {
                if let Some(p) = input.period
                    && !c.periods.contains_key(&p)
                {
                    return Err(ApiError::NotFound("period"));
                }
                let id = SnapshotId::new();
                let mut s = SituationSnapshot::new(
                    id,
                    input.date.unwrap_or(now.date_naive()),
                    input.phase.unwrap_or(SnapshotPhase::Interim),
                );
                s.period = input.period;
                s.highest_education = input.highest_education;
                s.education_status = input.education_status;
                s.main_activity = input.main_activity;
                s.livelihood = input.livelihood;
                s.housing = input.housing;
                c.insert_snapshot(s);
                Ok(id)
            },
        )
    }

    /// Opens a period (jakso).
    pub fn open_period(
        &mut self,
        client: ClientId,
        input: PeriodInput,
        now: DateTime<Utc>,
    ) -> Result<PeriodId> {
        long(&input.goals)?;
        self.new_opt_code(CodeList::ArrivalRoute, input.arrival_route.as_deref())?;
        self.change_record(client, Action::ModifyRecord, codes::PERIOD_OPEN, now, |c| {
            if let Some(r) = input.referral
                && !c.referrals.contains_key(&r)
            {
                return Err(ApiError::NotFound("referral"));
            }
            let id = PeriodId::new();
            let mut p = Period::new(id);
            p.start = Some(input.start.unwrap_or(now.date_naive()));
            p.arrival_route = input.arrival_route;
            p.referral = input.referral;
            p.goals = input.goals;
            c.periods.insert(id, p);
            Ok(id)
        })
    }

    /// Sets a period's goals or final assessment (a character diff).
    pub fn set_period_text(
        &mut self,
        client: ClientId,
        period: PeriodId,
        which: PeriodText,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        long(text)?;
        self.change_record(client, Action::ModifyRecord, codes::PERIOD_TEXT, now, |c| {
            let p = c
                .periods
                .get_mut(&period)
                .ok_or(ApiError::NotFound("period"))?;
            match which {
                PeriodText::Goals => p.goals = text.to_owned(),
                PeriodText::FinalAssessment => p.final_assessment = text.to_owned(),
            }
            Ok(())
        })
    }

    /// Closes a period: its end date, outcome (sijoittuminen) and final
    /// assessment. Measures still planned or going on end with it
    /// (discontinued on the end date).
    pub fn close_period(
        &mut self,
        client: ClientId,
        period: PeriodId,
        close: PeriodClose,
        now: DateTime<Utc>,
    ) -> Result<()> {
        long(close.final_assessment.as_deref().unwrap_or_default())?;
        self.new_opt_code(CodeList::Outcome, close.outcome.as_deref())?;
        self.change_record(
            client,
            Action::ModifyRecord,
            codes::PERIOD_CLOSE,
            now,
            |c| {
                let p = c
                    .periods
                    .get_mut(&period)
                    .ok_or(ApiError::NotFound("period"))?;
                let end = close.end.unwrap_or(now.date_naive());
                if p.start.is_some_and(|s| end < s) {
                    return Err(ApiError::Rejected(crate::Rejection::PeriodEndsBeforeStart));
                }
                p.end = Some(end);
                p.closed = true;
                p.outcome = close.outcome;
                if let Some(text) = close.final_assessment {
                    p.final_assessment = text;
                }
                for m in p.measures.values_mut() {
                    if matches!(m.status, MeasureStatus::Planned | MeasureStatus::Ongoing) {
                        m.status = MeasureStatus::Discontinued;
                        m.end = Some(end);
                    }
                }
                Ok(())
            },
        )
    }

    /// Adds a measure (toimenpide) to an open period.
    pub fn add_measure(
        &mut self,
        client: ClientId,
        period: PeriodId,
        measure_code: &str,
        start: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<MeasureId> {
        self.new_code(CodeList::Measure, measure_code)?;
        self.change_record(client, Action::ModifyRecord, codes::MEASURE_ADD, now, |c| {
            let p = c
                .periods
                .get_mut(&period)
                .ok_or(ApiError::NotFound("period"))?;
            if p.is_ended() {
                return Err(ApiError::Rejected(crate::Rejection::PeriodEnded));
            }
            let id = MeasureId::new();
            p.insert_measure(Measure {
                id,
                code: measure_code.to_owned(),
                start: Some(start.unwrap_or(now.date_naive())),
                status: MeasureStatus::Ongoing,
                end: None,
            });
            Ok(id)
        })
    }

    /// Changes a measure's status; a completed or discontinued measure gets
    /// its end date (default: today).
    pub fn set_measure_status(
        &mut self,
        client: ClientId,
        period: PeriodId,
        measure: MeasureId,
        status: MeasureStatus,
        end: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.change_record(
            client,
            Action::ModifyRecord,
            codes::MEASURE_STATUS,
            now,
            |c| {
                let m = c
                    .periods
                    .get_mut(&period)
                    .and_then(|p| p.measures.get_mut(&measure))
                    .ok_or(ApiError::NotFound("measure"))?;
                m.status = status;
                m.end = match status {
                    MeasureStatus::Completed | MeasureStatus::Discontinued => {
                        Some(end.unwrap_or(now.date_naive()))
                    }
                    MeasureStatus::Planned | MeasureStatus::Ongoing => None,
                };
                Ok(())
            },
        )
    }

    /// Deletes a memo softly: it is hidden and no longer counted, but stays
    /// in the record, so a concurrent edit elsewhere is not lost and
    /// [`Session::restore_memo`] brings it back.
    pub fn delete_memo(
        &mut self,
        client: ClientId,
        memo: MemoId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.change_record(client, Action::WriteMemo, codes::MEMO_DELETE, now, |c| {
            let m = c.memos.get_mut(&memo).ok_or(ApiError::NotFound("memo"))?;
            if m.deleted.is_none() {
                m.deleted = Some(now);
            }
            Ok(())
        })
    }

    /// Brings back a deleted memo.
    pub fn restore_memo(
        &mut self,
        client: ClientId,
        memo: MemoId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.change_record(client, Action::WriteMemo, codes::MEMO_RESTORE, now, |c| {
            let m = c.memos.get_mut(&memo).ok_or(ApiError::NotFound("memo"))?;
            m.deleted = None;
            Ok(())
        })
    }

    /// Records a referral (Youth Act §11 ilmoitus).
    pub fn add_referral(
        &mut self,
        client: ClientId,
        input: ReferralInput,
        now: DateTime<Utc>,
    ) -> Result<RecordId> {
        long(&input.follow_up)?;
        self.new_code(CodeList::ReferralSource, &input.source)?;
        self.change_record(
            client,
            Action::ModifyRecord,
            codes::REFERRAL_ADD,
            now,
            |c| {
                let id = RecordId::new();
                c.referrals.insert(
                    id,
                    Referral {
                        id,
                        source: input.source,
                        received: input.received.unwrap_or(now.date_naive()),
                        follow_up: input.follow_up,
                        follow_up_decided: input.follow_up_decided,
                    },
                );
                Ok(id)
            },
        )
    }

    /// Records the follow-up decided on a referral.
    pub fn set_referral_follow_up(
        &mut self,
        client: ClientId,
        referral: RecordId,
        text: &str,
        decided: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        long(text)?;
        self.change_record(
            client,
            Action::ModifyRecord,
            codes::REFERRAL_FOLLOW_UP,
            now,
            |c| {
                let r = c
                    .referrals
                    .get_mut(&referral)
                    .ok_or(ApiError::NotFound("referral"))?;
                r.follow_up = text.to_owned();
                r.follow_up_decided = Some(decided.unwrap_or(now.date_naive()));
                Ok(())
            },
        )
    }

    /// Records a consent (suostumus) given.
    pub fn add_consent(
        &mut self,
        client: ClientId,
        topic: ConsentTopic,
        given: Option<NaiveDate>,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<RecordId> {
        short(note)?;
        self.change_record(client, Action::ModifyRecord, codes::CONSENT_ADD, now, |c| {
            let id = RecordId::new();
            c.consents.insert(
                id,
                Consent {
                    id,
                    topic,
                    note: note.to_owned(),
                    given: given.unwrap_or(now.date_naive()),
                    withdrawn: None,
                },
            );
            Ok(id)
        })
    }

    /// Records that a consent was withdrawn.
    pub fn withdraw_consent(
        &mut self,
        client: ClientId,
        consent: RecordId,
        date: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.change_record(
            client,
            Action::ModifyRecord,
            codes::CONSENT_WITHDRAW,
            now,
            |c| {
                let k = c
                    .consents
                    .get_mut(&consent)
                    .ok_or(ApiError::NotFound("consent"))?;
                let date = date.unwrap_or(now.date_naive());
                if date < k.given {
                    return Err(ApiError::Rejected(crate::Rejection::WithdrawnBeforeGiven));
                }
                k.withdrawn = Some(date);
                Ok(())
            },
        )
    }

    /// Logs a disclosure (luovutus) of the client's data.
    pub fn add_disclosure(
        &mut self,
        client: ClientId,
        input: DisclosureInput,
        now: DateTime<Utc>,
    ) -> Result<RecordId> {
        for t in [&input.what, &input.recipient, &input.basis] {
            short(t)?;
        }
        required(&input.what)?;
        required(&input.recipient)?;
        required(&input.basis)?;
        self.change_record(
            client,
            Action::ModifyRecord,
            codes::DISCLOSURE_ADD,
            now,
            |c| {
                let id = RecordId::new();
                c.disclosures.insert(
                    id,
                    Disclosure {
                        id,
                        what: input.what,
                        recipient: input.recipient,
                        date: input.date.unwrap_or(now.date_naive()),
                        basis: input.basis,
                    },
                );
                Ok(id)
            },
        )
    }

    /// Plans a follow-up (seuranta) of an ended period, one or two years
    /// after its end: only while the client's consent to follow-ups holds.
    pub fn add_follow_up(
        &mut self,
        client: ClientId,
        period: PeriodId,
        interval: FollowUpInterval,
        now: DateTime<Utc>,
    ) -> Result<RecordId> {
        self.change_record(
            client,
            Action::ModifyRecord,
            codes::FOLLOW_UP_ADD,
            now,
            |c| {
                let end = c
                    .periods
                    .get(&period)
                    .ok_or(ApiError::NotFound("period"))?
                    .end
                    .ok_or(ApiError::Rejected(crate::Rejection::PeriodNotEnded))?;
                let today = now.date_naive();
                let consented = c
                    .consents
                    .values()
                    .any(|k| k.topic == ConsentTopic::FollowUp && k.is_active_on(today));
                if !consented {
                    return Err(ApiError::NoConsent);
                }
                let id = RecordId::new();
                c.follow_ups.insert(
                    id,
                    FollowUp {
                        id,
                        period: Some(period),
                        interval,
                        due: interval.due_after(end),
                        done: None,
                        result: None,
                        notes: String::new(),
                    },
                );
                Ok(id)
            },
        )
    }

    /// Records a follow-up as done, with the situation found (list
    /// `outcome`) and notes.
    pub fn complete_follow_up(
        &mut self,
        client: ClientId,
        follow_up: RecordId,
        result: Option<&str>,
        notes: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        long(notes)?;
        self.new_opt_code(CodeList::Outcome, result)?;
        self.change_record(
            client,
            Action::ModifyRecord,
            codes::FOLLOW_UP_DONE,
            now,
            |c| {
                let f = c
                    .follow_ups
                    .get_mut(&follow_up)
                    .ok_or(ApiError::NotFound("follow-up"))?;
                f.done = Some(now.date_naive());
                f.result = result.map(str::to_owned);
                f.notes = notes.to_owned();
                Ok(())
            },
        )
    }

    /// Moves a client to another unit: the modify right on the client as it
    /// is, and the right to create clients in the new unit.
    pub fn set_client_unit(
        &mut self,
        client: ClientId,
        unit: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let unit: UnitId = self.resolve_unit(Some(unit))?;
        self.check(
            Action::CreateClient,
            Target::NewClientIn(Some(unit)),
            Some(client.0),
            now,
        )?;
        self.change_record(client, Action::ModifyBasic, codes::UNIT, now, |c| {
            c.unit = Some(unit);
            Ok(())
        })
    }

    /// Adds or removes a responsible worker (vastuutyöntekijä) by login
    /// name. A client keeps at least one.
    pub fn set_responsible(
        &mut self,
        client: ClientId,
        login: &str,
        responsible: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let user: UserId = self
            .organisation()
            .user_by_login(login)
            .map(|u| u.id)
            .ok_or(ApiError::UnknownLogin)?;
        self.change_record(client, Action::ModifyBasic, codes::RESPONSIBLE, now, |c| {
            if responsible {
                c.responsible.insert(user);
            } else {
                c.responsible.remove(&user);
                if c.responsible.is_empty() {
                    return Err(ApiError::Rejected(crate::Rejection::LastResponsible));
                }
            }
            Ok(())
        })
    }

    /// What the client's record still lacks for the statistics (PAR's
    /// mandatory fields), without values. Needs the record right; audited as
    /// a view.
    pub fn missing_fields(&mut self, client: ClientId, now: DateTime<Utc>) -> Result<Vec<Missing>> {
        self.check_client_for(Action::ViewRecord, client, now)?;
        let value = self.read_client(client)?;
        let missing = validate::missing(&value);
        self.record(
            now,
            polku_audit::Action::View,
            Some(client.0),
            Detail::CodeCount {
                code: codes::MISSING_FIELDS,
                count: u32::try_from(missing.len()).unwrap_or(u32::MAX),
            },
        )?;
        Ok(missing)
    }
}
