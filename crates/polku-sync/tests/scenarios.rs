//! Scenario tests on the in-process network: a hub and laptops of two units.

mod support;

use automerge::transaction::Transactable;
use chrono::TimeZone;
use polku_core::doc::{ConflictValue, RecordDoc};
use polku_core::model::{Client, Memo};
use polku_core::{ClientId, DocId, DocKind, MemoId, UnitId, UserId};
use polku_sync::Denial;
use polku_sync::SyncError;
use polku_sync::mem::UnitRights;
use polku_sync::protocol::{ErrorCode, RefusedReason};
use polku_sync::testnet::{Net, Outcome, test_time};
use support::*;

const ALL: [(&str, &str); 3] = [
    ("laptop-1", "hub"),
    ("laptop-2", "hub"),
    ("laptop-3", "hub"),
];

#[test]
fn hub_and_three_laptops_converge_to_their_scopes() {
    let mut net = org_net();
    let org = new_org_doc(&mut net, "hub");
    let a: Vec<DocId> = (0..4)
        .map(|i| net.new_doc("hub", UNIT_A, &[("phone", &format!("04{i}"))]))
        .collect();
    let b: Vec<DocId> = (0..4)
        .map(|i| net.new_doc("hub", UNIT_B, &[("phone", &format!("05{i}"))]))
        .collect();

    // Step 1: every laptop gets its unit's documents and the organisation's.
    net.sync_until_quiet(&ALL, 4);
    assert_converged(&net);
    assert!(net.replica("laptop-1").contains(org));
    assert!(!net.replica("laptop-1").contains(b[0]));
    assert!(net.replica("laptop-3").contains(b[0]));

    // Step 2: offline edits everywhere, new documents on two laptops.
    net.set_field("laptop-1", a[0], "phone", "040 111");
    splice_memo(&mut net, "laptop-2", a[0], 0, "Tavattu koululla.");
    net.set_field("laptop-2", a[1], "email", "x@example.invalid");
    net.set_field("laptop-3", b[0], "phone", "050 333");
    net.set_field("hub", a[2], "phone", "040 222");
    net.set_field("hub", b[1], "phone", "050 444");
    let new_a = net.new_doc("laptop-1", UNIT_A, &[("phone", "040 999")]);
    let new_b = net.new_doc("laptop-3", UNIT_B, &[("phone", "050 999")]);

    // Step 3: sync in another order, then all three at once.
    net.sync("hub", "laptop-3").expect("hub-laptop-3");
    net.sync("hub", "laptop-2").expect("hub-laptop-2");
    net.sync("laptop-1", "hub").expect("laptop-1-hub");
    let conns: Vec<_> = ALL.iter().map(|(l, h)| net.connect(h, l)).collect();
    net.run_until_quiescent();
    for c in conns {
        let (x, y) = net.outcome(c);
        assert!(
            x.report().is_some() && y.report().is_some(),
            "{x:?} / {y:?}"
        );
    }
    net.sync_until_quiet(&ALL, 4);

    assert_converged(&net);
    for node in ["hub", "laptop-1", "laptop-2"] {
        assert_eq!(field(&net, node, a[0], "phone").as_deref(), Some("040 111"));
        assert_eq!(memo(&net, node, a[0]), "Tavattu koululla.");
        assert_eq!(field(&net, node, a[2], "phone").as_deref(), Some("040 222"));
        assert!(net.replica(node).contains(new_a));
        assert!(!net.replica(node).contains(new_b) || node == "hub");
    }
    assert_eq!(
        field(&net, "laptop-3", b[1], "phone").as_deref(),
        Some("050 444")
    );
    assert!(net.replica("hub").contains(new_b));
    assert!(!net.replica("laptop-3").contains(new_a));

    // Step 4: nothing changed, so a resync moves nothing.
    let (l, h) = net.sync("laptop-1", "hub").expect("resync");
    assert!(l.is_quiet() && h.is_quiet(), "{l:?}");
    assert_eq!(l.docs_differing, 0);
    assert!(!l.full_set_exchanged && !h.full_set_exchanged);
}

