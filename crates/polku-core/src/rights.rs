//! Rights (oikeudet) as PAR defines them, as pure functions.
//!
//! PAR's rights, which organisations already know:
//! - administration: user and rights management, code-list management,
//!   audit-log viewing, supervisor reports, reports and statistics only;
//! - client management: view own clients / the unit's clients / all clients;
//!   modify own / the unit's / all; basic data only; no memo rights.
//!
//! A user belongs to one or more units; a client belongs to a unit and has
//! responsible workers. An inactive user has no rights at all.
//!
//! [`can`] is the single decision point: it answers `Ok(())` or a [`Denied`]
//! naming the missing right.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ids::{UnitId, UserId};
use crate::model::{Role, User};

/// How far a client right reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// No clients.
    None,
    /// Clients the user is responsible for (omat asiakkaat).
    Own,
    /// Clients of the user's units (yksikön asiakkaat).
    Unit,
    /// All clients of the organisation (kaikki asiakkaat).
    All,
}

impl Scope {
    /// Every scope, narrowest first.
    pub const ALL: [Scope; 4] = [Scope::None, Scope::Own, Scope::Unit, Scope::All];

    /// The stable string stored in documents. Do not change.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::None => "none",
            Scope::Own => "own",
            Scope::Unit => "unit",
            Scope::All => "all",
        }
    }

    /// Whether this scope covers a client with the given relation to the user.
    pub fn covers(self, relation: Relation) -> bool {
        match self {
            Scope::None => false,
            Scope::Own => relation == Relation::Own,
            Scope::Unit => matches!(relation, Relation::Own | Relation::Unit),
            Scope::All => true,
        }
    }
}

/// An administrative right (hallinnointioikeus).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminRight {
    /// User and rights management (käyttäjä- ja oikeushallinta).
    Users,
    /// Code-list management (koodistojen hallinta).
    Codes,
    /// Audit-log viewing (lokitietojen katselu).
    Audit,
    /// Supervisor reports (esimiesraportit): per-worker figures.
    SupervisorReports,
    /// Reports and statistics (raportit ja tilastot).
    Statistics,
}

impl std::str::FromStr for Scope {
    type Err = crate::model::UnknownVariant;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or(crate::model::UnknownVariant { kind: "Scope" })
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AdminRight {
    /// The stable string stored in documents. Do not change.
    pub fn as_str(self) -> &'static str {
        match self {
            AdminRight::Users => "users",
            AdminRight::Codes => "codes",
            AdminRight::Audit => "audit",
            AdminRight::SupervisorReports => "supervisor_reports",
            AdminRight::Statistics => "statistics",
        }
    }

    /// Every administrative right.
    pub const ALL: [AdminRight; 5] = [
        AdminRight::Users,
        AdminRight::Codes,
        AdminRight::Audit,
        AdminRight::SupervisorReports,
        AdminRight::Statistics,
    ];
}

impl std::str::FromStr for AdminRight {
    type Err = crate::model::UnknownVariant;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AdminRight::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or(crate::model::UnknownVariant { kind: "AdminRight" })
    }
}

impl std::fmt::Display for AdminRight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A per-user adjustment of the role's rights: PAR's check boxes, stored on
/// the user in the organisation document. Each field given replaces the
/// role's default; an absent field keeps it. No adjustment at all (the
/// default) means the role's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RightsAdjustment {
    /// Administrative rights, replacing the role's whole set.
    pub admin: Option<BTreeSet<AdminRight>>,
    /// Which clients the user may view.
    pub view: Option<Scope>,
    /// Which clients the user may modify.
    pub modify: Option<Scope>,
    /// Basic data only.
    pub basic_data_only: Option<bool>,
    /// Memo rights.
    pub memos: Option<bool>,
}

impl RightsAdjustment {
    /// Whether nothing is adjusted.
    pub fn is_empty(&self) -> bool {
        *self == RightsAdjustment::default()
    }

    /// This adjustment with every field `other` gives replaced by it.
    pub fn merged(&self, other: &RightsAdjustment) -> RightsAdjustment {
        RightsAdjustment {
            admin: other.admin.clone().or_else(|| self.admin.clone()),
            view: other.view.or(self.view),
            modify: other.modify.or(self.modify),
            basic_data_only: other.basic_data_only.or(self.basic_data_only),
            memos: other.memos.or(self.memos),
        }
    }
}

/// The rights of one user: a role's defaults, possibly adjusted per user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rights {
    /// Administrative rights.
    pub admin: BTreeSet<AdminRight>,
    /// Which clients the user may view.
    pub view: Scope,
    /// Which clients the user may modify (never wider than `view` in effect).
    pub modify: Scope,
    /// Basic data only (vain perustiedot): no background, periods, memos or attachments.
    pub basic_data_only: bool,
    /// Memo rights (muistio-oikeus): read and write memos of clients in view.
    pub memos: bool,
}

