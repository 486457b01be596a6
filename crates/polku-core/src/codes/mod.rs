//! Code lists (koodistot): the national base lists embedded in the crate
//! (`codes/national.json`), and a [`CodeSet`] combining them with an
//! organisation's own codes (omat koodit) and retired codes.
//!
//! Codes are stable strings; documents store only codes, never labels.
//! A retired code still resolves (old records keep their meaning) but is not
//! offered for new records.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::model::{Organisation, OwnCode, string_enum};

string_enum! {
    /// A code list. The string is the list's key in `national.json` and in
    /// the organisation document. Do not change.
    CodeList {
        /// Gender (sukupuoli).
        Gender = "gender",
        /// Mother-tongue group (äidinkieli): fi / sv / sámi / other.
        MotherTongue = "mother_tongue",
        /// Arrival route (mitä kautta saapunut), incl. the Youth Act §11 sources.
        ArrivalRoute = "arrival_route",
        /// Source of a referral (ilmoituksen tekijä), Youth Act §11–12.
        ReferralSource = "referral_source",
        /// Measure (toimenpide).
        Measure = "measure",
        /// Main activity (pääasiallinen toiminta).
        MainActivity = "main_activity",
        /// Livelihood (toimeentulo).
        Livelihood = "livelihood",
        /// Housing (asuminen).
        Housing = "housing",
        /// Highest completed education (korkein koulutus).
        HighestEducation = "highest_education",
        /// Education status (opiskelutilanne).
        EducationStatus = "education_status",
        /// Placement / outcome (sijoittuminen).
        Outcome = "outcome",
        /// Memo type (muistion tyyppi).
        MemoType = "memo_type",
        /// Activity memo kind (toimintamuistion laji).
        ActivityKind = "activity_kind",
        /// Age group (ikäryhmä).
        AgeGroup = "age_group",
        /// Channel of a brief contact (lyhyen kontaktin kanava).
        ContactChannel = "contact_channel",
        /// Topic of a brief contact (lyhyen kontaktin aihe).
        ContactTopic = "contact_topic",
    }
}

string_enum! {
    /// A user-interface language.
    Lang {
        /// Finnish.
        Fi = "fi",
        /// Swedish.
        Sv = "sv",
        /// English.
        En = "en",
    }
}

/// Labels of a code in the three languages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Labels {
    /// Finnish.
    pub fi: String,
    /// Swedish.
    pub sv: String,
    /// English.
    pub en: String,
}

impl Labels {
    /// The label in `lang`, falling back to Finnish when that one is empty.
    pub fn get(&self, lang: Lang) -> &str {
        let s = match lang {
            Lang::Fi => &self.fi,
            Lang::Sv => &self.sv,
            Lang::En => &self.en,
        };
        if s.is_empty() { &self.fi } else { s }
    }
}

/// One code of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Code {
    /// The stored code.
    pub code: String,
    /// Labels.
    pub labels: Labels,
    /// For an own code: the national code it counts as in statistics.
    pub parent: Option<String>,
    /// Whether this is an organisation's own code.
    pub own: bool,
}

impl Code {
    /// The label in `lang`.
    pub fn label(&self, lang: Lang) -> &str {
        self.labels.get(lang)
    }
}

/// A code that is in neither the national list nor the organisation's own codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown code {code:?} in list {list}")]
pub struct UnknownCode {
    /// The list searched.
    pub list: CodeList,
    /// The code not found.
    pub code: String,
}

