//! Editing a client's basic data (perustiedot) from the app: only the fields
//! the request carries change, each checked as a new client's would be
//! (lengths, codes not retired, a name kept), written by
//! [`Session::update_basic`] (the modify right, one incremental change, one
//! audit entry without values).

use chrono::{DateTime, NaiveDate, Utc};
use polku_core::ClientId;
use polku_core::codes::CodeList;
use polku_core::limits::{TextField, check_len};
use polku_core::model::Address;
use polku_core::rights::Action;
use serde::{Deserialize, Deserializer, Serialize};

use crate::session::Session;
use crate::{ApiError, Result};

/// `Some(value)` for a field that is present, also when it is `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// The basic-data fields to change: a field left out stays as it is; for
/// the optional ones, `null` clears the value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BasicEdit {
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Birth date (`null` clears it).
    #[serde(deserialize_with = "present")]
    pub birth_date: Option<Option<NaiveDate>>,
    /// Gender code (`null` clears it).
    #[serde(deserialize_with = "present")]
    pub gender: Option<Option<String>>,
    /// Mother-tongue group code (`null` clears it).
    #[serde(deserialize_with = "present")]
    pub mother_tongue: Option<Option<String>>,
    /// Phone number.
    pub phone: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Postal address (the whole address).
    pub address: Option<Address>,
}

impl Session {
    /// Changes the fields `edit` carries (see the module docs). A code is
    /// checked only when it changes, so a client keeps a code retired since.
    pub fn edit_basic(
        &mut self,
        client: ClientId,
        edit: BasicEdit,
        now: DateTime<Utc>,
    ) -> Result<()> {
        // The right first: nothing of the client is read without it.
        let current = self.check_client_for(Action::ModifyBasic, client, now)?;
        let first = edit.first_name.as_deref().map(str::trim);
        let last = edit.last_name.as_deref().map(str::trim);
        if let Some(f) = first {
            check_len(TextField::FirstName, f)?;
        }
        if let Some(l) = last {
            check_len(TextField::LastName, l)?;
        }
        if first.unwrap_or(&current.first_name).is_empty()
            && last.unwrap_or(&current.last_name).is_empty()
        {
            return Err(ApiError::Rejected(crate::Rejection::ClientNeedsName));
        }
        for text in [&edit.phone, &edit.email].into_iter().flatten() {
            check_len(TextField::ShortText, text)?;
        }
        if let Some(a) = &edit.address {
            for text in [&a.street, &a.postal_code, &a.city] {
                check_len(TextField::ShortText, text)?;
            }
        }
        // Codes are checked against what the client holds now: a code that
        // does not change is not chosen anew.
        let held = self.read_client(client)?.basic;
        for (list, new, old) in [
            (CodeList::Gender, &edit.gender, &held.gender),
            (
                CodeList::MotherTongue,
                &edit.mother_tongue,
                &held.mother_tongue,
            ),
        ] {
            if let Some(Some(code)) = new
                && old.as_deref() != Some(code.as_str())
            {
                self.code_for_new(list, code)?;
            }
        }
        self.update_basic(client, now, |b| {
            if let Some(f) = first {
                b.first_name = f.to_owned();
            }
            if let Some(l) = last {
                b.last_name = l.to_owned();
            }
            if let Some(d) = edit.birth_date {
                b.birth_date = d;
            }
            if let Some(g) = edit.gender {
                b.gender = g;
            }
            if let Some(m) = edit.mother_tongue {
                b.mother_tongue = m;
            }
            if let Some(p) = edit.phone {
                b.phone = p;
            }
            if let Some(e) = edit.email {
                b.email = e;
            }
            if let Some(a) = edit.address {
                b.address = a;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Workspace;

    fn maija(dir: &std::path::Path) -> Session {
        Workspace::open(dir)
            .and_then(|w| w.login("maija", "listing-test-password", Utc::now()))
            .expect("login")
    }

    #[test]
    fn only_the_fields_given_change_and_each_is_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        crate::listing::tests::store(dir.path());
        let now = Utc::now();
        let mut s = maija(dir.path());
        let id = s
            .add_client(
                crate::ClientInput {
                    first_name: "Aino".into(),
                    last_name: "Virtanen".into(),
                    gender: Some("female".into()),
                    ..Default::default()
                },
                now,
            )
            .expect("add");
        let edit: BasicEdit =
            serde_json::from_str(r#"{"phone":"040 123","birth_date":"2008-05-01"}"#).expect("json");
        s.edit_basic(id, edit, now).expect("edit");
        let b = s.client_view(id, now).expect("view").client.basic;
        assert_eq!(b.phone, "040 123");
        assert_eq!(b.birth_date, NaiveDate::from_ymd_opt(2008, 5, 1));
        assert_eq!(b.first_name, "Aino");
        assert_eq!(b.gender.as_deref(), Some("female"));

        // null clears; the search index follows a renamed client.
        let edit: BasicEdit =
            serde_json::from_str(r#"{"gender":null,"last_name":"Koskinen"}"#).expect("json");
        s.edit_basic(id, edit, now).expect("edit");
        let b = s.client_view(id, now).expect("view").client.basic;
        assert_eq!(b.gender, None);
        assert_eq!(s.search("kosk", now).expect("search").len(), 1);

        // Refusals: an unknown code, no name left, a name too long.
        let bad = BasicEdit {
            gender: Some(Some("1".into())),
            ..Default::default()
        };
        assert!(matches!(
            s.edit_basic(id, bad, now),
            Err(ApiError::UnknownCode(_))
        ));
        let nameless = BasicEdit {
            first_name: Some(" ".into()),
            last_name: Some(String::new()),
            ..Default::default()
        };
        assert!(matches!(
            s.edit_basic(id, nameless, now),
            Err(ApiError::Rejected(crate::Rejection::ClientNeedsName))
        ));
        let long = BasicEdit {
            first_name: Some("x".repeat(101)),
            ..Default::default()
        };
        assert!(matches!(
            s.edit_basic(id, long, now),
            Err(ApiError::TooLong(_))
        ));
        s.close().expect("close");
    }

    #[test]
    fn a_worker_of_another_unit_cannot_edit_and_is_audited() {
        let dir = tempfile::tempdir().expect("tempdir");
        crate::listing::tests::store(dir.path());
        let now = Utc::now();
        let mut s = maija(dir.path());
        let id = s
            .add_client(
                crate::ClientInput {
                    first_name: "Aino".into(),
                    ..Default::default()
                },
                now,
            )
            .expect("add");
        s.close().expect("close");
        let mut liisa = Workspace::open(dir.path())
            .and_then(|w| w.login("liisa", "listing-test-password", now))
            .expect("login");
        let edit = BasicEdit {
            phone: Some("1".into()),
            ..Default::default()
        };
        let r = liisa.edit_basic(id, edit, now);
        assert!(matches!(r, Err(ApiError::Denied(_))), "{r:?}");
        let denied = liisa
            .decoded_entries()
            .expect("entries")
            .iter()
            .filter(|e| e.action == polku_audit::Action::Denied && e.target == Some(id.0))
            .count();
        assert_eq!(denied, 1);
        liisa.close().expect("close");
    }
}