impl Rights {
    /// The rights of `user`: the role's defaults with the user's adjustment
    /// applied ([`User::rights`]). The one place rights come from: the
    /// session, the hub's scope and its judging of changes all use it.
    ///
    /// - a field the adjustment gives replaces the role's default;
    /// - the modify scope is narrowed to the view scope (one cannot modify
    ///   what one cannot see);
    /// - basic data only takes the memo right away (memos are not basic data).
    pub fn for_user(user: &User) -> Rights {
        let mut rights = Rights::for_role(user.role);
        if let Some(adj) = &user.rights {
            if let Some(admin) = &adj.admin {
                rights.admin = admin.clone();
            }
            rights.view = adj.view.unwrap_or(rights.view);
            rights.modify = adj.modify.unwrap_or(rights.modify);
            rights.basic_data_only = adj.basic_data_only.unwrap_or(rights.basic_data_only);
            rights.memos = adj.memos.unwrap_or(rights.memos);
        }
        rights.modify = rights.modify.min(rights.view);
        if rights.basic_data_only {
            rights.memos = false;
        }
        rights
    }

    /// The PAR defaults of a role.
    pub fn for_role(role: Role) -> Rights {
        match role {
            Role::Admin => Rights {
                admin: AdminRight::ALL.into_iter().collect(),
                view: Scope::All,
                modify: Scope::All,
                basic_data_only: false,
                memos: true,
            },
            Role::Coordinator => Rights {
                admin: [
                    AdminRight::Audit,
                    AdminRight::SupervisorReports,
                    AdminRight::Statistics,
                ]
                .into_iter()
                .collect(),
                view: Scope::Unit,
                modify: Scope::None,
                basic_data_only: true,
                memos: false,
            },
            Role::Worker => Rights {
                admin: BTreeSet::new(),
                view: Scope::Unit,
                modify: Scope::Own,
                basic_data_only: false,
                memos: true,
            },
        }
    }
}

/// How a client relates to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    /// The user is one of the client's responsible workers.
    Own,
    /// The client belongs to one of the user's units, but is not the user's own.
    Unit,
    /// Neither.
    Other,
}

/// The facts about a client that rights depend on (no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientScope<'a> {
    /// The client's unit.
    pub unit: Option<UnitId>,
    /// The client's responsible workers.
    pub responsible: &'a BTreeSet<UserId>,
}

impl ClientScope<'_> {
    /// The client's relation to `user`.
    pub fn relation_to(&self, user: &User) -> Relation {
        if self.responsible.contains(&user.id) {
            Relation::Own
        } else if self.unit.is_some_and(|u| user.units.contains(&u)) {
            Relation::Unit
        } else {
            Relation::Other
        }
    }
}

/// What a user wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See a client's basic data (perustiedot).
    ViewBasic,
    /// See the rest of a client's record: background, situation, periods, referrals…
    ViewRecord,
    /// Read the client's memos.
    ViewMemos,
    /// Change basic data.
    ModifyBasic,
    /// Change the rest of the record (periods, measures, situation…).
    ModifyRecord,
    /// Write or edit a memo.
    WriteMemo,
    /// Create a new client in a unit.
    CreateClient,
    /// Erase a client (tietojen poisto).
    EraseClient,
    /// Manage users, roles and rights.
    ManageUsers,
    /// Manage code lists.
    ManageCodes,
    /// Read the audit log.
    ViewAudit,
    /// Run reports and statistics.
    RunStatistics,
    /// Run supervisor (per-worker) reports.
    RunSupervisorReports,
}

/// The target of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// A client.
    Client(&'a ClientScope<'a>),
    /// A new client that would belong to this unit.
    NewClientIn(Option<UnitId>),
    /// The organisation as a whole (administration, reports).
    Organisation,
}

/// The right whose absence refused an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingRight {
    /// The user is inactive.
    ActiveUser,
    /// An administrative right.
    Admin(AdminRight),
    /// Viewing clients of this relation.
    View,
    /// Modifying clients of this relation.
    Modify,
    /// Anything beyond basic data.
    FullRecord,
    /// Memo rights.
    Memos,
}

impl MissingRight {
    /// A stable code for the UI (never change one).
    pub fn code(self) -> &'static str {
        match self {
            MissingRight::ActiveUser => "active_user",
            MissingRight::Admin(AdminRight::Users) => "admin.users",
            MissingRight::Admin(AdminRight::Codes) => "admin.codes",
            MissingRight::Admin(AdminRight::Audit) => "admin.audit",
            MissingRight::Admin(AdminRight::SupervisorReports) => "admin.supervisor_reports",
            MissingRight::Admin(AdminRight::Statistics) => "admin.statistics",
            MissingRight::View => "view",
            MissingRight::Modify => "modify",
            MissingRight::FullRecord => "full_record",
            MissingRight::Memos => "memos",
        }
    }
}

