//! The organisation document: units, users, own codes, settings, devices.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::string_enum;
use crate::codes::{CodeList, Labels};
use crate::ids::{OrgId, UnitId, UserId};

/// Organisation (organisaatio): the register keeper. One document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// Also the id of the organisation document.
    pub id: OrgId,
    /// Name of the organisation.
    pub name: String,
    /// Units (yksiköt).
    pub units: BTreeMap<UnitId, Unit>,
    /// Users (käyttäjät).
    pub users: BTreeMap<UserId, User>,
    /// The organisation's own codes (omat koodit) per list, keyed by code.
    pub own_codes: BTreeMap<CodeList, BTreeMap<String, OwnCode>>,
    /// Codes (national or own) no longer offered for new records, per list.
    pub retired_codes: BTreeMap<CodeList, BTreeSet<String>>,
    /// Settings.
    pub settings: Settings,
    /// Enrolled devices, keyed by iroh node id (lowercase hex).
    pub devices: BTreeMap<String, Device>,
    /// Backup keys (varmuuskopioavaimet): the public halves (age X25519,
    /// `age1…`) backups are encrypted to; the secret halves are kept
    /// offline by the admin.
    #[serde(default)]
    pub backup_keys: BTreeMap<String, BackupKey>,
}

/// A backup key of the organisation (its public half).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupKey {
    /// The admin's name for it (e.g. "paper copy in the safe").
    pub label: String,
    /// When it was added.
    pub added_at: chrono::DateTime<chrono::Utc>,
}

impl Organisation {
    /// An organisation with no units, users or devices and default settings.
    pub fn new(id: OrgId, name: impl Into<String>) -> Self {
        Self {
            id,
            name: name.into(),
            units: BTreeMap::new(),
            users: BTreeMap::new(),
            own_codes: BTreeMap::new(),
            retired_codes: BTreeMap::new(),
            settings: Settings::default(),
            devices: BTreeMap::new(),
            backup_keys: BTreeMap::new(),
        }
    }

    /// Adds or replaces a unit under its own id.
    pub fn insert_unit(&mut self, unit: Unit) {
        self.units.insert(unit.id, unit);
    }

    /// Adds or replaces a user under their own id.
    pub fn insert_user(&mut self, user: User) {
        self.users.insert(user.id, user);
    }

    /// Adds or replaces an enrolled device under its node id.
    pub fn insert_device(&mut self, device: Device) {
        self.devices.insert(device.node_id.clone(), device);
    }

    /// Adds or replaces an own code in `list`. Check it first with
    /// [`crate::codes::CodeSet::check_own_code`].
    pub fn insert_own_code(&mut self, list: CodeList, code: OwnCode) {
        self.own_codes
            .entry(list)
            .or_default()
            .insert(code.code.clone(), code);
    }

    /// Retires a code: it still resolves for old records but is not offered
    /// for new ones.
    pub fn retire_code(&mut self, list: CodeList, code: impl Into<String>) {
        self.retired_codes
            .entry(list)
            .or_default()
            .insert(code.into());
    }

    /// The active user with this login name, if any.
    pub fn user_by_login(&self, login: &str) -> Option<&User> {
        self.users.values().find(|u| u.active && u.login == login)
    }

    /// Whether the device with this node id is enrolled and not revoked.
    pub fn device_allowed(&self, node_id_hex: &str) -> bool {
        self.devices.get(node_id_hex).is_some_and(|d| {
            d.revoked_at.is_none() && self.users.get(&d.user).is_some_and(|u| u.active)
        })
    }
}

/// Unit (yksikkö) of the organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Key in [`Organisation::units`].
    pub id: UnitId,
    /// Name.
    pub name: String,
    /// Municipality code (kuntanumero) for statistics, e.g. `"091"`.
    pub municipality: Option<String>,
    /// Still in use.
    pub active: bool,
}

string_enum! {
    /// Role of a user. Rights per role are decided elsewhere.
    Role {
        /// Admin (pääkäyttäjä): users, units, codes, devices, backups.
        Admin = "admin",
        /// Coordinator / supervisor (esihenkilö): statistics over all workers, audit review.
        Coordinator = "coordinator",
        /// Worker (työntekijä): own and unit clients.
        Worker = "worker",
    }
}

/// User (käyttäjä) of the organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Key in [`Organisation::users`].
    pub id: UserId,
    /// Login name (käyttäjätunnus).
    pub login: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Units the user works in.
    pub units: BTreeSet<UnitId>,
    /// Deactivated users are refused at their next contact.
    pub active: bool,
    /// Per-user adjustment of the role's rights (PAR's check boxes); `None`:
    /// the role's defaults. See [`crate::rights::Rights::for_user`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights: Option<crate::rights::RightsAdjustment>,
}

/// An organisation's own code (oma koodi), added to a national list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnCode {
    /// The code; must not clash with a national code of the same list.
    pub code: String,
    /// Labels in Finnish, Swedish and English.
    pub labels: Labels,
    /// The national code it counts as in national statistics, if any.
    pub parent: Option<String>,
}

/// Organisation settings. Fields added after the first version are
/// optional: absent in an older document means the default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Keep a client until the end of this many calendar years after the year
    /// the last period ended (default 1, at most [`Settings::MAX_RETENTION_YEARS`]).
    pub retention_years: u32,
    /// A laptop that has not reached the hub for this many days must
    /// re-authenticate online.
    pub offline_lease_days: u32,
    /// The app locks (dropping decrypted data) after this many idle minutes;
    /// `None`: [`SettingKey::IdleLockMinutes`]'s default.
    #[serde(default)]
    pub idle_lock_minutes: Option<u32>,
    /// Statistics cells under this count are suppressed in reports to
    /// publish, unless the user gives another threshold; `None`:
    /// [`SettingKey::SmallCellThreshold`]'s default.
    #[serde(default)]
    pub small_cell_threshold: Option<u32>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            retention_years: SettingKey::RetentionYears.default_value(),
            offline_lease_days: SettingKey::OfflineLeaseDays.default_value(),
            idle_lock_minutes: None,
            small_cell_threshold: None,
        }
    }
}

