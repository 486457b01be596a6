//! The organisation's administration (hallinta): per-user rights
//! adjustments, units, own codes and settings.
//!
//! Every change needs its administrative right — user management
//! ([`Action::ManageUsers`]) for rights, units and settings, code-list
//! management ([`Action::ManageCodes`]) for codes — and a refusal is
//! audited. A change is written to the organisation document together with
//! its audit entry in one transaction. The organisation document is changed
//! on the hub (or a standalone store) only: a laptop refuses with
//! [`ApiError::OrgChangeOnHubOnly`], since the hub would refuse the change
//! at the next sync; laptops receive the hub's changes when they sync.
//!
//! Reading the units, the code lists and the settings needs no right (they
//! hold no personal data) and is not audited.

use chrono::{DateTime, Utc};
use polku_audit::{Action as AuditAction, Code, Detail};
use polku_core::UnitId;
use polku_core::codes::{CodeList, CodeSet, Labels};
use polku_core::limits::{TextField, check_len};
use polku_core::model::{OwnCode, SettingKey, Settings, Unit, User};
use polku_core::rights::{Action, AdminRight, Rights, RightsAdjustment, Target};
use serde::{Deserialize, Serialize};

use crate::audit_codes as codes;
use crate::session::Session;
use crate::{ApiError, Result};

fn setting_code(key: SettingKey) -> Code {
    match key {
        SettingKey::RetentionYears => codes::RETENTION_YEARS,
        SettingKey::OfflineLeaseDays => codes::OFFLINE_LEASE_DAYS,
        SettingKey::IdleLockMinutes => codes::IDLE_LOCK_MINUTES,
        SettingKey::SmallCellThreshold => codes::SMALL_CELL_THRESHOLD,
    }
}

/// One code of a list as offered to a user (`code list`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeChoice {
    /// The list.
    pub list: CodeList,
    /// The stored code.
    pub code: String,
    /// Labels in Finnish, Swedish and English.
    pub labels: Labels,
    /// An organisation's own code.
    pub own: bool,
    /// For an own code: the national code it counts as.
    pub parent: Option<String>,
    /// Retired: still shown on old records, not offered for new ones.
    pub retired: bool,
}

/// A setting and what it may be (`org show`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingRow {
    /// The setting.
    pub key: SettingKey,
    /// Its value in force.
    pub value: u32,
    /// Its default.
    pub default: u32,
    /// Smallest allowed value.
    pub min: u32,
    /// Largest allowed value.
    pub max: u32,
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// A municipality code (kuntanumero) is three digits.
fn check_municipality(m: &str) -> Result<()> {
    if m.len() == 3 && m.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ApiError::Invalid("a municipality code is three digits"))
    }
}

impl Session {
    /// Check an administrative right for a change of the organisation
    /// document (refusal audited), and that this store may change it.
    fn check_org_change(&mut self, action: Action, now: DateTime<Utc>) -> Result<()> {
        self.check(action, Target::Organisation, None, now)?;
        if crate::workspace::store_role(&self.store, b"laptop")? {
            return Err(ApiError::OrgChangeOnHubOnly);
        }
        Ok(())
    }

    /// Replace a user's rights adjustment (`None` or an empty adjustment:
    /// back to the role's defaults). Needs user management; audited as a
    /// role change. Refused when it would leave no active user who may
    /// manage users.
    pub fn set_user_rights(
        &mut self,
        login: &str,
        adjustment: Option<RightsAdjustment>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.check_org_change(Action::ManageUsers, now)?;
        let target = self.user_by_login_any(login)?;
        let adjustment = adjustment.filter(|a| !a.is_empty());
        let after = User {
            rights: adjustment.clone(),
            ..target.clone()
        };
        let manages = |u: &User| u.active && Rights::for_user(u).admin.contains(&AdminRight::Users);
        let others = self
            .org
            .users
            .values()
            .filter(|u| u.id != target.id)
            .any(manages);
        if !others && !manages(&after) {
            return Err(ApiError::LastAdmin);
        }
        let code = if adjustment.is_some() {
            codes::RIGHTS
        } else {
            codes::RIGHTS_RESET
        };
        self.update_org_audited(
            now,
            Some((
                AuditAction::RoleChange,
                Some(target.id.0),
                Detail::Code(code),
            )),
            |org| {
                if let Some(u) = org.users.get_mut(&target.id) {
                    u.rights = adjustment;
                }
            },
        )
    }

