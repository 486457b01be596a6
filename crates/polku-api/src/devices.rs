//! Devices and enrolment (laitteet ja käyttöönotto), independent of the transport.
//!
//! The admin on the hub creates a one-time [`Ticket`] for a user. The laptop
//! presents its secret together with the user's login and password; the hub
//! checks the ticket (unused, unexpired, for that user) and the password, records
//! the laptop's node id as an enrolled device of that user, and answers with an
//! [`EnrolGrant`] holding the organisation document. The laptop then creates its
//! own store (its key wrapped locally with the same password) and pins the hub.
//!
//! Revoking a device or deactivating its user takes effect at the next contact:
//! the hub refuses a node that [`Organisation::device_allowed`] rejects.

use std::net::SocketAddr;

use chrono::{DateTime, Duration, Utc};
use polku_audit::{Action as AuditAction, Detail, NodeId, Reason};
use polku_core::UserId;
use polku_core::model::{Device, Organisation};
use polku_core::rights::{Action, Target};
use polku_store::{KdfParams, PasswordVerifier};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::audit_codes::{
    ENROL_REFUSALS as UNAUDITED_REFUSALS_CODE, PASSWORD_CHANGE as PASSWORD_CHANGE_CODE,
    REVOKED_WIPE as REVOKED_WIPE_CODE, TICKET as TICKET_CODE, TICKET_CANCEL as TICKET_CANCEL_CODE,
};
use crate::credentials::{self, Credential};
use crate::meta_keys::{LISTEN_META, TICKET_META};
use crate::session::Session;
use crate::{ApiError, Result};

const TICKET_PREFIX: &str = "polku1";
/// Wrong passwords that void a ticket.
pub const TICKET_MAX_WRONG_PASSWORDS: u8 = 3;
/// Refused enrolments audited one by one per minute; beyond that they are
/// counted and written as one entry, so a flood costs no disk flush each.
const AUDITED_REFUSALS_PER_MINUTE: u32 = 20;

/// How long a ticket is valid by default.
pub const TICKET_LIFETIME_HOURS: i64 = 72;

/// A one-time enrolment ticket, printed by `polku device ticket` and given to
/// `polku join`. Holds no personal data beyond the staff login it is for.
///
/// Encoding (do not change without a new prefix): `polku1` + hex(postcard(Ticket)).
/// The secret is wiped from memory when the ticket is dropped and never
/// printed by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// The hub's node id (ed25519 public key).
    pub hub: [u8; 32],
    /// Addresses the hub listens on.
    pub addrs: Vec<SocketAddr>,
    /// The one-time secret.
    pub secret: [u8; 32],
    /// The login the ticket is for.
    pub login: String,
    /// When it stops being valid.
    pub expires_at: DateTime<Utc>,
}

/// Why a ticket text cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid Polku enrolment ticket")]
pub struct BadTicket;

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket")
            .field("addrs", &self.addrs)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl Ticket {
    /// The printable form.
    pub fn encode(&self) -> String {
        let bytes = postcard::to_allocvec(self).unwrap_or_default();
        let mut s = String::from(TICKET_PREFIX);
        for b in bytes {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }

    /// Parse the printable form.
    pub fn decode(text: &str) -> std::result::Result<Ticket, BadTicket> {
        let hex = text.trim().strip_prefix(TICKET_PREFIX).ok_or(BadTicket)?;
        // Slicing below is by bytes: anything but ASCII hex is refused first.
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) || hex.len() % 2 != 0 || hex.len() > 4096 {
            return Err(BadTicket);
        }
        let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(hex.len() / 2));
        for pair in hex.as_bytes().chunks(2) {
            let pair = std::str::from_utf8(pair).map_err(|_| BadTicket)?;
            bytes.push(u8::from_str_radix(pair, 16).map_err(|_| BadTicket)?);
        }
        postcard::from_bytes(&bytes).map_err(|_| BadTicket)
    }
}

