//! What a hub offers a laptop: the scope facts (unit, responsible workers)
//! of each document, read from the documents themselves and cached by heads
//! hash, judged by [`polku_core::rights::delivery::may_receive`].

use std::collections::{BTreeMap, BTreeSet};

use automerge::AutoCommit;
use polku_core::doc::{ActivityMemoDoc, AnonymisedDoc, BasicDoc, BriefDoc, RecordDoc, credential};
use polku_core::model::{User, record_doc_id};
use polku_core::rights::{ClientScope, Rights, delivery};
use polku_core::{ClientId, DocId, DocKind, UnitId, UserId};
use polku_store::{StoreError, heads_hash as store_heads_hash};
use polku_sync::ReplicaError;

use super::{SyncReplica, storage};

/// What rights depend on: a document's unit and responsible workers, or
/// (a client's record document) those of another document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct DocScope {
    pub(super) unit: Option<UnitId>,
    pub(super) responsible: BTreeSet<UserId>,
    /// The scope is that of this document (the client's basic-data document).
    pub(super) of: Option<DocId>,
}

impl DocScope {
    /// The scope as the rights functions take it.
    pub(super) fn as_client_scope(&self) -> ClientScope<'_> {
        ClientScope {
            unit: self.unit,
            responsible: &self.responsible,
        }
    }
}

pub(super) fn client_scope(doc: AutoCommit) -> Option<DocScope> {
    let basic = BasicDoc::from_automerge(doc).ok()?.get().ok()?;
    Some(DocScope {
        unit: basic.unit,
        responsible: basic.responsible,
        of: None,
    })
}

fn record_scope(doc: AutoCommit) -> Option<DocScope> {
    let record = RecordDoc::from_automerge(doc).ok()?.get().ok()?;
    (record.id == record_doc_id(record.client)).then(|| DocScope {
        of: Some(record.client.into()),
        ..DocScope::default()
    })
}

fn memo_scope(doc: AutoCommit) -> Option<DocScope> {
    let memo = ActivityMemoDoc::from_automerge(doc)
        .ok()?
        .activity_memo()
        .ok()?;
    Some(DocScope {
        unit: Some(memo.unit),
        responsible: BTreeSet::new(),
        of: None,
    })
}

/// An anonymised record goes where its client's basic data went.
fn anonymised_scope(doc: AutoCommit) -> Option<DocScope> {
    let record = AnonymisedDoc::from_automerge(doc)
        .ok()?
        .get()
        .ok()?
        .decoded()?;
    Some(DocScope {
        unit: record.unit,
        responsible: record.responsible,
        of: None,
    })
}

fn brief_scope(doc: AutoCommit) -> Option<DocScope> {
    let log = BriefDoc::from_automerge(doc).ok()?.log().ok()?;
    Some(DocScope {
        unit: Some(log.unit),
        responsible: BTreeSet::new(),
        of: None,
    })
}

pub(super) fn scope_of(kind: DocKind, doc: AutoCommit) -> Option<DocScope> {
    match kind {
        DocKind::BriefContacts => brief_scope(doc),
        DocKind::Anonymised => anonymised_scope(doc),
        DocKind::Client => client_scope(doc),
        DocKind::ClientRecord => record_scope(doc),
        DocKind::ActivityMemo => memo_scope(doc),
        DocKind::Organisation | DocKind::StatsExtract => Some(DocScope::default()),
        // A credential document goes to its own user's devices only.
        DocKind::Credential => credential::credential_user(&doc).map(|u| DocScope {
            unit: None,
            responsible: [u].into_iter().collect(),
            of: None,
        }),
    }
}

impl SyncReplica {
    /// Brings the scope cache up to date with the stored heads (hub).
    pub(super) fn refresh_scopes(
        &mut self,
        heads: &[(DocId, DocKind, polku_store::HeadsHash)],
    ) -> Result<(), ReplicaError> {
        let store = &self.session.store;
        if !self.scopes_filled {
            self.scopes_filled = true;
            // Record documents are not loaded: their scope is their client's,
            // known from their derived id (below).
            for kind in [
                DocKind::Client,
                DocKind::ActivityMemo,
                DocKind::BriefContacts,
                DocKind::Credential,
                DocKind::Anonymised,
            ] {
                // A damaged document fails the bulk load: fall back to one by one.
                // Each document is reduced to its scope as it is decoded:
                // the hub never holds every loaded document at once.
                let Ok(all) = store.map_all(kind, |_, mut doc| {
                    (store_heads_hash(&doc.get_heads()), scope_of(kind, doc))
                }) else {
                    continue;
                };
                self.scopes.extend(all);
            }
        }
        let live: BTreeSet<DocId> = heads.iter().map(|(id, _, _)| *id).collect();
        self.scopes.retain(|id, _| live.contains(id));
        // A client's record document has the id derived from the client's
        // (`record_doc_id`): its scope is that client's, without loading it.
        let records: BTreeMap<DocId, DocId> = heads
            .iter()
            .filter(|(_, kind, _)| *kind == DocKind::Client)
            .map(|(id, _, _)| (record_doc_id(ClientId(id.0)), *id))
            .collect();
        for (id, kind, hh) in heads {
            if *kind == DocKind::Organisation {
                continue;
            }
            if self.scopes.get(id).is_some_and(|(h, _)| h == hh) {
                continue;
            }
            if *kind == DocKind::ClientRecord
                && let Some(client) = records.get(id)
            {
                let scope = DocScope {
                    of: Some(*client),
                    ..DocScope::default()
                };
                self.scopes.insert(*id, (*hh, Some(scope)));
                continue;
            }
            self.read_scope(*id, *kind, *hh)?;
        }
        Ok(())
    }

