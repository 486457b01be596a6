//! The hub's judgement of a change arriving from a laptop, before it is
//! saved: the rights ([`polku_core::rights::delivery`]), the documents'
//! own consistency (ids, kinds), the length limits the API holds its own
//! writes to ([`polku_core::limits`]), and the organisation's codes and
//! units: a change may not bring in a code or unit that a new record could
//! not choose (unknown or retired), while uses that were there before stay
//! valid ([`polku_core::validate::refused_new_codes`]).

use automerge::AutoCommit;
use polku_core::DocId;
use polku_core::DocKind;
use polku_core::codes::CodeSet;
use polku_core::doc::{ActivityMemoDoc, AnonymisedDoc, BasicDoc, BriefDoc, RecordDoc, credential};
use polku_core::model::{ClientBasic, ClientRecord, User, record_doc_id};
use polku_core::rights::{ClientScope, Rights, delivery, may_record_unit_work};
use polku_core::validate::{self, CodeUse};
use polku_sync::ChangeCheck;
use polku_sync::protocol::RefusedReason;
use std::collections::BTreeSet;

use super::SyncReplica;
use super::scope::{DocScope, client_scope};

/// The document as it was before the change (`None`: new here).
fn before<T>(
    change: &ChangeCheck<'_>,
    hydrate: impl Fn(AutoCommit) -> Option<T>,
) -> Result<Option<T>, RefusedReason> {
    match change.before {
        None => Ok(None),
        Some(heads) => {
            let mut copy = change.after.clone();
            let at = copy.fork_at(heads).map_err(|_| RefusedReason::Invalid)?;
            Ok(Some(hydrate(at).ok_or(RefusedReason::Invalid)?))
        }
    }
}

fn not_taken(n: delivery::NotTaken) -> RefusedReason {
    match n {
        delivery::NotTaken::NotPermitted => RefusedReason::NotPermitted,
        delivery::NotTaken::OutOfScope => RefusedReason::OutOfScope,
    }
}

/// A peer's anonymised record of a client it erased: new (never a change of
/// one the hub holds), by a user who may erase, carrying its own id, with
/// codes only where codes belong ([`AnonymisedRecord::from_client`] writes
/// nothing else).
///
/// [`AnonymisedRecord::from_client`]: polku_core::anonymised::AnonymisedRecord::from_client
fn check_anonymised(
    user: &User,
    rights: &Rights,
    change: &ChangeCheck<'_>,
) -> Result<(), RefusedReason> {
    if change.before.is_some() {
        return Err(RefusedReason::NotPermitted);
    }
    if !delivery::may_write_anonymised(user, rights) {
        return Err(RefusedReason::NotPermitted);
    }
    let entry = AnonymisedDoc::from_automerge(change.after.clone())
        .ok()
        .and_then(|d| d.get().ok())
        .ok_or(RefusedReason::Invalid)?;
    if entry.id != change.id {
        return Err(RefusedReason::Invalid);
    }
    entry.decoded().ok_or(RefusedReason::Invalid)?;
    Ok(())
}

impl SyncReplica {
    /// Whether the peer's user may make this change (see the module docs).
    pub(super) fn judge_change(
        &mut self,
        user: &User,
        rights: &Rights,
        change: &ChangeCheck<'_>,
    ) -> Result<(), RefusedReason> {
        if !delivery::changed_on_devices(change.kind) {
            return Err(RefusedReason::NotPermitted);
        }
        match change.kind {
            DocKind::Client => self.check_basic_change(user, rights, change),
            DocKind::ClientRecord => self.check_record_change(user, rights, change),
            DocKind::ActivityMemo => self.check_memo_change(user, rights, change),
            DocKind::BriefContacts => self.check_brief_change(user, rights, change),
            DocKind::Credential => self.check_credential_change(user, rights, change),
            DocKind::Anonymised => check_anonymised(user, rights, change),
            DocKind::Organisation | DocKind::StatsExtract => Err(RefusedReason::NotPermitted),
        }
    }

