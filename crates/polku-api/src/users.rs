//! Users, roles and passwords (käyttäjähallinta). All changes need the user
//! management right and are audited in the same transaction as the change.

use chrono::{DateTime, Utc};
use polku_audit::{Action as AuditAction, Code, Detail};
use polku_core::limits::{TextField, check_len};
use polku_core::model::{Role, User};
use polku_core::rights::{Action, Target};
use polku_core::{UnitId, UserId};
use polku_store::{PasswordVerifier, StoreError};

use crate::audit_codes as codes;
use crate::credentials::{self, Credential};
use crate::session::Session;
use crate::{ApiError, Result};

fn role_code(role: Role) -> Code {
    match role {
        Role::Admin => codes::ROLE_ADMIN,
        Role::Coordinator => codes::ROLE_COORDINATOR,
        Role::Worker => codes::ROLE_WORKER,
    }
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

    /// Add a user to the organisation. The password is temporary: it must be
    /// changed at the first login anywhere and expires after
    /// [`crate::TEMPORARY_PASSWORD_HOURS`]. On the hub only an administrator
    /// gets a login (a wrapping of the hub's key); anyone else gets only a
    /// password record, checked when they enrol a device. Elsewhere the user
    /// gets a local login. Everything is one transaction.
    pub fn add_user(
        &mut self,
        input: UserInput,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<UserId> {
        self.check(Action::ManageUsers, Target::Organisation, None, now)?;
        let login = input.login.trim().to_owned();
        if login.is_empty() {
            return Err(ApiError::Rejected(crate::Rejection::EmptyLogin));
        }
        check_len(TextField::Login, &login)?;
        if let Some(name) = &input.display_name {
            check_len(TextField::DisplayName, name)?;
        }
        credentials::check_policy(password)?;
        if self.user_by_login(&login).is_ok() {
            return Err(ApiError::LoginTaken);
        }
        let mut units = std::collections::BTreeSet::new();
        for u in &input.units {
            units.insert(self.unit_for_new(u)?);
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
            rights: None,
        };
        let id = user.id;
        let local_login = !self.is_hub()? || input.role == Role::Admin;
        // The slow argon2id run happens before the transaction.
        let verifier = PasswordVerifier::create(password, credentials::kdf_policy(&self.store)?)?;
        let credential = Credential::temporary(verifier, now);
        let expires = credential.expires_at.unwrap_or(now);
        let write = credentials::prepare(&self.store, id, &credential)?;
        let result = self.update_org_with(
            now,
            vec![
                (
                    AuditAction::Create,
                    Some(id.0),
                    Detail::Code(codes::USER_ADD),
                ),
                (
                    AuditAction::RoleChange,
                    Some(id.0),
                    Detail::Code(role_code(input.role)),
                ),
            ],
            |org| org.insert_user(user),
            |b| {
                if local_login {
                    b.add_login(id, &login, &credential.verifier)?;
                    credentials::put_must_change(b, id, expires)?;
                }
                write.apply(b)
            },
        );
        match result {
            Err(ApiError::Store(StoreError::LoginTaken)) => Err(ApiError::LoginTaken),
            other => other.map(|()| id),
        }
    }

    /// On the hub, give `user` a login exactly when they are an active
    /// administrator (their current password record opens it), and remove
    /// it otherwise; elsewhere nothing changes. For use inside the
    /// transaction of a role or activity change.
    fn hub_login_follows_role(
        b: &polku_store::Batch<'_>,
        hub: bool,
        user: &User,
        credential: Option<&Credential>,
    ) -> polku_store::Result<()> {
        if !hub {
            return Ok(());
        }
        if user.active && user.role == Role::Admin {
            if let Some(c) = credential {
                b.set_login(user.id, &user.login, &c.verifier)?;
                if c.temporary
                    && let Some(t) = c.expires_at
                {
                    credentials::put_must_change(b, user.id, t)?;
                }
            }
            Ok(())
        } else {
            b.remove_login(user.id).map(|_| ())
        }
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
        let hub = self.is_hub()?;
        let credential = credentials::credential(&self.store, target.id)?;
        let after = User {
            active,
            ..target.clone()
        };
        self.update_org_with(
            now,
            vec![(
                AuditAction::RoleChange,
                Some(target.id.0),
                Detail::Code(code),
            )],
            |org| {
                if let Some(u) = org.users.get_mut(&target.id) {
                    u.active = active;
                }
            },
            |b| Self::hub_login_follows_role(b, hub, &after, credential.as_ref()),
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
        let hub = self.is_hub()?;
        let credential = credentials::credential(&self.store, target.id)?;
        let after = User {
            role,
            ..target.clone()
        };
        self.update_org_with(
            now,
            vec![(
                AuditAction::RoleChange,
                Some(target.id.0),
                Detail::Code(role_code(role)),
            )],
            |org| {
                if let Some(u) = org.users.get_mut(&target.id) {
                    u.role = role;
                }
            },
            |b| Self::hub_login_follows_role(b, hub, &after, credential.as_ref()),
        )
    }

    /// Change the logged-in user's own password (clears a pending reset): the
    /// local login is re-wrapped, the password record replaced and the change
    /// audited, in one transaction.
    pub fn change_password(&mut self, new_password: &str, now: DateTime<Utc>) -> Result<()> {
        credentials::check_policy(new_password)?;
        let id = self.user.id;
        let login = self.user.login.clone();
        let verifier =
            PasswordVerifier::create(new_password, credentials::kdf_policy(&self.store)?)?;
        let credential = Credential::chosen(verifier, now);
        let write = credentials::prepare(&self.store, id, &credential)?;
        self.record_with(
            now,
            AuditAction::Update,
            Some(id.0),
            Detail::Code(codes::PASSWORD_CHANGE),
            |b| {
                b.set_login(id, &login, &credential.verifier)?;
                credentials::clear_must_change(b, id)?;
                write.apply(b)
            },
        )?;
        self.set_must_change_password(false);
        Ok(())
    }

    /// An administrator sets a temporary password for `login`: it must be
    /// changed at the next login and expires after
    /// [`crate::TEMPORARY_PASSWORD_HOURS`]. On the hub only an administrator's
    /// login is re-wrapped; anyone else's password record is replaced.
    pub fn reset_password(
        &mut self,
        login: &str,
        new_password: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.check(Action::ManageUsers, Target::Organisation, None, now)?;
        credentials::check_policy(new_password)?;
        let target = self.user_by_login(login)?;
        let local_login = !self.is_hub()? || (target.role == Role::Admin && target.active);
        let verifier =
            PasswordVerifier::create(new_password, credentials::kdf_policy(&self.store)?)?;
        let credential = Credential::temporary(verifier, now);
        let expires = credential.expires_at.unwrap_or(now);
        let write = credentials::prepare(&self.store, target.id, &credential)?;
        self.record_with(
            now,
            AuditAction::Update,
            Some(target.id.0),
            Detail::Code(codes::PASSWORD_RESET),
            |b| {
                if local_login {
                    b.set_login(target.id, &target.login, &credential.verifier)?;
                    credentials::put_must_change(b, target.id, expires)?;
                } else {
                    b.remove_login(target.id)?;
                }
                write.apply(b)
            },
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
