//! Users, roles and passwords (käyttäjähallinta). All changes need the user
//! management right and are audited in the same transaction as the change.

use chrono::{DateTime, Utc};
use polku_audit::{Action as AuditAction, Code, Detail};
use polku_core::model::{Role, User};
use polku_core::rights::{Action, Target};
use polku_core::{UnitId, UserId};
use polku_store::{KdfParams, NewUser, Store, StoreError};

use crate::session::Session;
use crate::{ApiError, Result};

/// Audit detail codes of user management. Do not change.
mod codes {
    use polku_audit::Code;

    const fn code(s: &'static str) -> Code {
        match Code::new(s) {
            Ok(c) => c,
            Err(_) => panic!("invalid audit code in the program text"),
        }
    }
    pub const USER_ADD: Code = code("user_add");
    pub const USERS: Code = code("users");
    pub const ACTIVATE: Code = code("activate");
    pub const DEACTIVATE: Code = code("deactivate");
    pub const ROLE_ADMIN: Code = code("role_admin");
    pub const ROLE_COORDINATOR: Code = code("role_coordinator");
    pub const ROLE_WORKER: Code = code("role_worker");
    pub const PASSWORD_CHANGE: Code = code("password_change");
    pub const PASSWORD_RESET: Code = code("password_reset");
}

fn role_code(role: Role) -> Code {
    match role {
        Role::Admin => codes::ROLE_ADMIN,
        Role::Coordinator => codes::ROLE_COORDINATOR,
        Role::Worker => codes::ROLE_WORKER,
    }
}

/// Sealed key/value slot marking a user who must change their password.
fn must_change_key(user: UserId) -> Vec<u8> {
    let mut k = b"polku/must-change-password/v1/".to_vec();
    k.extend_from_slice(user.as_bytes());
    k
}

/// Whether `user` must change their password at this login.
pub(crate) fn must_change(store: &Store, user: UserId) -> Result<bool> {
    Ok(store.get_meta(&must_change_key(user))?.is_some())
}

/// A new user of the organisation.
#[derive(Debug, Clone)]
pub struct UserInput {
    /// Login name (unique, case-insensitive).
    pub login: String,
    /// Name shown to colleagues.
    pub display_name: Option<String>,
    /// Role.
    pub role: Role,
    /// Unit names or ids; empty for the administrator's first unit.
    pub units: Vec<String>,
}

