//! `polku stats`: formats, the check, errors and the reporting right.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use chrono::Datelike;

const PASSWORD: &str = "cli-stats-password";

fn polku_env(
    store: &Path,
    user: &str,
    password: &str,
    new_pw: Option<&str>,
    args: &[&str],
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_polku"));
    cmd.arg("--store")
        .arg(store)
        .args(["--user", user])
        .args(args)
        .env_remove("POLKU_STORE")
        .env_remove("POLKU_USER")
        .env("POLKU_PASSWORD", password)
        .stdin(Stdio::null());
    if let Some(p) = new_pw {
        cmd.env("POLKU_NEW_PASSWORD", p);
    }
    cmd.output().expect("run polku")
}

fn admin(store: &Path, args: &[&str]) -> Output {
    polku_env(store, "admin", PASSWORD, None, args)
}

fn ok(out: &Output) -> Vec<u8> {
    assert!(
        out.status.success(),
        "polku failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout.clone()
}

fn store(dir: &Path) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_polku"));
    cmd.arg("--store")
        .arg(dir)
        .args(["init", "--admin", "admin"])
        .env("POLKU_PASSWORD", PASSWORD)
        .stdin(Stdio::null());
    ok(&cmd.output().expect("init"));
    ok(&admin(dir, &["demo", "--clients", "30", "--seed", "4"]));
}

#[test]
fn stats_in_every_format_and_the_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    store(dir.path());
    let year = chrono::Utc::now().year().to_string();
    let json: serde_json::Value = serde_json::from_slice(&ok(&admin(
        dir.path(),
        &["stats", "--period", &year, "--format", "json"],
    )))
    .expect("json");
    assert_eq!(json["groups"][0]["kind"], "organisation");
    assert_eq!(json["groups"][0]["tables"][0]["key"], "summary");

    let csv = ok(&admin(
        dir.path(),
        &[
            "stats",
            "--period",
            &format!("{year}-1"),
            "--format",
            "csv",
            "--suppress",
        ],
    ));
    let csv = String::from_utf8(csv).expect("utf-8");
    assert!(
        csv.starts_with('\u{feff}') && csv.contains("Yhteenveto"),
        "{csv}"
    );
    assert!(csv.contains("<5"));

    let text = String::from_utf8(ok(&admin(
        dir.path(),
        &[
            "stats",
            "--from",
            &format!("{year}-03-01"),
            "--to",
            &format!("{year}-03-31"),
            "--lang",
            "en",
        ],
    )))
    .expect("utf-8");
    assert!(text.contains("Young people reached by gender"), "{text}");

    let out = admin(
        dir.path(),
        &["stats", "--period", &year, "--format", "xlsx"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--out"));
    let file = dir.path().join("tilasto.xlsx");
    ok(&admin(
        dir.path(),
        &[
            "stats",
            "--period",
            &year,
            "--format",
            "xlsx",
            "--out",
            file.to_str().expect("path"),
            "--workers",
            "4",
            "--person-years",
            "3.5",
        ],
    ));
    assert!(std::fs::read(&file).expect("xlsx").starts_with(b"PK"));

    let check: serde_json::Value = serde_json::from_slice(&ok(&admin(
        dir.path(),
        &["stats", "check", "--period", &year, "--format", "json"],
    )))
    .expect("json");
    assert!(check.is_array());

    for bad in [
        vec!["stats", "--period", "2026-7"],
        vec!["stats", "--from", "2026-03-01", "--to", "2026-02-01"],
    ] {
        let out = admin(dir.path(), &bad);
        assert_eq!(out.status.code(), Some(1), "{bad:?}");
    }
    let out = admin(dir.path(), &["stats"]);
    assert!(!out.status.success(), "a period is required");

    let audit = String::from_utf8(ok(&admin(dir.path(), &["audit", "list"]))).expect("utf-8");
    assert!(
        audit.contains("stats_xlsx") && audit.contains("stats_check"),
        "{audit}"
    );
}

#[test]
fn a_worker_may_not_run_statistics() {
    let dir = tempfile::tempdir().expect("tempdir");
    store(dir.path());
    ok(&polku_env(
        dir.path(),
        "admin",
        PASSWORD,
        Some("temp-pass-1"),
        &["user", "add", "maija", "--role", "worker", "--unit", "Itä"],
    ));
    ok(&polku_env(
        dir.path(),
        "maija",
        "temp-pass-1",
        Some("maijan-salasana"),
        &["user", "passwd"],
    ));
    for args in [
        &["stats", "--period", "2026"][..],
        &["stats", "check", "--period", "2026"][..],
    ] {
        let out = polku_env(dir.path(), "maija", "maijan-salasana", None, args);
        assert_eq!(
            out.status.code(),
            Some(6),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("reports and statistics"));
    }
}