/// Why an own code cannot be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OwnCodeError {
    /// Codes are 1–64 characters of `a-z`, `0-9`, `_`, `-`, `.`.
    #[error("invalid code: use 1-64 characters a-z, 0-9, '_', '-', '.'")]
    InvalidCode,
    /// The Finnish label is mandatory.
    #[error("the Finnish label is missing")]
    MissingLabel,
    /// The code exists in the national list.
    #[error("code {code:?} already exists in the national list {list}")]
    ClashesWithNational {
        /// The list.
        list: CodeList,
        /// The code.
        code: String,
    },
    /// The parent is not a national code of the same list.
    #[error("parent {parent:?} is not a national code in list {list}")]
    UnknownParent {
        /// The list.
        list: CodeList,
        /// The parent code given.
        parent: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: u32,
    lists: BTreeMap<CodeList, Vec<RawCode>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCode {
    code: String,
    fi: String,
    sv: String,
    en: String,
}

/// The embedded national lists.
#[derive(Debug)]
struct National {
    version: u32,
    lists: BTreeMap<CodeList, Vec<Code>>,
}

const NATIONAL_JSON: &str = include_str!("national.json");

fn parse_national(json: &str) -> Result<National, serde_json::Error> {
    let raw: RawFile = serde_json::from_str(json)?;
    let lists = raw
        .lists
        .into_iter()
        .map(|(list, codes)| {
            let codes = codes
                .into_iter()
                .map(|c| Code {
                    code: c.code,
                    labels: Labels {
                        fi: c.fi,
                        sv: c.sv,
                        en: c.en,
                    },
                    parent: None,
                    own: false,
                })
                .collect();
            (list, codes)
        })
        .collect();
    Ok(National {
        version: raw.version,
        lists,
    })
}

fn national() -> &'static National {
    static NATIONAL: OnceLock<National> = OnceLock::new();
    NATIONAL.get_or_init(|| {
        // The file is part of the crate; `national_lists_parse` tests it.
        parse_national(NATIONAL_JSON).unwrap_or(National {
            version: 0,
            lists: BTreeMap::new(),
        })
    })
}

/// Version of the embedded national code lists.
pub fn national_version() -> u32 {
    national().version
}

/// The national codes of one list, in display order.
pub fn national_codes(list: CodeList) -> &'static [Code] {
    national().lists.get(&list).map_or(&[], Vec::as_slice)
}

#[derive(Debug, Clone, Default)]
struct ListCodes {
    codes: Vec<Code>,
    index: HashMap<String, usize>,
    retired: BTreeSet<String>,
}

/// The codes in force for one organisation: national base + own codes −
/// retired codes (which still resolve).
#[derive(Debug, Clone)]
pub struct CodeSet {
    lists: BTreeMap<CodeList, ListCodes>,
    shadowed: Vec<(CodeList, String)>,
}

impl CodeSet {
    /// The national lists alone.
    pub fn national() -> Self {
        Self::new(&BTreeMap::new(), &BTreeMap::new())
    }

    /// The organisation's code set.
    pub fn for_organisation(org: &Organisation) -> Self {
        Self::new(&org.own_codes, &org.retired_codes)
    }

    /// Combines the national lists with own and retired codes. An own code
    /// that clashes with a national code (e.g. after the national list grew)
    /// is left out; see [`CodeSet::shadowed`].
    pub fn new(
        own: &BTreeMap<CodeList, BTreeMap<String, OwnCode>>,
        retired: &BTreeMap<CodeList, BTreeSet<String>>,
    ) -> Self {
        let mut lists = BTreeMap::new();
        let mut shadowed = Vec::new();
        for &list in CodeList::ALL {
            let mut lc = ListCodes::default();
            for code in national_codes(list) {
                lc.index.insert(code.code.clone(), lc.codes.len());
                lc.codes.push(code.clone());
            }
            for own_code in own.get(&list).into_iter().flat_map(|m| m.values()) {
                if lc.index.contains_key(&own_code.code) {
                    shadowed.push((list, own_code.code.clone()));
                    continue;
                }
                lc.index.insert(own_code.code.clone(), lc.codes.len());
                lc.codes.push(Code {
                    code: own_code.code.clone(),
                    labels: own_code.labels.clone(),
                    parent: own_code.parent.clone(),
                    own: true,
                });
            }
            if let Some(r) = retired.get(&list) {
                lc.retired = r.clone();
            }
            lists.insert(list, lc);
        }
        Self { lists, shadowed }
    }

    /// The code, retired or not.
    pub fn lookup(&self, list: CodeList, code: &str) -> Result<&Code, UnknownCode> {
        self.lists
            .get(&list)
            .and_then(|lc| lc.index.get(code).map(|&i| &lc.codes[i]))
            .ok_or_else(|| UnknownCode {
                list,
                code: code.to_owned(),
            })
    }

