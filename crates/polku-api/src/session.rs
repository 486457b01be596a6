//! A logged-in user's session over an unlocked store.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use polku_audit::{Action as AuditAction, Detail, Reason};
use polku_core::codes::{CodeList, CodeSet};
use polku_core::doc::{ActivityMemoDoc, ClientDoc, OrgDoc};
use polku_core::limits::{TextField, check_len};
use polku_core::model::{
    Client, ClientBasic, ClientRecord, ClientSummary, Memo, Organisation, User, record_doc_id,
};
use polku_core::rights::{Action, ClientScope, Rights, Target, can};
use polku_core::{ClientId, DocId, DocKind, MemoId, UnitId};
use polku_store::{AuthFailureReason, HeadsHash, Store, StoreError, heads_hash};
use uuid::Uuid;

pub(crate) use crate::audit_codes as codes;
use crate::trail::Trail;
use crate::{ApiError, Result, views};

/// Whether a part of a client is in a [`ClientView`], and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// Shown.
    Shown,
    /// Left out: the user's rights do not include it.
    HiddenByRights,
}

/// A client as the app shows it: what the user may see, and a word on each
/// part that is left out (a hidden field says so, it is not just empty).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClientView {
    /// The client; the parts left out are empty.
    pub client: Client,
    /// The rest of the record beyond basic data.
    pub record: Part,
    /// The memos.
    pub memos: Part,
}

/// A locked session: what it takes to unlock it again, and nothing
/// decrypted (see [`Session::lock`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedSession {
    dir: std::path::PathBuf,
    login: String,
}

impl LockedSession {
    /// A locked session of `login` over the store in `dir` (holds nothing
    /// secret: what a session that could not close cleanly leaves behind,
    /// so that the app stays locked rather than open).
    pub fn new(dir: impl Into<std::path::PathBuf>, login: impl Into<String>) -> Self {
        LockedSession {
            dir: dir.into(),
            login: login.into(),
        }
    }

    /// The login name to ask the password of.
    pub fn login(&self) -> &str {
        &self.login
    }

    /// Unlocks with the user's password: a login, with all its checks and
    /// its audit entry (a wrong password is a failed login).
    pub fn unlock(&self, password: &str, now: DateTime<Utc>) -> Result<Session> {
        crate::Workspace::open(&self.dir)?.login(&self.login, password, now)
    }
}

/// Change rows a document may collect before closing a session folds them into
/// its snapshot.
const COMPACT_AFTER_CHANGES: u64 = 16;

/// The fields `client add` takes.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClientInput {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Birth date.
    pub birth_date: Option<chrono::NaiveDate>,
    /// Gender code.
    pub gender: Option<String>,
    /// Mother-tongue group code.
    pub mother_tongue: Option<String>,
    /// Unit name or id; `None` for the user's first unit.
    pub unit: Option<String>,
}

/// What `demo` added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoReport {
    /// Client documents added.
    pub clients: usize,
    /// Memos inside them.
    pub memos: usize,
    /// Activity memo documents added.
    pub activity_memos: usize,
}

/// An unlocked store and the user who unlocked it. Every read and write of
/// client data goes through a session: it checks the user's rights and writes
/// a signed audit entry before returning.
#[derive(Debug)]
pub struct Session {
    pub(crate) store: Store,
    pub(crate) trail: Trail,
    pub(crate) org_id: DocId,
    pub(crate) org: Organisation,
    pub(crate) user: User,
    pub(crate) rights: Rights,
    must_change_password: bool,
    /// In-memory search index (name, birth date, unit), decrypted at unlock.
    pub(crate) index: BTreeMap<ClientId, ClientSummary>,
    /// Client documents changed in this session: their views are refreshed
    /// (and long change logs compacted) on close.
    pub(crate) dirty: BTreeSet<ClientId>,
    /// Refused enrolments (hub), for summing a flood into one audit entry.
    pub(crate) enrol_refusals: crate::devices::RefusalLimiter,
    /// Another connection of a session opened (and audited) elsewhere
    /// ([`Session::another_connection`]): it logs nobody in or out.
    another: bool,
}

