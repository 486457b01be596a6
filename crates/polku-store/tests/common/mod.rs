//! Helpers shared by the store's integration tests.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use automerge::{AutoCommit, ObjType, ROOT, ReadDoc, transaction::Transactable};
use polku_core::{DocId, UserId};
use polku_store::{KdfParams, NewUser, Store};

pub const LOGIN: &str = "Maija Testaaja";
pub const PASSWORD: &str = "correct horse battery staple";

/// A fresh store with one user and cheap test KDF parameters.
pub fn new_store(dir: &Path) -> (Store, UserId) {
    let user_id = UserId::new();
    let store = Store::create(
        dir,
        NewUser {
            user_id,
            login: LOGIN,
            password: PASSWORD,
            kdf: KdfParams::INSECURE_FOR_TESTS,
        },
    )
    .expect("create store");
    (store, user_id)
}

pub fn doc_id() -> DocId {
    DocId(uuid::Uuid::now_v7())
}

/// A document with a text field and a list of memos.
pub fn sample_doc(name: &str) -> AutoCommit {
    let mut doc = AutoCommit::new();
    let text = doc.put_object(ROOT, "name", ObjType::Text).expect("text");
    doc.splice_text(&text, 0, 0, name).expect("splice");
    doc.put_object(ROOT, "memos", ObjType::List).expect("memos");
    doc
}

/// Append a memo (a text object) to the document's memo list.
pub fn add_memo(doc: &mut AutoCommit, memo: &str) {
    let (_, memos) = doc.get(ROOT, "memos").expect("get").expect("memos");
    let len = doc.length(&memos);
    let m = doc
        .insert_object(&memos, len, ObjType::Text)
        .expect("insert");
    doc.splice_text(&m, 0, 0, memo).expect("splice");
}

/// All memo texts of a document.
pub fn memos(doc: &impl ReadDoc) -> Vec<String> {
    let (_, memos) = doc.get(ROOT, "memos").expect("get").expect("memos");
    (0..doc.length(&memos))
        .map(|i| {
            let (_, m) = doc.get(&memos, i).expect("get").expect("memo");
            doc.text(&m).expect("text")
        })
        .collect()
}

pub fn name(doc: &impl ReadDoc) -> String {
    let (_, t) = doc.get(ROOT, "name").expect("get").expect("name");
    doc.text(&t).expect("text")
}

/// Row count of a table, read with a separate raw connection.
pub fn count_rows(dir: &Path, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(dir.join(polku_store::DB_FILE)).expect("open raw");
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .expect("count")
}

/// Every file under `dir`, recursively.
pub fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Copy a directory tree (flat enough for store fixtures).
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).expect("copy");
        }
    }
}
