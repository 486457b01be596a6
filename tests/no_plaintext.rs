//! Creates a store, adds 200 demo clients, then searches every file under the
//! store directory byte-wise for seeded personal data: last and first names,
//! birth dates in every format the app shows, identity codes, e-mail
//! addresses, phone numbers, street addresses and memo words. A positive
//! control runs the same scan over an unencrypted copy of the same data (a
//! plain SQLite database in WAL mode, kept open) and must find every needle.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use polku_api::Workspace;
use polku_core::model::Client;
use polku_scenarios::{PASSWORD, contains_bytes, files_under};

/// The date formats the app shows a birth date in (CLI and search: `d.m.yyyy`;
/// written out `dd.mm.yyyy`; ISO in JSON and exports).
const DATE_FORMATS: [(&str, &str); 3] = [
    ("birth date d.m.yyyy", "%-d.%-m.%Y"),
    ("birth date dd.mm.yyyy", "%d.%m.%Y"),
    ("birth date ISO", "%Y-%m-%d"),
];

/// Needles by kind.
type Needles = BTreeMap<&'static str, BTreeSet<String>>;

fn needles_of(clients: &[Client]) -> Needles {
    let mut n: Needles = BTreeMap::new();
    let mut add = |kind: &'static str, value: &str| {
        let value = value.trim();
        // Short values (a four-letter first name) could occur by chance in
        // ciphertext-free structure; everything the demo makes is longer.
        if value.chars().count() >= 5 {
            n.entry(kind).or_default().insert(value.to_owned());
        }
    };
    for c in clients {
        let b = &c.basic;
        add("last name", &b.last_name);
        add("first name", &b.first_name);
        if let Some(d) = b.birth_date {
            for (kind, fmt) in DATE_FORMATS {
                add(kind, &d.format(fmt).to_string());
            }
        }
        if let Some(h) = &b.henkilotunnus {
            add("identity code", h);
        }
        add("e-mail", &b.email);
        add("phone", &b.phone);
        add("street", &b.address.street);
        for memo in c.memos.values() {
            for word in memo.text.split_whitespace() {
                let w = word.trim_matches(|c: char| !c.is_alphanumeric());
                if w.chars().count() >= 9 {
                    add("memo word", w);
                }
            }
        }
    }
    n
}