/// What the hub keeps of an issued ticket (sealed).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct IssuedTicket {
    user: UserId,
    expires_at: DateTime<Utc>,
    used: bool,
    /// Wrong passwords given with this ticket.
    wrong_passwords: u8,
    /// Cancelled by an administrator, or voided by wrong passwords.
    void: bool,
}

impl IssuedTicket {
    fn bytes(&self) -> Result<Vec<u8>> {
        postcard::to_allocvec(self).map_err(|_| ApiError::Invalid("ticket"))
    }
}

/// Counts refused enrolments, so that past [`AUDITED_REFUSALS_PER_MINUTE`]
/// a minute they are summed into one audit entry instead of one each.
#[derive(Debug, Default)]
pub(crate) struct RefusalLimiter {
    window_start: Option<DateTime<Utc>>,
    in_window: u32,
    unaudited: u32,
}

impl RefusalLimiter {
    /// Whether the refusal at `now` gets its own audit entry.
    fn admit(&mut self, now: DateTime<Utc>) -> bool {
        let fresh = self
            .window_start
            .is_none_or(|t| now < t || now - t >= Duration::minutes(1));
        if fresh {
            self.window_start = Some(now);
            self.in_window = 0;
        }
        self.in_window += 1;
        if self.in_window > AUDITED_REFUSALS_PER_MINUTE {
            self.unaudited = self.unaudited.saturating_add(1);
            false
        } else {
            true
        }
    }

    /// Refusals not yet audited (taken: the caller writes them).
    fn take_unaudited(&mut self) -> u32 {
        std::mem::take(&mut self.unaudited)
    }
}

fn ticket_key(secret: &[u8; 32]) -> Vec<u8> {
    let mut k = TICKET_META.to_vec();
    k.extend_from_slice(blake3::hash(secret).as_bytes());
    k
}

/// What the hub gives an enrolled laptop.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrolGrant {
    /// The enrolled user's id.
    pub user: UserId,
    /// The organisation document (full Automerge save).
    pub org_doc: Vec<u8>,
    /// The organisation's argon2id parameters (the laptop wraps its key with them).
    pub kdf: KdfParams,
}

/// An enrolment whose ticket and user checked out, waiting for the slow
/// password check ([`Session::check_enrolment_password`], to be run without
/// holding the lock the hub's sync uses).
#[derive(Debug)]
pub struct PendingEnrolment {
    key: Vec<u8>,
    issued: IssuedTicket,
    user: polku_core::model::User,
    credential: Credential,
}

/// The outcome of the password check of a [`PendingEnrolment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCheck(bool);

impl PendingEnrolment {
    /// Check the password against the user's record on the hub (one
    /// argon2id run; takes no lock).
    pub fn check_password(&self, password: &str) -> Result<PasswordCheck> {
        Ok(PasswordCheck(self.credential.verifier.verify(password)?))
    }
}

/// Why an enrolment was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnrolRefused {
    /// Unknown, used or expired ticket, or a ticket for another user.
    #[error("the ticket is not valid (unknown, used, expired, or for another user)")]
    InvalidTicket,
    /// The password did not match.
    #[error("wrong password")]
    WrongPassword,
    /// The user is deactivated.
    #[error("the user is deactivated")]
    UserInactive,
    /// The node is already enrolled.
    #[error("this device is already enrolled")]
    AlreadyEnrolled,
    /// The password is temporary: a new one must be chosen while joining.
    #[error("the password is temporary and must be changed while joining")]
    MustChangePassword,
    /// The temporary password has expired.
    #[error("the temporary password has expired; ask an administrator for a new one")]
    PasswordExpired,
    /// The new password's verifier is weaker than the organisation allows.
    #[error("the new password's protection is weaker than the organisation allows")]
    WeakVerifier,
}