impl std::fmt::Display for MissingRight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            MissingRight::ActiveUser => "the user account is deactivated",
            MissingRight::Admin(AdminRight::Users) => "user and rights management",
            MissingRight::Admin(AdminRight::Codes) => "code-list management",
            MissingRight::Admin(AdminRight::Audit) => "audit-log viewing",
            MissingRight::Admin(AdminRight::SupervisorReports) => "supervisor reports",
            MissingRight::Admin(AdminRight::Statistics) => "reports and statistics",
            MissingRight::View => "viewing this client",
            MissingRight::Modify => "modifying this client",
            MissingRight::FullRecord => "more than basic data",
            MissingRight::Memos => "memo rights",
        };
        f.write_str(text)
    }
}

/// An action was refused; says which right is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("access denied: missing right: {missing}")]
pub struct Denied {
    /// The missing right.
    pub missing: MissingRight,
}

fn deny(missing: MissingRight) -> Result<(), Denied> {
    Err(Denied { missing })
}

/// Whether `user` with `rights` may perform `action` on `target`.
///
/// Rules, each refusal naming its right:
/// - an inactive user may do nothing ([`MissingRight::ActiveUser`]);
/// - administrative actions need their [`AdminRight`] and a target of the organisation;
/// - every client action needs `view` to cover the client;
/// - modifying needs `modify` to cover it too (a modify scope wider than the view
///   scope gives nothing beyond the view);
/// - anything but basic data needs `basic_data_only` to be off;
/// - memo actions need memo rights;
/// - creating a client needs a modify scope of at least the unit and the new
///   client's unit among the user's units (or scope all);
/// - erasing needs modify-all and user management (the register keeper's right).
pub fn can(user: &User, rights: &Rights, action: Action, target: Target<'_>) -> Result<(), Denied> {
    if !user.active {
        return deny(MissingRight::ActiveUser);
    }
    let admin = |right: AdminRight| {
        if rights.admin.contains(&right) {
            Ok(())
        } else {
            deny(MissingRight::Admin(right))
        }
    };
    match (action, target) {
        (Action::ManageUsers, Target::Organisation) => admin(AdminRight::Users),
        (Action::ManageCodes, Target::Organisation) => admin(AdminRight::Codes),
        (Action::ViewAudit, Target::Organisation) => admin(AdminRight::Audit),
        (Action::RunStatistics, Target::Organisation) => admin(AdminRight::Statistics),
        (Action::RunSupervisorReports, Target::Organisation) => {
            admin(AdminRight::SupervisorReports)
        }
        (Action::CreateClient, Target::NewClientIn(unit)) => {
            let ok = match rights.modify {
                Scope::All => true,
                Scope::Unit | Scope::Own => unit.is_some_and(|u| user.units.contains(&u)),
                Scope::None => false,
            };
            if ok {
                Ok(())
            } else {
                deny(MissingRight::Modify)
            }
        }
        (action, Target::Client(client)) => client_action(user, rights, action, client),
        _ => deny(MissingRight::Admin(AdminRight::Users)),
    }
}

fn client_action(
    user: &User,
    rights: &Rights,
    action: Action,
    client: &ClientScope<'_>,
) -> Result<(), Denied> {
    let relation = client.relation_to(user);
    if !rights.view.covers(relation) {
        return deny(MissingRight::View);
    }
    let modifies = matches!(
        action,
        Action::ModifyBasic | Action::ModifyRecord | Action::WriteMemo | Action::EraseClient
    );
    if modifies && !rights.modify.covers(relation) {
        return deny(MissingRight::Modify);
    }
    match action {
        Action::ViewBasic | Action::ModifyBasic => Ok(()),
        Action::ViewRecord | Action::ModifyRecord => {
            if rights.basic_data_only {
                deny(MissingRight::FullRecord)
            } else {
                Ok(())
            }
        }
        Action::ViewMemos | Action::WriteMemo => {
            if rights.basic_data_only {
                deny(MissingRight::FullRecord)
            } else if !rights.memos {
                deny(MissingRight::Memos)
            } else {
                Ok(())
            }
        }
        Action::EraseClient => {
            if rights.modify != Scope::All {
                deny(MissingRight::Modify)
            } else if !rights.admin.contains(&AdminRight::Users) {
                deny(MissingRight::Admin(AdminRight::Users))
            } else {
                Ok(())
            }
        }
        // Organisation-level actions aimed at a client make no sense.
        Action::CreateClient => deny(MissingRight::Modify),
        Action::ManageUsers => deny(MissingRight::Admin(AdminRight::Users)),
        Action::ManageCodes => deny(MissingRight::Admin(AdminRight::Codes)),
        Action::ViewAudit => deny(MissingRight::Admin(AdminRight::Audit)),
        Action::RunStatistics => deny(MissingRight::Admin(AdminRight::Statistics)),
        Action::RunSupervisorReports => deny(MissingRight::Admin(AdminRight::SupervisorReports)),
    }
}