/// For every needle, the files under `dir` it was found in. One pass per
/// file: each position's 4-byte prefix is looked up among the needles'
/// (every needle has at least 5 bytes).
fn scan(dir: &Path, needles: &Needles) -> BTreeMap<String, Vec<PathBuf>> {
    let all: Vec<&String> = needles.values().flatten().collect();
    let mut by_prefix: HashMap<[u8; 4], Vec<&String>> = HashMap::new();
    for n in &all {
        let p: [u8; 4] = n.as_bytes()[..4].try_into().expect("5 bytes or more");
        by_prefix.entry(p).or_default().push(n);
    }
    let mut found: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for file in files_under(dir) {
        let bytes = std::fs::read(&file).expect("read file");
        let mut hit: BTreeSet<&String> = BTreeSet::new();
        for (i, w) in bytes.windows(4).enumerate() {
            let p: [u8; 4] = w.try_into().expect("4 bytes");
            if let Some(cands) = by_prefix.get(&p) {
                for n in cands {
                    if bytes[i..].starts_with(n.as_bytes()) {
                        hit.insert(n);
                    }
                }
            }
        }
        for n in hit {
            // Cross-check with the plain search of the scenario helpers.
            assert!(contains_bytes(&bytes, n.as_bytes()));
            found.entry(n.clone()).or_default().push(file.clone());
        }
    }
    found
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn assert_nothing_found(dir: &Path, needles: &Needles, when: &str) {
    let files = files_under(dir);
    assert!(
        files.iter().any(|f| f.ends_with("polku.db")),
        "store database missing"
    );
    let total: u64 = files.iter().map(|f| file_len(f)).sum();
    assert!(
        total > 200 * 1024,
        "store suspiciously small: {total} bytes"
    );
    let found = scan(dir, needles);
    let kinds: Vec<(&str, usize, Vec<String>)> = needles
        .iter()
        .filter_map(|(kind, set)| {
            let hits: Vec<String> = set
                .iter()
                .filter_map(|s| found.get(s))
                .flatten()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect();
            (!hits.is_empty()).then_some((*kind, hits.len(), hits))
        })
        .collect();
    // Report kinds and file names only, never the values.
    assert!(kinds.is_empty(), "{when}: plaintext found: {kinds:?}");
}

#[test]
fn no_personal_data_in_any_file_of_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now();
    Workspace::init(dir.path(), "admin", PASSWORD, now).expect("init");
    let mut session = Workspace::open(dir.path())
        .and_then(|w| w.login("admin", PASSWORD, now))
        .expect("login");
    session.add_demo(200, 42, now).expect("demo");

    // What must not appear: the data of 40 clients.
    let list = session.list_clients(now).expect("list");
    assert_eq!(list.len(), 200);
    let clients: Vec<Client> = list
        .iter()
        .take(40)
        .map(|s| session.show_client(s.id, now).expect("show"))
        .collect();
    let needles = needles_of(&clients);
    // Every kind was actually added, enough of each.
    for (kind, min) in [
        ("last name", 20),
        ("first name", 10),
        ("birth date d.m.yyyy", 20),
        ("birth date dd.mm.yyyy", 20),
        ("birth date ISO", 20),
        ("e-mail", 30),
        ("phone", 30),
        ("street", 20),
        ("memo word", 10),
    ] {
        let n = needles.get(kind).map_or(0, BTreeSet::len);
        assert!(n >= min, "only {n} needles of kind {kind}");
    }
    // The two Finnish date formats differ for some of them (a day or month
    // under 10), so both are really searched for.
    assert!(
        needles["birth date d.m.yyyy"]
            .difference(&needles["birth date dd.mm.yyyy"])
            .count()
            > 0
    );

    // Positive control: the same scan over an unencrypted copy of the same
    // data (the clients as JSON, and as the app shows them) in a plain
    // SQLite database in WAL mode, still open, finds every needle, some in
    // its WAL.
    let control = tempfile::tempdir().expect("tempdir");
    let conn = rusqlite::Connection::open(control.path().join("plain.db")).expect("plain db");
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .expect("wal");
    assert_eq!(mode, "wal");
    conn.execute("CREATE TABLE clients (json TEXT, shown TEXT)", [])
        .expect("table");
    for c in &clients {
        let b = &c.basic;
        let shown: Vec<String> = b
            .birth_date
            .map(|d| {
                DATE_FORMATS
                    .iter()
                    .map(|(_, f)| d.format(f).to_string())
                    .collect()
            })
            .unwrap_or_default();
        conn.execute(
            "INSERT INTO clients VALUES (?1, ?2)",
            (
                serde_json::to_string(c).expect("json"),
                format!("{} {}: {}", b.first_name, b.last_name, shown.join(" / ")),
            ),
        )
        .expect("insert");
    }
    let found = scan(control.path(), &needles);
    for (kind, set) in &needles {
        let missed = set.iter().filter(|s| !found.contains_key(*s)).count();
        assert_eq!(missed, 0, "the control copy misses {missed} of kind {kind}");
    }
    let control_wal = control.path().join("plain.db-wal");
    assert!(file_len(&control_wal) > 0, "the control's WAL is empty");
    assert!(
        found.values().flatten().any(|p| *p == control_wal),
        "the scan reads the WAL"
    );
    drop(conn);

    // The store itself, while open: its WAL exists and holds the data
    // written (nothing checkpointed it away), and nothing is found.
    let wal = dir.path().join("polku.db-wal");
    assert!(
        file_len(&wal) > 100 * 1024,
        "WAL missing or small: {}",
        file_len(&wal)
    );
    assert_nothing_found(dir.path(), &needles, "while open");
    session.close().expect("close");
    assert_nothing_found(dir.path(), &needles, "after close");
}
