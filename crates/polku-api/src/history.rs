//! A client's history (muutoshistoria) from the audit log: who changed what
//! and when, named by codes (`memo_add`, `period_close`…), never a value.
//!
//! Rights: whoever may view the client's basic data sees its changes
//! (creation, updates, erasure); the views and refusals about the client
//! are audit information and are shown only with the audit right (PAR's
//! lokitietojen katselu). Reading the history is audited as a view.

use chrono::{DateTime, Utc};
use polku_audit::{Action as AuditAction, Code, Detail};
use polku_core::ClientId;
use polku_core::rights::{Action, Target, can};
use serde::Serialize;

use crate::Result;
use crate::session::Session;

const CLIENT_HISTORY: Code = match Code::new("client_history") {
    Ok(c) => c,
    Err(_) => panic!("invalid audit code in the program text"),
};

/// One entry of a client's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryRow {
    /// When.
    pub at: DateTime<Utc>,
    /// The staff member's login, when the user is in the organisation.
    pub user: Option<String>,
    /// The audit action (`create`, `update`, `view`, `denied`…).
    pub action: String,
    /// What it concerned: the entry's code (`memo_add`, `basic`…), empty
    /// when it has none.
    pub what: String,
}

fn is_change(action: AuditAction) -> bool {
    matches!(
        action,
        AuditAction::Create | AuditAction::Update | AuditAction::Erase
    )
}

impl Session {
    /// The client's history, oldest first (see the module docs).
    pub fn client_history(
        &mut self,
        client: ClientId,
        now: DateTime<Utc>,
    ) -> Result<Vec<HistoryRow>> {
        self.check_client_for(Action::ViewBasic, client, now)?;
        let auditor = can(
            self.user(),
            self.rights(),
            Action::ViewAudit,
            Target::Organisation,
        )
        .is_ok();
        self.record(
            now,
            AuditAction::View,
            Some(client.0),
            Detail::Code(CLIENT_HISTORY),
        )?;
        let org = self.organisation().clone();
        let mut rows: Vec<(DateTime<Utc>, String, u64, HistoryRow)> = self
            .decoded_entries()?
            .into_iter()
            .filter(|e| e.target == Some(client.0) && (auditor || is_change(e.action)))
            .map(|e| {
                let what = match &e.detail {
                    Detail::Code(c) | Detail::CodeCount { code: c, .. } => c.to_string(),
                    _ => String::new(),
                };
                let row = HistoryRow {
                    at: e.time,
                    user: e
                        .user
                        .and_then(|u| org.users.get(&u))
                        .map(|u| u.login.clone()),
                    action: e.action.to_string(),
                    what,
                };
                (e.time, e.node.to_string(), e.seq, row)
            })
            .collect();
        rows.sort_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)));
        Ok(rows.into_iter().map(|r| r.3).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Workspace;

    #[test]
    fn the_history_names_changes_by_code_and_views_only_for_auditors() {
        let dir = tempfile::tempdir().expect("tempdir");
        crate::listing::tests::store(dir.path());
        let now = Utc::now();
        let pw = "listing-test-password";
        let mut s = Workspace::open(dir.path())
            .and_then(|w| w.login("maija", pw, now))
            .expect("login");
        let id = s
            .add_client(
                crate::ClientInput {
                    first_name: "Aino".into(),
                    ..Default::default()
                },
                now,
            )
            .expect("add");
        s.add_memo(id, "salainen muistio", None, now).expect("memo");
        s.client_view(id, now).expect("view");
        let rows = s.client_history(id, now).expect("history");
        let seen: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.action.as_str(), r.what.as_str()))
            .collect();
        assert_eq!(seen, [("create", ""), ("update", "memo_add")]);
        assert!(rows.iter().all(|r| r.user.as_deref() == Some("maija")));
        let json = serde_json::to_string(&rows).expect("json");
        assert!(!json.contains("salainen"), "{json}");
        s.close().expect("close");

        // The admin holds the audit right: views are listed too.
        let mut admin = Workspace::open(dir.path())
            .and_then(|w| w.login("admin", pw, now))
            .expect("login");
        let rows = admin.client_history(id, now).expect("history");
        assert!(rows.iter().any(|r| r.action == "view"), "{rows:?}");
        admin.close().expect("close");

        // Another unit's worker is refused.
        let mut liisa = Workspace::open(dir.path())
            .and_then(|w| w.login("liisa", pw, now))
            .expect("login");
        assert!(liisa.client_history(id, now).is_err());
        liisa.close().expect("close");
    }
}
