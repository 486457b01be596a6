//! Tampering with the stored audit log, as an attacker who holds the store's keys
//! would: every kind of change is detected by verification, naming the entry.

use polku_api::{AuditProblem, Session};
use polku_audit::{ChainWriter, Entry, NodeKey, VerifyError};
use polku_scenarios::demo_workspace;

/// A store whose own chain has at least 8 entries; returns the session, the node
/// and the raw entries of that chain.
fn setup(dir: &std::path::Path) -> (Session, [u8; 32], Vec<Entry>) {
    let mut admin = demo_workspace(dir, 5);
    let now = chrono::Utc::now();
    for c in admin.list_clients(now).expect("list") {
        admin.show_client(c.id, now).expect("show");
    }
    let entries = admin.audit_entries(now).expect("entries");
    let node = *entries[0].node.as_bytes();
    let chain: Vec<Entry> = entries
        .into_iter()
        .filter(|e| e.node.as_bytes() == &node)
        .collect();
    assert!(chain.len() >= 8);
    assert!(
        admin.audit_verify(now).expect("verify").is_ok(),
        "untampered log must verify"
    );
    (admin, node, chain)
}

fn problem(session: &mut Session) -> AuditProblem {
    session
        .audit_verify(chrono::Utc::now())
        .expect("verify runs")
        .expect_err("tampering must be detected")
}

#[test]
fn an_edited_entry_is_detected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut s, node, chain) = setup(dir.path());
    let mut edited = chain[3].clone();
    edited.action = polku_audit::Action::Export;
    s.store()
        .tamper_replace_audit(&node, 3, &edited.encode())
        .expect("tamper");
    match problem(&mut s) {
        AuditProblem::Invalid {
            error: VerifyError::SignatureMismatch { seq, .. },
            entry,
        } => {
            assert_eq!(seq, 3);
            assert!(entry.ends_with("#3"), "{entry}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_deleted_entry_is_detected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut s, node, _) = setup(dir.path());
    assert!(s.store().tamper_delete_audit(&node, 4).expect("tamper"));
    let p = problem(&mut s);
    assert!(
        matches!(
            p,
            AuditProblem::Invalid {
                error: VerifyError::SeqNotIncremental {
                    expected: 4,
                    found: 5,
                    ..
                },
                ..
            }
        ),
        "{p:?}"
    );
    assert!(p.to_string().contains("#5"), "{p}");
}

#[test]
fn two_swapped_entries_are_detected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut s, node, chain) = setup(dir.path());
    s.store()
        .tamper_replace_audit(&node, 2, &chain[3].encode())
        .expect("tamper");
    s.store()
        .tamper_replace_audit(&node, 3, &chain[2].encode())
        .expect("tamper");
    let p = problem(&mut s);
    assert!(
        matches!(
            p,
            AuditProblem::Misplaced {
                stored: 2,
                claimed: 3,
                ..
            }
        ),
        "{p:?}"
    );
    assert!(p.to_string().contains("#2"), "{p}");
}

#[test]
fn swapped_ciphertexts_are_detected_as_damage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut s, node, _) = setup(dir.path());
    let a = s
        .store()
        .tamper_raw_audit_ciphertext(&node, 2)
        .expect("raw");
    let b = s
        .store()
        .tamper_raw_audit_ciphertext(&node, 3)
        .expect("raw");
    s.store()
        .tamper_set_raw_audit_ciphertext(&node, 2, &b)
        .expect("tamper");
    s.store()
        .tamper_set_raw_audit_ciphertext(&node, 3, &a)
        .expect("tamper");
    let p = problem(&mut s);
    assert!(matches!(p, AuditProblem::Damaged { seq: 2, .. }), "{p:?}");
}

#[test]
fn a_forged_signature_is_detected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut s, node, chain) = setup(dir.path());
    // The forger signs the same content with a key of their own.
    let original = &chain[5];
    let mut forger = ChainWriter::resume(NodeKey::from_bytes(&[42; 32]), None).expect("writer");
    let forged_by_other = forger.append(
        original.time,
        original.user,
        original.action,
        original.target,
        original.detail.clone(),
    );
    let mut forged = original.clone();
    forged.signature = forged_by_other.signature;
    s.store()
        .tamper_replace_audit(&node, 5, &forged.encode())
        .expect("tamper");
    let p = problem(&mut s);
    assert!(
        matches!(
            p,
            AuditProblem::Invalid {
                error: VerifyError::SignatureMismatch { seq: 5, .. },
                ..
            }
        ),
        "{p:?}"
    );
}