    /// The code uses a change brings in must be ones a new record may
    /// choose, and a unit it moves to one a new record may be put in.
    fn check_codes_and_unit(
        &self,
        before: (&BTreeSet<CodeUse>, Option<polku_core::UnitId>),
        after: (&BTreeSet<CodeUse>, Option<polku_core::UnitId>),
    ) -> Result<(), RefusedReason> {
        let org = &self.session.org;
        let codes = CodeSet::for_organisation(org);
        if !validate::refused_new_codes(before.0, after.0, &codes).is_empty() {
            return Err(RefusedReason::Invalid);
        }
        if !validate::unit_allowed(org, before.1, after.1) {
            return Err(RefusedReason::Invalid);
        }
        Ok(())
    }

    /// A peer's change of a credential document: its own user's (a password
    /// changed on that device), or any user's by someone who manages users;
    /// it must stay the same user's, decode, and protect the password at least
    /// as well as the hub's policy asks.
    fn check_credential_change(
        &self,
        user: &User,
        rights: &Rights,
        change: &ChangeCheck<'_>,
    ) -> Result<(), RefusedReason> {
        let owner = credential::credential_user(change.after).ok_or(RefusedReason::Invalid)?;
        // The id is derived from the user: a document re-pointed at another
        // user no longer matches its id.
        if credential::credential_doc_id(owner) != change.id {
            return Err(RefusedReason::Invalid);
        }
        if !delivery::may_change_credential(user, rights, owner) {
            return Err(RefusedReason::NotPermitted);
        }
        let c = crate::credentials::newest(change.after).ok_or(RefusedReason::Invalid)?;
        let policy = crate::credentials::kdf_policy(&self.session.store)
            .map_err(|_| RefusedReason::Invalid)?;
        if !crate::credentials::strong_enough(&c.verifier, &policy) {
            return Err(RefusedReason::NotPermitted);
        }
        Ok(())
    }

    /// A peer's change of a client's basic-data document: the modify right
    /// on the client's scope before and after the change (the create right
    /// for a new client), the length limits, and codes and unit a new
    /// record may choose.
    fn check_basic_change(
        &mut self,
        user: &User,
        rights: &Rights,
        change: &ChangeCheck<'_>,
    ) -> Result<(), RefusedReason> {
        let hydrate = |doc: AutoCommit| -> Option<ClientBasic> {
            BasicDoc::from_automerge(doc).ok()?.get().ok()
        };
        let after = hydrate(change.after.clone()).ok_or(RefusedReason::Invalid)?;
        if DocId::from(after.id) != change.id {
            return Err(RefusedReason::Invalid);
        }
        // The hub holds a change from a peer to the limits the API holds its
        // own writes to.
        polku_core::limits::check_basic(&after).map_err(|_| RefusedReason::Invalid)?;
        let before = before(change, hydrate)?;
        let after_scope = DocScope {
            unit: after.unit,
            responsible: after.responsible.clone(),
            of: None,
        };
        let before_scope = before.as_ref().map(|b| DocScope {
            unit: b.unit,
            responsible: b.responsible.clone(),
            of: None,
        });
        delivery::judge_basic_change(
            user,
            rights,
            before_scope
                .as_ref()
                .map(DocScope::as_client_scope)
                .as_ref(),
            &after_scope.as_client_scope(),
        )
        .map_err(not_taken)?;
        let before_uses = before
            .as_ref()
            .map(validate::basic_code_uses)
            .unwrap_or_default();
        self.check_codes_and_unit(
            (&before_uses, before.as_ref().and_then(|b| b.unit)),
            (&validate::basic_code_uses(&after), after.unit),
        )?;
        // A record document checked later in this turn is judged on this.
        self.turn_scopes.insert(change.id, after_scope);
        Ok(())
    }

