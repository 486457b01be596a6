//! Backups (issue 11): a backup restored into an empty directory opens with
//! the same documents, heads and audit chains; a corrupted or truncated
//! backup, or the wrong key, is refused before anything is written; the 15th
//! backup removes the oldest; only an admin backs up, and only to the
//! organisation's keys.

use std::path::Path;

use chrono::{Duration, Utc};
use polku_api::backup::{self, BackupError};
use polku_api::{ApiError, AuditQuery, ClientInput, Session};
use polku_scenarios::{PASSWORD, add_worker, contains_bytes, demo_hub, login};

const MAIJA_PW: &str = "maijan-salasana-1";

/// Everything two stores must agree on: every document with its heads, and
/// every audit row.
fn state(s: &mut Session) -> (Vec<String>, Vec<String>) {
    let mut docs: Vec<String> = s
        .store()
        .list_doc_heads()
        .expect("docs")
        .into_iter()
        .map(|(id, kind, heads)| format!("{id} {kind:?} {heads:?}"))
        .collect();
    docs.sort();
    let audit = s
        .audit_list(&AuditQuery::default(), Utc::now())
        .expect("audit")
        .into_iter()
        .map(|r| {
            format!(
                "{} {} {} {} {:?}",
                r.node, r.seq, r.action, r.detail, r.target
            )
        })
        .collect();
    (docs, audit)
}