impl EnrolRefused {
    /// The code of this refusal in the enrolment answer. Do not change.
    pub fn code(self) -> u8 {
        match self {
            EnrolRefused::InvalidTicket => 1,
            EnrolRefused::WrongPassword => 2,
            EnrolRefused::UserInactive => 3,
            EnrolRefused::AlreadyEnrolled => 4,
            EnrolRefused::MustChangePassword => 5,
            EnrolRefused::PasswordExpired => 6,
            EnrolRefused::WeakVerifier => 7,
        }
    }

    /// The refusal with a [`EnrolRefused::code`].
    pub fn from_code(code: u8) -> Option<EnrolRefused> {
        [
            EnrolRefused::InvalidTicket,
            EnrolRefused::WrongPassword,
            EnrolRefused::UserInactive,
            EnrolRefused::AlreadyEnrolled,
            EnrolRefused::MustChangePassword,
            EnrolRefused::PasswordExpired,
            EnrolRefused::WeakVerifier,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }

    fn reason(self) -> Reason {
        match self {
            EnrolRefused::InvalidTicket | EnrolRefused::AlreadyEnrolled => Reason::InvalidTicket,
            EnrolRefused::WrongPassword => Reason::WrongPassword,
            EnrolRefused::UserInactive => Reason::UserInactive,
            EnrolRefused::MustChangePassword | EnrolRefused::WeakVerifier => Reason::NotPermitted,
            EnrolRefused::PasswordExpired => Reason::PasswordExpired,
        }
    }
}

impl Session {
    /// Create a one-time enrolment ticket for `login`, valid for
    /// [`TICKET_LIFETIME_HOURS`]. Needs the user-management right; audited.
    pub fn create_ticket(
        &mut self,
        login: &str,
        hub: [u8; 32],
        addrs: Vec<SocketAddr>,
        now: DateTime<Utc>,
    ) -> Result<Ticket> {
        self.check(Action::ManageUsers, Target::Organisation, None, now)?;
        let user = self
            .org
            .users
            .values()
            .find(|u| u.login.eq_ignore_ascii_case(login.trim()))
            .cloned()
            .ok_or(ApiError::UnknownLogin)?;
        if !user.active {
            return Err(ApiError::UserInactive);
        }
        let ticket = Ticket {
            hub,
            addrs,
            secret: rand::random(),
            login: user.login.clone(),
            expires_at: now + Duration::hours(TICKET_LIFETIME_HOURS),
        };
        let issued = IssuedTicket {
            user: user.id,
            expires_at: ticket.expires_at,
            used: false,
            wrong_passwords: 0,
            void: false,
        };
        let bytes = issued.bytes()?;
        let key = ticket_key(&ticket.secret);
        // The ticket and its audit entry are one transaction.
        self.record_with(
            now,
            AuditAction::DeviceEnrol,
            Some(user.id.0),
            Detail::Code(TICKET_CODE),
            |b| b.put_meta(&key, &bytes),
        )?;
        Ok(ticket)
    }

