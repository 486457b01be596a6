//! The user's own password change from the app: the current password is
//! asked again (an unattended, unlocked laptop must not let a passer-by
//! take over the account), then [`Session::change_password`] does the rest.

use chrono::{DateTime, Utc};
use polku_store::LockedStore;

use crate::Result;
use crate::session::Session;

impl Session {
    /// Changes the user's own password after checking `current` (a wrong
    /// one is refused as a wrong password at login is, and counts as a
    /// failed login: the store's backoff applies and the next login audits
    /// it).
    pub fn change_own_password(
        &mut self,
        current: &str,
        new_password: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        crate::credentials::check_policy(new_password)?;
        LockedStore::open(self.store.dir())?.derive_key_at(self.login_name(), current, now)?;
        self.change_password(new_password, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ApiError, Workspace};
    use polku_store::StoreError;

    #[test]
    fn the_current_password_is_checked_before_the_change() {
        let dir = tempfile::tempdir().expect("tempdir");
        crate::listing::tests::store(dir.path());
        let now = Utc::now();
        let old = "listing-test-password";
        let mut s = Workspace::open(dir.path())
            .and_then(|w| w.login("maija", old, now))
            .expect("login");
        let wrong = s.change_own_password("not-my-password", "uusi-salasana-123", now);
        assert!(
            matches!(wrong, Err(ApiError::Store(StoreError::WrongPassword))),
            "{wrong:?}"
        );
        s.change_own_password(old, "uusi-salasana-123", now)
            .expect("change");
        s.close().expect("close");
        assert!(
            Workspace::open(dir.path())
                .and_then(|w| w.login("maija", old, now))
                .is_err()
        );
        Workspace::open(dir.path())
            .and_then(|w| w.login("maija", "uusi-salasana-123", now))
            .expect("new password")
            .close()
            .expect("close");
    }
}
