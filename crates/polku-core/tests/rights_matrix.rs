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
            rights: None,
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

// Adjusted configurations. Each column below is one client, its seven rows
// the client actions in the order of `CLIENT_ACTIONS`.

/// The outcome of every client action on one client.
fn column(user: &User, rights: &Rights, client: &ClientScope<'_>) -> [Option<MissingRight>; 7] {
    CLIENT_ACTIONS.map(|a| {
        can(user, rights, a, Target::Client(client))
            .err()
            .map(|d| d.missing)
    })
}

fn create_in(user: &User, rights: &Rights, unit: Option<UnitId>) -> Option<MissingRight> {
    can(
        user,
        rights,
        Action::CreateClient,
        Target::NewClientIn(unit),
    )
    .err()
    .map(|d| d.missing)
}

fn org_actions(user: &User, rights: &Rights) -> [Option<MissingRight>; 5] {
    [
        Action::ManageUsers,
        Action::ManageCodes,
        Action::ViewAudit,
        Action::RunStatistics,
        Action::RunSupervisorReports,
    ]
    .map(|a| {
        can(user, rights, a, Target::Organisation)
            .err()
            .map(|d| d.missing)
    })
}

#[test]
fn admin_rights_added_to_a_worker_and_removed_from_an_admin() {
    // A worker given audit viewing and statistics, nothing else.
    let w = world(Role::Worker, true);
    let mut rights = Rights::for_role(Role::Worker);
    rights.admin = BTreeSet::from([AdminRight::Audit, AdminRight::Statistics]);
    assert_eq!(
        org_actions(&w.user, &rights),
        [
            admin(AdminRight::Users),
            admin(AdminRight::Codes),
            OK,
            OK,
            admin(AdminRight::SupervisorReports),
        ]
    );
    // Client rights are unchanged by admin rights.
    check_client_table(
        &w,
        &rights,
        [
            [OK, OK, VIEW],
            [OK, OK, VIEW],
            [OK, OK, VIEW],
            [OK, MODIFY, VIEW],
            [OK, MODIFY, VIEW],
            [OK, MODIFY, VIEW],
            [MODIFY, MODIFY, VIEW],
        ],
    );

    // An admin without user management and code lists: may still see and
    // change every client, but not erase one (the register keeper's right).
    let w = world(Role::Admin, true);
    let mut rights = Rights::for_role(Role::Admin);
    rights.admin.remove(&AdminRight::Users);
    rights.admin.remove(&AdminRight::Codes);
    assert_eq!(
        org_actions(&w.user, &rights),
        [
            admin(AdminRight::Users),
            admin(AdminRight::Codes),
            OK,
            OK,
            OK
        ]
    );
    let erase_denied = admin(AdminRight::Users);
    check_client_table(
        &w,
        &rights,
        [
            [OK; 3],
            [OK; 3],
            [OK; 3],
            [OK; 3],
            [OK; 3],
            [OK; 3],
            [erase_denied; 3],
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
            OK,
            OK,
        ],
    );
}

#[test]
fn a_basic_data_only_worker_sees_and_changes_basic_data_only() {
    let w = world(Role::Worker, true);
    let rights = Rights {
        basic_data_only: true,
        ..Rights::for_role(Role::Worker)
    };
    check_client_table(
        &w,
        &rights,
        [
            // own    unit    other
            [OK, OK, VIEW],         // view basic
            [FULL, FULL, VIEW],     // view record
            [FULL, FULL, VIEW],     // view memos (basic data only wins over memo rights)
            [OK, MODIFY, VIEW],     // modify basic
            [FULL, MODIFY, VIEW],   // modify record
            [FULL, MODIFY, VIEW],   // write memo
            [MODIFY, MODIFY, VIEW], // erase
        ],
    );
}

#[test]
fn view_scope_none_sees_nothing_and_view_scope_own_only_own_clients() {
    let w = world(Role::Worker, true);
    let none = Rights {
        view: Scope::None,
        modify: Scope::None,
        ..Rights::for_role(Role::Worker)
    };
    check_client_table(&w, &none, [[VIEW; 3]; 7]);
    assert_eq!(create_in(&w.user, &none, Some(w.my_unit)), MODIFY);

    let own = Rights {
        view: Scope::Own,
        modify: Scope::Own,
        ..Rights::for_role(Role::Worker)
    };
    check_client_table(
        &w,
        &own,
        [
            // own    unit    other
            [OK, VIEW, VIEW],
            [OK, VIEW, VIEW],
            [OK, VIEW, VIEW],
            [OK, VIEW, VIEW],
            [OK, VIEW, VIEW],
            [OK, VIEW, VIEW],
            [MODIFY, VIEW, VIEW],
        ],
    );
    assert_eq!(create_in(&w.user, &own, Some(w.my_unit)), OK);
    assert_eq!(create_in(&w.user, &own, Some(w.other_unit)), MODIFY);
}