fn client_doc(unit: UnitId, memo: MemoId) -> (DocId, automerge::AutoCommit) {
    let created = chrono::Utc
        .with_ymd_and_hms(2026, 2, 1, 10, 0, 0)
        .single()
        .expect("time");
    let mut client = Client::new(ClientId::from_parts(1_770_000_000_000, [7; 10]), created);
    client.unit = Some(unit);
    client.basic.first_name = "Aino".into();
    client.basic.phone = "040 000".into();
    client.insert_memo(Memo {
        id: memo,
        date: created.date_naive(),
        author: UserId::from_parts(1_770_000_000_000, [1; 10]),
        kind: "contact".into(),
        text: "Tavattiin kirjastolla.".into(),
        deleted: None,
    });
    // The record document (memos live there), with the unit the in-memory
    // replica's policy reads at its root.
    let (_, record) = client.split();
    let mut am = RecordDoc::new(&record)
        .expect("record doc")
        .into_automerge();
    am.put(automerge::ROOT, polku_sync::mem::UNIT_KEY, unit.to_string())
        .expect("unit");
    am.commit();
    (record.id, am)
}

#[test]
fn concurrent_edits_are_kept_as_conflicts_and_texts_merge() {
    let mut net = Net::new();
    net.add_hub("hub");
    let l1 = net.add_laptop("laptop-1", "hub");
    let l2 = net.add_laptop("laptop-2", "hub");
    let unit = UnitId::from_parts(1_770_000_000_000, [3; 10]);
    let memo_id = MemoId::from_parts(1_770_000_000_000, [4; 10]);
    set_policy(
        &mut net,
        &[
            ("laptop-1", UnitRights::worker(&unit.to_string())),
            ("laptop-2", UnitRights::worker(&unit.to_string())),
        ],
    );
    let _ = (l1, l2);
    let (id, doc) = client_doc(unit, memo_id);
    net.replica_mut("hub")
        .insert(id, DocKind::ClientRecord, doc);
    net.sync_until_quiet(&[("laptop-1", "hub"), ("laptop-2", "hub")], 3);

    // Offline: both set the memo's type; one writes before the memo text,
    // one after.
    for (laptop, kind, pos, text) in [
        ("laptop-1", "phone", 0, "Aamulla. "),
        ("laptop-2", "meeting", 22, " Sovittiin uusi tapaaminen."),
    ] {
        let edited = net.replica_mut(laptop).edit(id, |am| {
            let mut cd = RecordDoc::from_automerge(am.clone()).expect("record doc");
            // The whole new text is written as a splice (the memo text is
            // Automerge text).
            cd.update(|r| {
                if let Some(m) = r.memos.get_mut(&memo_id) {
                    m.kind = kind.into();
                    m.text.insert_str(pos, text);
                }
            })
            .expect("update");
            *am = cd.into_automerge();
        });
        assert!(edited);
    }

    net.sync("laptop-1", "hub").expect("l1");
    let (l2_report, _) = net.sync("laptop-2", "hub").expect("l2");
    assert_eq!(l2_report.conflicted, vec![id]);
    net.sync_until_quiet(&[("laptop-1", "hub"), ("laptop-2", "hub")], 3);

    for node in ["hub", "laptop-1", "laptop-2"] {
        let cd = RecordDoc::from_automerge(net.replica(node).doc(id).expect("doc").clone())
            .expect("record doc");
        let conflicts = cd.conflicts().expect("conflicts");
        let kind = conflicts
            .iter()
            .find(|c| c.path == ["memos".to_owned(), memo_id.to_string(), "kind".to_owned()])
            .unwrap_or_else(|| panic!("{node}: no memo type conflict in {conflicts:?}"));
        for v in ["phone", "meeting"] {
            assert!(
                kind.values.contains(&ConflictValue::Str(v.into())),
                "{node}: {v} lost"
            );
        }
        let text = &cd.get().expect("record").memos[&memo_id].text;
        assert_eq!(
            text, "Aamulla. Tavattiin kirjastolla. Sovittiin uusi tapaaminen.",
            "{node}"
        );
    }
    assert_eq!(net.heads("laptop-1", id), net.heads("hub", id));
    assert_eq!(net.heads("laptop-2", id), net.heads("hub", id));
}

