//! What an audit entry records: the [`Action`] and, for refusals and failures,
//! a [`Reason`]. Both have stable numeric codes that are part of the wire
//! format.

use serde::{Deserialize, Serialize};

macro_rules! coded_enum {
    (
        $(#[$m:meta])*
        pub enum $name:ident {
            $( $(#[$vm:meta])* $variant:ident = $code:literal => $text:literal, )+
        }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vm])* $variant, )+
        }

        impl $name {
            /// Every value, in code order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Stable numeric code used in the wire format. Do not change.
            pub const fn code(self) -> u8 {
                match self {
                    $( $name::$variant => $code, )+
                }
            }

            /// Inverse of [`Self::code`]; `None` for an unknown code.
            pub const fn from_code(code: u8) -> Option<Self> {
                match code {
                    $( $code => Some($name::$variant), )+
                    _ => None,
                }
            }

            /// Stable snake_case name, for logs, CSV and the UI's translation keys.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

coded_enum! {
    /// The kind of event an audit entry records. Code 0 is never used.
    pub enum Action {
        /// A user unlocked the store with their password.
        Login = 1 => "login",
        /// A login attempt failed (wrong password, unknown or inactive user).
        FailedLogin = 2 => "failed_login",
        /// A user locked the app or signed out.
        Logout = 3 => "logout",
        /// A user opened a client, document or report.
        View = 4 => "view",
        /// A user created a client, memo, document or user.
        Create = 5 => "create",
        /// A user changed a document.
        Update = 6 => "update",
        /// Data left the register: statistics export, disclosure, backup.
        Export = 7 => "export",
        /// A client was erased (anonymised record kept, document deleted).
        Erase = 8 => "erase",
        /// A retention run looked for, or removed, clients past retention.
        RetentionRun = 9 => "retention_run",
        /// A user's role or rights changed.
        RoleChange = 10 => "role_change",
        /// A device was enrolled with the hub.
        DeviceEnrol = 11 => "device_enrol",
        /// A device was revoked.
        DeviceRevoke = 12 => "device_revoke",
        /// A sync session with a peer finished.
        Sync = 13 => "sync",
        /// An access was refused (rights, revoked device, erased id).
        Denied = 14 => "denied",
    }
}

coded_enum! {
    /// Why something failed or was refused. A closed list, so it can never
    /// carry personal data.
    pub enum Reason {
        /// The password did not unlock the user's key.
        WrongPassword = 1 => "wrong_password",
        /// No such user on this device.
        UnknownUser = 2 => "unknown_user",
        /// The user is deactivated.
        UserInactive = 3 => "user_inactive",
        /// Too many failed attempts; try again later.
        RateLimited = 4 => "rate_limited",
        /// The device is not enrolled.
        DeviceUnknown = 5 => "device_unknown",
        /// The device was revoked.
        DeviceRevoked = 6 => "device_revoked",
        /// The enrolment ticket was invalid, used or expired.
        InvalidTicket = 7 => "invalid_ticket",
        /// The device has been offline too long; online re-authentication needed.
        ReauthRequired = 8 => "reauth_required",
        /// The user's role does not allow the action.
        NotPermitted = 9 => "not_permitted",
        /// The id was erased (tombstoned) and is refused forever.
        Erased = 10 => "erased",
        /// A temporary password was used after it expired.
        PasswordExpired = 11 => "password_expired",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_codes_round_trip_and_are_unique() {
        assert_eq!(Action::ALL.len(), 14);
        for (i, a) in Action::ALL.iter().enumerate() {
            assert_eq!(Action::from_code(a.code()), Some(*a));
            assert_eq!(usize::from(a.code()), i + 1, "codes are dense from 1");
        }
        assert_eq!(Action::from_code(0), None);
        assert_eq!(Action::from_code(15), None);
    }

    #[test]
    fn action_codes_are_stable() {
        // The wire format depends on these numbers: this test must never change.
        assert_eq!(Action::Login.code(), 1);
        assert_eq!(Action::FailedLogin.code(), 2);
        assert_eq!(Action::Erase.code(), 8);
        assert_eq!(Action::Sync.code(), 13);
        assert_eq!(Action::Denied.code(), 14);
        assert_eq!(Action::RoleChange.as_str(), "role_change");
    }

    #[test]
    fn reason_codes_round_trip() {
        for r in Reason::ALL {
            assert_eq!(Reason::from_code(r.code()), Some(*r));
        }
        assert_eq!(Reason::from_code(0), None);
        assert_eq!(Reason::WrongPassword.code(), 1);
        assert_eq!(Reason::Erased.code(), 10);
    }
}