    /// Reads one document's scope into the cache.
    fn read_scope(
        &mut self,
        id: DocId,
        kind: DocKind,
        hh: polku_store::HeadsHash,
    ) -> Result<(), ReplicaError> {
        // Kept under the heads the document has as read (it may have moved
        // since `hh` was listed: another connection wrote it meanwhile).
        let (hh, scope) = match self.session.store.load_doc(id) {
            Ok(mut doc) => (store_heads_hash(&doc.get_heads()), scope_of(kind, doc)),
            Err(StoreError::Corrupt { .. }) => (hh, None),
            Err(e) => return Err(storage(e)),
        };
        self.scopes.insert(id, (hh, scope));
        Ok(())
    }

    /// Whether the peer's user is offered the document (the organisation
    /// document: only this organisation's; one whose scope cannot be read:
    /// never).
    pub(super) fn offered(&self, user: &User, rights: &Rights, id: DocId, kind: DocKind) -> bool {
        match kind {
            DocKind::Organisation => id == self.session.org_id,
            _ => match self.resolved_scope(id) {
                Some(scope) => Self::may_view(user, rights, kind, scope),
                None => false,
            },
        }
    }

    /// The peer's document set from the one computed before the store last
    /// moved, judging again only what changed since: documents whose heads
    /// moved, appeared or went, and the record documents of clients among
    /// them (their scope is their client's). `None` (compute it in full)
    /// when there is no such set, the organisation document changed (the
    /// user's rights with it) or much changed.
    pub(super) fn incremental_set(
        &mut self,
        user: &User,
        rights: &Rights,
        node: &polku_audit::NodeId,
        heads: &[(DocId, DocKind, polku_store::HeadsHash)],
    ) -> Result<Option<Vec<polku_sync::DocEntry>>, ReplicaError> {
        if !self.scopes_filled {
            return Ok(None);
        }
        let Some((old_live, old_set)) = self.cache.stale_for(node) else {
            return Ok(None);
        };
        let mut changed = Vec::new();
        let mut removed = Vec::new();
        let mut a = old_live.iter().peekable();
        let mut b = heads.iter().peekable();
        loop {
            match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some(o), Some(n)) if o.0 == n.0 => {
                    if o.2 != n.2 || o.1 != n.1 {
                        changed.push(**n);
                    }
                    a.next();
                    b.next();
                }
                (Some(o), Some(n)) if o.0 < n.0 => {
                    removed.push((o.0, o.1));
                    a.next();
                }
                (Some(o), None) => {
                    removed.push((o.0, o.1));
                    a.next();
                }
                (_, Some(n)) => {
                    changed.push(**n);
                    b.next();
                }
            }
        }
        let org_moved = changed
            .iter()
            .map(|(_, k, _)| *k)
            .chain(removed.iter().map(|(_, k)| *k))
            .any(|k| k == DocKind::Organisation);
        if org_moved || changed.len() + removed.len() > heads.len() / 4 {
            return Ok(None);
        }
        let old_set = old_set.to_vec();
        // Scopes of what changed, then which entries are judged again.
        let mut judge: BTreeSet<DocId> = BTreeSet::new();
        for (id, kind) in &removed {
            self.scopes.remove(id);
            judge.insert(*id);
            if *kind == DocKind::Client {
                judge.insert(record_doc_id(ClientId(id.0)));
            }
        }
        for (id, kind, hh) in &changed {
            judge.insert(*id);
            match kind {
                DocKind::Client => {
                    judge.insert(record_doc_id(ClientId(id.0)));
                    self.read_scope(*id, *kind, *hh)?;
                }
                DocKind::ClientRecord => {
                    // Its client, as its id derives, when already known.
                    let derived = self
                        .scopes
                        .get(id)
                        .and_then(|(_, s)| s.as_ref())
                        .and_then(|s| s.of)
                        .filter(|c| record_doc_id(ClientId(c.0)) == *id);
                    match derived {
                        Some(client) => {
                            let scope = DocScope {
                                of: Some(client),
                                ..DocScope::default()
                            };
                            self.scopes.insert(*id, (*hh, Some(scope)));
                        }
                        None => self.read_scope(*id, *kind, *hh)?,
                    }
                }
                _ => self.read_scope(*id, *kind, *hh)?,
            }
        }
        let mut set: Vec<polku_sync::DocEntry> = old_set
            .into_iter()
            .filter(|e| !judge.contains(&e.id))
            .collect();
        for id in &judge {
            let Ok(i) = heads.binary_search_by(|(x, _, _)| x.cmp(id)) else {
                continue;
            };
            let (id, kind, hh) = heads[i];
            if self.offered(user, rights, id, kind) {
                set.push(polku_sync::DocEntry {
                    id,
                    kind,
                    heads: super::to_sync_hash(hh),
                });
            }
        }
        set.sort_by_key(|e| e.id);
        Ok(Some(set))
    }

    /// The scope facts of a document from the cache, a record document's
    /// being its client's (`None`: unknown or unreadable).
    pub(super) fn resolved_scope(&self, id: DocId) -> Option<&DocScope> {
        let scope = self.scopes.get(&id)?.1.as_ref()?;
        match scope.of {
            None => Some(scope),
            Some(of) => match self.scopes.get(&of)?.1.as_ref()? {
                s if s.of.is_none() => Some(s),
                _ => None,
            },
        }
    }

    /// Whether the peer's user gets the document (`scope` is the client's
    /// for a record document, resolved by the caller).
    pub(super) fn may_view(user: &User, rights: &Rights, kind: DocKind, scope: &DocScope) -> bool {
        delivery::may_receive(user, rights, kind, &scope.as_client_scope())
    }
}