#[test]
fn refused_change_is_reported_and_kept_on_the_laptop() {
    let mut net = org_net();
    set_policy(
        &mut net,
        &[
            ("laptop-1", UnitRights::worker(UNIT_A)),
            ("laptop-2", UnitRights::reader(UNIT_A)),
        ],
    );
    let doc = net.new_doc("hub", UNIT_A, &[("phone", "040")]);
    net.sync_until_quiet(&[("laptop-1", "hub"), ("laptop-2", "hub")], 3);

    // A reader edits; the hub refuses and says why.
    net.set_field("laptop-2", doc, "phone", "040 666");
    let (l2, hub) = net.sync("laptop-2", "hub").expect("sync");
    assert_eq!(hub.refused_here.len(), 1);
    assert_eq!(l2.refused_by_peer[0].doc, doc);
    assert_eq!(l2.refused_by_peer[0].reason, RefusedReason::NotPermitted);
    let recorded = net.replica("laptop-2").refusals();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].1.doc, doc);
    // Kept on the laptop, not on the hub.
    assert_eq!(
        field(&net, "laptop-2", doc, "phone").as_deref(),
        Some("040 666")
    );
    assert_eq!(field(&net, "hub", doc, "phone").as_deref(), Some("040"));

    // The laptop still receives others' updates of that document.
    net.set_field("laptop-1", doc, "email", "a@example.invalid");
    net.sync("laptop-1", "hub").expect("l1");
    let (l2, _) = net.sync("laptop-2", "hub").expect("l2 again");
    assert_eq!(l2.refused_by_peer.len(), 1, "refused again, still reported");
    assert_eq!(
        field(&net, "laptop-2", doc, "email").as_deref(),
        Some("a@example.invalid")
    );
    assert_eq!(
        field(&net, "laptop-2", doc, "phone").as_deref(),
        Some("040 666")
    );
    assert_eq!(field(&net, "hub", doc, "phone").as_deref(), Some("040"));
    assert_eq!(
        field(&net, "laptop-1", doc, "phone").as_deref(),
        Some("040")
    );

    // A new document in a unit the worker may not write to is refused too.
    let foreign = net.new_doc("laptop-1", UNIT_B, &[("phone", "1")]);
    let (l1, _) = net.sync("laptop-1", "hub").expect("l1 new");
    assert_eq!(l1.refused_by_peer[0].doc, foreign);
    assert!(!net.replica("hub").contains(foreign));
    assert!(net.replica("laptop-1").contains(foreign));
}

#[test]
fn document_moved_out_of_scope_is_deleted_on_the_laptop() {
    let mut net = org_net();
    let stays = net.new_doc("hub", UNIT_A, &[("phone", "1")]);
    let moves = net.new_doc("hub", UNIT_A, &[("phone", "2")]);
    net.sync_until_quiet(&ALL, 3);
    assert!(net.replica("laptop-1").contains(moves));
    assert!(!net.replica("laptop-3").contains(moves));

    // The client moves to unit B on the hub.
    net.set_field("hub", moves, "unit", UNIT_B);
    let (l1, hub) = net.sync("laptop-1", "hub").expect("sync");
    assert_eq!(hub.revoked_at_peer, vec![moves]);
    assert_eq!(l1.revoked, vec![moves]);
    assert!(!net.replica("laptop-1").contains(moves));
    assert!(net.replica("laptop-1").contains(stays));
    let (l3, _) = net.sync("laptop-3", "hub").expect("sync");
    assert_eq!(l3.docs_received, 1);
    net.sync_until_quiet(&ALL, 3);
    assert_converged(&net);

    // A worker's offline edit to a document that left its scope is refused
    // and reported before the copy goes.
    net.set_field("laptop-2", stays, "phone", "040 777");
    net.set_field("hub", stays, "unit", UNIT_B);
    let (l2, _) = net.sync("laptop-2", "hub").expect("sync");
    assert_eq!(l2.revoked, vec![stays]);
    assert!(
        l2.refused_by_peer
            .iter()
            .any(|r| r.doc == stays && r.reason == RefusedReason::OutOfScope),
        "{l2:?}"
    );
    assert!(!net.replica("laptop-2").contains(stays));
    net.sync_until_quiet(&ALL, 3);
    assert_converged(&net);
}

