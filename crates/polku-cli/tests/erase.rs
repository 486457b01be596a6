//! `polku client erase`, `polku erasure list` and `polku retention apply`:
//! the thin verbs over the API's erasure (its rules are tested in the
//! workspace's tests/erasure.rs).

mod common;

use std::path::Path;
use std::process::Output;

use common::{ok, polku_with};

const PASSWORD: &str = "cli-admin-password";
const MAIJA_TEMP: &str = "maija-temporary-1";
const MAIJA_PW: &str = "maijan-oma-salasana";

fn admin(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--user", "admin"];
    all.extend_from_slice(args);
    polku_with(dir, PASSWORD, None, None, &all)
}

fn json(out: Output) -> serde_json::Value {
    serde_json::from_str(&ok(out)).expect("json")
}

fn first_client(dir: &Path) -> String {
    let list = json(admin(dir, &["client", "list", "--json"]));
    let rows = list.as_array().expect("a list");
    rows[0]["id"].as_str().expect("id").to_owned()
}

#[test]
fn a_client_is_erased_listed_as_an_erasure_and_a_worker_may_not_erase() {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    ok(polku_with(
        dir,
        PASSWORD,
        None,
        None,
        &["init", "--admin", "admin"],
    ));
    ok(admin(dir, &["demo", "--clients", "3"]));
    ok(polku_with(
        dir,
        PASSWORD,
        Some(MAIJA_TEMP),
        None,
        &[
            "--user", "admin", "user", "add", "maija", "--unit", "Keskusta",
        ],
    ));
    ok(polku_with(
        dir,
        MAIJA_TEMP,
        Some(MAIJA_PW),
        None,
        &["--user", "maija", "user", "passwd"],
    ));
    let id = first_client(dir);

    // A worker lacks the right: exit 6, nothing erased.
    let out = polku_with(
        dir,
        MAIJA_PW,
        None,
        None,
        &["--user", "maija", "client", "erase", &id],
    );
    assert_eq!(out.status.code(), Some(6), "{out:?}");
    // An unknown reason code is refused before anything happens.
    let out = admin(dir, &["client", "erase", &id, "--reason", "tired"]);
    assert!(!out.status.success());
    ok(admin(dir, &["client", "show", &id]));

    let said = ok(admin(dir, &["client", "erase", &id, "--reason", "refused"]));
    assert!(said.contains(&id) && said.contains("Erased"), "{said}");
    assert!(!admin(dir, &["client", "show", &id]).status.success());
    let list = json(admin(dir, &["erasure", "list", "--json"]));
    let rows = list.as_array().expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["doc"].as_str(), Some(id.as_str()));
    let text = ok(admin(dir, &["erasure", "list"]));
    assert!(text.contains(&id), "{text}");

    // The retention run: the dry run lists what the real run then erases.
    let plan = json(admin(
        dir,
        &[
            "retention",
            "apply",
            "--ended-before",
            "2100-01-01",
            "--dry-run",
            "--json",
        ],
    ));
    assert_eq!(plan["dry_run"], true);
    let run = json(admin(
        dir,
        &[
            "retention",
            "apply",
            "--ended-before",
            "2100-01-01",
            "--json",
        ],
    ));
    assert_eq!(run["dry_run"], false);
    assert_eq!(run["clients"], plan["clients"]);
    let erased = json(admin(dir, &["erasure", "list", "--json"]));
    assert_eq!(
        erased.as_array().expect("rows").len(),
        1 + plan["clients"].as_array().expect("clients").len()
    );
}
