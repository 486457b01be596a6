//! What the hub sends a device and accepts from it, as pure functions of the
//! user, their rights and the facts of a document (its client's unit and
//! responsible workers) — the rules the store-backed replica applies, kept
//! here beside [`super::can`] so that they are read, and tested, as one
//! table.

use crate::ids::{DocKind, UserId};
use crate::model::{ClientRecord, Organisation, User};

use super::{Action, ClientScope, Denied, MissingRight, Rights, Scope, Target, can};

/// Whether a user gets the hub's statistics extract: they run statistics and
/// their rights do not cover every client's record (basic data only, or
/// fewer than all clients).
pub fn gets_extract(user: &User, rights: &Rights) -> bool {
    can(user, rights, Action::RunStatistics, Target::Organisation).is_ok()
        && (rights.view != Scope::All || rights.basic_data_only)
}

/// Whether the hub sends `user` a document of `kind` whose facts are
/// `facts` (for a client's record document: its client's; for a credential
/// document: `responsible` holds its owner; an activity memo: its unit).
pub fn may_receive(user: &User, rights: &Rights, kind: DocKind, facts: &ClientScope<'_>) -> bool {
    match kind {
        DocKind::Organisation => true,
        DocKind::Client => can(user, rights, Action::ViewBasic, Target::Client(facts)).is_ok(),
        DocKind::ClientRecord => {
            can(user, rights, Action::ViewRecord, Target::Client(facts)).is_ok()
        }
        // Unit-scoped work records; reporting-only users (no client view)
        // get them through the statistics extract only.
        DocKind::ActivityMemo | DocKind::BriefContacts => facts
            .unit
            .is_some_and(|u| super::may_view_unit_work(user, rights, u).is_ok()),
        DocKind::Credential => user.active && facts.responsible.contains(&user.id),
        DocKind::StatsExtract => user.active && gets_extract(user, rights),
        // An erased client's anonymised record goes where its basic data
        // went (its unit and responsible workers), so that a device counts
        // it exactly as it counted the live client.
        DocKind::Anonymised => can(user, rights, Action::ViewBasic, Target::Client(facts)).is_ok(),
    }
}

/// Whether a device's user may write an erased client's anonymised record
/// (a new [`DocKind::Anonymised`] document): the erase right, as for the
/// tombstone written with it. An existing one is never changed.
pub fn may_write_anonymised(user: &User, rights: &Rights) -> bool {
    user.active && may_erase(user, rights, DocKind::Client)
}

/// The actions a change of a client's record document needs: seeing the
/// record always, the memo right when memos changed, the record's modify
/// right when anything else changed.
pub fn record_change_actions(before: &ClientRecord, after: &ClientRecord) -> Vec<Action> {
    let mut actions = vec![Action::ViewRecord];
    if before.memos != after.memos {
        actions.push(Action::WriteMemo);
    }
    let mut rest = before.clone();
    rest.memos = after.memos.clone();
    if rest != *after {
        actions.push(Action::ModifyRecord);
    }
    actions
}

/// Why the hub does not take a peer's change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotTaken {
    /// The user may not make it.
    NotPermitted,
    /// The document is no longer the user's to see (an existing document
    /// whose view right is gone).
    OutOfScope,
}

/// Judges a peer's change that needs every one of `actions` on each of
/// `scopes` (the client's before and after the change). `existed`: the
/// document was there before (then a missing view right reads as out of
/// scope).
pub fn judge_change(
    user: &User,
    rights: &Rights,
    actions: &[Action],
    scopes: &[ClientScope<'_>],
    existed: bool,
) -> Result<(), NotTaken> {
    for scope in scopes {
        for action in actions {
            match can(user, rights, *action, Target::Client(scope)) {
                Ok(()) => {}
                Err(Denied {
                    missing: MissingRight::View,
                }) if existed => return Err(NotTaken::OutOfScope),
                Err(_) => return Err(NotTaken::NotPermitted),
            }
        }
    }
    Ok(())
}

/// Whether a tombstone made by `user` may erase a document of `kind`:
/// the erase right, judged on the user's role as if active (a tombstone made
/// while the user could erase stays valid after the user is deactivated; a
/// deactivated user's device brings no new ones); the organisation document
/// never.
pub fn may_erase(user: &User, rights: &Rights, kind: DocKind) -> bool {
    if kind == DocKind::Organisation {
        return false;
    }
    let mut as_active = user.clone();
    as_active.active = true;
    let responsible = std::collections::BTreeSet::new();
    let scope = ClientScope {
        unit: None,
        responsible: &responsible,
    };
    can(
        &as_active,
        rights,
        Action::EraseClient,
        Target::Client(&scope),
    )
    .is_ok()
}

/// Why the hub does not talk to a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAdmitted {
    /// The node is not an enrolled device of the organisation.
    NotEnrolled,
    /// The device was revoked.
    DeviceRevoked,
    /// The device's user is deactivated (or unknown).
    UserDeactivated,
}

