//! Newtype identifiers, free of personal data, so ids may appear in plaintext
//! metadata and logs.
//!
//! Ids of people's records (clients, memos, attachments, activity memos) are
//! random UUID v4: a time-ordered id would tell when a record about a young
//! person was made, to the millisecond. Every other id is a UUID v7 (random
//! and time-ordered, which keeps indexes compact).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// Error for an id that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id (expected a UUID)")]
pub struct InvalidId;

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        id_type!(@common $(#[$m])* $name);

        impl $name {
            /// A fresh UUID v7 id from the system clock and OS randomness.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            /// A UUID v7 id built from a timestamp (ms since the Unix epoch) and
            /// caller-supplied random bytes: deterministic ids for demo data and tests.
            pub fn from_parts(unix_millis: u64, random: [u8; 10]) -> Self {
                Self(uuid::Builder::from_unix_timestamp_millis(unix_millis, &random).into_uuid())
            }
        }
    };
    (random $(#[$m:meta])* $name:ident) => {
        id_type!(@common $(#[$m])* $name);

        impl $name {
            /// A fresh random UUID v4 id (OS randomness; no time in it).
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
            /// A deterministic UUID v4 id for demo data and tests, derived by
            /// hashing a seed time and seed bytes: not time-ordered, and the
            /// seed cannot be read back from the id.
            pub fn from_parts(unix_millis: u64, random: [u8; 10]) -> Self {
                let mut h = blake3::Hasher::new_derive_key("polku 2026 random id from parts v1");
                h.update(&unix_millis.to_le_bytes());
                h.update(&random);
                let mut bytes = [0u8; 16];
                bytes.copy_from_slice(&h.finalize().as_bytes()[..16]);
                Self(uuid::Builder::from_random_bytes(bytes).into_uuid())
            }
        }
    };
    (@common $(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The underlying UUID.
            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
            /// The 16 raw bytes.
            pub fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self).map_err(|_| InvalidId)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    };
}

id_type!(
    random
    /// A client (asiakas); also the id of the client's Automerge document.
    ClientId
);
id_type!(
    /// A period (jakso) inside a client document.
    PeriodId
);
id_type!(
    /// A measure (toimenpide) inside a period.
    MeasureId
);
id_type!(
    random
    /// A memo (muistio) on a client.
    MemoId
);
id_type!(
    random
    /// An encrypted attachment (liite) blob.
    AttachmentId
);
id_type!(
    /// A situation snapshot (tilannetiedot) inside a client document.
    SnapshotId
);
id_type!(
    /// A referral (ilmoitus), consent (suostumus), disclosure (luovutus) or follow-up (seuranta) record.
    RecordId
);
id_type!(
    random
    /// An activity memo (toimintamuistio); also its document id.
    ActivityMemoId
);
id_type!(
    random
    /// A brief contact (lyhyt kontakti) inside a brief-contact log document.
    BriefContactId
);
id_type!(
    /// An organisation; also the id of the organisation document.
    OrgId
);
id_type!(
    /// A unit (yksikkö) of the organisation.
    UnitId
);
id_type!(
    /// A user (worker, admin or coordinator) of the organisation.
    UserId
);

/// The id of any Automerge document in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DocId(pub Uuid);

impl From<Uuid> for DocId {
    fn from(u: Uuid) -> Self {
        Self(u)
    }
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for DocId {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self).map_err(|_| InvalidId)
    }
}

impl From<ClientId> for DocId {
    fn from(id: ClientId) -> Self {
        Self(id.0)
    }
}
impl From<ActivityMemoId> for DocId {
    fn from(id: ActivityMemoId) -> Self {
        Self(id.0)
    }
}
impl From<OrgId> for DocId {
    fn from(id: OrgId) -> Self {
        Self(id.0)
    }
}

/// What kind of document a [`DocId`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// A client's basic-data document (perustiedot; id: the client's id).
    Client,
    /// An activity memo document.
    ActivityMemo,
    /// The organisation document.
    Organisation,
    /// A user's credential document (see [`crate::doc::credential`]).
    Credential,
    /// The rest of a client's record (id: [`crate::model::record_doc_id`]).
    ClientRecord,
    /// The hub's statistics extract (see [`crate::anonymised::StatsExtract`]).
    StatsExtract,
    /// One unit's brief contacts of one month (see [`crate::model::BriefContactLog`]).
    BriefContacts,
    /// The anonymised record of one erased client (see
    /// [`crate::anonymised::AnonymisedEntry`]).
    Anonymised,
}

impl DocKind {
    /// Stable small integer used in storage. Do not change.
    pub fn code(self) -> u8 {
        match self {
            DocKind::Client => 1,
            DocKind::ActivityMemo => 2,
            DocKind::Organisation => 3,
            DocKind::Credential => 4,
            DocKind::ClientRecord => 5,
            DocKind::StatsExtract => 6,
            DocKind::BriefContacts => 7,
            DocKind::Anonymised => 8,
        }
    }
    /// Inverse of [`DocKind::code`].
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(DocKind::Client),
            2 => Some(DocKind::ActivityMemo),
            3 => Some(DocKind::Organisation),
            4 => Some(DocKind::Credential),
            5 => Some(DocKind::ClientRecord),
            6 => Some(DocKind::StatsExtract),
            7 => Some(DocKind::BriefContacts),
            8 => Some(DocKind::Anonymised),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = ClientId::new();
        let parsed: ClientId = id.to_string().parse().expect("parse");
        assert_eq!(id, parsed);
        assert!("not-a-uuid".parse::<ClientId>().is_err());
    }

    #[test]
    fn ids_of_peoples_records_are_random_and_others_time_ordered() {
        // A time-ordered id would tell when a record about a person was made.
        assert_eq!(ClientId::new().0.get_version_num(), 4);
        assert_eq!(MemoId::new().0.get_version_num(), 4);
        assert_eq!(AttachmentId::new().0.get_version_num(), 4);
        assert_eq!(ActivityMemoId::new().0.get_version_num(), 4);
        assert_eq!(ClientId::from_parts(1, [1; 10]).0.get_version_num(), 4);
        assert_eq!(UnitId::new().0.get_version_num(), 7);
        assert_eq!(UserId::new().0.get_version_num(), 7);
        // No timestamp can be read from a random id.
        assert_eq!(ClientId::new().0.get_timestamp(), None);
        assert!("not-a-uuid".parse::<ClientId>().is_err());
    }

    #[test]
    fn deterministic_ids_from_parts() {
        let a = ClientId::from_parts(1_700_000_000_000, [7; 10]);
        let b = ClientId::from_parts(1_700_000_000_000, [7; 10]);
        assert_eq!(a, b);
        assert_ne!(a, ClientId::from_parts(1_700_000_000_001, [7; 10]));
        let u = UnitId::from_parts(1_700_000_000_000, [7; 10]);
        assert_eq!(u, UnitId::from_parts(1_700_000_000_000, [7; 10]));
        assert_eq!(u.0.get_version_num(), 7);
    }

    #[test]
    fn doc_kind_codes_round_trip() {
        for k in [
            DocKind::Client,
            DocKind::ActivityMemo,
            DocKind::Organisation,
            DocKind::Credential,
            DocKind::ClientRecord,
            DocKind::StatsExtract,
            DocKind::BriefContacts,
            DocKind::Anonymised,
        ] {
            assert_eq!(DocKind::from_code(k.code()), Some(k));
        }
        assert_eq!(DocKind::from_code(0), None);
    }
}
