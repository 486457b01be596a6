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
use polku_audit::{Action as AuditAction, Code, Detail, NodeId, Reason};
use polku_core::UserId;
use polku_core::model::{Device, Organisation};
use polku_core::rights::{Action, Target};
use polku_store::{LockedStore, StoreError};
use serde::{Deserialize, Serialize};

use crate::session::Session;
use crate::{ApiError, Result};

const TICKET_PREFIX: &str = "polku1";
const TICKET_META: &[u8] = b"polku/ticket/v1/";
/// Sealed slot: the addresses the hub daemon listens on. Do not change.
const LISTEN_META: &[u8] = b"polku/hub-listen/v1";
const TICKET_CODE: Code = match Code::new("ticket") {
    Ok(c) => c,
    Err(_) => panic!("invalid audit code in the program text"),
};

/// How long a ticket is valid by default.
pub const TICKET_LIFETIME_HOURS: i64 = 72;

/// A one-time enrolment ticket, printed by `polku device ticket` and given to
/// `polku join`. Holds no personal data beyond the staff login it is for.
///
/// Encoding (do not change without a new prefix): `polku1` + hex(postcard(Ticket)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
        if hex.len() % 2 != 0 || hex.len() > 4096 {
            return Err(BadTicket);
        }
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| BadTicket))
            .collect::<std::result::Result<Vec<u8>, _>>()?;
        postcard::from_bytes(&bytes).map_err(|_| BadTicket)
    }
}

/// What the hub keeps of an issued ticket (sealed).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct IssuedTicket {
    user: UserId,
    expires_at: DateTime<Utc>,
    used: bool,
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
}

/// An enrolment whose ticket checked out, waiting for its password check.
/// Holds no session: the check (argon2, on its own store connection) can run
/// on any thread while the session serves others.
#[derive(Debug)]
pub struct PendingEnrolment {
    secret: [u8; 32],
    node: NodeId,
    user: UserId,
    login: String,
    dir: std::path::PathBuf,
}

impl PendingEnrolment {
    /// Whether `password` is the user's (checked against the user's key
    /// wrapping on the hub, with the store's failed-login backoff).
    pub fn check_password(&self, password: &str, now: DateTime<Utc>) -> Result<bool> {
        match LockedStore::open(&self.dir)?.derive_key_at(&self.login, password, now) {
            Ok(_) => Ok(true),
            Err(StoreError::WrongPassword | StoreError::UnknownUser) => Ok(false),
            Err(e) => Err(e.into()),
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
        };
        let bytes = postcard::to_allocvec(&issued).map_err(|_| ApiError::Invalid("ticket"))?;
        self.store.put_meta(&ticket_key(&ticket.secret), &bytes)?;
        self.record(
            now,
            AuditAction::DeviceEnrol,
            Some(user.id.0),
            Detail::Code(TICKET_CODE),
        )?;
        Ok(ticket)
    }