    /// Hub side of enrolment in one call (see [`Session::begin_enrolment`],
    /// [`PendingEnrolment::check_password`], [`Session::finish_enrolment`]):
    /// `new_password` is the verifier of the password the user chose while
    /// joining (required when `password` is temporary).
    // The one-call form for tests and tools, taking what the three steps take.
    #[allow(clippy::too_many_arguments)]
    pub fn redeem_ticket(
        &mut self,
        secret: &[u8; 32],
        node: NodeId,
        login: &str,
        password: &str,
        new_password: Option<PasswordVerifier>,
        label: &str,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<EnrolGrant, EnrolRefused>> {
        let pending = match self.begin_enrolment(secret, node, login, now)? {
            Ok(p) => p,
            Err(r) => return Ok(Err(r)),
        };
        let check = pending.check_password(password)?;
        self.finish_enrolment(pending, check, new_password, node, label, now)
    }

    fn refuse_enrolment(
        &mut self,
        reason: EnrolRefused,
        user: Option<UserId>,
        ticket: Option<(&[u8], &IssuedTicket)>,
        now: DateTime<Utc>,
    ) -> Result<EnrolRefused> {
        let ticket = ticket
            .map(|(k, t)| t.bytes().map(|b| (k.to_vec(), b)))
            .transpose()?;
        if ticket.is_none() && !self.enrol_refusals.admit(now) {
            // A flood of refusals: counted, written with the next entry.
            return Ok(reason);
        }
        let unaudited = self.enrol_refusals.take_unaudited();
        let user_id = self.user.id;
        let trail = &mut self.trail;
        let head = trail.head();
        self.store
            .batch(|b| {
                if let Some((k, bytes)) = &ticket {
                    b.put_meta(k, bytes)?;
                }
                if unaudited > 0 {
                    trail.record_in(
                        b,
                        now,
                        Some(user_id),
                        AuditAction::DeviceEnrol,
                        None,
                        Detail::CodeCount {
                            code: UNAUDITED_REFUSALS_CODE,
                            count: unaudited,
                        },
                    )?;
                }
                trail.record_in(
                    b,
                    now,
                    user,
                    AuditAction::DeviceEnrol,
                    user.map(|u| u.0),
                    Detail::Reason(reason.reason()),
                )
            })
            .inspect_err(|_| trail.rewind(head))?;
        Ok(reason)
    }

    /// First step of enrolment on the hub: check the ticket (known, unused,
    /// not void, unexpired, for `login`), the user (active, with a password
    /// record) and the node (not enrolled yet). Cheap; every refusal is
    /// audited (beyond a rate, summed) and changes nothing else.
    pub fn begin_enrolment(
        &mut self,
        secret: &[u8; 32],
        node: NodeId,
        login: &str,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<PendingEnrolment, EnrolRefused>> {
        // A user added or a device revoked by another process since this
        // session began must count now, not after a restart of the hub.
        self.reload_org()?;
        let refused =
            |s: &mut Session, r, u: Option<UserId>| s.refuse_enrolment(r, u, None, now).map(Err);
        let key = ticket_key(secret);
        let Some(issued) = self
            .store
            .get_meta(&key)?
            .and_then(|b| postcard::from_bytes::<IssuedTicket>(&b).ok())
        else {
            return refused(self, EnrolRefused::InvalidTicket, None);
        };
        let user = self.org.users.get(&issued.user).cloned();
        let valid = !issued.used
            && !issued.void
            && now < issued.expires_at
            && user
                .as_ref()
                .is_some_and(|u| u.login.eq_ignore_ascii_case(login.trim()));
        let Some(user) = user.filter(|_| valid) else {
            return refused(self, EnrolRefused::InvalidTicket, Some(issued.user));
        };
        if !user.active {
            return refused(self, EnrolRefused::UserInactive, Some(user.id));
        }
        if self.org.devices.contains_key(&node.to_string()) {
            return refused(self, EnrolRefused::AlreadyEnrolled, Some(user.id));
        }
        let Some(credential) = credentials::credential(&self.store, user.id)? else {
            return refused(self, EnrolRefused::WrongPassword, Some(user.id));
        };
        Ok(Ok(PendingEnrolment {
            key,
            issued,
            user,
            credential,
        }))
    }

    /// Last step of enrolment on the hub, after the password check: a wrong
    /// password counts against the ticket ([`TICKET_MAX_WRONG_PASSWORDS`]
    /// void it), never against the hub's logins. A temporary password must
    /// come with the verifier of a new one. On success the ticket is used, the
    /// device recorded, the password record replaced (and an administrator's
    /// hub login re-wrapped), all in one transaction with its audit entries.
    pub fn finish_enrolment(
        &mut self,
        pending: PendingEnrolment,
        check: PasswordCheck,
        new_password: Option<PasswordVerifier>,
        node: NodeId,
        label: &str,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<EnrolGrant, EnrolRefused>> {
        let PendingEnrolment {
            key,
            mut issued,
            user,
            credential,
        } = pending;
        // The ticket may have changed while the password was checked.
        self.reload_org()?;
        let current = self
            .store
            .get_meta(&key)?
            .and_then(|b| postcard::from_bytes::<IssuedTicket>(&b).ok());
        if current.as_ref().is_none_or(|t| t.used || t.void)
            || self.org.devices.contains_key(&node.to_string())
        {
            return self
                .refuse_enrolment(EnrolRefused::InvalidTicket, Some(user.id), None, now)
                .map(Err);
        }
        if let Some(c) = current {
            issued = c;
        }
        if !check.0 {
            issued.wrong_passwords = issued.wrong_passwords.saturating_add(1);
            if issued.wrong_passwords >= TICKET_MAX_WRONG_PASSWORDS {
                issued.void = true;
            }
            return self
                .refuse_enrolment(
                    EnrolRefused::WrongPassword,
                    Some(user.id),
                    Some((&key, &issued)),
                    now,
                )
                .map(Err);
        }
        if credential.temporary && credential.expired(now) {
            return self
                .refuse_enrolment(EnrolRefused::PasswordExpired, Some(user.id), None, now)
                .map(Err);
        }
        let policy = credentials::kdf_policy(&self.store)?;
        let new_credential = match new_password {
            Some(v) if !credentials::strong_enough(&v, &policy) => {
                return self
                    .refuse_enrolment(EnrolRefused::WeakVerifier, Some(user.id), None, now)
                    .map(Err);
            }
            Some(v) => Some(Credential::chosen(v, now)),
            None if credential.temporary => {
                return self
                    .refuse_enrolment(EnrolRefused::MustChangePassword, Some(user.id), None, now)
                    .map(Err);
            }
            None => None,
        };
        issued.used = true;
        let used = issued.bytes()?;
        let device = Device {
            node_id: node.to_string(),
            user: user.id,
            label: label.chars().take(64).collect(),
            enrolled_at: now,
            revoked_at: None,
        };
        let hub = self.is_hub()?;
        let write = new_credential
            .as_ref()
            .map(|c| credentials::prepare(&self.store, user.id, c))
            .transpose()?;
        let mut audits = vec![(AuditAction::DeviceEnrol, Some(user.id.0), Detail::None)];
        if new_credential.is_some() {
            audits.push((
                AuditAction::Update,
                Some(user.id.0),
                Detail::Code(PASSWORD_CHANGE_CODE),
            ));
        }
        self.update_org_with(
            now,
            audits,
            |org| org.insert_device(device),
            |b| {
                b.put_meta(&key, &used)?;
                if let (Some(c), Some(w)) = (&new_credential, &write) {
                    w.apply(b)?;
                    if hub && user.role == polku_core::model::Role::Admin {
                        b.set_login(user.id, &user.login, &c.verifier)?;
                        credentials::clear_must_change(b, user.id)?;
                    }
                }
                Ok(())
            },
        )?;
        let org_doc = self.org_doc_bytes()?;
        Ok(Ok(EnrolGrant {
            user: user.id,
            org_doc,
            kdf: policy,
        }))
    }

    /// Cancel an issued, unused ticket (`device ticket cancel`). Needs the
    /// user-management right; audited.
    pub fn cancel_ticket(&mut self, ticket: &Ticket, now: DateTime<Utc>) -> Result<()> {
        self.check(Action::ManageUsers, Target::Organisation, None, now)?;
        let key = ticket_key(&ticket.secret);
        let mut issued = self
            .store
            .get_meta(&key)?
            .and_then(|b| postcard::from_bytes::<IssuedTicket>(&b).ok())
            .ok_or(ApiError::Rejected(crate::Rejection::UnknownTicket))?;
        if issued.used {
            return Err(ApiError::Rejected(crate::Rejection::TicketUsed));
        }
        issued.void = true;
        let bytes = issued.bytes()?;
        self.record_with(
            now,
            AuditAction::DeviceEnrol,
            Some(issued.user.0),
            Detail::Code(TICKET_CANCEL_CODE),
            |b| b.put_meta(&key, &bytes),
        )
    }

    /// [`Session::create_ticket`] on a hub store, for this hub's node id; with no
    /// `addrs`, the addresses the hub daemon last listened on.
    pub fn create_ticket_for_hub(
        &mut self,
        login: &str,
        addrs: Vec<SocketAddr>,
        now: DateTime<Utc>,
    ) -> Result<Ticket> {
        if !self.is_hub()? {
            return Err(ApiError::Rejected(crate::Rejection::NotTheHub));
        }
        let addrs = if addrs.is_empty() {
            self.hub_listen_addrs()?
        } else {
            addrs
        };
        if addrs.is_empty() {
            return Err(ApiError::Rejected(crate::Rejection::NoHubAddress));
        }
        let node = self.node_id()?;
        self.create_ticket(login, *node.as_bytes(), addrs, now)
    }

    /// Addresses the hub daemon last listened on.
    pub fn hub_listen_addrs(&self) -> Result<Vec<SocketAddr>> {
        Ok(self
            .store
            .get_meta(LISTEN_META)?
            .and_then(|b| postcard::from_bytes(&b).ok())
            .unwrap_or_default())
    }

    /// Remember the addresses the hub daemon listens on (for tickets).
    pub fn set_hub_listen_addrs(&mut self, addrs: &[SocketAddr]) -> Result<()> {
        let bytes = postcard::to_allocvec(addrs).map_err(|_| ApiError::Invalid("addresses"))?;
        self.store.put_meta(LISTEN_META, &bytes)?;
        Ok(())
    }

    /// Enrolled devices.
    pub fn devices(&mut self, now: DateTime<Utc>) -> Result<Vec<Device>> {
        self.check(Action::ManageUsers, Target::Organisation, None, now)?;
        let mut list: Vec<Device> = self.org.devices.values().cloned().collect();
        list.sort_by_key(|d| d.enrolled_at);
        Ok(list)
    }

    /// Revoke a device (by node id hex, or a unique prefix of it). Audited.
    pub fn revoke_device(&mut self, node: &str, now: DateTime<Utc>) -> Result<()> {
        self.check(Action::ManageUsers, Target::Organisation, None, now)?;
        let node = node.trim().to_lowercase();
        let matches: Vec<&Device> = self
            .org
            .devices
            .values()
            .filter(|d| !node.is_empty() && d.node_id.starts_with(&node))
            .collect();
        let [device] = matches.as_slice() else {
            return Err(ApiError::Rejected(crate::Rejection::NoSuchDevice));
        };
        let (id, user) = (device.node_id.clone(), device.user);
        self.update_org_audited(
            now,
            Some((AuditAction::DeviceRevoke, Some(user.0), Detail::None)),
            |org| {
                if let Some(d) = org.devices.get_mut(&id) {
                    d.revoked_at = Some(now);
                }
            },
        )
    }

    /// This laptop was refused by its hub as revoked: delete every client,
    /// activity memo and brief-contact document, their history, views, index entries and
    /// attachments, and checkpoint the WAL so the bytes are gone. The audit
    /// log and the organisation document stay (they hold no client data).
    /// Returns how many documents were deleted.
    pub fn wipe_after_revocation(&mut self, now: DateTime<Utc>) -> Result<usize> {
        if self.is_hub()? {
            return Err(ApiError::Rejected(crate::Rejection::HubNeverWiped));
        }
        let n = self.store.wipe_documents(&[
            polku_core::DocKind::Client,
            polku_core::DocKind::ClientRecord,
            polku_core::DocKind::ActivityMemo,
            polku_core::DocKind::StatsExtract,
            polku_core::DocKind::BriefContacts,
            polku_core::DocKind::Anonymised,
        ])?;
        self.index.clear();
        self.dirty.clear();
        let user = Some(self.user.id);
        let trail = &mut self.trail;
        let head = trail.head();
        self.store
            .batch(|b| {
                trail.record_in(
                    b,
                    now,
                    user,
                    AuditAction::Erase,
                    None,
                    Detail::CodeCount {
                        code: REVOKED_WIPE_CODE,
                        count: u32::try_from(n).unwrap_or(u32::MAX),
                    },
                )
            })
            .inspect_err(|_| trail.rewind(head))?;
        Ok(n)
    }

    /// Whether a node may sync now (enrolled, not revoked, its user active).
    pub fn device_allowed(&self, node: NodeId) -> bool {
        allowed(&self.org, node)
    }
}

fn allowed(org: &Organisation, node: NodeId) -> bool {
    org.device_allowed(&node.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_round_trip_and_reject_garbage() {
        let t = Ticket {
            hub: [3; 32],
            addrs: vec!["127.0.0.1:4455".parse().expect("addr")],
            secret: [9; 32],
            login: "maija".into(),
            expires_at: DateTime::from_timestamp(1_800_000_000, 0).expect("time"),
        };
        let text = t.encode();
        assert!(text.starts_with("polku1"));
        assert_eq!(Ticket::decode(&text), Ok(t));
        assert_eq!(
            Ticket::decode(&format!(" {text}\n")).map(|t| t.login.clone()),
            Ok("maija".into())
        );
        assert_eq!(Ticket::decode("polku1zz"), Err(BadTicket));
        assert_eq!(Ticket::decode(&text[..text.len() - 10]), Err(BadTicket));
        assert_eq!(Ticket::decode("hello"), Err(BadTicket));
    }

    #[test]
    fn a_non_ascii_ticket_is_refused_not_a_panic() {
        // Byte slicing of "éb" used to panic inside a UTF-8 character.
        for text in [
            "polku1aéb",
            "polku1é",
            "polku1ab€€",
            "polku1 ab",
            "polku1+a",
        ] {
            assert_eq!(Ticket::decode(text), Err(BadTicket), "{text}");
        }
    }

    #[test]
    fn a_ticket_never_prints_its_secret() {
        let t = Ticket {
            hub: [3; 32],
            addrs: vec![],
            secret: [0xab; 32],
            login: "maija".into(),
            expires_at: DateTime::from_timestamp(1_800_000_000, 0).expect("time"),
        };
        let shown = format!("{t:?}");
        assert!(!shown.contains("171"), "{shown}"); // 0xab as a decimal byte
        assert!(!shown.to_lowercase().contains("abab"), "{shown}");
        assert!(!shown.contains("maija"), "{shown}");
    }

    #[test]
    fn refusal_codes_are_pinned_and_round_trip() {
        for (r, c) in [
            (EnrolRefused::InvalidTicket, 1),
            (EnrolRefused::WrongPassword, 2),
            (EnrolRefused::UserInactive, 3),
            (EnrolRefused::AlreadyEnrolled, 4),
            (EnrolRefused::MustChangePassword, 5),
            (EnrolRefused::PasswordExpired, 6),
            (EnrolRefused::WeakVerifier, 7),
        ] {
            assert_eq!(r.code(), c);
            assert_eq!(EnrolRefused::from_code(c), Some(r));
        }
        assert_eq!(EnrolRefused::from_code(0), None);
        assert_eq!(EnrolRefused::from_code(8), None);
    }

    #[test]
    fn a_flood_of_refusals_is_audited_one_by_one_only_up_to_the_rate() {
        let mut l = RefusalLimiter::default();
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        let audited = (0..100).filter(|_| l.admit(t0)).count();
        assert_eq!(audited, AUDITED_REFUSALS_PER_MINUTE as usize);
        assert_eq!(l.take_unaudited(), 100 - AUDITED_REFUSALS_PER_MINUTE);
        assert_eq!(l.take_unaudited(), 0);
        // A new minute: audited again.
        assert!(l.admit(t0 + Duration::seconds(61)));
    }
}