#[test]
fn tombstones_propagate_and_erased_ids_are_refused_forever() {
    let mut net = org_net();
    let admin = net.add_laptop("admin", "hub");
    let mut grants: Vec<(&str, UnitRights)> = LAPTOPS
        .iter()
        .map(|(l, u)| (*l, UnitRights::worker(u)))
        .collect();
    grants.push(("admin", UnitRights::admin()));
    set_policy(&mut net, &grants);
    let _ = admin;
    let x = net.new_doc("hub", UNIT_A, &[("phone", "1")]);
    let y = net.new_doc("hub", UNIT_A, &[("phone", "2")]);
    let pairs = [("laptop-1", "hub"), ("laptop-2", "hub"), ("admin", "hub")];
    net.sync_until_quiet(&pairs, 3);

    // The hub erases x while laptop-2 edits it offline; the admin laptop erases y.
    assert!(net.erase("hub", x, test_time(1)));
    net.set_field("laptop-2", x, "phone", "edited");
    assert!(net.erase("admin", y, test_time(2)));

    let (l2, _) = net.sync("laptop-2", "hub").expect("l2");
    assert_eq!(l2.erased, vec![x]);
    assert!(!net.replica("laptop-2").contains(x));
    assert!(net.replica("laptop-2").is_erased(x));
    let (ad, hub) = net.sync("admin", "hub").expect("admin");
    assert_eq!(hub.erased, vec![y]);
    assert_eq!(ad.erased, vec![x]);
    net.sync_until_quiet(&pairs, 3);
    for node in ["hub", "laptop-1", "laptop-2", "admin"] {
        let r = net.replica(node);
        assert!(!r.contains(x) && !r.contains(y), "{node}");
        assert!(r.is_erased(x) && r.is_erased(y), "{node}");
    }

    // A worker may not erase: the hub refuses its tombstone and keeps the document.
    let z = net.new_doc("hub", UNIT_A, &[("phone", "3")]);
    net.sync_until_quiet(&pairs, 3);
    assert!(net.erase("laptop-1", z, test_time(3)));
    let (l1, hub) = net.sync("laptop-1", "hub").expect("l1");
    assert!(hub.refused_here.iter().any(|r| r.doc == z));
    assert!(l1.refused_by_peer.iter().any(|r| r.doc == z));
    assert!(net.replica("hub").contains(z));
    // And the id stays refused on the laptop that erased it.
    net.sync("laptop-1", "hub").expect("again");
    assert!(!net.replica("laptop-1").contains(z));
}

#[test]
fn corrupt_document_is_quarantined_and_the_others_sync() {
    let mut net = org_net();
    let docs: Vec<DocId> = (0..5)
        .map(|i| net.new_doc("laptop-1", UNIT_A, &[("n", &i.to_string())]))
        .collect();
    net.replica_mut("laptop-1").corrupt(docs[2]);
    let (l1, hub) = net.sync("laptop-1", "hub").expect("sync completes");
    assert_eq!(l1.quarantined.len(), 1);
    assert_eq!(l1.quarantined[0].0, docs[2]);
    assert_eq!(hub.docs_created, 4);
    for (i, d) in docs.iter().enumerate() {
        assert_eq!(net.replica("hub").contains(*d), i != 2);
    }
    assert_eq!(net.replica("laptop-1").quarantined().len(), 1);
}

#[test]
fn peers_that_may_not_sync_are_refused_with_a_clear_error() {
    let mut net = org_net();
    let stranger = net.add_laptop("stranger", "hub");
    net.add_hub("other-hub");
    net.replica_mut("hub").unenrol(stranger);
    let (l1, l2) = (net.id("laptop-1"), net.id("laptop-2"));
    net.replica_mut("hub").revoke(l1);
    net.replica_mut("hub").deactivate(l2);
    net.new_doc("hub", UNIT_A, &[("phone", "1")]);

    let cases = [
        ("laptop-1", ErrorCode::DeviceRevoked),
        ("laptop-2", ErrorCode::UserDeactivated),
        ("stranger", ErrorCode::NotEnrolled),
    ];
    for (laptop, code) in cases {
        let conn = net.connect(laptop, "hub");
        net.run_until_quiescent();
        let (l, h) = net.outcome(conn);
        assert!(
            matches!(l, Outcome::Failed(SyncError::Remote(c)) if *c == code),
            "{laptop}: {l:?}"
        );
        assert!(matches!(h, Outcome::Failed(SyncError::Denied(_))), "{h:?}");
        assert!(net.replica(laptop).is_empty(), "{laptop} received nothing");
    }
    // A laptop meeting a hub other than its pinned one refuses it.
    let l3 = net.id("laptop-3");
    net.replica_mut("other-hub").enrol(l3);
    net.new_doc("other-hub", UNIT_B, &[("phone", "2")]);
    let conn = net.connect("laptop-3", "other-hub");
    net.run_until_quiescent();
    let (l, h) = net.outcome(conn);
    assert!(
        matches!(l, Outcome::Failed(SyncError::Denied(Denial::HubMismatch))),
        "{l:?}"
    );
    assert!(
        matches!(
            h,
            Outcome::Failed(SyncError::Remote(ErrorCode::HubMismatch))
        ),
        "{h:?}"
    );
    assert!(net.replica("laptop-3").is_empty());
}

