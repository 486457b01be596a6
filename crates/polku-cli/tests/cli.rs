//! The `polku` command contract: exit codes, messages, JSON output, determinism.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const PASSWORD: &str = "cli-test-password";

fn polku(store: &Path, user: Option<&str>, args: &[&str]) -> Output {
    polku_with_password(store, user, Some(PASSWORD), args)
}

fn polku_with_password(
    store: &Path,
    user: Option<&str>,
    password: Option<&str>,
    args: &[&str],
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_polku"));
    cmd.arg("--store").arg(store);
    if let Some(u) = user {
        cmd.arg("--user").arg(u);
    }
    cmd.args(args)
        .env_remove("POLKU_STORE")
        .env_remove("POLKU_USER")
        .stdin(Stdio::null());
    match password {
        Some(p) => cmd.env("POLKU_PASSWORD", p),
        None => cmd.env_remove("POLKU_PASSWORD"),
    };
    cmd.output().expect("run polku")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "polku failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn demo_store(dir: &Path, clients: &str, seed: &str) {
    ok(&polku(dir, None, &["init", "--admin", "admin"]));
    ok(&polku(
        dir,
        Some("admin"),
        &["demo", "--clients", clients, "--seed", seed],
    ));
}

fn list_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(&polku(
        dir,
        Some("admin"),
        &["client", "list", "--json"],
    )))
    .expect("json")
}

/// Every file of the store and its bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    files.sort();
    files
}

/// Every row of every table of the store's database, read raw (the sealed
/// bytes themselves: documents, views, index, audit entries, settings,
/// users), by table; and the schema version.
fn db_contents(dir: &Path) -> BTreeMap<String, Vec<Vec<rusqlite::types::Value>>> {
    let conn = rusqlite::Connection::open_with_flags(
        dir.join("polku.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open raw");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("tables")
        .collect::<Result<_, _>>()
        .expect("names");
    let mut out = BTreeMap::new();
    for t in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{t}\""))
            .expect("select");
        let n = stmt.column_count();
        let mut rows: Vec<Vec<rusqlite::types::Value>> = stmt
            .query_map([], |r| (0..n).map(|i| r.get(i)).collect())
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("values");
        rows.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        out.insert(t, rows);
    }
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    out.insert(
        "PRAGMA user_version".into(),
        vec![vec![rusqlite::types::Value::Integer(v)]],
    );
    out
}

/// Every file under `dir` but the database's own (compared row by row
/// instead), with its bytes.
fn files_but_db(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push((p.clone(), std::fs::read(&p).expect("read")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.retain(|(p, _)| {
        !p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("polku.db"))
    });
    out.sort();
    out
}

#[test]
fn init_demo_list_show_and_memo() {
    let dir = tempfile::tempdir().expect("tempdir");
    demo_store(dir.path(), "25", "7");
    let list = list_json(dir.path());
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), 25);
    let id = list[0]["id"].as_str().expect("id").to_owned();

    let shown: serde_json::Value = serde_json::from_str(&ok(&polku(
        dir.path(),
        Some("admin"),
        &["client", "show", &id, "--json"],
    )))
    .expect("json");
    assert_eq!(shown["id"], list[0]["id"]);
    assert_eq!(shown["basic"]["last_name"], list[0]["last_name"]);
    let memos_before = shown["memos"].as_object().expect("memos").len();

    let memo_id = ok(&polku(
        dir.path(),
        Some("admin"),
        &["memo", "add", &id, "Soitettiin, sovittiin tapaaminen."],
    ));
    let memo_id = memo_id.trim();
    let shown: serde_json::Value = serde_json::from_str(&ok(&polku(
        dir.path(),
        Some("admin"),
        &["client", "show", &id, "--json"],
    )))
    .expect("json");
    let memos = shown["memos"].as_object().expect("memos");
    assert_eq!(memos.len(), memos_before + 1);
    assert_eq!(memos[memo_id]["text"], "Soitettiin, sovittiin tapaaminen.");

    let added = ok(&polku(
        dir.path(),
        Some("admin"),
        &[
            "client",
            "add",
            "--first-name",
            "Aino",
            "--last-name",
            "Testinen",
            "--birth-date",
            "2006-02-03",
            "--gender",
            "female",
            "--mother-tongue",
            "fi",
            "--json",
        ],
    ));
    let added: serde_json::Value = serde_json::from_str(&added).expect("json");
    assert_eq!(list_json(dir.path()).as_array().expect("array").len(), 26);
    let new_id = added["id"].as_str().expect("id");
    let shown = ok(&polku(
        dir.path(),
        Some("admin"),
        &["client", "show", new_id],
    ));
    assert!(
        shown.contains("Testinen") && shown.contains("3.2.2006"),
        "{shown}"
    );
}