    /// Hub side of enrolment: check the ticket secret and the user's password,
    /// record `node` as the user's device and mark the ticket used. Every outcome
    /// is audited; a refusal changes nothing else.
    ///
    /// The three steps ([`Session::begin_enrolment`],
    /// [`PendingEnrolment::check_password`], [`Session::finish_enrolment`]) in
    /// one call; a hub daemon runs the password check (argon2) between them,
    /// outside the lock that sync uses.
    pub fn redeem_ticket(
        &mut self,
        secret: &[u8; 32],
        node: NodeId,
        login: &str,
        password: &str,
        label: &str,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<EnrolGrant, EnrolRefused>> {
        let pending = match self.begin_enrolment(secret, node, login, now)? {
            Ok(p) => p,
            Err(refused) => return Ok(Err(refused)),
        };
        let password_ok = pending.check_password(password, now)?;
        self.finish_enrolment(pending, password_ok, label, now)
    }

    /// Audits a refused enrolment.
    fn refuse_enrolment<T>(
        &mut self,
        now: DateTime<Utc>,
        reason: EnrolRefused,
        user: Option<UserId>,
    ) -> Result<std::result::Result<T, EnrolRefused>> {
        let r = match reason {
            EnrolRefused::InvalidTicket | EnrolRefused::AlreadyEnrolled => Reason::InvalidTicket,
            EnrolRefused::WrongPassword => Reason::WrongPassword,
            EnrolRefused::UserInactive => Reason::UserInactive,
        };
        self.record(
            now,
            AuditAction::DeviceEnrol,
            user.map(|u| u.0),
            Detail::Reason(r),
        )
        .map(|()| Err(reason))
    }

    /// The ticket, user and device checks of an enrolment (cheap): a valid
    /// ticket for `login` whose user is active, and `node` not yet enrolled.
    /// A refusal is audited.
    pub fn begin_enrolment(
        &mut self,
        secret: &[u8; 32],
        node: NodeId,
        login: &str,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<PendingEnrolment, EnrolRefused>> {
        let key = ticket_key(secret);
        let Some(issued) = self
            .store
            .get_meta(&key)?
            .and_then(|b| postcard::from_bytes::<IssuedTicket>(&b).ok())
        else {
            return self.refuse_enrolment(now, EnrolRefused::InvalidTicket, None);
        };
        let user = self.org.users.get(&issued.user).cloned();
        let valid = !issued.used
            && now < issued.expires_at
            && user
                .as_ref()
                .is_some_and(|u| u.login.eq_ignore_ascii_case(login.trim()));
        let Some(user) = user.filter(|_| valid) else {
            return self.refuse_enrolment(now, EnrolRefused::InvalidTicket, Some(issued.user));
        };
        if !user.active {
            return self.refuse_enrolment(now, EnrolRefused::UserInactive, Some(user.id));
        }
        if self.org.devices.contains_key(&node.to_string()) {
            return self.refuse_enrolment(now, EnrolRefused::AlreadyEnrolled, Some(user.id));
        }
        Ok(Ok(PendingEnrolment {
            secret: *secret,
            node,
            user: user.id,
            login: user.login.clone(),
            dir: self.store.dir().to_path_buf(),
        }))
    }

    /// Completes an enrolment whose password was checked: checks the ticket,
    /// user and device again (another enrolment may have used the ticket
    /// meanwhile), then records the device and marks the ticket used.
    /// Audited like [`Session::redeem_ticket`].
    pub fn finish_enrolment(
        &mut self,
        pending: PendingEnrolment,
        password_ok: bool,
        label: &str,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<EnrolGrant, EnrolRefused>> {
        // Again: the state may have changed while the password was checked.
        let pending =
            match self.begin_enrolment(&pending.secret, pending.node, &pending.login, now)? {
                Ok(p) if p.user == pending.user => p,
                Ok(_) => {
                    return self.refuse_enrolment(
                        now,
                        EnrolRefused::InvalidTicket,
                        Some(pending.user),
                    );
                }
                Err(refused) => return Ok(Err(refused)),
            };
        if !password_ok {
            return self.refuse_enrolment(now, EnrolRefused::WrongPassword, Some(pending.user));
        }
        let key = ticket_key(&pending.secret);
        let Some(issued) = self
            .store
            .get_meta(&key)?
            .and_then(|b| postcard::from_bytes::<IssuedTicket>(&b).ok())
        else {
            return Err(ApiError::Invalid("ticket"));
        };
        let used = IssuedTicket {
            used: true,
            ..issued
        };
        let used = postcard::to_allocvec(&used).map_err(|_| ApiError::Invalid("ticket"))?;
        self.store.put_meta(&key, &used)?;
        let device = Device {
            node_id: pending.node.to_string(),
            user: pending.user,
            label: label.chars().take(64).collect(),
            enrolled_at: now,
            revoked_at: None,
        };
        self.update_org_audited(
            now,
            Some((AuditAction::DeviceEnrol, Some(pending.user.0), Detail::None)),
            |org| org.insert_device(device),
        )?;
        let org_doc = self.org_doc_bytes()?;
        Ok(Ok(EnrolGrant {
            user: pending.user,
            org_doc,
        }))
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
            return Err(ApiError::Invalid("tickets are made on the hub store"));
        }
        let addrs = if addrs.is_empty() {
            self.hub_listen_addrs()?
        } else {
            addrs
        };
        if addrs.is_empty() {
            return Err(ApiError::Invalid(
                "no hub address known: start `polku hub` first or give --addr",
            ));
        }
        let node = polku_audit::NodeKey::from_bytes(&self.node_secret()?).node_id();
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
            return Err(ApiError::Invalid("no single device matches that node id"));
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
            Ticket::decode(&format!(" {text}\n")).map(|t| t.login),
            Ok("maija".into())
        );
        assert_eq!(Ticket::decode("polku1zz"), Err(BadTicket));
        assert_eq!(Ticket::decode(&text[..text.len() - 10]), Err(BadTicket));
        assert_eq!(Ticket::decode("hello"), Err(BadTicket));
    }
}
