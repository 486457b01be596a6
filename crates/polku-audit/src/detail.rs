//! The detail of an audit entry: a small structured value that by
//! construction holds no personal data.
//!
//! There is deliberately no variant for free text. Numbers are counts; a
//! [`Code`] is a short machine identifier (`client.phone`, `parkki_csv`,
//! `coordinator`) that the *local* program can only build from a `&'static
//! str` — text written in the source code, never text a person typed. A
//! [`Reason`] is a closed enum.

use std::fmt;

use crate::action::Reason;

/// Longest [`Code`], in bytes.
pub const MAX_CODE_LEN: usize = 32;
/// Most codes in one [`FieldList`].
pub const MAX_FIELDS: usize = 16;

/// Error building a [`Code`] or a [`FieldList`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DetailError {
    /// The text is not a code (see [`Code`] for the rules).
    #[error(
        "not a valid audit code: 1..={MAX_CODE_LEN} bytes of a-z, 0-9, '_', '.', '-', starting with a letter"
    )]
    InvalidCode,
    /// More than [`MAX_FIELDS`] codes.
    #[error("more than {MAX_FIELDS} field codes")]
    TooManyFields,
}

/// A short machine identifier: a field name, a role, an export format.
///
/// Invariants (checked on construction and on decoding):
/// - 1 to [`MAX_CODE_LEN`] bytes;
/// - the first byte is `a`–`z`;
/// - every other byte is `a`–`z`, `0`–`9`, `_`, `.` or `-`.
///
/// Locally a code is built only from a `&'static str` ([`Code::new`]), so it
/// comes from the program text and cannot carry what a user typed.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code {
    len: u8,
    bytes: [u8; MAX_CODE_LEN],
}

impl Code {
    /// A code from a string literal (or any other `'static` text).
    ///
    /// ```
    /// use polku_audit::Code;
    /// const PHONE: Code = match Code::new("client.phone") {
    ///     Ok(c) => c,
    ///     Err(_) => panic!("bad code"),
    /// };
    /// assert_eq!(PHONE.as_str(), "client.phone");
    /// assert!(Code::new("Matti Virtanen").is_err());
    /// ```
    pub const fn new(text: &'static str) -> Result<Self, DetailError> {
        Self::from_bytes(text.as_bytes())
    }

    /// A code from wire bytes; same rules as [`Code::new`].
    pub(crate) const fn from_bytes(text: &[u8]) -> Result<Self, DetailError> {
        if text.is_empty() || text.len() > MAX_CODE_LEN || !text[0].is_ascii_lowercase() {
            return Err(DetailError::InvalidCode);
        }
        let mut bytes = [0u8; MAX_CODE_LEN];
        let mut i = 0;
        while i < text.len() {
            let c = text[i];
            if !(c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || c == b'_'
                || c == b'.'
                || c == b'-')
            {
                return Err(DetailError::InvalidCode);
            }
            bytes[i] = c;
            i += 1;
        }
        Ok(Self {
            len: text.len() as u8,
            bytes,
        })
    }

    /// The code text.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored, so this cannot fail.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Code({:?})", self.as_str())
    }
}

/// The names of the fields an update touched, as codes; at most
/// [`MAX_FIELDS`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FieldList(Vec<Code>);

impl FieldList {
    /// A list of field codes; refused if longer than [`MAX_FIELDS`].
    pub fn new(fields: impl IntoIterator<Item = Code>) -> Result<Self, DetailError> {
        let fields: Vec<Code> = fields.into_iter().take(MAX_FIELDS + 1).collect();
        if fields.len() > MAX_FIELDS {
            return Err(DetailError::TooManyFields);
        }
        Ok(Self(fields))
    }

    /// The field codes.
    pub fn codes(&self) -> &[Code] {
        &self.0
    }
}

/// What more an entry says about its action, without personal data.
///
/// Each variant has a stable wire tag (in brackets). Do not change tags;
/// add new variants with new tags.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Detail {
    /// \[0\] Nothing more.
    #[default]
    None,
    /// \[1\] A count: documents synced, clients removed by a retention run.
    Count(u32),
    /// \[2\] Why a login failed or an access was refused.
    Reason(Reason),
    /// \[3\] A code: the new role of a role change, an export format.
    Code(Code),
    /// \[4\] A code with a count: `parkki_csv` with the number of rows.
    CodeCount {
        /// What was counted.
        code: Code,
        /// How many.
        count: u32,
    },
    /// \[5\] The fields an update touched.
    Fields(FieldList),
    /// \[6\] Items sent and received in a sync session.
    Transfer {
        /// Items sent to the peer.
        sent: u32,
        /// Items received from the peer.
        received: u32,
    },
    /// \[7\] A sync session with a named peer node, and the items moved.
    PeerTransfer {
        /// The peer's node id.
        peer: crate::NodeId,
        /// Items sent to the peer.
        sent: u32,
        /// Items received from the peer.
        received: u32,
    },
}

impl Detail {
    /// A [`Detail::Fields`] from field codes; refused if more than [`MAX_FIELDS`].
    pub fn fields(fields: impl IntoIterator<Item = Code>) -> Result<Self, DetailError> {
        FieldList::new(fields).map(Detail::Fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_accept_machine_identifiers() {
        for ok in [
            "a",
            "client.phone",
            "parkki_csv",
            "x-1.2_3",
            "abcdefghijklmnopqrstuvwxyz012345",
        ] {
            assert_eq!(Code::new(ok).map(|c| c.to_string()), Ok(ok.to_string()));
        }
    }

    #[test]
    fn codes_refuse_text_that_could_be_personal() {
        for bad in [
            "",
            "Matti",
            "matti virtanen",
            "010190-123a",
            "1abc",
            "äiti",
            "a@b.fi",
            "abcdefghijklmnopqrstuvwxyz0123456",
        ] {
            assert_eq!(Code::new(bad), Err(DetailError::InvalidCode), "{bad:?}");
        }
    }

    #[test]
    fn field_lists_are_bounded() -> Result<(), DetailError> {
        let f = Code::new("client.phone")?;
        assert_eq!(
            Detail::fields([f; MAX_FIELDS])?,
            Detail::Fields(FieldList(vec![f; 16]))
        );
        assert_eq!(
            Detail::fields([f; MAX_FIELDS + 1]),
            Err(DetailError::TooManyFields)
        );
        Ok(())
    }
}
