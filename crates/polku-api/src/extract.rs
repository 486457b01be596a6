//! The statistics extract (tilastopoiminta): the hub derives an anonymised
//! record of every client ([`AnonymisedRecord::from_client`], the projection
//! the statistics count) into one document, which it sends to users who run
//! statistics but may not hold the clients' records (a coordinator with the
//! basic-data right only, or a reporting-only user). Their statistics are
//! counted over the extract, so a report made on their laptop equals the
//! hub's report as of the last sync, while the laptop holds no memo, no
//! background, no name in it. Activity memos go into it too, without their
//! place and text (a coordinator's laptop holds only its unit's), and so do
//! the brief-contact logs, without their texts.
//!
//! Each record's key is a keyed hash of its client's id under a key derived
//! from the hub's node secret: stable from one derivation to the next (a
//! resync sends the records that changed), and not linkable to a client by
//! anyone without the hub's secret. The extract is derived again only when a
//! client document changed since (a digest of their heads).

use std::collections::BTreeMap;

use polku_core::DocKind;
use polku_core::anonymised::{
    AnonymisedId, AnonymisedRecord, StatsExtract, anonymised_activity, anonymised_brief,
    stats_extract_doc_id,
};
use polku_core::doc::ExtractDoc;
use polku_core::model::User;
use polku_core::rights::Rights;
use polku_store::StoreError;

use crate::Result;
use crate::meta_keys::DIGEST_KEY;
use crate::session::Session;

/// blake3 context of the key the extract's record keys are hashed under.
const EXTRACT_KEY_CONTEXT: &str = "polku 2026-12 statistics extract record keys v1";

/// Whether a user gets the statistics extract: they run statistics and
/// their rights do not cover every client's record.
pub(crate) fn gets_extract(user: &User, rights: &Rights) -> bool {
    polku_core::rights::delivery::gets_extract(user, rights)
}

impl Session {
    /// Hub: brings the statistics extract up to date with the clients and
    /// the anonymised records of erased ones, writing only what changed.
    /// Returns whether it was written.
    pub(crate) fn refresh_extract(&mut self) -> Result<bool> {
        let mut digest = blake3::Hasher::new();
        for (id, kind, hh) in self.store.list_doc_heads()? {
            if matches!(
                kind,
                DocKind::Client
                    | DocKind::ClientRecord
                    | DocKind::ActivityMemo
                    | DocKind::BriefContacts
            ) {
                digest.update(id.0.as_bytes());
                digest.update(&hh.0);
            }
        }
        let anonymised = self.load_anonymised()?;
        digest.update(&(anonymised.len() as u64).to_le_bytes());
        let digest = digest.finalize();
        let doc_id = stats_extract_doc_id(self.org_id());
        let stored = match self.store.load_doc(doc_id) {
            Ok(am) => Some(am),
            Err(StoreError::DocNotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        if stored.is_some()
            && self.store.get_meta(DIGEST_KEY)?.as_deref() == Some(digest.as_bytes().as_slice())
        {
            return Ok(false);
        }
        let key = blake3::derive_key(EXTRACT_KEY_CONTEXT, &self.secret_key()?);
        let record_key = |id: &uuid::Uuid| {
            let h = blake3::keyed_hash(&key, id.as_bytes());
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(&h.as_bytes()[..16]);
            AnonymisedId::from_random(bytes)
        };
        let mut records = BTreeMap::new();
        for client in self.load_clients(false)? {
            let mut r = AnonymisedRecord::from_client(&client);
            r.id = record_key(&client.id.0);
            records.insert(r.id, r.encode());
        }
        for r in anonymised {
            records.insert(r.id, r.encode());
        }
        let activity = self
            .load_activity_memos()?
            .iter()
            .filter(|m| m.deleted.is_none())
            .map(|m| {
                let k = record_key(&m.id.0);
                (k, anonymised_activity(m, k))
            })
            .collect();
        let brief = self
            .load_brief_logs()?
            .iter()
            .map(|l| {
                let k = record_key(&l.id.0);
                (k, anonymised_brief(l, k))
            })
            .collect();
        let extract = StatsExtract {
            id: doc_id,
            records,
            activity,
            brief,
        };
        let digest = *digest.as_bytes();
        // Loaded again inside the write transaction: another connection to
        // this store (the hub's other sync sessions) may have written the
        // extract since it was read above, and a change appended to an older
        // copy would leave the stored heads behind.
        self.store.batch(|b| {
            match self.store.load_doc(doc_id) {
                Ok(am) => {
                    let mut doc =
                        ExtractDoc::from_automerge(am).map_err(|_| StoreError::InvalidDocument)?;
                    doc.mark_saved();
                    doc.set(&extract).map_err(|_| StoreError::InvalidDocument)?;
                    let bytes = doc.save_incremental();
                    if !bytes.is_empty() {
                        b.append_change(doc_id, &bytes, &doc.heads())?;
                    }
                }
                Err(StoreError::DocNotFound(_)) => {
                    let mut doc =
                        ExtractDoc::new(&extract).map_err(|_| StoreError::InvalidDocument)?;
                    b.create_doc(doc_id, DocKind::StatsExtract, &doc.save())?;
                }
                Err(e) => return Err(e),
            }
            b.put_meta(DIGEST_KEY, &digest)
        })?;
        Ok(true)
    }

    /// The statistics extract, when this store holds one.
    pub(crate) fn load_extract(&self) -> Result<Option<StatsExtract>> {
        match self.store.load_doc(stats_extract_doc_id(self.org_id())) {
            Ok(am) => Ok(Some(ExtractDoc::from_automerge(am)?.get()?)),
            Err(StoreError::DocNotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}
