//! A logged-in user's session over an unlocked store.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use polku_core::codes::{CodeList, CodeSet};
use polku_core::doc::{ActivityMemoDoc, ClientDoc, OrgDoc};
use polku_core::model::{Client, ClientSummary, Memo, Organisation, User};
use polku_core::{ClientId, DocId, DocKind, MemoId, UnitId};
use polku_store::{Store, StoreError, heads_hash};

use crate::{ApiError, Result, views};

/// Change rows a document may collect before closing a session folds them into
/// its snapshot.
const COMPACT_AFTER_CHANGES: u64 = 16;

/// The fields `client add` takes.
#[derive(Debug, Clone, Default)]
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

/// An unlocked store and the user who unlocked it.
#[derive(Debug)]
pub struct Session {
    store: Store,
    org_id: DocId,
    org: Organisation,
    user: User,
    /// In-memory search index (name, birth date, unit), decrypted at unlock.
    index: BTreeMap<ClientId, ClientSummary>,
    /// Client documents changed in this session: their views are refreshed
    /// (and long change logs compacted) on close.
    dirty: BTreeSet<ClientId>,
}

impl Session {
    pub(crate) fn start(store: Store, _now: DateTime<Utc>) -> Result<Session> {
        let org_id = store
            .list_docs(DocKind::Organisation)?
            .into_iter()
            .next()
            .ok_or(ApiError::NoOrganisation)?;
        let org = OrgDoc::from_automerge(store.load_doc(org_id)?)?.organisation()?;
        let user = org
            .users
            .get(&store.current_user())
            .cloned()
            .ok_or(ApiError::NotAnOrgUser)?;
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
        Ok(Session {
            store,
            org_id,
            org,
            user,
            index,
            dirty: BTreeSet::new(),
        })
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

    /// Clients in the search index, by last name then first name.
    pub fn list_clients(&self, _now: DateTime<Utc>) -> Result<Vec<ClientSummary>> {
        let mut list: Vec<ClientSummary> = self.index.values().cloned().collect();
        list.sort_by(|a, b| {
            (a.last_name.as_str(), a.first_name.as_str(), a.id).cmp(&(
                b.last_name.as_str(),
                b.first_name.as_str(),
                b.id,
            ))
        });
        Ok(list)
    }

    /// Clients whose name or birth date matches every word of `query`
    /// (case-insensitive prefix of a name; a birth date as YYYY-MM-DD or d.m.yyyy).
    pub fn search(&self, query: &str) -> Vec<ClientSummary> {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        self.index
            .values()
            .filter(|s| {
                words.iter().all(|w| {
                    s.first_name.to_lowercase().starts_with(w.as_str())
                        || s.last_name.to_lowercase().starts_with(w.as_str())
                        || s.birth_date.is_some_and(|b| {
                            b.format("%Y-%m-%d").to_string() == *w
                                || b.format("%-d.%-m.%Y").to_string() == *w
                        })
                })
            })
            .cloned()
            .collect()
    }

    /// Read one client: from its view when fresh, else from its Automerge
    /// document (and the view is rebuilt).
    pub fn show_client(&mut self, id: ClientId, _now: DateTime<Utc>) -> Result<Client> {
        if !self.index.contains_key(&id) {
            return Err(ApiError::ClientNotFound(id));
        }
        if let Some(client) = self
            .store
            .get_view(id.into())?
            .and_then(|v| views::decode(&v))
        {
            return Ok(client);
        }
        let mut doc = self.load_client(id)?;
        let client = doc.client()?;
        self.write_view(id, &mut doc, &client)?;
        Ok(client)
    }

    /// Read every client: views where fresh, Automerge (on all cores) for the rest,
    /// whose views are then rebuilt.
    pub fn all_clients(&mut self, _now: DateTime<Utc>) -> Result<Vec<Client>> {
        let mut out = Vec::with_capacity(self.index.len());
        let mut stale = Vec::new();
        for (id, view) in self.store.load_views(DocKind::Client)? {
            match view.as_deref().and_then(views::decode) {
                Some(client) => out.push(client),
                None => stale.push(ClientId::from(id.0)),
            }
        }
        for id in stale {
            let mut doc = self.load_client_any(id)?;
            let client = doc.client()?;
            self.write_view(id, &mut doc, &client)?;
            out.push(client);
        }
        Ok(out)
    }

    /// Add a client; returns its id.
    pub fn add_client(&mut self, input: ClientInput, now: DateTime<Utc>) -> Result<ClientId> {
        let first = input.first_name.trim();
        let last = input.last_name.trim();
        if first.is_empty() && last.is_empty() {
            return Err(ApiError::Invalid("a client needs a first or a last name"));
        }
        let codes = self.codes()?;
        if let Some(g) = &input.gender {
            codes.lookup_for_new(CodeList::Gender, g)?;
        }
        if let Some(m) = &input.mother_tongue {
            codes.lookup_for_new(CodeList::MotherTongue, m)?;
        }
        let unit = self.resolve_unit(input.unit.as_deref())?;
        let mut client = Client::new(ClientId::new(), now);
        client.basic.first_name = first.to_owned();
        client.basic.last_name = last.to_owned();
        client.basic.birth_date = input.birth_date;
        client.basic.gender = input.gender;
        client.basic.mother_tongue = input.mother_tongue;
        client.unit = Some(unit);
        client.responsible.insert(self.user.id);
        let mut doc = ClientDoc::new(&client)?;
        let summary = client.summary();
        let index = index_bytes(&summary)?;
        let view = views::encode(&client).ok_or(ApiError::Invalid("client view"))?;
        self.store.batch(|b| {
            let hh = b.create_doc(client.id.into(), DocKind::Client, &doc.save())?;
            b.put_index(client.id.into(), &index)?;
            b.put_view(client.id.into(), hh, &view)
        })?;
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
            return Err(ApiError::Invalid("the memo text is empty"));
        }
        let kind = kind.unwrap_or("meeting");
        self.codes()?.lookup_for_new(CodeList::MemoType, kind)?;
        let mut doc = self.load_client(client)?;
        let memo = Memo {
            id: MemoId::new(),
            date: now.date_naive(),
            author: self.user.id,
            kind: kind.to_owned(),
            text: text.to_owned(),
        };
        let id = memo.id;
        doc.update(|c| {
            c.memos.insert(memo.id, memo);
        })?;
        let change = doc.save_incremental();
        let heads = doc.heads();
        self.store.append_change(client.into(), &change, &heads)?;
        self.dirty.insert(client);
        Ok(id)
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
                let hh = b.create_doc(client.id.into(), DocKind::Client, &doc.save())?;
                let summary = client.summary();
                b.put_index(
                    client.id.into(),
                    &index_bytes(&summary).map_err(|_| StoreError::InvalidDocument)?,
                )?;
                let view = views::encode(client).ok_or(StoreError::InvalidDocument)?;
                b.put_view(client.id.into(), hh, &view)?;
                summaries.push(summary);
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
        Ok(report)
    }