impl Session {
    /// Start a session for the user who unlocked `store`: fold the failed logins
    /// recorded while the store was locked into the signed chain, refuse an
    /// inactive user (audited), and audit the login.
    pub(crate) fn start(store: Store, now: DateTime<Utc>) -> Result<Session> {
        let org_id = store
            .list_docs(DocKind::Organisation)?
            .into_iter()
            .next()
            .ok_or(ApiError::NoOrganisation)?;
        let org = OrgDoc::from_automerge(store.load_doc(org_id)?)?.organisation()?;
        let mut trail = Trail::open(&store)?;
        let user = org.users.get(&store.current_user()).cloned();
        // A newer password record that reached this node without being applied
        // to its login (a crash right after the sync that brought it) is
        // applied now: from this login on, only the new password opens it.
        if let Some(u) = &user {
            let hub =
                store.get_meta(crate::meta_keys::ROLE_META)?.as_deref() == Some(b"hub".as_slice());
            let keep = u.active && (!hub || u.role == polku_core::model::Role::Admin);
            crate::credentials::follow(&store, u, keep)?;
        }
        let must_change = crate::credentials::must_change(&store, store.current_user())?;
        let expired = must_change.flatten().is_some_and(|t| now >= t);

        // Failed logins recorded before unlock, then this login (or its refusal).
        let failures = store.auth_failures()?;
        let head = trail.head();
        let written = store.batch(|b| {
            for f in &failures {
                let reason = match f.reason {
                    AuthFailureReason::WrongPassword => Reason::WrongPassword,
                    AuthFailureReason::UnknownUser => Reason::UnknownUser,
                    AuthFailureReason::Throttled => Reason::RateLimited,
                    _ => Reason::WrongPassword,
                };
                trail.record_in(
                    b,
                    f.time,
                    f.user_id,
                    AuditAction::FailedLogin,
                    None,
                    Detail::Reason(reason),
                )?;
            }
            if let Some(last) = failures.last() {
                b.delete_auth_failures(last.id)?;
            }
            crate::workspace::note_time_seen(b, &store, now)?;
            match &user {
                Some(u) if u.active && expired => trail.record_in(
                    b,
                    now,
                    Some(u.id),
                    AuditAction::FailedLogin,
                    None,
                    Detail::Reason(Reason::PasswordExpired),
                ),
                Some(u) if u.active => {
                    trail.record_in(b, now, Some(u.id), AuditAction::Login, None, Detail::None)
                }
                Some(u) => trail.record_in(
                    b,
                    now,
                    Some(u.id),
                    AuditAction::FailedLogin,
                    None,
                    Detail::Reason(Reason::UserInactive),
                ),
                None => trail.record_in(
                    b,
                    now,
                    Some(store.current_user()),
                    AuditAction::FailedLogin,
                    None,
                    Detail::Reason(Reason::UnknownUser),
                ),
            }
        });
        if let Err(e) = written {
            trail.rewind(head);
            return Err(e.into());
        }
        let user = user.ok_or(ApiError::NotAnOrgUser)?;
        if !user.active {
            store.close()?;
            return Err(ApiError::UserInactive);
        }
        if expired {
            store.close()?;
            return Err(ApiError::TemporaryPasswordExpired);
        }
        let must_change_password = must_change.is_some();
        let mut index = BTreeMap::new();
        for (id, bytes) in store.index_entries()? {
            let summary: ClientSummary =
                serde_json::from_slice(&bytes).map_err(|_| StoreError::Corrupt {
                    what: "search index",
                })?;
            if DocId::from(summary.id) != id {
                return Err(StoreError::Corrupt {
                    what: "search index",
                }
                .into());
            }
            index.insert(summary.id, summary);
        }
        let rights = Rights::for_user(&user);
        // On the hub only active administrators may hold a login: remove any
        // other (left by an older version, which wrapped the hub's key for
        // every user).
        if crate::workspace::store_role(&store, b"hub")? {
            let stale: Vec<polku_core::UserId> = store
                .list_users()?
                .into_iter()
                .map(|l| l.user_id)
                .filter(|id| {
                    *id != user.id
                        && !org
                            .users
                            .get(id)
                            .is_some_and(|u| u.active && u.role == polku_core::model::Role::Admin)
                })
                .collect();
            if !stale.is_empty() {
                store.batch(|b| {
                    for id in &stale {
                        b.remove_login(*id)?;
                    }
                    Ok(())
                })?;
            }
        }
        Ok(Session {
            store,
            trail,
            org_id,
            org,
            user,
            rights,
            must_change_password,
            index,
            dirty: BTreeSet::new(),
            enrol_refusals: Default::default(),
            another: false,
        })
    }

    /// The same logged-in session over another connection to its store
    /// ([`Store::another_connection`]), for work beside this one's (the
    /// hub's sync sessions on several cores). No login is audited (this
    /// session's login was) and closing it audits no logout; its audit
    /// entries continue the device's one chain (each is appended after the
    /// stored last one, inside its own write transaction).
    pub fn another_connection(&self) -> Result<Session> {
        let store = self.store.another_connection()?;
        let trail = Trail::open(&store)?;
        Ok(Session {
            store,
            trail,
            org_id: self.org_id,
            org: self.org.clone(),
            user: self.user.clone(),
            rights: self.rights.clone(),
            must_change_password: self.must_change_password,
            index: self.index.clone(),
            dirty: BTreeSet::new(),
            enrol_refusals: Default::default(),
            another: true,
        })
    }

    /// Whether the user must change their password before doing anything else
    /// (a new user, or a password reset by an admin).
    pub fn must_change_password(&self) -> bool {
        self.must_change_password
    }

    pub(crate) fn set_must_change_password(&mut self, value: bool) {
        self.must_change_password = value;
    }

    /// Write one audit entry by the session's user (its own durable transaction).
    pub(crate) fn record(
        &mut self,
        now: DateTime<Utc>,
        action: AuditAction,
        target: Option<Uuid>,
        detail: Detail,
    ) -> Result<()> {
        // Every read and change is audited through here: with a temporary
        // password, nothing but the password change gets this far.
        if self.must_change_password {
            return Err(ApiError::MustChangePassword);
        }
        self.record_always(now, action, target, detail)
    }

