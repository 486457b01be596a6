//! The PAR rights matrix, table by table: every role × action × (own / unit / other).
//! The expected outcomes are written out by hand, not computed.

use std::collections::BTreeSet;

use polku_core::model::{Role, User};
use polku_core::rights::{
    Action, AdminRight, ClientScope, Denied, MissingRight, Rights, Scope, Target, can,
};
use polku_core::{UnitId, UserId};

const OK: Option<MissingRight> = None;
const VIEW: Option<MissingRight> = Some(MissingRight::View);
const MODIFY: Option<MissingRight> = Some(MissingRight::Modify);
const FULL: Option<MissingRight> = Some(MissingRight::FullRecord);
const MEMOS: Option<MissingRight> = Some(MissingRight::Memos);

const CLIENT_ACTIONS: [Action; 7] = [
    Action::ViewBasic,
    Action::ViewRecord,
    Action::ViewMemos,
    Action::ModifyBasic,
    Action::ModifyRecord,
    Action::WriteMemo,
    Action::EraseClient,
];

struct World {
    user: User,
    my_unit: UnitId,
    other_unit: UnitId,
    colleague: UserId,
}

fn world(role: Role, active: bool) -> World {
    let my_unit = UnitId::from_parts(1, [1; 10]);
    let other_unit = UnitId::from_parts(1, [2; 10]);
    World {
        user: User {
            id: UserId::from_parts(1, [3; 10]),
            login: "u".into(),
            display_name: "U".into(),
            role,
            units: BTreeSet::from([my_unit]),
            active,
        },
        my_unit,
        other_unit,
        colleague: UserId::from_parts(1, [4; 10]),
    }
}

/// Outcome of every client action on (own, unit, other) clients.
fn check_client_table(w: &World, rights: &Rights, table: [[Option<MissingRight>; 3]; 7]) {
    let own_resp = BTreeSet::from([w.user.id]);
    let other_resp = BTreeSet::from([w.colleague]);
    let own = ClientScope {
        unit: Some(w.my_unit),
        responsible: &own_resp,
    };
    let unit = ClientScope {
        unit: Some(w.my_unit),
        responsible: &other_resp,
    };
    let other = ClientScope {
        unit: Some(w.other_unit),
        responsible: &other_resp,
    };
    for (action, row) in CLIENT_ACTIONS.iter().zip(table) {
        for (target, (name, expected)) in [&own, &unit, &other].into_iter().zip([
            ("own", row[0]),
            ("unit", row[1]),
            ("other", row[2]),
        ]) {
            let got = can(&w.user, rights, *action, Target::Client(target))
                .err()
                .map(|d: Denied| d.missing);
            assert_eq!(
                got, expected,
                "{:?} {action:?} on {name} client",
                w.user.role
            );
        }
    }
}

/// Outcome of the organisation actions and of creating a client in the user's unit / another unit.
fn check_org_table(w: &World, rights: &Rights, table: [Option<MissingRight>; 7]) {
    let actions = [
        (Action::ManageUsers, Target::Organisation),
        (Action::ManageCodes, Target::Organisation),
        (Action::ViewAudit, Target::Organisation),
        (Action::RunStatistics, Target::Organisation),
        (Action::RunSupervisorReports, Target::Organisation),
        (Action::CreateClient, Target::NewClientIn(Some(w.my_unit))),
        (
            Action::CreateClient,
            Target::NewClientIn(Some(w.other_unit)),
        ),
    ];
    for ((action, target), expected) in actions.into_iter().zip(table) {
        let got = can(&w.user, rights, action, target)
            .err()
            .map(|d| d.missing);
        assert_eq!(got, expected, "{:?} {action:?} {target:?}", w.user.role);
    }
}

fn admin(r: AdminRight) -> Option<MissingRight> {
    Some(MissingRight::Admin(r))
}

#[test]
fn admin_may_do_everything() {
    let w = world(Role::Admin, true);
    let rights = Rights::for_role(Role::Admin);
    check_client_table(&w, &rights, [[OK; 3]; 7]);
    check_org_table(&w, &rights, [OK; 7]);
}

#[test]
fn coordinator_sees_basic_data_of_the_unit_and_runs_reports() {
    let w = world(Role::Coordinator, true);
    let rights = Rights::for_role(Role::Coordinator);
    check_client_table(
        &w,
        &rights,
        [
            // own    unit    other
            [OK, OK, VIEW],         // view basic
            [FULL, FULL, VIEW],     // view record
            [FULL, FULL, VIEW],     // view memos
            [MODIFY, MODIFY, VIEW], // modify basic
            [MODIFY, MODIFY, VIEW], // modify record
            [MODIFY, MODIFY, VIEW], // write memo
            [MODIFY, MODIFY, VIEW], // erase
        ],
    );
    check_org_table(
        &w,
        &rights,
        [
            admin(AdminRight::Users),
            admin(AdminRight::Codes),
            OK,
            OK,
            OK,
            MODIFY,
            MODIFY,
        ],
    );
}

#[test]
fn worker_sees_the_unit_and_modifies_own_clients() {
    let w = world(Role::Worker, true);
    let rights = Rights::for_role(Role::Worker);
    check_client_table(
        &w,
        &rights,
        [
            // own    unit    other
            [OK, OK, VIEW],         // view basic
            [OK, OK, VIEW],         // view record
            [OK, OK, VIEW],         // view memos
            [OK, MODIFY, VIEW],     // modify basic
            [OK, MODIFY, VIEW],     // modify record
            [OK, MODIFY, VIEW],     // write memo
            [MODIFY, MODIFY, VIEW], // erase
        ],
    );
    check_org_table(
        &w,
        &rights,
        [
            admin(AdminRight::Users),
            admin(AdminRight::Codes),
            admin(AdminRight::Audit),
            admin(AdminRight::Statistics),
            admin(AdminRight::SupervisorReports),
            OK,
            MODIFY,
        ],
    );
}

#[test]
fn inactive_users_have_no_rights_whatever_their_role() {
    for role in [Role::Admin, Role::Coordinator, Role::Worker] {
        let w = world(role, false);
        let rights = Rights::for_role(role);
        let a = Some(MissingRight::ActiveUser);
        check_client_table(&w, &rights, [[a; 3]; 7]);
        check_org_table(&w, &rights, [a; 7]);
    }
}

#[test]
fn adjusted_rights_no_memos_and_all_clients() {
    let w = world(Role::Worker, true);
    let rights = Rights {
        admin: BTreeSet::new(),
        view: Scope::All,
        modify: Scope::Unit,
        basic_data_only: false,
        memos: false,
    };
    check_client_table(
        &w,
        &rights,
        [
            // own    unit    other
            [OK, OK, OK],             // view basic
            [OK, OK, OK],             // view record
            [MEMOS, MEMOS, MEMOS],    // view memos
            [OK, OK, MODIFY],         // modify basic
            [OK, OK, MODIFY],         // modify record
            [MEMOS, MEMOS, MODIFY],   // write memo
            [MODIFY, MODIFY, MODIFY], // erase
        ],
    );
}