    /// Refresh the views of the clients changed in this session, fold long change
    /// logs into snapshots and close the store.
    pub fn close(mut self) -> Result<()> {
        for id in std::mem::take(&mut self.dirty) {
            match self.load_client_any(id) {
                Ok(mut doc) => {
                    let client = doc.client()?;
                    self.write_view(id, &mut doc, &client)?;
                }
                Err(ApiError::ClientNotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        self.store.compact_all(COMPACT_AFTER_CHANGES)?;
        self.store.close()?;
        Ok(())
    }

    /// The underlying store (benchmarks and tests).
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
        let am = match self.store.load_doc(id.into()) {
            Ok(am) => am,
            Err(StoreError::DocNotFound(_)) => return Err(ApiError::ClientNotFound(id)),
            Err(e) => return Err(e.into()),
        };
        Ok(ClientDoc::from_automerge(am)?)
    }

    fn write_view(&self, id: ClientId, doc: &mut ClientDoc, client: &Client) -> Result<()> {
        let view = views::encode(client).ok_or(ApiError::Invalid("client view"))?;
        self.store
            .put_view(id.into(), heads_hash(&doc.heads()), &view)?;
        Ok(())
    }

    fn update_org(&mut self, f: impl FnOnce(&mut Organisation)) -> Result<()> {
        let mut doc = OrgDoc::from_automerge(self.store.load_doc(self.org_id)?)?;
        let before = doc.heads();
        doc.update(f)?;
        if doc.heads() != before {
            let change = doc.save_incremental();
            let heads = doc.heads();
            self.store.append_change(self.org_id, &change, &heads)?;
        }
        self.org = doc.organisation()?;
        if let Some(u) = self.org.users.get(&self.user.id) {
            self.user = u.clone();
        }
        Ok(())
    }

    fn resolve_unit(&self, unit: Option<&str>) -> Result<UnitId> {
        match unit {
            None => self
                .user
                .units
                .iter()
                .next()
                .copied()
                .ok_or(ApiError::NoUnit),
            Some(u) => {
                if let Ok(id) = u.parse::<UnitId>()
                    && self.org.units.contains_key(&id)
                {
                    return Ok(id);
                }
                self.org
                    .units
                    .values()
                    .find(|x| x.name.eq_ignore_ascii_case(u.trim()))
                    .map(|x| x.id)
                    .ok_or(ApiError::UnknownUnit)
            }
        }
    }
}

fn index_bytes(summary: &ClientSummary) -> Result<Vec<u8>> {
    serde_json::to_vec(summary).map_err(|_| ApiError::Invalid("search index entry"))
}
