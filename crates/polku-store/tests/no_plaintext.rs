//! Grep every byte the store writes for seeded personal data: none may appear.

mod common;

use std::fs;
use std::path::Path;

use automerge::{ROOT, transaction::Transactable};
use common::*;
use polku_core::{DocKind, UserId};
use polku_store::{KdfParams, NewUser, Store};

const LOGIN_MARKER: &str = "Kalevi Kirjautujamerkki";
const NAME_MARKER: &str = "Sirkka-Liisa Nimimerkkinen";
const BIRTH_MARKER: &str = "1999-12-31-syntymamerkki";
const MEMO_MARKER: &str = "Muistiosanamerkki";
const INDEX_MARKER: &str = "Hakuindeksimerkki";
const META_KEY_MARKER: &str = "Avainmerkki";
const META_VALUE_MARKER: &str = "Arvomerkki";
const ATTACHMENT_MARKER: &str = "Liitetiedostomerkki";
const AUDIT_MARKER: &str = "Lokimerkintamerkki";
const WRONG_PASSWORD_MARKER: &str = "Vaarasalasanamerkki";

fn markers() -> Vec<String> {
    let base = [
        LOGIN_MARKER,
        NAME_MARKER,
        BIRTH_MARKER,
        MEMO_MARKER,
        INDEX_MARKER,
        META_KEY_MARKER,
        META_VALUE_MARKER,
        ATTACHMENT_MARKER,
        AUDIT_MARKER,
        WRONG_PASSWORD_MARKER,
    ];
    let mut out = Vec::new();
    for m in base {
        out.push(m.to_string());
        out.push(m.to_lowercase());
        out.push(m.to_uppercase());
        // Distinctive fragments too (e.g. a surname on its own).
        for part in m.split([' ', '-']) {
            if part.len() >= 8 {
                out.push(part.to_string());
                out.push(part.to_lowercase());
            }
        }
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Grep every file under `dir` (db, -wal, -shm, journals, attachments).
fn assert_no_markers(dir: &Path, when: &str) -> usize {
    let files = all_files(dir);
    let markers = markers();
    for file in &files {
        let bytes = fs::read(file).expect("read");
        for m in &markers {
            assert!(
                !find(&bytes, m.as_bytes()),
                "{when}: marker {m:?} found in {}",
                file.display()
            );
        }
    }
    files.len()
}

#[test]
fn no_personal_data_in_any_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::create(
        dir.path(),
        NewUser {
            user_id: UserId::new(),
            login: LOGIN_MARKER,
            password: "salasana",
            kdf: KdfParams::INSECURE_FOR_TESTS,
        },
    )
    .expect("create");

    let mut ids = Vec::new();
    for i in 0..20 {
        let id = doc_id();
        let mut doc = sample_doc(&format!("{NAME_MARKER} {i}"));
        doc.put(ROOT, "birth_date", BIRTH_MARKER).expect("put");
        let snapshot = doc.save_nocompress();
        // Sanity: without encryption the markers would be visible.
        assert!(find(&snapshot, NAME_MARKER.as_bytes()));
        store
            .create_doc(id, DocKind::Client, &snapshot)
            .expect("create");
        for m in 0..3 {
            add_memo(&mut doc, &format!("{MEMO_MARKER} {m}"));
            let change = doc.save_incremental();
            assert!(find(&change, MEMO_MARKER.as_bytes()));
            store
                .append_change(id, &change, &doc.get_heads())
                .expect("append");
        }
        store
            .put_index(
                id,
                format!("{{\"name\":\"{NAME_MARKER}\",\"q\":\"{INDEX_MARKER}\"}}").as_bytes(),
            )
            .expect("index");
        ids.push(id);
    }
    store
        .put_meta(
            format!("sync/{META_KEY_MARKER}").as_bytes(),
            META_VALUE_MARKER.as_bytes(),
        )
        .expect("meta");
    let content = format!("{ATTACHMENT_MARKER} {NAME_MARKER}\n").repeat(10_000);
    store
        .put_attachment(content.as_bytes())
        .expect("attachment");
    store.compact(ids[0]).expect("compact");
    store.delete_doc(ids[1]).expect("delete");
    store
        .batch(|b| {
            for seq in 0..5 {
                b.append_audit(
                    &[7u8; 32],
                    seq,
                    format!("{{\"action\":\"{AUDIT_MARKER}\",\"seq\":{seq}}}").as_bytes(),
                )?;
            }
            Ok(())
        })
        .expect("audit");

    // While open: the write-ahead log and shared memory files exist.
    let n = assert_no_markers(dir.path(), "while open");
    assert!(n >= 3, "expected db, -wal, -shm and an attachment; got {n}");

    store.close().expect("close");
    assert_no_markers(dir.path(), "after close");

    // Failed logins are recorded without the name or the password tried.
    assert!(Store::unlock(dir.path(), LOGIN_MARKER, WRONG_PASSWORD_MARKER).is_err());
    assert!(Store::unlock(dir.path(), &format!("{LOGIN_MARKER}x"), "salasana").is_err());
    assert_eq!(count_rows(dir.path(), "auth_failures"), 2);
    assert_no_markers(dir.path(), "after failed logins");

    // And after another unlock, read and compaction round.
    let store = Store::unlock(dir.path(), LOGIN_MARKER, "salasana").expect("unlock");
    assert_eq!(store.load_all(DocKind::Client).expect("load").len(), 19);
    assert_eq!(store.audit_len().expect("audit"), 5);
    store.compact_all(0).expect("compact_all");
    assert_no_markers(dir.path(), "after compaction");
    drop(store);
    assert_no_markers(dir.path(), "after drop");
}