    /// Change only the fields `change` gives of a user's rights adjustment,
    /// keeping the rest ([`Session::set_user_rights`]).
    pub fn adjust_user_rights(
        &mut self,
        login: &str,
        change: &RightsAdjustment,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let current = self
            .user_by_login_any(login)
            .map(|u| u.rights.unwrap_or_default())
            .unwrap_or_default();
        self.set_user_rights(login, Some(current.merged(change)), now)
    }

    fn user_by_login_any(&self, login: &str) -> Result<User> {
        self.org
            .users
            .values()
            .find(|u| same_name(&u.login, login))
            .cloned()
            .ok_or(ApiError::UnknownLogin)
    }

    /// The organisation's units, retired ones included, by name.
    pub fn units(&self) -> Vec<Unit> {
        let mut units: Vec<Unit> = self.org.units.values().cloned().collect();
        units.sort_by_key(|u| u.name.to_lowercase());
        units
    }

    fn check_unit_name(&self, name: &str, except: Option<UnitId>) -> Result<String> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ApiError::Invalid("the unit name is empty"));
        }
        check_len(TextField::UnitName, name)?;
        if self
            .org
            .units
            .values()
            .any(|u| Some(u.id) != except && same_name(&u.name, name))
        {
            return Err(ApiError::UnitNameTaken);
        }
        Ok(name.to_owned())
    }

    /// Add a unit (yksikkö), with its municipality code for statistics.
    pub fn add_unit(
        &mut self,
        name: &str,
        municipality: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<UnitId> {
        self.check_org_change(Action::ManageUsers, now)?;
        let name = self.check_unit_name(name, None)?;
        if let Some(m) = municipality {
            check_municipality(m)?;
        }
        let unit = Unit {
            id: UnitId::new(),
            name,
            municipality: municipality.map(str::to_owned),
            active: true,
        };
        let id = unit.id;
        self.update_org_audited(
            now,
            Some((
                AuditAction::Create,
                Some(id.0),
                Detail::Code(codes::UNIT_ADD),
            )),
            |org| org.insert_unit(unit),
        )?;
        Ok(id)
    }

    /// Rename a unit (by name or id). Its clients and users keep it.
    pub fn rename_unit(&mut self, unit: &str, new_name: &str, now: DateTime<Utc>) -> Result<()> {
        self.check_org_change(Action::ManageUsers, now)?;
        let id = self.unit_by_name(unit)?;
        let name = self.check_unit_name(new_name, Some(id))?;
        self.update_org_audited(
            now,
            Some((
                AuditAction::Update,
                Some(id.0),
                Detail::Code(codes::UNIT_RENAME),
            )),
            |org| {
                if let Some(u) = org.units.get_mut(&id) {
                    u.name = name;
                }
            },
        )
    }

    /// Retire a unit: it takes no new clients or users; its clients keep it
    /// and still show it, and statistics still count it.
    pub fn retire_unit(&mut self, unit: &str, now: DateTime<Utc>) -> Result<()> {
        self.check_org_change(Action::ManageUsers, now)?;
        let id = self.unit_by_name(unit)?;
        self.update_org_audited(
            now,
            Some((
                AuditAction::Update,
                Some(id.0),
                Detail::Code(codes::UNIT_RETIRE),
            )),
            |org| {
                if let Some(u) = org.units.get_mut(&id) {
                    u.active = false;
                }
            },
        )
    }

    /// A unit a new client or user may be put in: known and not retired.
    pub(crate) fn unit_for_new(&self, unit: &str) -> Result<UnitId> {
        let id = self.unit_by_name(unit)?;
        if self.org.units.get(&id).is_some_and(|u| !u.active) {
            return Err(ApiError::UnitRetired);
        }
        Ok(id)
    }

    /// The codes of `list` (every list when `None`) a user may choose for
    /// new records — national and own, retired ones left out unless
    /// `include_retired` — in list order.
    pub fn code_choices(&self, list: Option<CodeList>, include_retired: bool) -> Vec<CodeChoice> {
        let set = CodeSet::for_organisation(&self.org);
        let lists: Vec<CodeList> = match list {
            Some(l) => vec![l],
            None => CodeList::ALL.to_vec(),
        };
        let mut out = Vec::new();
        for list in lists {
            for c in set.all(list) {
                let retired = set.is_retired(list, &c.code);
                if retired && !include_retired {
                    continue;
                }
                out.push(CodeChoice {
                    list,
                    code: c.code.clone(),
                    labels: c.labels.clone(),
                    own: c.own,
                    parent: c.parent.clone(),
                    retired,
                });
            }
        }
        out
    }

    /// A code of `list` that a new record may use: known and not retired
    /// ([`ApiError::CodeRetired`] names a retired one).
    pub fn code_for_new(&self, list: CodeList, code: &str) -> Result<()> {
        let set = CodeSet::for_organisation(&self.org);
        set.lookup(list, code)?;
        if set.is_retired(list, code) {
            return Err(ApiError::CodeRetired { list });
        }
        Ok(())
    }

    /// Add an own code (oma koodi) to a national list, with labels in
    /// Finnish (mandatory), Swedish and English. Needs code-list management.
    pub fn add_own_code(
        &mut self,
        list: CodeList,
        code: OwnCode,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.check_org_change(Action::ManageCodes, now)?;
        let code = OwnCode {
            code: code.code.trim().to_owned(),
            labels: Labels {
                fi: code.labels.fi.trim().to_owned(),
                sv: code.labels.sv.trim().to_owned(),
                en: code.labels.en.trim().to_owned(),
            },
            parent: code.parent,
        };
        for label in [&code.labels.fi, &code.labels.sv, &code.labels.en] {
            check_len(TextField::CodeLabel, label)?;
        }
        CodeSet::check_own_code(list, &code)?;
        if self
            .org
            .own_codes
            .get(&list)
            .is_some_and(|m| m.contains_key(&code.code))
        {
            return Err(ApiError::CodeTaken { list });
        }
        self.update_org_audited(
            now,
            Some((AuditAction::Create, None, Detail::Code(codes::CODE_ADD))),
            |org| org.insert_own_code(list, code),
        )
    }

    /// Retire a code (national or own): old records keep it and show its
    /// label; new records cannot choose it. Needs code-list management.
    pub fn retire_code(&mut self, list: CodeList, code: &str, now: DateTime<Utc>) -> Result<()> {
        self.check_org_change(Action::ManageCodes, now)?;
        CodeSet::for_organisation(&self.org).lookup(list, code)?;
        let code = code.to_owned();
        self.update_org_audited(
            now,
            Some((AuditAction::Update, None, Detail::Code(codes::CODE_RETIRE))),
            |org| org.retire_code(list, code),
        )
    }

    /// The organisation's settings in force, with their defaults and bounds.
    pub fn settings(&self) -> Vec<SettingRow> {
        let s: &Settings = &self.org.settings;
        SettingKey::ALL
            .iter()
            .map(|&key| {
                let (min, max) = key.bounds();
                SettingRow {
                    key,
                    value: s.get(key),
                    default: key.default_value(),
                    min,
                    max,
                }
            })
            .collect()
    }

    /// Change a setting (`org set`); a value outside its bounds is refused
    /// with [`ApiError::SettingOutOfRange`]. Needs user management.
    pub fn set_setting(&mut self, key: SettingKey, value: u32, now: DateTime<Utc>) -> Result<()> {
        self.check_org_change(Action::ManageUsers, now)?;
        let mut settings = self.org.settings.clone();
        settings.set(key, value)?;
        let org_id = self.org.id.0;
        self.update_org_audited(
            now,
            Some((
                AuditAction::Update,
                Some(org_id),
                Detail::Code(setting_code(key)),
            )),
            |org| org.settings = settings,
        )
    }
}

#[cfg(test)]
mod tests;