fn same_login(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

impl Session {
    fn user_by_login(&self, login: &str) -> Result<User> {
        self.org
            .users
            .values()
            .find(|u| same_login(&u.login, login))
            .cloned()
            .ok_or(ApiError::UnknownLogin)
    }

    fn active_admins_except(&self, except: UserId) -> usize {
        self.org
            .users
            .values()
            .filter(|u| u.id != except && u.active && u.role == Role::Admin)
            .count()
    }

    /// Add a user to the organisation with a local login on this device. The
    /// password is temporary: the user must change it at the first login.
    pub fn add_user(
        &mut self,
        input: UserInput,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<UserId> {
        self.check(Action::ManageUsers, Target::Organisation, None, now)?;
        let login = input.login.trim().to_owned();
        if login.is_empty() {
            return Err(ApiError::Invalid("the login name is empty"));
        }
        if password.is_empty() {
            return Err(ApiError::Invalid("the password is empty"));
        }
        if self.user_by_login(&login).is_ok() {
            return Err(ApiError::LoginTaken);
        }
        let mut units = std::collections::BTreeSet::new();
        for u in &input.units {
            units.insert(self.unit_by_name(u)?);
        }
        if units.is_empty() {
            units.extend(self.user.units.iter().next().copied());
        }
        let user = User {
            id: UserId::new(),
            display_name: input.display_name.unwrap_or_else(|| login.clone()),
            login: login.clone(),
            role: input.role,
            units,
            active: true,
        };
        let id = user.id;
        match self.store.add_user(NewUser {
            user_id: id,
            login: &login,
            password,
            kdf: KdfParams::default(),
        }) {
            Ok(()) => {}
            Err(StoreError::LoginTaken) => return Err(ApiError::LoginTaken),
            Err(e) => return Err(e.into()),
        }
        self.store.put_meta(&must_change_key(id), &[1])?;
        self.update_org_audited(
            now,
            Some((
                AuditAction::Create,
                Some(id.0),
                Detail::Code(codes::USER_ADD),
            )),
            |org| org.insert_user(user),
        )?;
        self.record(
            now,
            AuditAction::RoleChange,
            Some(id.0),
            Detail::Code(role_code(input.role)),
        )?;
        Ok(id)
    }

    /// Every user of the organisation (audited).
    pub fn list_users(&mut self, now: DateTime<Utc>) -> Result<Vec<User>> {
        self.check(Action::ManageUsers, Target::Organisation, None, now)?;
        let mut users: Vec<User> = self.org.users.values().cloned().collect();
        users.sort_by_key(|u| u.login.to_lowercase());
        let count = u32::try_from(users.len()).unwrap_or(u32::MAX);
        self.record(
            now,
            AuditAction::View,
            None,
            Detail::CodeCount {
                code: codes::USERS,
                count,
            },
        )?;
        Ok(users)
    }

    /// Activate or deactivate a user. A deactivated user cannot log in anywhere
    /// (on this device at once; on others when they receive the change).
    pub fn set_active(&mut self, login: &str, active: bool, now: DateTime<Utc>) -> Result<()> {
        self.check(Action::ManageUsers, Target::Organisation, None, now)?;
        let target = self.user_by_login(login)?;
        if !active && target.role == Role::Admin && self.active_admins_except(target.id) == 0 {
            return Err(ApiError::LastAdmin);
        }
        let code = if active {
            codes::ACTIVATE
        } else {
            codes::DEACTIVATE
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
                    u.active = active;
                }
            },
        )
    }

    /// Change a user's role.
    pub fn set_role(&mut self, login: &str, role: Role, now: DateTime<Utc>) -> Result<()> {
        self.check(Action::ManageUsers, Target::Organisation, None, now)?;
        let target = self.user_by_login(login)?;
        if target.role == Role::Admin
            && role != Role::Admin
            && self.active_admins_except(target.id) == 0
        {
            return Err(ApiError::LastAdmin);
        }
        self.update_org_audited(
            now,
            Some((
                AuditAction::RoleChange,
                Some(target.id.0),
                Detail::Code(role_code(role)),
            )),
            |org| {
                if let Some(u) = org.users.get_mut(&target.id) {
                    u.role = role;
                }
            },
        )
    }

    /// Change the logged-in user's own password (clears a pending reset).
    pub fn change_password(&mut self, new_password: &str, now: DateTime<Utc>) -> Result<()> {
        if new_password.chars().count() < 8 {
            return Err(ApiError::Invalid(
                "the new password must have at least 8 characters",
            ));
        }
        let id = self.user.id;
        self.store
            .change_password(id, new_password, KdfParams::default())?;
        self.store.delete_meta(&must_change_key(id))?;
        self.set_must_change_password(false);
        self.record(
            now,
            AuditAction::Update,
            Some(id.0),
            Detail::Code(codes::PASSWORD_CHANGE),
        )
    }

    /// An administrator sets a temporary password for `login` on this device;
    /// the user must change it at the next login.
    pub fn reset_password(
        &mut self,
        login: &str,
        new_password: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.check(Action::ManageUsers, Target::Organisation, None, now)?;
        if new_password.is_empty() {
            return Err(ApiError::Invalid("the password is empty"));
        }
        let target = self.user_by_login(login)?;
        let has_login = self
            .store
            .list_users()?
            .iter()
            .any(|u| u.user_id == target.id);
        if has_login {
            self.store
                .change_password(target.id, new_password, KdfParams::default())?;
        } else {
            self.store.add_user(NewUser {
                user_id: target.id,
                login: &target.login,
                password: new_password,
                kdf: KdfParams::default(),
            })?;
        }
        self.store.put_meta(&must_change_key(target.id), &[1])?;
        self.record(
            now,
            AuditAction::Update,
            Some(target.id.0),
            Detail::Code(codes::PASSWORD_RESET),
        )
    }

    /// Find a unit by name or id.
    pub(crate) fn unit_by_name(&self, unit: &str) -> Result<UnitId> {
        if let Ok(id) = unit.parse::<UnitId>()
            && self.org.units.contains_key(&id)
        {
            return Ok(id);
        }
        self.org
            .units
            .values()
            .find(|x| x.name.eq_ignore_ascii_case(unit.trim()))
            .map(|x| x.id)
            .ok_or(ApiError::UnknownUnit)
    }
}