/// The user the device `node` (lowercase hex) speaks for, if the hub talks
/// to it: an enrolled device, not revoked, whose user is active.
pub fn admitted_user<'o>(org: &'o Organisation, node: &str) -> Result<&'o User, NotAdmitted> {
    let device = org.devices.get(node).ok_or(NotAdmitted::NotEnrolled)?;
    if device.is_revoked() {
        return Err(NotAdmitted::DeviceRevoked);
    }
    match org.users.get(&device.user) {
        Some(u) if u.active => Ok(u),
        _ => Err(NotAdmitted::UserDeactivated),
    }
}

/// Whether a document of `kind` may be changed on a device and synced to
/// the hub: every kind but the organisation document and the statistics
/// extract, which change on the hub only.
pub fn changed_on_devices(kind: DocKind) -> bool {
    !matches!(kind, DocKind::Organisation | DocKind::StatsExtract)
}

/// Judges a peer's change of a client's basic data: a new client needs the
/// create right in its unit and the modify right on it; an existing one the
/// modify right on its scope both before and after the change.
pub fn judge_basic_change(
    user: &User,
    rights: &Rights,
    before: Option<&ClientScope<'_>>,
    after: &ClientScope<'_>,
) -> Result<(), NotTaken> {
    match before {
        None => {
            can(
                user,
                rights,
                Action::CreateClient,
                Target::NewClientIn(after.unit),
            )
            .map_err(|_| NotTaken::NotPermitted)?;
            judge_change(
                user,
                rights,
                &[Action::ModifyBasic],
                std::slice::from_ref(after),
                false,
            )
        }
        Some(before) => judge_change(
            user,
            rights,
            &[Action::ModifyBasic],
            &[after.clone(), before.clone()],
            true,
        ),
    }
}

/// Whether `user` may change the credential document (password record) of
/// `owner`: their own, or anyone's with user management.
pub fn may_change_credential(user: &User, rights: &Rights, owner: UserId) -> bool {
    owner == user.id || can(user, rights, Action::ManageUsers, Target::Organisation).is_ok()
}

/// Whether a hub (`own`, lowercase hex) keeps a received audit entry signed
/// by node `node` that names `entry_user`: its own chain, or the chain of an
/// enrolled device whose entries name no user or the device's user.
pub fn hub_keeps_entry(
    org: &Organisation,
    own: &str,
    node: &str,
    entry_user: Option<UserId>,
) -> bool {
    node == own
        || org
            .devices
            .get(node)
            .is_some_and(|d| entry_user.is_none_or(|u| u == d.user))
}