#[test]
fn audit_chains_are_exchanged_append_only() {
    let mut net = org_net();
    for m in 0..5 {
        net.audit("laptop-1", m, None);
    }
    net.audit("laptop-2", 0, None);
    net.audit("hub", 0, None);
    let (l1, hub) = net.sync("laptop-1", "hub").expect("sync");
    assert_eq!(l1.audit_sent, 5);
    assert_eq!(hub.audit_added, 5);
    for m in 5..8 {
        net.audit("laptop-1", m, None);
    }
    let (l1, hub) = net.sync("laptop-1", "hub").expect("sync");
    assert_eq!(l1.audit_sent, 3, "only the new tail");
    assert_eq!(hub.audit_added, 3);
    net.sync("laptop-2", "hub").expect("sync");
    let hub_log = net.replica("hub").audit();
    assert_eq!(hub_log.len(), 1 + 8 + 1);
    assert!(hub_log.verify().is_ok());
    // The hub shares with a laptop only that laptop's own chain.
    assert_eq!(net.replica("laptop-1").audit().len(), 8);
    assert_eq!(net.replica("laptop-2").audit().len(), 1);
}

#[test]
fn forged_and_organisation_tombstones_are_refused_over_a_session() {
    use polku_audit::NodeKey;
    use polku_sync::protocol::Tombstone;
    let mut net = org_net();
    net.add_laptop("admin", "hub");
    let mut grants: Vec<(&str, UnitRights)> = LAPTOPS
        .iter()
        .map(|(l, u)| (*l, UnitRights::worker(u)))
        .collect();
    grants.push(("admin", UnitRights::admin()));
    set_policy(&mut net, &grants);
    let x = net.new_doc("hub", UNIT_A, &[("phone", "1")]);
    net.sync_until_quiet(&[("laptop-1", "hub"), ("admin", "hub")], 3);

    // laptop-1 (a worker) signs a tombstone claiming to be the admin laptop:
    // the signature does not verify against the admin's node.
    let worker_key = NodeKey::from_bytes(blake3::hash(b"laptop-1").as_bytes());
    let user = UserId::from_parts(0, [1; 10]);
    let mut forged = Tombstone::sign(&worker_key, x, DocKind::Client, user, test_time(1));
    forged.node = net.id("admin");
    net.replica_mut("laptop-1").record_raw_tombstone(forged);
    let (l1, hub) = net.sync("laptop-1", "hub").expect("sync");
    assert!(
        hub.refused_here
            .iter()
            .any(|r| r.doc == x && r.reason == RefusedReason::Invalid),
        "{hub:?}"
    );
    assert!(l1.refused_by_peer.iter().any(|r| r.doc == x));
    assert!(net.replica("hub").contains(x) && !net.replica("hub").is_erased(x));

    // The admin laptop's validly signed tombstone naming the organisation
    // kind is refused too.
    let org = net.next_id();
    let admin_key = NodeKey::from_bytes(blake3::hash(b"admin").as_bytes());
    let t = Tombstone::sign(&admin_key, org, DocKind::Organisation, user, test_time(2));
    assert!(t.verify());
    net.replica_mut("admin").record_raw_tombstone(t);
    let (_, hub) = net.sync("admin", "hub").expect("sync");
    assert!(
        hub.refused_here
            .iter()
            .any(|r| r.doc == org && r.reason == RefusedReason::NotPermitted),
        "{hub:?}"
    );
    assert!(!net.replica("hub").is_erased(org));
}