    /// [`Session::record`] also while the password must be changed (the
    /// logout).
    fn record_always(
        &mut self,
        now: DateTime<Utc>,
        action: AuditAction,
        target: Option<Uuid>,
        detail: Detail,
    ) -> Result<()> {
        let user = Some(self.user.id);
        let trail = &mut self.trail;
        let head = trail.head();
        self.store
            .batch(|b| trail.record_in(b, now, user, action, target, detail))
            .inspect_err(|_| trail.rewind(head))?;
        Ok(())
    }

    /// Check a right; a refusal is audited and returned as [`ApiError::Denied`].
    pub(crate) fn check(
        &mut self,
        action: Action,
        target: Target<'_>,
        audit_target: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        // A temporary password opens nothing but the password change.
        if self.must_change_password {
            return Err(ApiError::MustChangePassword);
        }
        match can(&self.user, &self.rights, action, target) {
            Ok(()) => Ok(()),
            Err(denied) => {
                self.record(
                    now,
                    AuditAction::Denied,
                    audit_target,
                    Detail::Reason(Reason::NotPermitted),
                )?;
                Err(ApiError::Denied(denied))
            }
        }
    }

    pub(crate) fn may(&self, action: Action, summary: &ClientSummary) -> bool {
        let scope = ClientScope {
            unit: summary.unit,
            responsible: &summary.responsible,
        };
        can(&self.user, &self.rights, action, Target::Client(&scope)).is_ok()
    }

    fn check_client(
        &mut self,
        action: Action,
        id: ClientId,
        now: DateTime<Utc>,
    ) -> Result<ClientSummary> {
        let summary = self
            .index
            .get(&id)
            .cloned()
            .ok_or(ApiError::ClientNotFound(id))?;
        let scope = ClientScope {
            unit: summary.unit,
            responsible: &summary.responsible,
        };
        self.check(action, Target::Client(&scope), Some(id.0), now)?;
        Ok(summary)
    }