#[test]
fn a_client_without_a_unit_is_own_or_other_never_the_units() {
    let colleague = BTreeSet::from([UserId::from_parts(1, [4; 10])]);
    for role in [Role::Worker, Role::Coordinator, Role::Admin] {
        let w = world(role, true);
        let rights = Rights::for_role(role);
        let mine = BTreeSet::from([w.user.id]);
        let own_no_unit = ClientScope {
            unit: None,
            responsible: &mine,
        };
        let colleagues_no_unit = ClientScope {
            unit: None,
            responsible: &colleague,
        };
        let nobodys_no_unit = ClientScope {
            unit: None,
            responsible: &BTreeSet::new(),
        };
        let (own, other, create) = match role {
            Role::Worker => ([OK, OK, OK, OK, OK, OK, MODIFY], [VIEW; 7], MODIFY),
            Role::Coordinator => (
                [OK, FULL, FULL, MODIFY, MODIFY, MODIFY, MODIFY],
                [VIEW; 7],
                MODIFY,
            ),
            Role::Admin => ([OK; 7], [OK; 7], OK),
        };
        assert_eq!(column(&w.user, &rights, &own_no_unit), own, "{role:?} own");
        assert_eq!(
            column(&w.user, &rights, &colleagues_no_unit),
            other,
            "{role:?} colleague's"
        );
        assert_eq!(
            column(&w.user, &rights, &nobodys_no_unit),
            other,
            "{role:?} nobody's"
        );
        assert_eq!(create_in(&w.user, &rights, None), create, "{role:?} create");
    }
}

#[test]
fn a_user_in_several_units_sees_each_of_them() {
    let mut w = world(Role::Worker, true);
    let second = UnitId::from_parts(1, [5; 10]);
    w.user.units.insert(second);
    let rights = Rights::for_role(Role::Worker);
    let colleague = BTreeSet::from([w.colleague]);
    let mine = BTreeSet::from([w.user.id]);
    let in_first = ClientScope {
        unit: Some(w.my_unit),
        responsible: &colleague,
    };
    let in_second = ClientScope {
        unit: Some(second),
        responsible: &colleague,
    };
    let own_in_second = ClientScope {
        unit: Some(second),
        responsible: &mine,
    };
    let elsewhere = ClientScope {
        unit: Some(w.other_unit),
        responsible: &colleague,
    };
    let unit_col = [OK, OK, OK, MODIFY, MODIFY, MODIFY, MODIFY];
    assert_eq!(column(&w.user, &rights, &in_first), unit_col);
    assert_eq!(column(&w.user, &rights, &in_second), unit_col);
    assert_eq!(
        column(&w.user, &rights, &own_in_second),
        [OK, OK, OK, OK, OK, OK, MODIFY]
    );
    assert_eq!(column(&w.user, &rights, &elsewhere), [VIEW; 7]);
    assert_eq!(create_in(&w.user, &rights, Some(w.my_unit)), OK);
    assert_eq!(create_in(&w.user, &rights, Some(second)), OK);
    assert_eq!(create_in(&w.user, &rights, Some(w.other_unit)), MODIFY);
}

#[test]
fn a_modify_scope_wider_than_the_view_scope_gives_nothing_beyond_the_view() {
    let w = world(Role::Worker, true);
    let rights = Rights {
        view: Scope::Own,
        modify: Scope::All,
        ..Rights::for_role(Role::Worker)
    };
    check_client_table(
        &w,
        &rights,
        [
            // own    unit    other
            [OK, VIEW, VIEW],
            [OK, VIEW, VIEW],
            [OK, VIEW, VIEW],
            [OK, VIEW, VIEW],
            [OK, VIEW, VIEW],
            [OK, VIEW, VIEW],
            // Modify-all, but erasing also needs user management.
            [admin(AdminRight::Users), VIEW, VIEW],
        ],
    );
    let unit_view = Rights {
        view: Scope::Unit,
        modify: Scope::All,
        admin: BTreeSet::from([AdminRight::Users]),
        ..Rights::for_role(Role::Worker)
    };
    check_client_table(
        &w,
        &unit_view,
        [
            [OK, OK, VIEW],
            [OK, OK, VIEW],
            [OK, OK, VIEW],
            [OK, OK, VIEW],
            [OK, OK, VIEW],
            [OK, OK, VIEW],
            [OK, OK, VIEW],
        ],
    );
}

