//! Domain types of the register, following PAR's register description.
//!
//! Three kinds of Automerge documents hold them: one per [`Client`], one per
//! [`ActivityMemo`] and one [`Organisation`] document (see [`crate::doc`]).
//! Collections that several devices may extend concurrently (periods,
//! measures, memos, snapshots, referrals, …) are maps keyed by a random id,
//! so concurrent inserts never clash. Sets of ids (responsible workers, a
//! user's units) are sets for the same reason.
//!
//! Codes (gender, arrival route, measure, …) are kept as code strings from the
//! code lists in [`crate::codes`]; labels are looked up through a
//! [`crate::codes::CodeSet`]. Dates are local calendar dates; instants are UTC
//! and stored at millisecond precision.

mod activity;
mod brief;
mod client;
mod org;

pub use activity::{ActivityMemo, MetCounts};
pub use brief::{BriefContact, BriefContactLog, brief_log_doc_id, month_key};
pub use client::{
    Address, AttachmentRef, Background, BackgroundField, BasicData, Client, ClientBasic,
    ClientRecord, ClientSummary, Consent, ConsentTopic, Disclosure, FollowUp, FollowUpInterval,
    Measure, MeasureStatus, Memo, Period, Referral, SituationSnapshot, SnapshotPhase,
    record_doc_id,
};
pub use org::{
    BackupKey, Device, Organisation, OwnCode, Role, SettingKey, SettingOutOfRange, Settings, Unit,
    User,
};

/// Error for a stored enum value that this version does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} value")]
pub struct UnknownVariant {
    /// Which enum was being parsed.
    pub kind: &'static str,
}

/// Defines a fieldless enum stored as a stable snake_case string.
macro_rules! string_enum {
    (
        $(#[$m:meta])*
        $name:ident { $( $(#[$vm:meta])* $variant:ident = $s:literal ),+ $(,)? }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
                 serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vm])* $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable string stored in documents. Do not change.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $s, )+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::model::UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $s => Ok($name::$variant), )+
                    _ => Err($crate::model::UnknownVariant { kind: stringify!($name) }),
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
pub(crate) use string_enum;