fn no_entry_of(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_backup_restores_on_new_hardware_with_the_same_documents_heads_and_audit() {
    let root = tempfile::tempdir().expect("root");
    let hub_dir = root.path().join("hub");
    let mut admin = demo_hub(&hub_dir, 12);
    let client = admin
        .add_client(
            ClientInput {
                first_name: "Varmuus".into(),
                last_name: "Kopioitava".into(),
                ..ClientInput::default()
            },
            Utc::now(),
        )
        .expect("client");
    let body = b"todistuksen sisalto ".repeat(1000);
    let attachment = admin
        .add_attachment(client, body.as_slice(), "todistus.pdf", Utc::now())
        .expect("attachment");
    let secret = admin
        .add_backup_key("paperi kassakaapissa", Utc::now())
        .expect("key");
    assert!(secret.starts_with("AGE-SECRET-KEY-1"));
    assert_eq!(admin.backup_keys().len(), 1);
    let dir = root.path().join("backups");
    let before = state(&mut admin);
    let made = admin.backup_now(&dir, Utc::now()).expect("backup");
    assert!(made.files >= 2, "the database and the attachment");
    // Encrypted: the client's name is nowhere in the file.
    let bytes = std::fs::read(&made.path).expect("read");
    assert!(!contains_bytes(&bytes, b"Kopioitava"));
    admin.close().expect("close");

    // The hub's disk dies; a new machine gets the backup and the paper key.
    std::fs::remove_dir_all(&hub_dir).expect("disk dies");
    let manifest = backup::verify_backup(&made.path, &secret).expect("verify");
    assert_eq!(manifest.files.len(), made.files);
    let new_hub = root.path().join("new-hub");
    backup::restore_backup(&made.path, &secret, &new_hub).expect("restore");
    let mut restored = login(&new_hub, "admin", PASSWORD);
    restored
        .store()
        .verify()
        .expect("the restored store verifies");
    let after = state(&mut restored);
    assert_eq!(after.0, before.0, "the same documents and heads");
    assert_eq!(
        &after.1[..before.1.len()],
        &before.1[..],
        "the same audit chain"
    );
    assert!(
        after.1[before.1.len()].contains(" export backup "),
        "then the entry of the backup's own making: {}",
        after.1[before.1.len()]
    );
    assert!(
        restored.audit_verify(Utc::now()).expect("audit").is_ok(),
        "the restored audit log verifies"
    );
    let (_, mut reader) = restored
        .open_attachment(client, attachment, Utc::now())
        .expect("attachment");
    let mut read = Vec::new();
    std::io::Read::read_to_end(&mut reader, &mut read).expect("read");
    assert_eq!(read, body);
    // A store folder that is not empty is never restored into.
    assert!(matches!(
        backup::restore_backup(&made.path, &secret, &new_hub),
        Err(ApiError::Backup(BackupError::TargetNotEmpty))
    ));
}

#[test]
fn a_corrupted_truncated_or_wrongly_keyed_backup_is_refused_before_anything_is_written() {
    let root = tempfile::tempdir().expect("root");
    let hub_dir = root.path().join("hub");
    let mut admin = demo_hub(&hub_dir, 6);
    let secret = admin.add_backup_key("", Utc::now()).expect("key");
    let dir = root.path().join("backups");
    let made = admin.backup_now(&dir, Utc::now()).expect("backup");
    admin.close().expect("close");
    let good = std::fs::read(&made.path).expect("read");

    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    let truncated = good[..good.len() * 2 / 3].to_vec();
    let cut_tail = good[..good.len() - 1].to_vec();
    for (what, bytes) in [
        ("a flipped byte", flipped),
        ("a truncated file", truncated),
        ("the last byte cut", cut_tail),
    ] {
        let bad = root.path().join("bad.age");
        std::fs::write(&bad, &bytes).expect("write");
        let before = no_entry_of(root.path());
        assert!(
            matches!(
                backup::verify_backup(&bad, &secret),
                Err(ApiError::Backup(BackupError::Damaged(_)))
            ),
            "{what}: verify"
        );
        let target = root.path().join("restored");
        assert!(
            matches!(
                backup::restore_backup(&bad, &secret, &target),
                Err(ApiError::Backup(BackupError::Damaged(_)))
            ),
            "{what}: restore"
        );
        assert!(!target.exists(), "{what}: nothing written");
        assert_eq!(no_entry_of(root.path()), before, "{what}: no staging left");
    }
    // Another organisation's key opens nothing.
    let other = root.path().join("other-hub");
    let mut other_admin = demo_hub(&other, 1);
    let other_secret = other_admin.add_backup_key("", Utc::now()).expect("key");
    other_admin.close().expect("close");
    let target = root.path().join("restored");
    assert!(matches!(
        backup::restore_backup(&made.path, &other_secret, &target),
        Err(ApiError::Backup(BackupError::WrongKey))
    ));
    assert!(!target.exists());
    assert!(matches!(
        backup::verify_backup(&made.path, "not a key"),
        Err(ApiError::Backup(BackupError::BadKey))
    ));
    // And the good one still restores.
    backup::restore_backup(&made.path, &secret, &target).expect("the good backup");
}

#[test]
fn the_fifteenth_backup_removes_the_oldest_and_only_an_admin_backs_up_to_the_keys() {
    let root = tempfile::tempdir().expect("root");
    let hub_dir = root.path().join("hub");
    let mut admin = demo_hub(&hub_dir, 2);
    let dir = root.path().join("backups");
    // No key yet: refused, nothing written.
    assert!(matches!(
        admin.backup_now(&dir, Utc::now()),
        Err(ApiError::Backup(BackupError::NoRecipients))
    ));
    assert!(backup::list_backups(&dir).expect("list").is_empty());
    admin.add_backup_key("", Utc::now()).expect("key");
    let t0 = Utc::now();
    let mut first = None;
    for i in 0..15 {
        let made = admin
            .backup_now(&dir, t0 + Duration::hours(24 * i))
            .expect("backup");
        if i == 0 {
            first = Some(made.path.clone());
        }
        if i < 14 {
            assert!(made.removed.is_empty(), "backup {i}");
        } else {
            assert_eq!(made.removed, vec![first.clone().expect("first")]);
        }
    }
    let kept = backup::list_backups(&dir).expect("list");
    assert_eq!(kept.len(), 14);
    assert!(!first.expect("first").exists());
    assert!(
        admin
            .audit_list(&AuditQuery::default(), Utc::now())
            .expect("audit")
            .iter()
            .filter(|r| r.action == "export" && r.detail == "backup")
            .count()
            >= 15
    );
    admin.close().expect("close");
    // A worker may not back up.
    let plain = root.path().join("plain");
    let mut admin = polku_scenarios::demo_workspace(&plain, 1);
    add_worker(&mut admin, &plain, "maija", "Keskusta", MAIJA_PW);
    admin.close().expect("close");
    let mut maija = login(&plain, "maija", MAIJA_PW);
    assert!(matches!(
        maija.backup_now(&dir, Utc::now()),
        Err(ApiError::Denied(_))
    ));
    maija.close().expect("close");
}

#[test]
fn the_hub_backs_up_once_a_day() {
    let root = tempfile::tempdir().expect("root");
    let hub_dir = root.path().join("hub");
    let mut admin = demo_hub(&hub_dir, 2);
    let t0 = Utc::now();
    // No key: the hub says so (and backs nothing up).
    assert!(matches!(
        polku_service::daily_backup(&mut admin, t0),
        Err(ApiError::Backup(BackupError::NoRecipients))
    ));
    admin.add_backup_key("", t0).expect("key");
    let first = polku_service::daily_backup(&mut admin, t0)
        .expect("backup")
        .expect("due: none yet");
    assert_eq!(
        first.path.parent(),
        Some(backup::default_backup_dir(&hub_dir).as_path())
    );
    assert!(
        polku_service::daily_backup(&mut admin, t0 + Duration::hours(23))
            .expect("check")
            .is_none(),
        "not due within a day"
    );
    assert!(
        polku_service::daily_backup(&mut admin, t0 + Duration::hours(25))
            .expect("backup")
            .is_some(),
        "due after a day"
    );
    assert_eq!(
        backup::list_backups(&backup::default_backup_dir(&hub_dir))
            .expect("list")
            .len(),
        2
    );
}
