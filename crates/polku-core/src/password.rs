//! Password policy (salasanakäytäntö): what a new password must satisfy,
//! wherever it is set (first administrator, new user, change, reset, join).
//! Pure: the list of refused common passwords ships with the crate.

/// Fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 10;

const COMMON: &str = include_str!("password/common.txt");

/// Why a password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordRejected {
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    #[error("the password must have at least {min} characters")]
    TooShort {
        /// The minimum.
        min: usize,
    },
    /// A well-known password, or one character or digit run repeated.
    #[error("the password is too common or too easy to guess; choose another")]
    TooCommon,
}

fn normalise(password: &str) -> String {
    password.trim().to_lowercase()
}

/// Whether `password` is in the shipped list of common passwords
/// (case-insensitively), or made of one repeated character.
pub fn is_common(password: &str) -> bool {
    let p = normalise(password);
    let mut chars = p.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return true;
    }
    COMMON
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|l| l == p)
}

/// Check a new password against the policy: at least
/// [`MIN_PASSWORD_CHARS`] characters, and not a common password.
pub fn check_password_policy(password: &str) -> Result<(), PasswordRejected> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordRejected::TooShort {
            min: MIN_PASSWORD_CHARS,
        });
    }
    if is_common(password) {
        return Err(PasswordRejected::TooCommon);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_passwords_are_refused_with_the_minimum() {
        assert_eq!(
            check_password_policy("lyhyt123"),
            Err(PasswordRejected::TooShort { min: 10 })
        );
        // Characters, not bytes: nine letters with umlauts are still short.
        assert_eq!(
            check_password_policy("äöäöäöäöå"),
            Err(PasswordRejected::TooShort { min: 10 })
        );
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        for p in [
            "salasana123",
            "SALASANA123",
            "Password123",
            "qwertyuiop",
            " 1234567890 ",
        ] {
            assert_eq!(
                check_password_policy(p),
                Err(PasswordRejected::TooCommon),
                "{p}"
            );
        }
        assert_eq!(
            check_password_policy("aaaaaaaaaaaa"),
            Err(PasswordRejected::TooCommon)
        );
    }

    #[test]
    fn a_good_passphrase_passes() {
        assert_eq!(check_password_policy("kolme karhua metsässä"), Ok(()));
        assert_eq!(check_password_policy("demo-password"), Ok(()));
    }

    #[test]
    fn the_shipped_list_is_not_empty_and_every_entry_is_long_enough_to_matter() {
        let entries: Vec<&str> = COMMON
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert!(entries.len() > 150);
        for e in entries {
            assert!(
                e.chars().count() >= MIN_PASSWORD_CHARS,
                "{e} is refused by length anyway"
            );
            assert_eq!(e, e.to_lowercase(), "{e} must be lower case");
        }
    }
}