#[test]
fn same_seed_gives_the_same_data() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    let c = tempfile::tempdir().expect("tempdir");
    demo_store(a.path(), "15", "11");
    demo_store(b.path(), "15", "11");
    demo_store(c.path(), "15", "12");
    assert_eq!(list_json(a.path()), list_json(b.path()));
    assert_ne!(list_json(a.path()), list_json(c.path()));
}

#[test]
fn unknown_code_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    ok(&polku(dir.path(), None, &["init", "--admin", "admin"]));
    let out = polku(
        dir.path(),
        Some("admin"),
        &[
            "client",
            "add",
            "--first-name",
            "A",
            "--last-name",
            "B",
            "--gender",
            "zz-unknown",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("unknown code"), "{}", stderr(&out));
    assert_eq!(list_json(dir.path()).as_array().expect("array").len(), 0);
}

#[test]
fn wrong_password_fails_clearly_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    demo_store(dir.path(), "5", "1");
    let list_before = list_json(dir.path());
    let id = list_before[0]["id"].as_str().expect("id").to_owned();
    let client_before = ok(&polku(
        dir.path(),
        Some("admin"),
        &["client", "show", &id, "--json"],
    ));
    let names_before: Vec<String> = snapshot(dir.path()).into_iter().map(|(n, _)| n).collect();
    let mut db_before = db_contents(dir.path());
    let files_before = files_but_db(dir.path());
    assert!(
        db_before["docs"].len() >= 5 && !db_before["audit_entries"].is_empty(),
        "the snapshot holds the data"
    );
    for t in ["doc_views", "search_index", "sealed_kv", "doc_changes"] {
        assert!(db_before.contains_key(t), "no table {t}");
    }
    let out = polku_with_password(
        dir.path(),
        Some("admin"),
        Some("not-the-password"),
        &["memo", "add", &id, "x"],
    );
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.contains("wrong password"), "{err}");
    assert!(out.stdout.is_empty());
    // Only the failed-login record was written (it becomes a signed audit entry at
    // the next unlock); no file appeared or vanished, no document or index changed.
    let names_after: Vec<String> = snapshot(dir.path()).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names_after, names_before);
    // Every byte of every row of every table is as before, but for one new
    // failed-login row (wrong password, code 1).
    let mut db_after = db_contents(dir.path());
    let failures_before = db_before.remove("auth_failures").expect("auth_failures");
    let failures_after = db_after.remove("auth_failures").expect("auth_failures");
    assert_eq!(failures_after.len(), failures_before.len() + 1);
    assert!(failures_before.iter().all(|r| failures_after.contains(r)));
    let new_row = failures_after
        .iter()
        .find(|r| !failures_before.contains(r))
        .expect("the new row");
    assert_eq!(
        new_row[3],
        rusqlite::types::Value::Integer(1),
        "{new_row:?}"
    );
    assert!(
        db_after == db_before,
        "a refused login changed the database"
    );
    assert!(
        files_but_db(dir.path()) == files_before,
        "a refused login changed a file"
    );
    assert_eq!(list_json(dir.path()), list_before);
    let client_after = ok(&polku(
        dir.path(),
        Some("admin"),
        &["client", "show", &id, "--json"],
    ));
    assert!(
        client_after == client_before,
        "a refused login changed a client"
    );
    let audit: serde_json::Value = serde_json::from_str(&ok(&polku(
        dir.path(),
        Some("admin"),
        &["audit", "list", "--json"],
    )))
    .expect("json");
    let failed: Vec<_> = audit
        .as_array()
        .expect("array")
        .iter()
        .filter(|r| r["action"] == "failed_login")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["detail"], "wrong_password");

    let out = polku(dir.path(), Some("nobody"), &["client", "list"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("unknown user"));
    assert!(
        !stderr(&out).contains("nobody"),
        "the message repeats the login name"
    );
}

