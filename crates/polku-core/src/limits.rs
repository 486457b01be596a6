//! Bounded lengths of names and texts: the one table of limits, enforced by
//! polku-api wherever a person types a name or a text.
//!
//! Lengths are counted in characters (Unicode scalar values), so a Finnish
//! or Sámi name with diacritics gets the same room as an ASCII one. The
//! error names the field and the limit, never the value.

use serde::{Deserialize, Serialize};

use crate::model::string_enum;

string_enum! {
    /// A bounded field. The string is its stable name in errors. Do not change.
    TextField {
        /// A client's first name.
        FirstName = "first_name",
        /// A client's last name.
        LastName = "last_name",
        /// A user's display name.
        DisplayName = "display_name",
        /// A user's login name.
        Login = "login",
        /// A unit's name.
        UnitName = "unit_name",
        /// The organisation's name.
        OrgName = "org_name",
        /// A label of an own code (any language).
        CodeLabel = "code_label",
        /// A memo's text.
        MemoText = "memo_text",
        /// The place of an activity memo.
        Place = "place",
        /// A short free text: a referral's follow-up, a consent's note, a
        /// disclosure's recipient or basis.
        ShortText = "short_text",
        /// A long free text: background, goals, final assessment, an
        /// activity memo's or brief contact's text.
        LongText = "long_text",
        /// An attachment's file name.
        FileName = "file_name",
    }
}

impl TextField {
    /// The most characters the field may hold.
    pub const fn max_chars(self) -> usize {
        match self {
            TextField::FirstName | TextField::LastName => 100,
            TextField::DisplayName | TextField::UnitName => 100,
            TextField::Login => 64,
            TextField::FileName => 255,
            TextField::OrgName | TextField::CodeLabel | TextField::Place => 200,
            TextField::ShortText => 2_000,
            TextField::MemoText | TextField::LongText => 20_000,
        }
    }
}

/// A name or text longer than its field allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field} is too long: at most {max} characters")]
pub struct TooLong {
    /// The field.
    pub field: TextField,
    /// Its limit in characters.
    pub max: usize,
}

/// `Ok` when `value` fits `field`'s limit.
pub fn check_len(field: TextField, value: &str) -> Result<(), TooLong> {
    let max = field.max_chars();
    // Cheap for the common case: a string of at most `max` bytes fits.
    if value.len() <= max || value.chars().count() <= max {
        Ok(())
    } else {
        Err(TooLong { field, max })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_accepts_its_limit_and_refuses_one_more() {
        for &field in TextField::ALL {
            let max = field.max_chars();
            assert_eq!(check_len(field, &"ä".repeat(max)), Ok(()), "{field}");
            assert_eq!(
                check_len(field, &"a".repeat(max + 1)),
                Err(TooLong { field, max }),
                "{field}"
            );
        }
    }

    #[test]
    fn the_error_names_the_field_and_the_limit_not_the_value() {
        let err = check_len(TextField::FirstName, &"Matti".repeat(2_000)).expect_err("too long");
        assert_eq!(
            err.to_string(),
            "first_name is too long: at most 100 characters"
        );
    }
}
