//! Document operations specific to one kind of document: addressing text
//! fields for direct edits, and the fast summary read.

use automerge::{ROOT, ReadDoc};

use super::value::{AmValue, At, child_map};
use super::{ActivityMemoDoc, ClientDoc, DocError, OrgDoc};
use crate::ids::{MemoId, PeriodId, RecordId};
use crate::model::{ActivityMemo, BackgroundField, BasicData, Client, ClientSummary, Organisation};

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

impl ClientDoc {
    /// Hydrates the client.
    pub fn client(&self) -> Result<Client, DocError> {
        self.get()
    }

    /// Sets a text field to `text` as a minimal splice diff.
    pub fn set_text(&mut self, field: ClientTextField, text: &str) -> Result<(), DocError> {
        let (a, b, c) = field.path();
        match &b {
            Some(b) => self.set_text_at(&[&a, b, c], text),
            None => self.set_text_at(&[&a, c], text),
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
        match &b {
            Some(b) => self.splice_text_at(&[&a, b, c], pos, delete, insert),
            None => self.splice_text_at(&[&a, c], pos, delete, insert),
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

    /// The search-index summary, read without hydrating memos and periods.
    pub fn summary(&self) -> Result<ClientSummary, DocError> {
        let am = self.as_automerge();
        let root = At::root();
        let get = |key: &str| -> Result<Option<automerge::hydrate::Value>, DocError> {
            match am.get(ROOT, key)? {
                None => Ok(None),
                Some((automerge::Value::Scalar(s), _)) => {
                    Ok(Some(automerge::hydrate::Value::Scalar(s.into_owned())))
                }
                Some((automerge::Value::Object(_), id)) => Ok(Some(am.hydrate(id, None)?)),
            }
        };
        let basic = match child_map(am, &ROOT, "basic")? {
            Some(id) => Some(am.hydrate(id, None)?),
            None => None,
        };
        let basic = BasicData::from_am(basic.as_ref(), root.child("basic"))?;
        Ok(ClientSummary {
            id: AmValue::from_am(get("id")?.as_ref(), root.child("id"))?,
            first_name: basic.first_name,
            last_name: basic.last_name,
            birth_date: basic.birth_date,
            unit: AmValue::from_am(get("unit")?.as_ref(), root.child("unit"))?,
            responsible: AmValue::from_am(get("responsible")?.as_ref(), root.child("responsible"))?,
        })
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

impl OrgDoc {
    /// Hydrates the organisation.
    pub fn organisation(&self) -> Result<Organisation, DocError> {
        self.get()
    }
}
