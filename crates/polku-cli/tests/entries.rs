//! The `activity`, `contact` and `attachment` verbs end to end: texts from
//! standard input, JSON output, attachment round trip.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const PASSWORD: &str = "cli-test-password";

fn polku_in(store: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_polku"))
        .arg("--store")
        .arg(store)
        .args(["--user", "admin"])
        .args(args)
        .env_remove("POLKU_STORE")
        .env_remove("POLKU_USER")
        .env("POLKU_PASSWORD", PASSWORD)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run polku");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "polku failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&ok(out)).expect("json")
}

#[test]
fn activity_contact_and_attachment_verbs_round_trip() {
    let dir = tempfile::tempdir().expect("dir");
    let store = dir.path().join("store");
    let store = store.as_path();
    let init = Command::new(env!("CARGO_BIN_EXE_polku"))
        .arg("--store")
        .arg(store)
        .args(["init", "--admin", "admin"])
        .env("POLKU_PASSWORD", PASSWORD)
        .output()
        .expect("init");
    ok(&init);
    ok(&polku_in(
        store,
        &["demo", "--clients", "3", "--seed", "2"],
        "",
    ));

    let id = ok(&polku_in(
        store,
        &[
            "activity",
            "add",
            "--kind",
            "street_work",
            "--date",
            "2026-03-09",
            "--minutes",
            "90",
            "--place",
            "Kauppatori",
            "--unit",
            "Keskusta",
            "--met",
            "female:16-17:3",
            "--met",
            "male:18-20:1",
            "--text",
            "-",
        ],
        "Tavattiin torilla.\n",
    ));
    let id = id.trim();
    let shown = json(&polku_in(store, &["activity", "show", id, "--json"], ""));
    assert_eq!(shown["text"], "Tavattiin torilla.");
    assert_eq!(shown["met"]["female"]["16-17"], 3);
    ok(&polku_in(
        store,
        &["activity", "edit", id, "--text", "-", "--minutes", "100"],
        "Tavattiin torilla ja asemalla.\n",
    ));
    let listed = json(&polku_in(
        store,
        &[
            "activity",
            "list",
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-31",
            "--json",
        ],
        "",
    ));
    let mine: Vec<_> = listed
        .as_array()
        .expect("array")
        .iter()
        .filter(|m| m["id"] == id)
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["text"], "Tavattiin torilla ja asemalla.");
    assert_eq!(mine[0]["duration_minutes"], 100);
    let count = |store: &Path| {
        json(&polku_in(store, &["activity", "list", "--json"], ""))
            .as_array()
            .expect("array")
            .iter()
            .filter(|m| m["id"] == id)
            .count()
    };
    ok(&polku_in(store, &["activity", "rm", id], ""));
    assert_eq!(count(store), 0, "a deleted memo is not listed");
    ok(&polku_in(store, &["activity", "restore", id], ""));
    assert_eq!(count(store), 1);

    ok(&polku_in(
        store,
        &[
            "contact",
            "add",
            "--date",
            "2026-03-09",
            "--channel",
            "online",
            "--gender",
            "female",
            "--age",
            "16-17",
            "--topic",
            "housing",
            "--unit",
            "Keskusta",
            "--text",
            "-",
        ],
        "Kysyi asunnosta.\n",
    ));
    // Codes are words from the code lists: a number is refused.
    let bad = polku_in(
        store,
        &["contact", "add", "--gender", "1", "--unit", "Keskusta"],
        "",
    );
    assert!(!bad.status.success());
    let contacts = json(&polku_in(store, &["contact", "list", "--json"], ""));
    let contacts = contacts.as_array().expect("array");
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0]["contact"]["channel"], "online");
    assert_eq!(contacts[0]["contact"]["text"], "Kysyi asunnosta.");

    // Edit (a code cleared with `none`, the text from stdin), delete, restore.
    let cid = contacts[0]["contact"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    ok(&polku_in(
        store,
        &["contact", "edit", &cid, "--gender", "none", "--text", "-"],
        "Kysyi asunnosta ja työstä.\n",
    ));
    let edited = json(&polku_in(store, &["contact", "list", "--json"], ""));
    assert_eq!(edited[0]["contact"]["gender"], serde_json::Value::Null);
    assert_eq!(edited[0]["contact"]["age_group"], "16-17");
    assert_eq!(edited[0]["contact"]["text"], "Kysyi asunnosta ja työstä.");
    ok(&polku_in(store, &["contact", "rm", &cid], ""));
    let after_rm = json(&polku_in(store, &["contact", "list", "--json"], ""));
    assert_eq!(after_rm.as_array().expect("array").len(), 0);
    ok(&polku_in(store, &["contact", "restore", &cid], ""));
    let restored = json(&polku_in(store, &["contact", "list", "--json"], ""));
    assert_eq!(restored.as_array().expect("array").len(), 1);
    let unknown = polku_in(
        store,
        &["contact", "rm", "01010101-0101-0101-0101-010101010101"],
        "",
    );
    assert!(!unknown.status.success());

    let clients = json(&polku_in(store, &["client", "list", "--json"], ""));
    let client = clients[0]["id"].as_str().expect("client id").to_owned();
    let file = dir.path().join("lausunto.txt");
    let body = "Lausunnon sisältö.\n".repeat(5000);
    std::fs::write(&file, &body).expect("write");
    let att = ok(&polku_in(
        store,
        &["attachment", "add", &client, file.to_str().expect("path")],
        "",
    ));
    let att = att.trim();
    let list = json(&polku_in(
        store,
        &["attachment", "list", &client, "--json"],
        "",
    ));
    assert_eq!(list[0]["file_name"], "lausunto.txt");
    assert_eq!(list[0]["size"], body.len());
    let out = dir.path().join("takaisin.txt");
    ok(&polku_in(
        store,
        &[
            "attachment",
            "get",
            &client,
            att,
            "--out",
            out.to_str().expect("path"),
        ],
        "",
    ));
    assert_eq!(std::fs::read_to_string(&out).expect("read"), body);
    ok(&polku_in(store, &["attachment", "rm", &client, att], ""));
    let list = json(&polku_in(
        store,
        &["attachment", "list", &client, "--json"],
        "",
    ));
    assert_eq!(list.as_array().map(Vec::len), Some(0));
}