/// Whether a tombstone by `user`, signed by node `node`, may erase a
/// document of `kind` here: the erasing node is the organisation's hub
/// (`hub`) or a device enrolled for that user, and the user may erase
/// ([`may_erase`], with the rights the organisation gives them now).
pub fn may_apply_tombstone(
    org: &Organisation,
    hub: Option<&str>,
    node: &str,
    user: UserId,
    kind: DocKind,
) -> bool {
    let speaks_for_user =
        hub == Some(node) || org.devices.get(node).is_some_and(|d| d.user == user);
    speaks_for_user
        && org
            .users
            .get(&user)
            .is_some_and(|u| may_erase(u, &Rights::for_user(u), kind))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::ids::{ClientId, MemoId, UnitId, UserId};
    use crate::model::{Memo, Role};

    fn user(role: Role, unit: UnitId) -> User {
        User {
            id: UserId::new(),
            login: "u".into(),
            display_name: String::new(),
            role,
            units: [unit].into_iter().collect(),
            active: true,
            rights: None,
        }
    }

    /// Who receives which kind of document, by role and by the client's
    /// relation to the user: the table the hub's offer follows.
    #[test]
    fn who_receives_what() {
        let (mine, other) = (UnitId::new(), UnitId::new());
        use DocKind::*;
        // (role, relation, kind, received)
        let table: &[(Role, &str, DocKind, bool)] = &[
            (Role::Worker, "own", Client, true),
            (Role::Worker, "own", ClientRecord, true),
            (Role::Worker, "unit", Client, true),
            (Role::Worker, "unit", ClientRecord, true),
            (Role::Worker, "other", Client, false),
            (Role::Worker, "other", ClientRecord, false),
            (Role::Worker, "unit", StatsExtract, false),
            (Role::Coordinator, "unit", Client, true),
            (Role::Coordinator, "unit", ClientRecord, false),
            (Role::Coordinator, "other", Client, false),
            (Role::Coordinator, "unit", StatsExtract, true),
            (Role::Admin, "other", Client, true),
            (Role::Admin, "other", ClientRecord, true),
            (Role::Admin, "other", StatsExtract, false),
            (Role::Worker, "unit", ActivityMemo, true),
            (Role::Worker, "other", ActivityMemo, false),
            (Role::Admin, "other", ActivityMemo, true),
            (Role::Worker, "other", Organisation, true),
            // An erased client's anonymised record goes where its basic data went.
            (Role::Worker, "unit", Anonymised, true),
            (Role::Worker, "other", Anonymised, false),
            (Role::Coordinator, "unit", Anonymised, true),
            (Role::Admin, "other", Anonymised, true),
        ];
        for &(role, relation, kind, expected) in table {
            let u = user(role, mine);
            let rights = Rights::for_role(role);
            let responsible: BTreeSet<UserId> = match relation {
                "own" => [u.id].into_iter().collect(),
                _ => BTreeSet::new(),
            };
            let unit = match relation {
                "other" => Some(other),
                _ => Some(mine),
            };
            let facts = ClientScope {
                unit,
                responsible: &responsible,
            };
            assert_eq!(
                may_receive(&u, &rights, kind, &facts),
                expected,
                "{role:?} {relation} {kind:?}"
            );
            // A deactivated user receives nothing but the organisation.
            let mut off = u.clone();
            off.active = false;
            assert_eq!(
                may_receive(&off, &rights, kind, &facts),
                kind == Organisation,
                "inactive {role:?} {kind:?}"
            );
        }
    }

    #[test]
    fn credential_documents_go_to_their_owner_only() {
        let unit = UnitId::new();
        let u = user(Role::Admin, unit);
        let rights = Rights::for_role(Role::Admin);
        let owner: BTreeSet<UserId> = [u.id].into_iter().collect();
        let someone: BTreeSet<UserId> = [UserId::new()].into_iter().collect();
        let facts = |r| ClientScope {
            unit: None,
            responsible: r,
        };
        assert!(may_receive(
            &u,
            &rights,
            DocKind::Credential,
            &facts(&owner)
        ));
        assert!(!may_receive(
            &u,
            &rights,
            DocKind::Credential,
            &facts(&someone)
        ));
    }

    #[test]
    fn record_changes_need_the_rights_of_what_changed() {
        let c = ClientId::new();
        let before = ClientRecord::empty(c);
        let mut memo = before.clone();
        let m = MemoId::new();
        memo.memos.insert(
            m,
            Memo {
                id: m,
                date: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
                author: UserId::new(),
                kind: "meeting".into(),
                text: "x".into(),
                deleted: None,
            },
        );
        let mut background = before.clone();
        background.background.health = "x".into();
        let mut both = memo.clone();
        both.background.health = "x".into();
        assert_eq!(
            record_change_actions(&before, &before),
            [Action::ViewRecord]
        );
        assert_eq!(
            record_change_actions(&before, &memo),
            [Action::ViewRecord, Action::WriteMemo]
        );
        assert_eq!(
            record_change_actions(&before, &background),
            [Action::ViewRecord, Action::ModifyRecord]
        );
        assert_eq!(
            record_change_actions(&before, &both),
            [Action::ViewRecord, Action::WriteMemo, Action::ModifyRecord]
        );
    }

    #[test]
    fn a_change_is_judged_on_every_scope_and_a_lost_view_is_out_of_scope() {
        let (mine, other) = (UnitId::new(), UnitId::new());
        let worker = user(Role::Worker, mine);
        let rights = Rights::for_role(Role::Worker);
        let own: BTreeSet<UserId> = [worker.id].into_iter().collect();
        let none = BTreeSet::new();
        let here = ClientScope {
            unit: Some(mine),
            responsible: &own,
        };
        let unit_only = ClientScope {
            unit: Some(mine),
            responsible: &none,
        };
        let elsewhere = ClientScope {
            unit: Some(other),
            responsible: &none,
        };
        let modify = [Action::ModifyRecord];
        assert_eq!(
            judge_change(&worker, &rights, &modify, std::slice::from_ref(&here), true),
            Ok(())
        );
        // A worker modifies own clients only.
        assert_eq!(
            judge_change(&worker, &rights, &modify, &[unit_only], true),
            Err(NotTaken::NotPermitted)
        );
        // Moved out of the user's view: out of scope, or not permitted when new.
        assert_eq!(
            judge_change(
                &worker,
                &rights,
                &modify,
                &[here.clone(), elsewhere.clone()],
                true
            ),
            Err(NotTaken::OutOfScope)
        );
        assert_eq!(
            judge_change(&worker, &rights, &modify, &[elsewhere], false),
            Err(NotTaken::NotPermitted)
        );
    }

    #[test]
    fn only_admins_erase_and_never_the_organisation() {
        let unit = UnitId::new();
        for (role, erases) in [
            (Role::Admin, true),
            (Role::Coordinator, false),
            (Role::Worker, false),
        ] {
            let mut u = user(role, unit);
            let rights = Rights::for_role(role);
            assert_eq!(may_erase(&u, &rights, DocKind::Client), erases, "{role:?}");
            assert!(!may_erase(&u, &rights, DocKind::Organisation));
            // Judged as if active: a deactivated admin's old tombstone holds.
            u.active = false;
            assert_eq!(may_erase(&u, &rights, DocKind::Client), erases, "{role:?}");
        }
    }

    fn org_with_devices() -> (Organisation, [User; 4]) {
        use crate::ids::OrgId;
        use crate::model::Device;
        let unit = UnitId::new();
        let mut org = Organisation::new(OrgId::new(), "Org");
        let admin = user(Role::Admin, unit);
        let worker = user(Role::Worker, unit);
        let mut gone = user(Role::Worker, unit);
        gone.active = false;
        let revoked_owner = user(Role::Worker, unit);
        for (node, u, revoked) in [
            ("aa", &admin, false),
            ("bb", &worker, false),
            ("cc", &gone, false),
            ("dd", &revoked_owner, true),
        ] {
            org.users.insert(u.id, u.clone());
            org.devices.insert(
                node.into(),
                Device {
                    node_id: node.into(),
                    user: u.id,
                    label: String::new(),
                    enrolled_at: chrono::DateTime::from_timestamp_millis(0).expect("time"),
                    revoked_at: revoked
                        .then(|| chrono::DateTime::from_timestamp_millis(1).expect("time")),
                },
            );
        }
        (org, [admin, worker, gone, revoked_owner])
    }

    /// Which devices the hub talks to.
    #[test]
    fn the_hub_admits_enrolled_unrevoked_devices_of_active_users() {
        let (org, [admin, worker, ..]) = org_with_devices();
        let table: &[(&str, Result<UserId, NotAdmitted>)] = &[
            ("aa", Ok(admin.id)),
            ("bb", Ok(worker.id)),
            ("cc", Err(NotAdmitted::UserDeactivated)),
            ("dd", Err(NotAdmitted::DeviceRevoked)),
            ("ee", Err(NotAdmitted::NotEnrolled)),
        ];
        for (node, expected) in table {
            assert_eq!(admitted_user(&org, node).map(|u| u.id), *expected, "{node}");
        }
    }

    #[test]
    fn only_the_hub_changes_the_organisation_and_the_extract() {
        use DocKind::*;
        for (kind, on_devices) in [
            (Client, true),
            (ClientRecord, true),
            (ActivityMemo, true),
            (BriefContacts, true),
            (Credential, true),
            (Anonymised, true),
            (Organisation, false),
            (StatsExtract, false),
        ] {
            assert_eq!(changed_on_devices(kind), on_devices, "{kind:?}");
        }
    }

    /// Only a user who may erase writes an anonymised record.
    #[test]
    fn anonymised_records_come_from_users_who_may_erase() {
        let unit = UnitId::new();
        for (role, expected) in [
            (Role::Admin, true),
            (Role::Coordinator, false),
            (Role::Worker, false),
        ] {
            let mut u = user(role, unit);
            let rights = Rights::for_role(role);
            assert_eq!(may_write_anonymised(&u, &rights), expected, "{role:?}");
            u.active = false;
            assert!(!may_write_anonymised(&u, &rights), "{role:?} deactivated");
        }
    }

    #[test]
    fn basic_data_changes_need_create_and_modify_rights() {
        let (mine, other) = (UnitId::new(), UnitId::new());
        let worker = user(Role::Worker, mine);
        let own: BTreeSet<UserId> = [worker.id].into_iter().collect();
        let none = BTreeSet::new();
        let w = Rights::for_role(Role::Worker);
        let at = |unit, responsible| ClientScope {
            unit: Some(unit),
            responsible,
        };
        // (unit and responsible before (None: a new client), after, expected)
        type Row<'a> = (
            Option<(UnitId, &'a BTreeSet<UserId>)>,
            (UnitId, &'a BTreeSet<UserId>),
            Result<(), NotTaken>,
        );
        let table: [Row<'_>; 5] = [
            // A new own client in her unit; in another unit she may not create.
            (None, (mine, &own), Ok(())),
            (None, (other, &own), Err(NotTaken::NotPermitted)),
            // Her own client; a unit client she is not responsible for.
            (Some((mine, &own)), (mine, &own), Ok(())),
            (
                Some((mine, &none)),
                (mine, &own),
                Err(NotTaken::NotPermitted),
            ),
            // A client she could not see before: out of scope.
            (
                Some((other, &none)),
                (mine, &own),
                Err(NotTaken::OutOfScope),
            ),
        ];
        for (before, after, expected) in table {
            let b = before.map(|(u, r)| at(u, r));
            let a = at(after.0, after.1);
            assert_eq!(
                judge_basic_change(&worker, &w, b.as_ref(), &a),
                expected,
                "{before:?} -> {after:?}"
            );
        }
    }

    #[test]
    fn credentials_are_changed_by_their_owner_or_a_user_manager() {
        let unit = UnitId::new();
        let worker = user(Role::Worker, unit);
        let admin = user(Role::Admin, unit);
        let someone = UserId::new();
        let w = Rights::for_role(Role::Worker);
        let a = Rights::for_role(Role::Admin);
        assert!(may_change_credential(&worker, &w, worker.id));
        assert!(!may_change_credential(&worker, &w, someone));
        assert!(may_change_credential(&admin, &a, someone));
    }

    #[test]
    fn the_hub_keeps_its_own_chain_and_enrolled_devices_entries_of_their_user() {
        let (org, [admin, worker, ..]) = org_with_devices();
        let table: &[(&str, Option<UserId>, bool)] = &[
            ("ff", Some(UserId::new()), true), // its own chain
            ("bb", Some(worker.id), true),
            ("bb", None, true),
            ("bb", Some(admin.id), false), // a device speaking for another user
            ("ee", None, false),           // not enrolled
        ];
        for &(node, entry_user, kept) in table {
            assert_eq!(
                hub_keeps_entry(&org, "ff", node, entry_user),
                kept,
                "{node} {entry_user:?}"
            );
        }
    }

    #[test]
    fn tombstones_come_from_the_hub_or_the_erasing_users_device() {
        let (org, [admin, worker, ..]) = org_with_devices();
        let table: &[(Option<&str>, &str, UserId, DocKind, bool)] = &[
            (Some("ff"), "ff", admin.id, DocKind::Client, true),
            (Some("ff"), "aa", admin.id, DocKind::Client, true),
            (Some("ff"), "bb", admin.id, DocKind::Client, false), // not her device
            (Some("ff"), "bb", worker.id, DocKind::Client, false), // may not erase
            (Some("ff"), "ff", admin.id, DocKind::Organisation, false),
            (None, "ff", admin.id, DocKind::Client, false), // no hub known
        ];
        for &(hub, node, u, kind, ok) in table {
            assert_eq!(
                may_apply_tombstone(&org, hub, node, u, kind),
                ok,
                "{hub:?} {node} {kind:?}"
            );
        }
    }
}
