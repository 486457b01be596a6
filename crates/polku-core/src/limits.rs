//! Bounded lengths of names and texts: the one table of limits, enforced by
//! polku-api wherever a person types a name or a text.
//!
//! Lengths are counted in characters (Unicode scalar values), so a Finnish
//! or Sámi name with diacritics gets the same room as an ASCII one. The
//! error names the field and the limit, never the value.

use serde::{Deserialize, Serialize};

/// Largest attachment file (liite) a device takes from a peer: 25 MiB.
pub const MAX_ATTACHMENT_BYTES: u64 = 25 * 1024 * 1024;

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

/// Every text of a client's basic data within its limit (what the hub
/// checks in a change that arrives by sync, as the API checks its own).
pub fn check_basic(basic: &crate::model::ClientBasic) -> Result<(), TooLong> {
    let b = &basic.basic;
    check_len(TextField::FirstName, &b.first_name)?;
    check_len(TextField::LastName, &b.last_name)?;
    for t in [
        &b.email,
        &b.phone,
        &b.address.street,
        &b.address.postal_code,
        &b.address.city,
    ] {
        check_len(TextField::ShortText, t)?;
    }
    Ok(())
}

/// Every text of the rest of a client's record within its limit.
pub fn check_record(record: &crate::model::ClientRecord) -> Result<(), TooLong> {
    let bg = &record.background;
    for t in [
        &bg.education,
        &bg.work_experience,
        &bg.skills,
        &bg.strengths,
        &bg.goal,
        &bg.health,
        &bg.family,
        &bg.other,
    ] {
        check_len(TextField::LongText, t)?;
    }
    for m in record.memos.values() {
        check_len(TextField::MemoText, &m.text)?;
    }
    for p in record.periods.values() {
        check_len(TextField::LongText, &p.goals)?;
        check_len(TextField::LongText, &p.final_assessment)?;
    }
    for r in record.referrals.values() {
        check_len(TextField::LongText, &r.follow_up)?;
    }
    for k in record.consents.values() {
        check_len(TextField::ShortText, &k.note)?;
    }
    for d in record.disclosures.values() {
        for t in [&d.what, &d.recipient, &d.basis] {
            check_len(TextField::ShortText, t)?;
        }
    }
    for f in record.follow_ups.values() {
        check_len(TextField::LongText, &f.notes)?;
    }
    for a in record.attachments.values() {
        check_len(TextField::FileName, &a.file_name)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_with_one_text_past_its_limit_is_refused_whole() {
        let id = crate::ids::ClientId::new();
        let mut client = crate::model::Client::new(id, chrono::Utc::now());
        client.basic.first_name = "Aino".into();
        client.background.health = "Ei erityistä.".into();
        let (basic, record) = client.split();
        assert_eq!(check_basic(&basic), Ok(()));
        assert_eq!(check_record(&record), Ok(()));
        let mut long = client.clone();
        long.basic.first_name = "a".repeat(101);
        assert_eq!(
            check_basic(&long.split().0),
            Err(TooLong {
                field: TextField::FirstName,
                max: 100
            })
        );
        let mut long = client;
        long.background.health = "a".repeat(20_001);
        assert!(check_record(&long.split().1).is_err());
    }

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