#[test]
fn a_fork_is_detected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut s, _, chain) = setup(dir.path());
    // Someone holding this device's key writes a second, validly signed history
    // from entry 3 on, and it arrives by sync.
    let secret: [u8; 32] = s
        .store()
        .get_meta(b"polku/node-key/v1")
        .expect("meta")
        .expect("node key")
        .try_into()
        .expect("32 bytes");
    let mut writer =
        ChainWriter::resume(NodeKey::from_bytes(&secret), Some(&chain[2])).expect("writer");
    let other = writer.append(
        chain[3].time,
        chain[3].user,
        polku_audit::Action::Export,
        None,
        polku_audit::Detail::None,
    );
    assert_eq!(other.seq, 3);
    let report = s
        .merge_audit(vec![other.clone()], chrono::Utc::now())
        .expect("merge");
    assert_eq!(report.forks, 1);
    assert_eq!(report.added, 0);
    let p = problem(&mut s);
    assert!(
        matches!(
            p,
            AuditProblem::Invalid {
                error: VerifyError::Fork { seq: 3, .. },
                ..
            }
        ),
        "{p:?}"
    );
    assert!(p.to_string().contains("#3"), "{p}");
    // The held entry is untouched, and the same evidence arriving again is kept once.
    let held = s.audit_entries(chrono::Utc::now()).expect("entries");
    assert!(held.contains(&chain[3]));
    assert!(!held.contains(&other));
    let again = s
        .merge_audit(vec![other], chrono::Utc::now())
        .expect("merge again");
    assert_eq!((again.forks, again.added), (1, 0));
    assert!(matches!(
        problem(&mut s),
        AuditProblem::Invalid {
            error: VerifyError::Fork { seq: 3, .. },
            ..
        }
    ));
}

#[test]
fn merging_another_nodes_chain_is_idempotent_and_verifies() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    let (mut sa, _, _) = setup(a.path());
    let (mut sb, _, _) = setup(b.path());
    let now = chrono::Utc::now();
    let from_b = sb.audit_entries(now).expect("entries");
    let first = sa.merge_audit(from_b.clone(), now).expect("merge");
    assert_eq!(first.added, from_b.len());
    let second = sa.merge_audit(from_b.clone(), now).expect("merge again");
    assert_eq!(second.added, 0);
    assert_eq!(second.duplicates, from_b.len());
    let summary = sa.audit_verify(now).expect("verify").expect("intact");
    assert_eq!(summary.nodes, 2);
}

/// A laptop's last 5 audit entries are deleted before a sync (the app closed
/// and reopened, so it announces the shortened chain as its head). Every
/// document change records its author's audit seq, so the hub sees the
/// changes referencing entries it never received: an audit gap.
#[test]
fn entries_deleted_on_a_laptop_before_a_sync_are_an_audit_gap_on_the_hub() {
    use polku_api::ClientInput;
    use polku_scenarios::{
        PASSWORD, add_worker, demo_hub, enrol_in_process, login, sync_in_memory,
    };
    let now = chrono::Utc::now();
    let hub_dir = tempfile::tempdir().expect("tempdir");
    let laptop_dir = tempfile::tempdir().expect("tempdir");
    let mut admin = demo_hub(hub_dir.path(), 4);
    add_worker(&mut admin, hub_dir.path(), "maija", "Itä", PASSWORD);
    enrol_in_process(&mut admin, "maija", PASSWORD, laptop_dir.path(), [31; 32]);
    let laptop_node = NodeKey::from_bytes(&[31; 32]).node_id();
    let mut hub = admin.into_replica().expect("hub replica");
    let mut laptop = login(laptop_dir.path(), "maija", PASSWORD)
        .into_replica()
        .expect("laptop replica");
    let (h, l) = sync_in_memory(&mut hub, &mut laptop);
    h.expect("hub side");
    l.expect("laptop side");
    assert_eq!(hub.session_mut().audit_gaps(now).expect("gaps"), vec![]);

    // Maija adds a client and edits it 4 times: 5 changes, 5 audit entries.
    let mut maija = laptop.into_session();
    let client = maija
        .add_client(
            ClientInput {
                first_name: "Aukko".into(),
                last_name: "Testinen".into(),
                ..ClientInput::default()
            },
            now,
        )
        .expect("add client");
    for i in 0..4 {
        maija
            .update_basic(client, now, |b| b.phone = format!("040 000 00{i}"))
            .expect("edit");
    }
    let last = maija
        .store()
        .audit_last(laptop_node.as_bytes())
        .expect("last")
        .expect("entries")
        .0;
    for seq in last - 4..=last {
        assert!(
            maija
                .store()
                .tamper_delete_audit(laptop_node.as_bytes(), seq)
                .expect("delete")
        );
    }
    maija.close().expect("close");
    let mut laptop = login(laptop_dir.path(), "maija", PASSWORD)
        .into_replica()
        .expect("laptop replica");

    let (h, l) = sync_in_memory(&mut hub, &mut laptop);
    let h = h.expect("hub side");
    l.expect("laptop side");
    assert_eq!(h.docs_created, 1, "{h:?}");
    let held = hub
        .session()
        .store()
        .audit_last(laptop_node.as_bytes())
        .expect("held")
        .map(|(seq, _)| seq);
    assert!(held.is_some_and(|h| h < last), "{held:?} < {last}");
    let gaps = hub.session_mut().audit_gaps(now).expect("gaps");
    assert_eq!(
        gaps,
        vec![polku_api::AuditGap {
            node: laptop_node,
            held,
            expected: last,
            doc: Some(client.into()),
            mismatch: false,
        }],
        "the last change referenced the last deleted entry"
    );
}