#[test]
fn password_is_never_an_argument_and_a_missing_terminal_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = polku(
        dir.path(),
        None,
        &["init", "--admin", "admin", "--password", "x"],
    );
    assert!(!out.status.success());
    let out = polku_with_password(dir.path(), None, None, &["init", "--admin", "admin"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("password"), "{}", stderr(&out));
    assert!(!dir.path().join("polku.db").exists());
}

#[test]
fn a_store_cut_in_half_is_reported_as_damaged_without_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    demo_store(dir.path(), "40", "2");
    let db = dir.path().join("polku.db");
    let bytes = std::fs::read(&db).expect("read");
    std::fs::write(&db, &bytes[..bytes.len() / 2]).expect("cut");
    let out = polku(dir.path(), Some("admin"), &["client", "list"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("damaged"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    std::fs::write(&db, b"this is not a database at all").expect("garbage");
    let out = polku(dir.path(), Some("admin"), &["client", "list"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("not a Polku store"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_ids_are_refused_without_echoing_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    demo_store(dir.path(), "3", "1");
    let out = polku(
        dir.path(),
        Some("admin"),
        &["client", "show", "Matti Meikäläinen"],
    );
    assert!(!out.status.success());
    assert!(!stderr(&out).contains("Matti"), "{}", stderr(&out));
    let out = polku(
        dir.path(),
        Some("admin"),
        &["client", "show", "019cc786-6680-71b5-9558-a554187f134a"],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
}

#[test]
fn a_shown_client_has_a_view_entry_and_the_log_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    demo_store(dir.path(), "5", "3");
    let list = list_json(dir.path());
    let id = list[2]["id"].as_str().expect("id").to_owned();
    ok(&polku(dir.path(), Some("admin"), &["client", "show", &id]));
    let rows: serde_json::Value = serde_json::from_str(&ok(&polku(
        dir.path(),
        Some("admin"),
        &["audit", "list", "--client", &id, "--json"],
    )))
    .expect("json");
    let rows = rows.as_array().expect("array");
    assert!(
        rows.iter()
            .any(|r| r["action"] == "view" && r["user"] == "admin" && r["target"] == id.as_str()),
        "{rows:#?}"
    );
    assert!(rows.iter().all(|r| r["target"] == id.as_str()));
    let out = ok(&polku(dir.path(), Some("admin"), &["audit", "verify"]));
    assert!(out.contains("verified"), "{out}");
}

#[test]
fn user_management_and_a_refused_worker() {
    let dir = tempfile::tempdir().expect("tempdir");
    demo_store(dir.path(), "10", "3");
    let cmd_env = |args: &[&str], new_pw: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_polku"));
        cmd.arg("--store")
            .arg(dir.path())
            .args(args)
            .env("POLKU_PASSWORD", PASSWORD)
            .env("POLKU_NEW_PASSWORD", new_pw)
            .stdin(Stdio::null());
        cmd.output().expect("run")
    };
    ok(&cmd_env(
        &[
            "--user",
            "admin",
            "user",
            "add",
            "ville",
            "--role",
            "coordinator",
            "--unit",
            "Itä",
        ],
        "temp-pass-9",
    ));
    let users = ok(&polku(dir.path(), Some("admin"), &["user", "list"]));
    assert!(
        users.contains("ville") && users.contains("coordinator"),
        "{users}"
    );
    // A temporary password must be changed first.
    let out = polku_with_password(
        dir.path(),
        Some("ville"),
        Some("temp-pass-9"),
        &["client", "list"],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("user passwd"), "{}", stderr(&out));
    let mut c = Command::new(env!("CARGO_BIN_EXE_polku"));
    c.arg("--store")
        .arg(dir.path())
        .args(["--user", "ville", "user", "passwd"])
        .env("POLKU_PASSWORD", "temp-pass-9")
        .env("POLKU_NEW_PASSWORD", "villen-oma-salasana")
        .stdin(Stdio::null());
    ok(&c.output().expect("run"));
    // A coordinator may not manage users: exit 6, and the refusal is audited.
    let out = polku_with_password(
        dir.path(),
        Some("ville"),
        Some("villen-oma-salasana"),
        &["user", "deactivate", "admin"],
    );
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("user and rights management"),
        "{}",
        stderr(&out)
    );
    ok(&polku(
        dir.path(),
        Some("admin"),
        &["user", "set-role", "ville", "worker"],
    ));
    ok(&polku(
        dir.path(),
        Some("admin"),
        &["user", "deactivate", "ville"],
    ));
    let out = polku_with_password(
        dir.path(),
        Some("ville"),
        Some("villen-oma-salasana"),
        &["client", "list"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("deactivated"), "{}", stderr(&out));
    let audit = ok(&polku(
        dir.path(),
        Some("admin"),
        &["audit", "list", "--user", "ville"],
    ));
    assert!(
        audit.contains("denied") && audit.contains("user_inactive"),
        "{audit}"
    );
    // The last administrator cannot be deactivated.
    let out = polku(dir.path(), Some("admin"), &["user", "deactivate", "admin"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("administrator"), "{}", stderr(&out));
}

/// The record verbs write a young person's period through the CLI alone:
/// open, measures, situations, referral, consent, close, follow-up, and a
/// memo deleted and restored; `client missing` says nothing is lacking.
#[test]
fn record_verbs_write_a_period_from_start_to_follow_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path();
    ok(&polku(store, None, &["init", "--admin", "admin"]));
    let run = |args: &[&str]| ok(&polku(store, Some("admin"), args)).trim().to_owned();
    let c = run(&[
        "client",
        "add",
        "--first-name",
        "Onni",
        "--last-name",
        "Testinen",
        "--birth-date",
        "2008-05-04",
        "--gender",
        "male",
        "--mother-tongue",
        "fi",
    ]);
    let referral = run(&[
        "referral",
        "add",
        &c,
        "--source",
        "basic_education",
        "--received",
        "2026-01-05",
    ]);
    let period = run(&[
        "period",
        "open",
        &c,
        "--start",
        "2026-01-12",
        "--arrival",
        "basic_education",
        "--referral",
        &referral,
        "--goals",
        "Opiskelupaikka syksyksi.",
    ]);
    let measure = run(&["measure", "add", &c, &period, "education_application"]);
    run(&[
        "situation",
        "add",
        &c,
        "--date",
        "2026-01-12",
        "--phase",
        "start",
        "--period",
        &period,
        "--education",
        "basic",
        "--education-status",
        "not_studying",
        "--activity",
        "outside",
        "--livelihood",
        "parents",
        "--housing",
        "with_parents",
    ]);
    run(&[
        "consent",
        "add",
        &c,
        "--topic",
        "follow_up",
        "--given",
        "2026-01-12",
    ]);
    run(&[
        "measure",
        "end",
        &c,
        &period,
        &measure,
        "--end",
        "2026-05-30",
    ]);
    run(&[
        "period",
        "close",
        &c,
        &period,
        "--end",
        "2026-06-01",
        "--outcome",
        "vocational",
    ]);
    let follow_up = run(&["followup", "add", &c, &period]);
    let memo = run(&["memo", "add", &c, "Väärä asiakas."]);
    run(&["memo", "rm", &c, &memo]);
    assert_eq!(run(&["client", "missing", &c]), "Nothing is missing.");

    let shown: serde_json::Value =
        serde_json::from_str(&run(&["client", "show", &c, "--json"])).expect("json");
    let p = &shown["periods"][&period];
    assert_eq!(p["start"], "2026-01-12");
    assert_eq!(p["end"], "2026-06-01");
    assert_eq!(p["outcome"], "vocational");
    assert_eq!(p["referral"], referral.as_str());
    assert_eq!(p["measures"][&measure]["status"], "completed");
    assert_eq!(shown["follow_ups"][&follow_up]["due"], "2027-06-01");
    assert!(!shown["memos"][&memo]["deleted"].is_null());
    // The text view leaves the deleted memo out; restored, it is back.
    assert!(!run(&["client", "show", &c]).contains("Väärä asiakas."));
    run(&["memo", "restore", &c, &memo]);
    assert!(run(&["client", "show", &c]).contains("Väärä asiakas."));

    // A code that is not in its list is refused with a clear error.
    let out = polku(store, Some("admin"), &["measure", "add", &c, &period, "1"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("measure"), "{}", stderr(&out));
}