string_enum! {
    /// A setting `org set` changes. The string is its name there. Do not change.
    SettingKey {
        /// [`Settings::retention_years`].
        RetentionYears = "retention_years",
        /// [`Settings::offline_lease_days`].
        OfflineLeaseDays = "offline_lease_days",
        /// [`Settings::idle_lock_minutes`].
        IdleLockMinutes = "idle_lock_minutes",
        /// [`Settings::small_cell_threshold`].
        SmallCellThreshold = "small_cell_threshold",
    }
}

impl SettingKey {
    /// The allowed values, inclusive.
    pub const fn bounds(self) -> (u32, u32) {
        match self {
            SettingKey::RetentionYears => (0, Settings::MAX_RETENTION_YEARS),
            SettingKey::OfflineLeaseDays => (1, 90),
            SettingKey::IdleLockMinutes => (1, 240),
            SettingKey::SmallCellThreshold => (2, 20),
        }
    }

    /// The value when none is set.
    pub const fn default_value(self) -> u32 {
        match self {
            SettingKey::RetentionYears => 1,
            SettingKey::OfflineLeaseDays => 14,
            SettingKey::IdleLockMinutes => 10,
            SettingKey::SmallCellThreshold => 5,
        }
    }
}

/// A setting's value outside its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{key} must be between {min} and {max}")]
pub struct SettingOutOfRange {
    /// The setting.
    pub key: SettingKey,
    /// Smallest allowed value.
    pub min: u32,
    /// Largest allowed value.
    pub max: u32,
}

impl Settings {
    /// Upper bound of [`Settings::retention_years`].
    pub const MAX_RETENTION_YEARS: u32 = 4;

    /// The value of a setting in force (its default when absent).
    pub fn get(&self, key: SettingKey) -> u32 {
        match key {
            SettingKey::RetentionYears => self.retention_years,
            SettingKey::OfflineLeaseDays => self.offline_lease_days,
            SettingKey::IdleLockMinutes => self.idle_lock_minutes.unwrap_or(key.default_value()),
            SettingKey::SmallCellThreshold => {
                self.small_cell_threshold.unwrap_or(key.default_value())
            }
        }
    }

    /// Sets a setting, refusing a value outside [`SettingKey::bounds`].
    pub fn set(&mut self, key: SettingKey, value: u32) -> Result<(), SettingOutOfRange> {
        let (min, max) = key.bounds();
        if !(min..=max).contains(&value) {
            return Err(SettingOutOfRange { key, min, max });
        }
        match key {
            SettingKey::RetentionYears => self.retention_years = value,
            SettingKey::OfflineLeaseDays => self.offline_lease_days = value,
            SettingKey::IdleLockMinutes => self.idle_lock_minutes = Some(value),
            SettingKey::SmallCellThreshold => self.small_cell_threshold = Some(value),
        }
        Ok(())
    }

    /// Idle minutes before the app locks.
    pub fn idle_lock_minutes(&self) -> u32 {
        self.get(SettingKey::IdleLockMinutes)
    }

    /// The default small-cell suppression threshold of statistics.
    pub fn small_cell_threshold(&self) -> u32 {
        self.get(SettingKey::SmallCellThreshold)
    }

    /// Last day a client whose last period ended on `last_period_end` may be
    /// kept: 31 December of the year `retention_years` (clamped to 0..=4)
    /// after the end year.
    pub fn retention_deadline(&self, last_period_end: NaiveDate) -> NaiveDate {
        use chrono::Datelike;
        let years = self.retention_years.min(Self::MAX_RETENTION_YEARS);
        let year = last_period_end.year().saturating_add_unsigned(years);
        NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX)
    }
}

#[cfg(test)]
mod settings_tests {
    use super::*;

    #[test]
    fn every_setting_takes_its_bounds_and_refuses_one_beyond() {
        for &key in SettingKey::ALL {
            let (min, max) = key.bounds();
            let mut s = Settings::default();
            assert!((min..=max).contains(&s.get(key)), "default of {key}");
            s.set(key, min).expect("min");
            assert_eq!(s.get(key), min);
            s.set(key, max).expect("max");
            assert_eq!(s.get(key), max);
            let out = SettingOutOfRange { key, min, max };
            assert_eq!(s.set(key, max + 1), Err(out));
            if min > 0 {
                assert_eq!(s.set(key, min - 1), Err(out));
            }
            assert_eq!(s.get(key), max, "a refused value changes nothing");
        }
    }

    #[test]
    fn absent_new_settings_read_as_their_defaults() {
        let s = Settings::default();
        assert_eq!(s.idle_lock_minutes(), 10);
        assert_eq!(s.small_cell_threshold(), 5);
        assert_eq!(s.offline_lease_days, 14);
        assert_eq!(s.retention_years, 1);
    }
}

/// An enrolled device (laite).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// iroh node id (ed25519 public key), lowercase hex; key in [`Organisation::devices`].
    pub node_id: String,
    /// The user the device was enrolled for.
    pub user: UserId,
    /// A name for people, e.g. "Läppäri 3".
    pub label: String,
    /// When enrolled.
    pub enrolled_at: DateTime<Utc>,
    /// When revoked; a revoked device is refused at its next contact.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Device {
    /// Whether the device has been revoked.
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}