    /// When this laptop last completed a sync with its hub (`None` on a hub or a
    /// standalone store).
    pub fn last_hub_contact(&self) -> Result<Option<DateTime<Utc>>> {
        let Some(bytes) = self
            .store
            .get_meta(crate::meta_keys::LAST_HUB_CONTACT_META)?
        else {
            return Ok(None);
        };
        let secs: [u8; 8] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::Corrupt {
                what: "hub contact time",
            })?;
        Ok(DateTime::from_timestamp(i64::from_le_bytes(secs), 0))
    }

    /// Record a completed sync with the hub (starts a new offline lease).
    pub(crate) fn set_last_hub_contact(&mut self, now: DateTime<Utc>) -> Result<()> {
        let store = &self.store;
        store.batch(|b| {
            b.put_meta(
                crate::meta_keys::LAST_HUB_CONTACT_META,
                &now.timestamp().to_le_bytes(),
            )?;
            crate::workspace::note_time_seen(b, store, now)
        })?;
        Ok(())
    }

    /// Whether this laptop has been out of touch with its hub for longer than the
    /// organisation's offline lease (never on a hub or a standalone store). It
    /// counts as expired, too, when the last-contact record is missing, and
    /// when the clock is earlier than the latest time this store has seen (by
    /// more than [`crate::CLOCK_BACK_TOLERANCE_MINUTES`]): setting the clock
    /// back never extends the lease.
    pub fn offline_lease_expired(&self, now: DateTime<Utc>) -> Result<bool> {
        if !crate::workspace::store_role(&self.store, b"laptop")? {
            return Ok(false);
        }
        let Some(last) = self.last_hub_contact()? else {
            return Ok(true);
        };
        let tolerance = chrono::Duration::minutes(crate::CLOCK_BACK_TOLERANCE_MINUTES);
        if crate::workspace::latest_time_seen(&self.store)?.is_some_and(|t| now + tolerance < t)
            || now + tolerance < last
        {
            return Ok(true);
        }
        let lease = chrono::Duration::days(i64::from(self.org.settings.offline_lease_days));
        Ok(now - last > lease)
    }

    /// Whether this store is an organisation's hub.
    pub fn is_hub(&self) -> Result<bool> {
        crate::workspace::store_role(&self.store, b"hub")
    }

    /// The hub this laptop is pinned to (`None` on a hub or a standalone store).
    pub fn hub_pin(&self) -> Result<Option<crate::workspace::HubPin>> {
        Ok(self
            .store
            .get_meta(crate::meta_keys::HUB_META)?
            .and_then(|b| postcard::from_bytes(&b).ok()))
    }

    /// The device's secret node key (its iroh identity, which also signs its
    /// audit entries and tombstones).
    pub(crate) fn secret_key(&self) -> Result<[u8; 32]> {
        crate::trail::node_secret(&self.store)
    }

    /// The device's secret node key. Not public API: test-only feature
    /// `test-internals` (the transport gets [`Session::transport_secret`]).
    #[cfg(feature = "test-internals")]
    pub fn node_secret(&self) -> Result<[u8; 32]> {
        self.secret_key()
    }

    /// The node key for the transport only (iroh's endpoint identity):
    /// zeroized when dropped, never printed (its `Debug` shows nothing).
    pub fn transport_secret(&self) -> Result<TransportSecret> {
        Ok(TransportSecret(zeroize::Zeroizing::new(self.secret_key()?)))
    }

    /// This device's node id (the public half of its node key: its iroh
    /// identity and the signer of its audit entries).
    pub fn node_id(&self) -> Result<polku_audit::NodeId> {
        Ok(polku_audit::NodeKey::from_bytes(&self.secret_key()?).node_id())
    }

    /// Checks the whole store: every sealed row opens, every document
    /// loads, nothing was rolled back ([`polku_store::Store::verify`]). For
    /// administrators' checks and tests; reads no personal data out.
    pub fn verify_store(&self) -> Result<()> {
        self.store.verify()?;
        Ok(())
    }

    /// The organisation document's full save (for enrolment and backups).
    pub(crate) fn org_doc_bytes(&self) -> Result<Vec<u8>> {
        Ok(self.store.load_doc(self.org_id)?.save())
    }

    /// The organisation's id (what both sides of a sync session must share).
    pub fn org_id(&self) -> polku_core::OrgId {
        self.org.id
    }

    /// The user's rights.
    pub fn rights(&self) -> &Rights {
        &self.rights
    }

    /// The logged-in user.
    pub fn user(&self) -> &User {
        &self.user
    }

    /// The organisation as of this session's start (or its last change).
    pub fn organisation(&self) -> &Organisation {
        &self.org
    }

    /// The code lists: national base plus the organisation's own codes.
    pub fn codes(&self) -> Result<CodeSet> {
        Ok(CodeSet::for_organisation(&self.org))
    }

    /// The clients the user may see, by last name then first name (audited as one
    /// view of the list).
    pub fn list_clients(&mut self, now: DateTime<Utc>) -> Result<Vec<ClientSummary>> {
        self.visible_clients(|_| true, now)
    }

    /// The clients the user may write memos for (the quick entry's choice),
    /// sorted by name: a client the user may only view is not offered for
    /// an entry that would be refused.
    pub fn memo_clients(&mut self, now: DateTime<Utc>) -> Result<Vec<ClientSummary>> {
        let list = self.list_clients(now)?;
        Ok(list
            .into_iter()
            .filter(|s| self.may(Action::WriteMemo, s))
            .collect())
    }

    /// Clients whose name or birth date matches every word of `query`
    /// (case-insensitive prefix of a name; a birth date as YYYY-MM-DD, d.m.yyyy or
    /// dd.mm.yyyy).
    pub fn search(&mut self, query: &str, now: DateTime<Utc>) -> Result<Vec<ClientSummary>> {
        let words = query_words(query);
        self.visible_clients(|s| matches_words(s, &words), now)
    }

    /// Index entries the user may see that match `keep`, sorted by name; the
    /// listing is audited as one view with its count.
    pub(crate) fn visible_clients(
        &mut self,
        keep: impl Fn(&ClientSummary) -> bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<ClientSummary>> {
        let mut list: Vec<ClientSummary> = self
            .index
            .values()
            .filter(|s| self.may(Action::ViewBasic, s) && keep(s))
            .cloned()
            .collect();
        let count = u32::try_from(list.len()).unwrap_or(u32::MAX);
        let detail = Detail::CodeCount {
            code: codes::CLIENT_LIST,
            count,
        };
        self.record(now, AuditAction::View, None, detail)?;
        list.sort_by(|a, b| {
            (a.last_name.as_str(), a.first_name.as_str(), a.id).cmp(&(
                b.last_name.as_str(),
                b.first_name.as_str(),
                b.id,
            ))
        });
        Ok(list)
    }

    /// Read one client: from its view when fresh, else from its Automerge
    /// document (and the view is rebuilt). Checks the view right, hides what the
    /// user may not see (basic data only, no memos), and writes the view entry
    /// before returning anything. [`Session::client_view`] also says what was
    /// hidden.
    pub fn show_client(&mut self, id: ClientId, now: DateTime<Utc>) -> Result<Client> {
        Ok(self.client_view(id, now)?.client)
    }

    /// [`Session::show_client`] for the app: the client with what the user
    /// may see, and which parts were left out for the user's rights.
    pub fn client_view(&mut self, id: ClientId, now: DateTime<Utc>) -> Result<ClientView> {
        let summary = self.check_client(Action::ViewBasic, id, now)?;
        let full = self.may(Action::ViewRecord, &summary);
        let memos = self.may(Action::ViewMemos, &summary);
        let mut client = self.read_client(id)?;
        let record = if full {
            Part::Shown
        } else {
            Part::HiddenByRights
        };
        let memo_part = match record {
            Part::Shown if !memos => Part::HiddenByRights,
            other => other,
        };
        if !full {
            client = basic_only(client);
        } else if !memos {
            client.memos.clear();
        }
        let code = if full { codes::FULL } else { codes::BASIC };
        self.record(now, AuditAction::View, Some(id.0), Detail::Code(code))?;
        Ok(ClientView {
            client,
            record,
            memos: memo_part,
        })
    }

    /// Read a client without rights or audit: only for this crate's audited paths
    /// and the benchmark's unaudited baseline.
    pub(crate) fn read_client(&mut self, id: ClientId) -> Result<Client> {
        if let Some(client) = self.read_client_views(id)? {
            return Ok(client);
        }
        let mut doc = self.load_client(id)?;
        let client = doc.client()?;
        self.write_views(&mut doc)?;
        Ok(client)
    }

    /// The client from the views of its documents, `None` when one is stale.
    fn read_client_views(&self, id: ClientId) -> Result<Option<Client>> {
        let basic = match self.store.get_view(id.into()) {
            Ok(v) => v.and_then(|v| views::decode::<ClientBasic>(&v)),
            Err(StoreError::DocNotFound(_)) => return Err(ApiError::ClientNotFound(id)),
            Err(e) => return Err(e.into()),
        };
        let Some(basic) = basic else {
            return Ok(None);
        };
        let record = match self.store.get_view(record_doc_id(id)) {
            Ok(v) => match v.and_then(|v| views::decode::<ClientRecord>(&v)) {
                Some(r) => Some(r),
                None => return Ok(None),
            },
            // This node holds no record of the client (basic-data rights).
            Err(StoreError::DocNotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        Ok(Some(Client::join(basic, record)))
    }

    /// Read every client: views where fresh, Automerge (on all cores) for the rest,
    /// whose views are then rebuilt.
    /// Only clients whose whole record the user may view are returned; the read
    /// is audited as one entry with the count.
    pub fn all_clients(&mut self, now: DateTime<Utc>) -> Result<Vec<Client>> {
        let out = self.load_clients(true)?;
        let count = u32::try_from(out.len()).unwrap_or(u32::MAX);
        self.record(now, AuditAction::View, None, Detail::Count(count))?;
        Ok(out)
    }

    /// Read every client (`visible_only`: only those whose whole record the user
    /// may view), rebuilding stale views. Not audited: the caller audits the read.
    pub(crate) fn load_clients(&mut self, visible_only: bool) -> Result<Vec<Client>> {
        let mut out = Vec::with_capacity(self.index.len());
        let mut stale = Vec::new();
        let records: BTreeMap<DocId, Option<Vec<u8>>> = self
            .store
            .load_views(DocKind::ClientRecord)?
            .into_iter()
            .collect();
        for (id, view) in self.store.load_views(DocKind::Client)? {
            let visible = !visible_only
                || self
                    .index
                    .get(&ClientId::from(id.0))
                    .is_some_and(|s| self.may(Action::ViewRecord, s));
            if !visible {
                continue;
            }
            let cid = ClientId::from(id.0);
            let basic = view.as_deref().and_then(views::decode::<ClientBasic>);
            // `Some(None)`: no record document here; `None`: a stale view.
            let record = match records.get(&record_doc_id(cid)) {
                None => Some(None),
                Some(v) => v
                    .as_deref()
                    .and_then(views::decode::<ClientRecord>)
                    .map(Some),
            };
            match (basic, record) {
                (Some(basic), Some(record)) => out.push(Client::join(basic, record)),
                _ => stale.push(cid),
            }
        }
        for id in stale {
            let mut doc = self.load_client_any(id)?;
            let client = doc.client()?;
            self.write_views(&mut doc)?;
            out.push(client);
        }
        Ok(out)
    }

    /// Add a client; returns its id.
    pub fn add_client(&mut self, input: ClientInput, now: DateTime<Utc>) -> Result<ClientId> {
        let first = input.first_name.trim();
        let last = input.last_name.trim();
        if first.is_empty() && last.is_empty() {
            return Err(ApiError::Rejected(crate::Rejection::ClientNeedsName));
        }
        check_len(TextField::FirstName, first)?;
        check_len(TextField::LastName, last)?;
        if let Some(g) = &input.gender {
            self.code_for_new(CodeList::Gender, g)?;
        }
        if let Some(m) = &input.mother_tongue {
            self.code_for_new(CodeList::MotherTongue, m)?;
        }
        let unit = self.resolve_unit(input.unit.as_deref())?;
        self.check(
            Action::CreateClient,
            Target::NewClientIn(Some(unit)),
            None,
            now,
        )?;
        let mut client = Client::new(ClientId::new(), now);
        client.basic.first_name = first.to_owned();
        client.basic.last_name = last.to_owned();
        client.basic.birth_date = input.birth_date;
        client.basic.gender = input.gender;
        client.basic.mother_tongue = input.mother_tongue;
        client.unit = Some(unit);
        client.responsible.insert(self.user.id);
        let mut doc = ClientDoc::new_with_message(&client, Some(self.trail.change_message()))?;
        let summary = client.summary();
        let user = Some(self.user.id);
        let trail = &mut self.trail;
        let head = trail.head();
        self.store
            .batch(|b| {
                create_client_in(b, &mut doc, &client)?;
                trail.record_in(
                    b,
                    now,
                    user,
                    AuditAction::Create,
                    Some(client.id.0),
                    Detail::None,
                )
            })
            .inspect_err(|_| trail.rewind(head))?;
        self.index.insert(client.id, summary);
        Ok(client.id)
    }

    /// Add a memo to a client. The write is durable when this returns.
    pub fn add_memo(
        &mut self,
        client: ClientId,
        text: &str,
        kind: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<MemoId> {
        if text.trim().is_empty() {
            return Err(ApiError::Rejected(crate::Rejection::EmptyMemo));
        }
        check_len(TextField::MemoText, text)?;
        let kind = kind.unwrap_or("meeting");
        self.code_for_new(CodeList::MemoType, kind)?;
        self.check_client(Action::WriteMemo, client, now)?;
        let mut doc = self.load_client(client)?;
        let memo = Memo {
            id: MemoId::new(),
            date: now.date_naive(),
            author: self.user.id,
            kind: kind.to_owned(),
            text: text.to_owned(),
            deleted: None,
        };
        let id = memo.id;
        doc.update(|c| {
            c.memos.insert(memo.id, memo);
        })?;
        self.write_client_change(client, &mut doc, None, now, Detail::Code(codes::MEMO_ADD))?;
        Ok(id)
    }

    /// Append `doc`'s unsaved changes as one change row, with the update's audit
    /// entry and (when the summary changed) the search index entry, in one
    /// transaction. The client's view is refreshed on close.
    pub(crate) fn write_client_change(
        &mut self,
        client: ClientId,
        doc: &mut ClientDoc,
        summary: Option<&ClientSummary>,
        now: DateTime<Utc>,
        detail: Detail,
    ) -> Result<()> {
        self.write_client_change_with(client, doc, summary, now, detail, |_| Ok(()))
    }

    /// [`Session::write_client_change`] with more writes in the same
    /// transaction.
    pub(crate) fn write_client_change_with(
        &mut self,
        client: ClientId,
        doc: &mut ClientDoc,
        summary: Option<&ClientSummary>,
        now: DateTime<Utc>,
        detail: Detail,
        extra: impl FnOnce(&polku_store::Batch<'_>) -> polku_store::Result<()>,
    ) -> Result<()> {
        if !doc.has_unsaved_changes() {
            return Ok(());
        }
        let parts = doc.save_changes();
        let index = summary.map(index_bytes).transpose()?;
        let user = Some(self.user.id);
        let trail = &mut self.trail;
        let head = trail.head();
        self.store
            .batch(|b| {
                for part in &parts {
                    if part.new {
                        b.create_doc(part.id, part.kind, &part.bytes)?;
                    } else {
                        b.append_change(part.id, &part.bytes, &part.heads)?;
                    }
                }
                if let Some(index) = &index {
                    b.put_index(client.into(), index)?;
                }
                extra(b)?;
                trail.record_in(b, now, user, AuditAction::Update, Some(client.0), detail)
            })
            .inspect_err(|_| trail.rewind(head))?;
        if let Some(summary) = summary {
            self.index.insert(client, summary.clone());
        }
        self.dirty.insert(client);
        Ok(())
    }

    pub(crate) fn check_client_for(
        &mut self,
        action: Action,
        id: ClientId,
        now: DateTime<Utc>,
    ) -> Result<ClientSummary> {
        self.check_client(action, id, now)
    }

    /// The search-index summary of a client, if it is known here.
    pub(crate) fn summary_of(&self, id: ClientId) -> Option<&ClientSummary> {
        self.index.get(&id)
    }

    pub(crate) fn load_client_doc(&self, id: ClientId) -> Result<ClientDoc> {
        self.load_client(id)
    }

    /// Add deterministic synthetic demo data: two units, four workers, `clients`
    /// clients with periods, measures and memos, and activity memos. Documents that
    /// already exist (same seed run before) are skipped.
    pub fn add_demo(
        &mut self,
        clients: usize,
        seed: u64,
        now: DateTime<Utc>,
    ) -> Result<DemoReport> {
        self.add_demo_with(clients, seed, None, now)
    }

    /// [`Session::add_demo`] with a fixed number of memos per client (benchmarks).
    pub fn add_demo_with(
        &mut self,
        clients: usize,
        seed: u64,
        memos_per_client: Option<usize>,
        now: DateTime<Utc>,
    ) -> Result<DemoReport> {
        self.check(Action::ManageUsers, Target::Organisation, None, now)?;
        let staff = polku_demo::staff(seed);
        self.update_org(|org| {
            for unit in &staff.units {
                org.units.entry(unit.id).or_insert_with(|| unit.clone());
            }
            for worker in &staff.workers {
                org.users.entry(worker.id).or_insert_with(|| worker.clone());
            }
        })?;
        let data = polku_demo::generate(
            &polku_demo::DemoConfig {
                clients,
                seed,
                today: now.date_naive(),
                memos_per_client,
            },
            &staff,
        );
        let mut report = DemoReport::default();
        let mut summaries = Vec::new();
        self.store.batch(|b| {
            for client in &data.clients {
                if self.index.contains_key(&client.id) {
                    continue;
                }
                let invalid = |_| StoreError::InvalidDocument;
                let mut doc = ClientDoc::new(client).map_err(invalid)?;
                create_client_in(b, &mut doc, client)?;
                summaries.push(client.summary());
                report.clients += 1;
                report.memos += client.memos.len();
            }
            for memo in &data.activity_memos {
                let mut doc =
                    ActivityMemoDoc::new(memo).map_err(|_| StoreError::InvalidDocument)?;
                match b.create_doc(memo.id.into(), DocKind::ActivityMemo, &doc.save()) {
                    Ok(_) => report.activity_memos += 1,
                    Err(StoreError::DocExists(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        })?;
        for s in summaries {
            self.index.insert(s.id, s);
        }
        let count = u32::try_from(report.clients).unwrap_or(u32::MAX);
        self.record(
            now,
            AuditAction::Create,
            None,
            Detail::CodeCount {
                code: codes::DEMO,
                count,
            },
        )?;
        Ok(report)
    }

    /// Refresh the views of the clients changed in this session, fold long change
    /// logs into snapshots and close the store.
    pub fn close(self) -> Result<()> {
        self.close_at(Utc::now())
    }

    /// [`Session::close`] at a given time (the logout entry's time).
    pub fn close_at(self, now: DateTime<Utc>) -> Result<()> {
        self.close_with(now, Detail::None)
    }

    /// Locks the session (the app's idle lock, or on demand): closes it as
    /// [`Session::close_at`] does, so that no decrypted data and no key stay
    /// in memory, and audits the logout as a lock. The returned handle knows
    /// only the store's directory and the login name; unlocking is a login.
    pub fn lock(self, now: DateTime<Utc>) -> Result<LockedSession> {
        let locked = LockedSession {
            dir: self.store.dir().to_path_buf(),
            login: self.login_name().to_owned(),
        };
        self.close_with(now, Detail::Code(codes::LOCK))?;
        Ok(locked)
    }

    /// The login name of the session's user.
    pub fn login_name(&self) -> &str {
        &self.user.login
    }

    fn close_with(mut self, now: DateTime<Utc>, detail: Detail) -> Result<()> {
        if !self.another {
            self.record_always(now, AuditAction::Logout, None, detail)?;
        }
        for id in std::mem::take(&mut self.dirty) {
            match self.load_client_any(id) {
                Ok(mut doc) => self.write_views(&mut doc)?,
                Err(ApiError::ClientNotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        self.store.compact_all(COMPACT_AFTER_CHANGES)?;
        self.store.close()?;
        Ok(())
    }

    /// The underlying store. Not public API: test-only feature
    /// `test-internals` (no rights, no audit); benchmarks use
    /// `bench_hooks::store`.
    #[cfg(feature = "test-internals")]
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn load_client(&self, id: ClientId) -> Result<ClientDoc> {
        if !self.index.contains_key(&id) {
            return Err(ApiError::ClientNotFound(id));
        }
        self.load_client_any(id)
    }

    fn load_client_any(&self, id: ClientId) -> Result<ClientDoc> {
        let basic = match self.store.load_doc(id.into()) {
            Ok(am) => am,
            Err(StoreError::DocNotFound(_)) => return Err(ApiError::ClientNotFound(id)),
            Err(e) => return Err(e.into()),
        };
        let record = match self.store.load_doc(record_doc_id(id)) {
            Ok(am) => Some(am),
            Err(StoreError::DocNotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        let mut doc = ClientDoc::from_parts(basic, record)?;
        // Changes made to it record the audit entry that will record them.
        doc.set_commit_message(Some(self.trail.change_message()));
        Ok(doc)
    }

    /// Rewrites the views of a client's documents at their current heads.
    fn write_views(&self, doc: &mut ClientDoc) -> Result<()> {
        let views = client_views(doc).ok_or(ApiError::Invalid("client view"))?;
        self.store.batch(|b| {
            for (id, hh, view) in &views {
                b.put_view(*id, *hh, view)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    fn update_org(&mut self, f: impl FnOnce(&mut Organisation)) -> Result<()> {
        self.update_org_audited(Utc::now(), None, f)
    }

    /// Change the organisation document and, in the same transaction, write the
    /// audit entry `(action, target, detail)` if given.
    pub(crate) fn update_org_audited(
        &mut self,
        now: DateTime<Utc>,
        audit: Option<(AuditAction, Option<Uuid>, Detail)>,
        f: impl FnOnce(&mut Organisation),
    ) -> Result<()> {
        self.update_org_with(now, audit.into_iter().collect(), f, |_| Ok(()))
    }

    /// Change the organisation document, write `audits` and whatever `extra`
    /// writes (logins, password records), all in one transaction: a crash
    /// leaves either everything or nothing.
    pub(crate) fn update_org_with(
        &mut self,
        now: DateTime<Utc>,
        audits: Vec<(AuditAction, Option<Uuid>, Detail)>,
        f: impl FnOnce(&mut Organisation),
        extra: impl FnOnce(&polku_store::Batch<'_>) -> polku_store::Result<()>,
    ) -> Result<()> {
        let mut doc = OrgDoc::from_automerge(self.store.load_doc(self.org_id)?)?;
        let before = doc.heads();
        doc.update(f)?;
        let changed = doc.heads() != before;
        let change = doc.save_incremental();
        let heads = doc.heads();
        let org_id = self.org_id;
        let user = Some(self.user.id);
        let trail = &mut self.trail;
        let head = trail.head();
        self.store
            .batch(|b| {
                if changed {
                    b.append_change(org_id, &change, &heads)?;
                }
                extra(b)?;
                for (action, target, detail) in audits {
                    trail.record_in(b, now, user, action, target, detail)?;
                }
                Ok(())
            })
            .inspect_err(|_| trail.rewind(head))?;
        self.org = doc.organisation()?;
        if let Some(u) = self.org.users.get(&self.user.id) {
            self.user = u.clone();
            self.rights = Rights::for_user(&self.user);
        }
        Ok(())
    }

    /// Write `extra` and one audit entry by the session's user in one
    /// transaction.
    pub(crate) fn record_with(
        &mut self,
        now: DateTime<Utc>,
        action: AuditAction,
        target: Option<Uuid>,
        detail: Detail,
        extra: impl FnOnce(&polku_store::Batch<'_>) -> polku_store::Result<()>,
    ) -> Result<()> {
        let user = Some(self.user.id);
        let trail = &mut self.trail;
        let head = trail.head();
        self.store
            .batch(|b| {
                extra(b)?;
                trail.record_in(b, now, user, action, target, detail)
            })
            .inspect_err(|_| trail.rewind(head))?;
        Ok(())
    }

    /// Re-read the organisation document: on the hub another process (`polku
    /// user add`, `device revoke`) may have changed it since this session began.
    pub(crate) fn reload_org(&mut self) -> Result<()> {
        let org = OrgDoc::from_automerge(self.store.load_doc(self.org_id)?)?.organisation()?;
        if let Some(u) = org.users.get(&self.user.id) {
            self.user = u.clone();
            self.rights = Rights::for_user(&self.user);
        }
        self.org = org;
        Ok(())
    }

    /// The unit of a new client: the one named (not retired), else the
    /// user's first unit that is not retired.
    pub(crate) fn resolve_unit(&self, unit: Option<&str>) -> Result<UnitId> {
        match unit {
            None => self
                .user
                .units
                .iter()
                .find(|u| self.org.units.get(u).is_none_or(|x| x.active))
                .copied()
                .ok_or(ApiError::NoUnit),
            Some(u) => self.unit_for_new(u),
        }
    }
}

/// The words of a search query, lower-cased.
pub(crate) fn query_words(query: &str) -> Vec<String> {
    query.split_whitespace().map(str::to_lowercase).collect()
}

/// Whether every word matches the client's name (a case-insensitive prefix
/// of the first or last name) or birth date (YYYY-MM-DD, d.m.yyyy or
/// dd.mm.yyyy).
pub(crate) fn matches_words(s: &ClientSummary, words: &[String]) -> bool {
    words.iter().all(|w| {
        s.first_name.to_lowercase().starts_with(w.as_str())
            || s.last_name.to_lowercase().starts_with(w.as_str())
            || s.birth_date.is_some_and(|b| {
                b.format("%Y-%m-%d").to_string() == *w
                    || b.format("%-d.%-m.%Y").to_string() == *w
                    || b.format("%d.%m.%Y").to_string() == *w
            })
    })
}

pub(crate) fn index_bytes(summary: &ClientSummary) -> Result<Vec<u8>> {
    serde_json::to_vec(summary).map_err(|_| ApiError::Invalid("search index entry"))
}

/// A client with its basic data only (perustiedot): for users with the
/// "basic data only" right.
/// The views of a client's documents: `(document, heads hash, view)`.
pub(crate) fn client_views(doc: &mut ClientDoc) -> Option<Vec<(DocId, HeadsHash, Vec<u8>)>> {
    let id = doc.basic().doc_id().ok()?;
    let basic = doc.basic().get().ok()?;
    let mut out = vec![(
        id,
        heads_hash(&doc.basic_mut().heads()),
        views::encode(&basic)?,
    )];
    if let Some(record) = doc.record_if_held() {
        let rid = record.doc_id().ok()?;
        let view = views::encode(&record.get().ok()?)?;
        out.push((rid, heads_hash(&record.heads()), view));
    }
    Some(out)
}

/// Stores a client made here: its documents whole, their views and the
/// search index entry.
pub(crate) fn create_client_in(
    b: &polku_store::Batch<'_>,
    doc: &mut ClientDoc,
    client: &Client,
) -> polku_store::Result<()> {
    let invalid = |_| StoreError::InvalidDocument;
    let (basic_bytes, record_bytes) = doc.save_new();
    let (basic, record) = client.split();
    let hh = b.create_doc(client.id.into(), DocKind::Client, &basic_bytes)?;
    b.put_index(
        client.id.into(),
        &index_bytes(&client.summary()).map_err(invalid)?,
    )?;
    b.put_view(
        client.id.into(),
        hh,
        &views::encode(&basic).ok_or(StoreError::InvalidDocument)?,
    )?;
    if let Some(bytes) = record_bytes {
        let rh = b.create_doc(record.id, DocKind::ClientRecord, &bytes)?;
        b.put_view(
            record.id,
            rh,
            &views::encode(&record).ok_or(StoreError::InvalidDocument)?,
        )?;
    }
    Ok(())
}

fn basic_only(client: Client) -> Client {
    let mut out = Client::new(client.id, client.created_at);
    out.basic = client.basic;
    out.unit = client.unit;
    out.responsible = client.responsible;
    out
}

/// A device's node key, handed to the transport only
/// ([`Session::transport_secret`]); zeroized when dropped.
pub struct TransportSecret(zeroize::Zeroizing<[u8; 32]>);

impl TransportSecret {
    /// The key bytes, for the transport's endpoint (iroh) and nothing else.
    pub fn for_transport(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for TransportSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TransportSecret(..)")
    }
}
