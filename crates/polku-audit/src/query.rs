//! Queries over an [`AuditLog`]: by target (a client), by user, by time
//! range, by action, and any combination through a [`Filter`].

use chrono::{DateTime, Utc};
use polku_core::UserId;
use uuid::Uuid;

use crate::action::Action;
use crate::entry::{Entry, EntryRef};
use crate::key::NodeId;
use crate::log::AuditLog;

/// Which entries a query returns: those matching every field that is set.
/// The default filter matches everything.
///
/// ```
/// # use polku_audit::{Action, Filter};
/// # use chrono::{TimeZone, Utc};
/// let client = uuid::Uuid::now_v7();
/// let views_this_year = Filter::new()
///     .target(client)
///     .action(Action::View)
///     .since(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only entries written by this node.
    pub node: Option<NodeId>,
    /// Only entries of this user.
    pub user: Option<UserId>,
    /// Only entries about this client, document, user or device.
    pub target: Option<Uuid>,
    /// Only entries with one of these actions; empty means any action.
    pub actions: Vec<Action>,
    /// Only entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only entries before this time.
    pub before: Option<DateTime<Utc>>,
}

impl Filter {
    /// A filter that matches every entry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only entries written by `node`.
    pub fn node(mut self, node: NodeId) -> Self {
        self.node = Some(node);
        self
    }

    /// Only entries of `user`.
    pub fn user(mut self, user: UserId) -> Self {
        self.user = Some(user);
        self
    }

    /// Only entries about `target`.
    pub fn target(mut self, target: Uuid) -> Self {
        self.target = Some(target);
        self
    }

    /// Also accept `action` (the first call restricts to it).
    pub fn action(mut self, action: Action) -> Self {
        if !self.actions.contains(&action) {
            self.actions.push(action);
        }
        self
    }

    /// Only entries at or after `time`.
    pub fn since(mut self, time: DateTime<Utc>) -> Self {
        self.since = Some(time);
        self
    }

    /// Only entries before `time`.
    pub fn before(mut self, time: DateTime<Utc>) -> Self {
        self.before = Some(time);
        self
    }

    /// Whether `entry` matches.
    pub fn matches(&self, entry: &Entry) -> bool {
        self.node.is_none_or(|n| entry.node == n)
            && self.user.is_none_or(|u| entry.user == Some(u))
            && self.target.is_none_or(|t| entry.target == Some(t))
            && (self.actions.is_empty() || self.actions.contains(&entry.action))
            && self.since.is_none_or(|t| entry.time >= t)
            && self.before.is_none_or(|t| entry.time < t)
    }
}

impl AuditLog {
    /// The verified entries matching `filter`, ordered by time, then node,
    /// then seq. Uses the target or user index when the filter names one.
    pub fn query(&self, filter: &Filter) -> Vec<&Entry> {
        let indexed = [
            filter.target.map(|t| self.by_target.get(&t)),
            filter.user.map(|u| self.by_user.get(&u)),
        ];
        let smallest = indexed
            .into_iter()
            .flatten()
            .min_by_key(|refs| refs.map_or(0, Vec::len));
        let mut found: Vec<&Entry> = match smallest {
            Some(refs) => refs
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .filter_map(|r: &EntryRef| self.get(*r))
                .filter(|e| filter.matches(e))
                .collect(),
            None => self.iter().filter(|e| filter.matches(e)).collect(),
        };
        found.sort_by_key(|e| (e.time, e.node, e.seq));
        found
    }

    /// Every entry about `target` (a client, document, user or device).
    pub fn by_target(&self, target: Uuid) -> Vec<&Entry> {
        self.query(&Filter::new().target(target))
    }

    /// Every entry of `user`.
    pub fn by_user(&self, user: UserId) -> Vec<&Entry> {
        self.query(&Filter::new().user(user))
    }

    /// Every entry with `action`.
    pub fn by_action(&self, action: Action) -> Vec<&Entry> {
        self.query(&Filter::new().action(action))
    }

    /// Every entry in `[since, before)`.
    pub fn in_range(&self, since: DateTime<Utc>, before: DateTime<Utc>) -> Vec<&Entry> {
        self.query(&Filter::new().since(since).before(before))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::{Detail, NodeKey, Reason};

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, hour, 0, 0)
            .single()
            .unwrap_or_default()
    }

    struct Fixture {
        log: AuditLog,
        alice: UserId,
        bob: UserId,
        client: Uuid,
        other_client: Uuid,
        hub: NodeId,
    }

    fn fixture() -> Fixture {
        let laptop = NodeKey::from_bytes(&[1; 32]);
        let hub = NodeKey::from_bytes(&[2; 32]);
        let alice = UserId::from_parts(1, [1; 10]);
        let bob = UserId::from_parts(2, [2; 10]);
        let client = Uuid::from_bytes([10; 16]);
        let other_client = Uuid::from_bytes([11; 16]);
        let mut log = AuditLog::new();
        log.append(
            &laptop,
            at(8),
            Some(alice),
            Action::Login,
            None,
            Detail::None,
        );
        log.append(
            &laptop,
            at(9),
            Some(alice),
            Action::View,
            Some(client),
            Detail::None,
        );
        log.append(
            &laptop,
            at(10),
            Some(alice),
            Action::Update,
            Some(client),
            Detail::None,
        );
        log.append(
            &hub,
            at(9),
            Some(bob),
            Action::View,
            Some(client),
            Detail::None,
        );
        log.append(
            &hub,
            at(11),
            Some(bob),
            Action::View,
            Some(other_client),
            Detail::None,
        );
        let unknown = Detail::Reason(Reason::UnknownUser);
        log.append(&hub, at(12), None, Action::FailedLogin, None, unknown);
        Fixture {
            log,
            alice,
            bob,
            client,
            other_client,
            hub: hub.node_id(),
        }
    }

    fn hours(entries: &[&Entry]) -> Vec<u32> {
        use chrono::Timelike;
        entries.iter().map(|e| e.time.hour()).collect()
    }

    #[test]
    fn by_target_finds_every_node_in_time_order() {
        let f = fixture();
        assert_eq!(hours(&f.log.by_target(f.client)), [9, 9, 10]);
        assert_eq!(hours(&f.log.by_target(f.other_client)), [11]);
        assert!(f.log.by_target(Uuid::nil()).is_empty());
    }

    #[test]
    fn by_user_and_by_action() {
        let f = fixture();
        assert_eq!(hours(&f.log.by_user(f.alice)), [8, 9, 10]);
        assert_eq!(hours(&f.log.by_user(f.bob)), [9, 11]);
        assert_eq!(hours(&f.log.by_action(Action::View)), [9, 9, 11]);
        let failed = f.log.by_action(Action::FailedLogin);
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].user, None);
    }

    #[test]
    fn time_range_is_half_open() {
        let f = fixture();
        assert_eq!(hours(&f.log.in_range(at(9), at(11))), [9, 9, 10]);
        assert!(f.log.in_range(at(13), at(14)).is_empty());
    }

    #[test]
    fn combined_filter_matches_every_field() {
        let f = fixture();
        let filter = Filter::new()
            .target(f.client)
            .user(f.bob)
            .action(Action::View)
            .action(Action::Update)
            .since(at(9))
            .before(at(12));
        let found = f.log.query(&filter);
        assert_eq!(hours(&found), [9]);
        assert_eq!(found[0].node, f.hub);
        let by_node = f.log.query(&Filter::new().node(f.hub).action(Action::View));
        assert_eq!(hours(&by_node), [9, 11]);
        assert_eq!(f.log.query(&Filter::new()).len(), f.log.len());
    }
}
