//! Activity memos (toimintamuistiot): work not tied to one client.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ids::{ActivityMemoId, UnitId, UserId};

/// Activity memo (toimintamuistio): street work, online work, a group
/// meeting, training…; one Automerge document each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityMemo {
    /// Also the id of the memo's document.
    pub id: ActivityMemoId,
    /// Kind code, list `activity_kind`.
    pub kind: String,
    /// Date of the activity.
    pub date: NaiveDate,
    /// Duration in minutes.
    pub duration_minutes: u32,
    /// Place (free text, e.g. "Kauppatori" or "Discord").
    pub place: String,
    /// Unit (yksikkö).
    pub unit: UnitId,
    /// Workers present.
    pub workers: BTreeSet<UserId>,
    /// Young people met, by gender and age group.
    pub met: MetCounts,
    /// Free text, merged character by character.
    pub text: String,
    /// When it was deleted: a soft delete (see
    /// [`crate::model::BriefContact::deleted`]); deleted memos are not listed
    /// or counted.
    #[serde(default)]
    pub deleted: Option<chrono::DateTime<chrono::Utc>>,
}

impl ActivityMemo {
    /// An empty activity memo.
    pub fn new(id: ActivityMemoId, kind: impl Into<String>, date: NaiveDate, unit: UnitId) -> Self {
        Self {
            id,
            kind: kind.into(),
            date,
            duration_minutes: 0,
            place: String::new(),
            unit,
            workers: BTreeSet::new(),
            met: MetCounts::default(),
            text: String::new(),
            deleted: None,
        }
    }
}

/// Counts of young people met: gender code → age-group code → count.
/// Zero counts are not stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MetCounts(pub BTreeMap<String, BTreeMap<String, u32>>);

impl MetCounts {
    /// The count for one gender and age group (0 when absent).
    pub fn get(&self, gender: &str, age_group: &str) -> u32 {
        self.0
            .get(gender)
            .and_then(|m| m.get(age_group))
            .copied()
            .unwrap_or(0)
    }

    /// Sets one count; 0 removes the cell.
    pub fn set(&mut self, gender: &str, age_group: &str, count: u32) {
        if count == 0 {
            if let Some(m) = self.0.get_mut(gender) {
                m.remove(age_group);
                if m.is_empty() {
                    self.0.remove(gender);
                }
            }
        } else {
            self.0
                .entry(gender.to_owned())
                .or_default()
                .insert(age_group.to_owned(), count);
        }
    }

    /// All young people met (saturating).
    pub fn total(&self) -> u32 {
        self.0
            .values()
            .flat_map(|m| m.values())
            .fold(0u32, |acc, n| acc.saturating_add(*n))
    }

    /// Iterates `(gender, age_group, count)` over non-zero cells.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, u32)> {
        self.0.iter().flat_map(|(g, m)| {
            m.iter()
                .filter(|(_, n)| **n > 0)
                .map(move |(a, n)| (g.as_str(), a.as_str(), *n))
        })
    }
}
