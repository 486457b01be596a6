//! The embedded demo store of the desktop app: a standalone store with
//! synthetic demo data (`polku-demo`) and demo users in two units with a
//! known password, so that a first start shows the app at work. Made only
//! through the public flows (init, demo data, a password reset and the
//! user's own password change), so it holds nothing the API would refuse.
//! Nothing in it is a real person.

use std::path::Path;

use chrono::{DateTime, Utc};
use polku_core::model::Role;
use serde::Serialize;

use crate::{KdfParams, Result, UserInput, Workspace};

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "demo-password";

/// A temporary password used once while the demo users are made.
const DEMO_TEMPORARY: &str = "demo-temporary-password";

/// A demo user: login, password and role (printed at start, shown on the
/// app's login screen of the demo store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoUser {
    /// Login name.
    pub login: String,
    /// Password.
    pub password: String,
    /// Role.
    pub role: Role,
    /// The unit's name, if the user has one.
    pub unit: Option<String>,
}

/// The demo users of a demo store made with `seed` (deterministic: the same
/// list on every start).
pub fn demo_users(seed: u64) -> Vec<DemoUser> {
    let staff = polku_demo::staff(seed);
    let unit_name = |u: &polku_core::model::User| {
        u.units
            .iter()
            .next()
            .and_then(|id| staff.units.iter().find(|x| x.id == *id))
            .map(|x| x.name.clone())
    };
    let mut out = vec![DemoUser {
        login: "admin".to_owned(),
        password: DEMO_PASSWORD.to_owned(),
        role: Role::Admin,
        unit: None,
    }];
    out.extend(staff.workers.iter().map(|w| DemoUser {
        login: w.login.clone(),
        password: DEMO_PASSWORD.to_owned(),
        role: w.role,
        unit: unit_name(w),
    }));
    out.push(DemoUser {
        login: "coordinator".to_owned(),
        password: DEMO_PASSWORD.to_owned(),
        role: Role::Coordinator,
        unit: staff.units.first().map(|u| u.name.clone()),
    });
    out
}

impl Workspace {
    /// Creates the demo store in `dir`: the admin, `clients` synthetic
    /// clients of `seed` with their periods, memos and activity memos, and
    /// the demo users of [`demo_users`] with [`DEMO_PASSWORD`]. Returns the
    /// demo users.
    pub fn create_demo(
        dir: &Path,
        clients: usize,
        seed: u64,
        kdf: KdfParams,
        now: DateTime<Utc>,
    ) -> Result<Vec<DemoUser>> {
        let users = demo_users(seed);
        Workspace::init_with(dir, "admin", DEMO_PASSWORD, now, kdf)?;
        let mut admin = Workspace::open(dir)?.login("admin", DEMO_PASSWORD, now)?;
        admin.add_demo(clients, seed, now)?;
        for u in users.iter().filter(|u| u.login != "admin") {
            if admin.organisation().user_by_login(&u.login).is_some() {
                admin.reset_password(&u.login, DEMO_TEMPORARY, now)?;
            } else {
                admin.add_user(
                    UserInput {
                        login: u.login.clone(),
                        display_name: None,
                        role: u.role,
                        units: u.unit.iter().cloned().collect(),
                    },
                    DEMO_TEMPORARY,
                    now,
                )?;
            }
        }
        admin.close_at(now)?;
        for u in users.iter().filter(|u| u.login != "admin") {
            let mut s = Workspace::open(dir)?.login(&u.login, DEMO_TEMPORARY, now)?;
            s.change_password(DEMO_PASSWORD, now)?;
            s.close_at(now)?;
        }
        Ok(users)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_user_logs_in_with_the_demo_password_in_their_unit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = Utc::now();
        let users = Workspace::create_demo(dir.path(), 12, 1, KdfParams::INSECURE_FOR_TESTS, now)
            .expect("demo");
        assert_eq!(users, demo_users(1));
        let units: std::collections::BTreeSet<_> =
            users.iter().filter_map(|u| u.unit.clone()).collect();
        assert!(units.len() >= 2, "{units:?}");
        for u in &users {
            let mut s = Workspace::open(dir.path())
                .and_then(|w| w.login(&u.login, &u.password, now))
                .unwrap_or_else(|e| panic!("{}: {e}", u.login));
            assert!(!s.must_change_password(), "{}", u.login);
            assert_eq!(s.user().role, u.role);
            if u.role == Role::Admin {
                assert_eq!(s.list_clients(now).expect("list").len(), 12);
            }
            s.close().expect("close");
        }
    }
}