    /// A peer's change of a client's record document: the record right (and
    /// the memo right when memos changed) on the client's scope, as the
    /// client's basic-data document says after this turn; the length
    /// limits; codes a new record may choose.
    fn check_record_change(
        &mut self,
        user: &User,
        rights: &Rights,
        change: &ChangeCheck<'_>,
    ) -> Result<(), RefusedReason> {
        let hydrate = |doc: AutoCommit| -> Option<ClientRecord> {
            RecordDoc::from_automerge(doc).ok()?.get().ok()
        };
        let after = hydrate(change.after.clone()).ok_or(RefusedReason::Invalid)?;
        if after.id != change.id || record_doc_id(after.client) != change.id {
            return Err(RefusedReason::Invalid);
        }
        polku_core::limits::check_record(&after).map_err(|_| RefusedReason::Invalid)?;
        let before = before(change, hydrate)?.unwrap_or_else(|| ClientRecord::empty(after.client));
        let client: DocId = after.client.into();
        let scope = match self.turn_scopes.get(&client) {
            Some(s) => s.clone(),
            None => match self.session.store.load_doc(client) {
                Ok(doc) => client_scope(doc).ok_or(RefusedReason::Invalid)?,
                // No such client here: nothing to judge it on.
                Err(_) => return Err(RefusedReason::OutOfScope),
            },
        };
        let actions = delivery::record_change_actions(&before, &after);
        let scopes: [ClientScope<'_>; 1] = [scope.as_client_scope()];
        delivery::judge_change(user, rights, &actions, &scopes, change.before.is_some())
            .map_err(not_taken)?;
        self.check_codes_and_unit(
            (&validate::record_code_uses(&before), None),
            (&validate::record_code_uses(&after), None),
        )
    }

    /// A peer's change of an activity memo: the right to record work in its
    /// unit before and after the change (the rule of a local write), codes
    /// and unit a new memo may choose.
    fn check_memo_change(
        &self,
        user: &User,
        rights: &Rights,
        change: &ChangeCheck<'_>,
    ) -> Result<(), RefusedReason> {
        let hydrate = |doc: AutoCommit| {
            ActivityMemoDoc::from_automerge(doc)
                .ok()?
                .activity_memo()
                .ok()
        };
        let after = hydrate(change.after.clone()).ok_or(RefusedReason::Invalid)?;
        if DocId::from(after.id) != change.id {
            return Err(RefusedReason::Invalid);
        }
        let before = before(change, hydrate)?;
        self.check_unit_work(
            user,
            rights,
            (before.as_ref(), &after),
            |m| m.unit,
            validate::activity_code_uses,
        )
    }

    /// A peer's change of a brief-contact log: a valid log that keeps the
    /// id its unit and month derive, every contact dated in that month, the
    /// right to record work in the unit (the same rule as a local write),
    /// codes a new contact may choose, and (a new log) a unit in use.
    fn check_brief_change(
        &self,
        user: &User,
        rights: &Rights,
        change: &ChangeCheck<'_>,
    ) -> Result<(), RefusedReason> {
        let hydrate = |doc: AutoCommit| BriefDoc::from_automerge(doc).ok()?.log().ok();
        let after = hydrate(change.after.clone()).ok_or(RefusedReason::Invalid)?;
        if after.id != change.id || !after.id_matches() || !after.dates_match() {
            return Err(RefusedReason::Invalid);
        }
        let before = before(change, hydrate)?;
        self.check_unit_work(
            user,
            rights,
            (before.as_ref(), &after),
            |l| l.unit,
            validate::brief_code_uses,
        )
    }

    /// The checks shared by a unit's work (activity memos, brief-contact
    /// logs): the right to record work in the unit before and after the
    /// change, and codes and unit a new record may choose.
    fn check_unit_work<T>(
        &self,
        user: &User,
        rights: &Rights,
        (before, after): (Option<&T>, &T),
        unit: impl Fn(&T) -> polku_core::UnitId,
        uses: impl Fn(&T) -> BTreeSet<CodeUse>,
    ) -> Result<(), RefusedReason> {
        let mut units = vec![unit(after)];
        units.extend(before.map(&unit));
        may_record_unit_work(user, rights, &units).map_err(|_| RefusedReason::NotPermitted)?;
        let before_uses = before.map(&uses).unwrap_or_default();
        self.check_codes_and_unit(
            (&before_uses, before.map(&unit)),
            (&uses(after), Some(unit(after))),
        )
    }
}