/// Whether `user` may see the unit-scoped work records (activity memos,
/// brief contacts) of `unit`: their view scope is all, or `unit` is one of
/// their units. An inactive user, or one with no client view (reporting
/// only), sees none.
pub fn may_view_unit_work(user: &User, rights: &Rights, unit: UnitId) -> Result<(), Denied> {
    if !user.active {
        deny(MissingRight::ActiveUser)
    } else if rights.view == Scope::None {
        // Reporting-only: activity memos reach them anonymised, in the
        // statistics extract.
        deny(MissingRight::View)
    } else if rights.view == Scope::All || user.units.contains(&unit) {
        Ok(())
    } else {
        deny(MissingRight::View)
    }
}

/// Whether `user` may create or change a unit-scoped work record (activity
/// memo, brief contact) that belongs to each of `units` (a change: the unit
/// before and the unit after). The one rule the API (a local write) and the
/// hub (a laptop's change) both apply:
/// - an inactive user may do nothing ([`MissingRight::ActiveUser`]);
/// - the user needs some modify scope ([`MissingRight::Modify`]);
/// - a basic-data-only user records no work ([`MissingRight::FullRecord`]);
/// - every unit is one of the user's units, unless the modify scope is all
///   ([`MissingRight::Modify`]).
pub fn may_record_unit_work(user: &User, rights: &Rights, units: &[UnitId]) -> Result<(), Denied> {
    if !user.active {
        return deny(MissingRight::ActiveUser);
    }
    if rights.modify == Scope::None {
        return deny(MissingRight::Modify);
    }
    if rights.basic_data_only {
        return deny(MissingRight::FullRecord);
    }
    if rights.modify != Scope::All && !units.iter().all(|u| user.units.contains(u)) {
        return deny(MissingRight::Modify);
    }
    Ok(())
}

#[cfg(test)]
mod unit_work_tests {
    use super::*;

    fn user(role: Role, units: &[UnitId]) -> User {
        User {
            id: UserId::new(),
            login: "u".into(),
            display_name: "U".into(),
            role,
            units: units.iter().copied().collect(),
            active: true,
            rights: None,
        }
    }

    /// Each row: role, in the unit, active → view, record.
    #[test]
    fn unit_work_rights_table() {
        let (mine, other) = (UnitId::new(), UnitId::new());
        let m = |r: MissingRight| Err(Denied { missing: r });
        type Decision = Result<(), Denied>;
        let rows: [(Role, bool, bool, Decision, Decision); 7] = [
            (Role::Worker, true, true, Ok(()), Ok(())),
            (
                Role::Worker,
                false,
                true,
                m(MissingRight::View),
                m(MissingRight::Modify),
            ),
            (
                Role::Worker,
                true,
                false,
                m(MissingRight::ActiveUser),
                m(MissingRight::ActiveUser),
            ),
            (Role::Admin, false, true, Ok(()), Ok(())),
            (
                Role::Coordinator,
                true,
                true,
                Ok(()),
                m(MissingRight::Modify),
            ),
            (
                Role::Coordinator,
                false,
                true,
                m(MissingRight::View),
                m(MissingRight::Modify),
            ),
            (
                Role::Admin,
                true,
                false,
                m(MissingRight::ActiveUser),
                m(MissingRight::ActiveUser),
            ),
        ];
        for (role, in_unit, active, view, record) in rows {
            let units = if in_unit { [mine] } else { [other] };
            let mut u = user(role, &units);
            u.active = active;
            let r = Rights::for_role(role);
            assert_eq!(
                may_view_unit_work(&u, &r, mine),
                view,
                "{role:?} {in_unit} {active}"
            );
            assert_eq!(
                may_record_unit_work(&u, &r, &[mine]),
                record,
                "{role:?} {in_unit} {active}"
            );
        }
        // A change moving a record out of the worker's units is refused.
        let w = user(Role::Worker, &[mine]);
        let r = Rights::for_role(Role::Worker);
        assert_eq!(
            may_record_unit_work(&w, &r, &[mine, other]),
            m(MissingRight::Modify)
        );
        // Basic-data-only rights record no work, even with a modify scope.
        let mut narrowed = r.clone();
        narrowed.basic_data_only = true;
        assert_eq!(
            may_record_unit_work(&w, &narrowed, &[mine]),
            m(MissingRight::FullRecord)
        );
    }
}

pub mod delivery;