/// `Rights::for_user`: the role's defaults with the user's adjustment,
/// table by table (role, adjustment) → (view, modify, basic only, memos,
/// admin rights), written out by hand.
#[test]
fn a_users_rights_are_the_roles_defaults_with_the_adjustment_applied() {
    use AdminRight::*;
    use polku_core::rights::RightsAdjustment;
    let none = RightsAdjustment::default();
    let adj = |view, modify, basic, memos, admin: Option<&[AdminRight]>| RightsAdjustment {
        admin: admin.map(|a| a.iter().copied().collect()),
        view,
        modify,
        basic_data_only: basic,
        memos,
    };
    type Row = (
        Role,
        Option<RightsAdjustment>,
        (Scope, Scope, bool, bool, &'static [AdminRight]),
    );
    let table: Vec<Row> = vec![
        // No adjustment: the role's defaults.
        (
            Role::Worker,
            None,
            (Scope::Unit, Scope::Own, false, true, &[]),
        ),
        (
            Role::Coordinator,
            None,
            (
                Scope::Unit,
                Scope::None,
                true,
                false,
                &[Audit, SupervisorReports, Statistics],
            ),
        ),
        (
            Role::Admin,
            Some(none.clone()),
            (
                Scope::All,
                Scope::All,
                false,
                true,
                &[Users, Codes, Audit, SupervisorReports, Statistics],
            ),
        ),
        // A worker without memo rights.
        (
            Role::Worker,
            Some(adj(None, None, None, Some(false), None)),
            (Scope::Unit, Scope::Own, false, false, &[]),
        ),
        // Reporting only: no clients, statistics.
        (
            Role::Worker,
            Some(adj(
                Some(Scope::None),
                Some(Scope::None),
                None,
                Some(false),
                Some(&[Statistics]),
            )),
            (Scope::None, Scope::None, false, false, &[Statistics]),
        ),
        // Modify is never wider than view.
        (
            Role::Worker,
            Some(adj(Some(Scope::Own), Some(Scope::All), None, None, None)),
            (Scope::Own, Scope::Own, false, true, &[]),
        ),
        // Basic data only takes the memo right away, even if ticked.
        (
            Role::Worker,
            Some(adj(None, None, Some(true), Some(true), None)),
            (Scope::Unit, Scope::Own, true, false, &[]),
        ),
        // A coordinator widened to the whole record and all clients.
        (
            Role::Coordinator,
            Some(adj(Some(Scope::All), None, Some(false), Some(true), None)),
            (
                Scope::All,
                Scope::None,
                false,
                true,
                &[Audit, SupervisorReports, Statistics],
            ),
        ),
        // An admin without user management keeps the rest.
        (
            Role::Admin,
            Some(adj(None, None, None, None, Some(&[Codes, Audit]))),
            (Scope::All, Scope::All, false, true, &[Codes, Audit]),
        ),
    ];
    for (i, (role, adjustment, (view, modify, basic, memos, admin))) in
        table.into_iter().enumerate()
    {
        let mut w = world(role, true);
        w.user.rights = adjustment;
        let r = Rights::for_user(&w.user);
        assert_eq!(
            (r.view, r.modify, r.basic_data_only, r.memos),
            (view, modify, basic, memos),
            "row {i}"
        );
        assert_eq!(
            r.admin,
            admin.iter().copied().collect::<BTreeSet<_>>(),
            "row {i}"
        );
    }
}

/// With an adjustment, `can` follows the adjusted rights: a reporting-only
/// user sees no client at all, not even their own.
#[test]
fn a_reporting_only_user_may_run_statistics_and_touch_no_client() {
    use polku_core::rights::RightsAdjustment;
    let mut w = world(Role::Worker, true);
    w.user.rights = Some(RightsAdjustment {
        admin: Some([AdminRight::Statistics].into()),
        view: Some(Scope::None),
        modify: Some(Scope::None),
        ..Default::default()
    });
    let rights = Rights::for_user(&w.user);
    check_client_table(&w, &rights, [[VIEW; 3]; 7]);
    assert_eq!(
        can(
            &w.user,
            &rights,
            Action::RunStatistics,
            Target::Organisation
        ),
        Ok(())
    );
    assert!(
        can(
            &w.user,
            &rights,
            Action::CreateClient,
            Target::NewClientIn(Some(w.my_unit))
        )
        .is_err()
    );
}
