//! Creates a store, adds 200 demo clients, then searches every file under the
//! store directory byte-wise for seeded last names, birth dates and memo words.

use std::collections::BTreeSet;

use polku_api::Workspace;
use polku_scenarios::{PASSWORD, contains_bytes, files_under};

#[test]
fn no_personal_data_in_any_file_of_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now();
    Workspace::init(dir.path(), "admin", PASSWORD, now).expect("init");
    let mut session = Workspace::open(dir.path())
        .and_then(|w| w.login("admin", PASSWORD, now))
        .expect("login");
    session.add_demo(200, 42, now).expect("demo");

    // Collect what must not appear: 20 last names, 20 birth dates (ISO and Finnish
    // formats), and the long words of those clients' memos.
    let list = session.list_clients(now).expect("list");
    assert_eq!(list.len(), 200);
    let mut needles: BTreeSet<String> = BTreeSet::new();
    let mut memo_words: BTreeSet<String> = BTreeSet::new();
    for summary in list.iter().take(20) {
        needles.insert(summary.last_name.clone());
        if let Some(b) = summary.birth_date {
            needles.insert(b.format("%Y-%m-%d").to_string());
            needles.insert(b.format("%-d.%-m.%Y").to_string());
        }
        let client = session.show_client(summary.id, now).expect("show");
        for memo in client.memos.values() {
            for word in memo.text.split_whitespace() {
                let w = word.trim_matches(|c: char| !c.is_alphanumeric());
                if w.chars().count() >= 9 {
                    memo_words.insert(w.to_owned());
                }
            }
        }
        needles.insert(client.basic.email.clone());
    }
    assert!(memo_words.len() >= 10, "too few memo words to search for");
    needles.extend(memo_words);
    // Keep the WAL as it is (no compaction) for the first scan, then close and scan again.
    scan(dir.path(), &needles, "while open");
    session.close().expect("close");
    scan(dir.path(), &needles, "after close");
}

fn scan(dir: &std::path::Path, needles: &BTreeSet<String>, when: &str) {
    let files = files_under(dir);
    assert!(
        files.iter().any(|f| f.ends_with("polku.db")),
        "store database missing"
    );
    let mut total = 0usize;
    for file in &files {
        let bytes = std::fs::read(file).expect("read store file");
        total += bytes.len();
        for needle in needles {
            assert!(
                !contains_bytes(&bytes, needle.as_bytes()),
                "{when}: a seeded value ({} bytes) found in plaintext in {}",
                needle.len(),
                file.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default()
            );
        }
    }
    assert!(
        total > 200 * 1024,
        "store suspiciously small: {total} bytes"
    );
}