    /// The label of a code in `lang`.
    pub fn label(&self, list: CodeList, code: &str, lang: Lang) -> Result<&str, UnknownCode> {
        self.lookup(list, code).map(|c| c.label(lang))
    }

    /// Whether the code is retired (it must exist to be retired).
    pub fn is_retired(&self, list: CodeList, code: &str) -> bool {
        self.lists
            .get(&list)
            .is_some_and(|lc| lc.retired.contains(code) && lc.index.contains_key(code))
    }

    /// The code, if it may be chosen for a new record (known and not retired).
    pub fn lookup_for_new(&self, list: CodeList, code: &str) -> Result<&Code, UnknownCode> {
        let c = self.lookup(list, code)?;
        if self.is_retired(list, code) {
            return Err(UnknownCode {
                list,
                code: code.to_owned(),
            });
        }
        Ok(c)
    }

    /// Codes offered for new records: all but the retired ones, national
    /// first, in list order.
    pub fn offered(&self, list: CodeList) -> impl Iterator<Item = &Code> {
        self.lists
            .get(&list)
            .into_iter()
            .flat_map(|lc| lc.codes.iter().filter(|c| !lc.retired.contains(&c.code)))
    }

    /// All codes of a list, retired included.
    pub fn all(&self, list: CodeList) -> impl Iterator<Item = &Code> {
        self.lists
            .get(&list)
            .into_iter()
            .flat_map(|lc| lc.codes.iter())
    }

    /// The national code a code counts as in national statistics: itself
    /// for a national code, its parent for an own code (`None` when the own
    /// code has no parent).
    pub fn national_equivalent(
        &self,
        list: CodeList,
        code: &str,
    ) -> Result<Option<&Code>, UnknownCode> {
        let c = self.lookup(list, code)?;
        if !c.own {
            return Ok(Some(c));
        }
        match &c.parent {
            None => Ok(None),
            Some(parent) => {
                let p = self.lookup(list, parent)?;
                Ok((!p.own).then_some(p))
            }
        }
    }

    /// Own codes left out because they clash with a national code.
    pub fn shadowed(&self) -> &[(CodeList, String)] {
        &self.shadowed
    }

    /// Checks an own code before an admin adds it.
    pub fn check_own_code(list: CodeList, code: &OwnCode) -> Result<(), OwnCodeError> {
        let valid = !code.code.is_empty()
            && code.code.len() <= 64
            && code
                .code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.".contains(&b));
        if !valid {
            return Err(OwnCodeError::InvalidCode);
        }
        if code.labels.fi.trim().is_empty() {
            return Err(OwnCodeError::MissingLabel);
        }
        if national_codes(list).iter().any(|c| c.code == code.code) {
            return Err(OwnCodeError::ClashesWithNational {
                list,
                code: code.code.clone(),
            });
        }
        if let Some(parent) = &code.parent
            && !national_codes(list).iter().any(|c| &c.code == parent)
        {
            return Err(OwnCodeError::UnknownParent {
                list,
                parent: parent.clone(),
            });
        }
        Ok(())
    }
}

/// Age in whole years on `date`; `None` if `date` is before the birth date.
pub fn age_on(birth_date: NaiveDate, date: NaiveDate) -> Option<u32> {
    date.years_since(birth_date)
}

/// The age-group code (list [`CodeList::AgeGroup`]) for an age in years.
pub fn age_group_for_age(age: u32) -> &'static str {
    match age {
        0..=15 => "0-15",
        16..=17 => "16-17",
        18..=20 => "18-20",
        21..=24 => "21-24",
        25..=29 => "25-29",
        _ => "30-",
    }
}

/// The age-group code of someone born on `birth_date`, on `date`.
pub fn age_group_on(birth_date: NaiveDate, date: NaiveDate) -> Option<&'static str> {
    age_on(birth_date, date).map(age_group_for_age)
}

#[cfg(test)]
mod tests;
