//! `polku unit|code|org …` and `polku user rights …`: the administration
//! verbs, their refusals (exit 6) and bounds errors.

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

fn maija(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--user", "maija"];
    all.extend_from_slice(args);
    polku_with(dir, MAIJA_PW, None, None, &all)
}

fn err(out: &Output) -> (Option<i32>, String) {
    assert!(!out.status.success(), "expected a failure");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A store with demo data (units Keskusta and Itä) and a worker maija who
/// has chosen her own password.
fn store(dir: &Path) {
    ok(polku_with(
        dir,
        PASSWORD,
        None,
        None,
        &["init", "--admin", "admin"],
    ));
    ok(admin(dir, &["demo", "--clients", "5"]));
    ok(polku_with(
        dir,
        PASSWORD,
        Some(MAIJA_TEMP),
        None,
        &["--user", "admin", "user", "add", "maija", "--unit", "Itä"],
    ));
    ok(polku_with(
        dir,
        MAIJA_TEMP,
        Some(MAIJA_PW),
        None,
        &["--user", "maija", "user", "passwd"],
    ));
}

#[test]
fn units_codes_settings_and_rights_change_through_the_cli_and_a_worker_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    store(dir);

    ok(admin(
        dir,
        &["unit", "add", "Pohjoinen", "--municipality", "091"],
    ));
    ok(admin(dir, &["unit", "rename", "Pohjoinen", "Pohjola"]));
    ok(admin(dir, &["unit", "retire", "Pohjola"]));
    let units = ok(admin(dir, &["unit", "list"]));
    let line = units
        .lines()
        .find(|l| l.contains("Pohjola"))
        .expect("listed");
    assert!(
        line.contains("091") && line.contains("(retired)"),
        "{units}"
    );
    assert!(!units.contains("Pohjoinen"), "{units}");

    ok(admin(
        dir,
        &[
            "code",
            "add",
            "memo_type",
            "walk",
            "--fi",
            "Kävely",
            "--sv",
            "Promenad",
            "--en",
            "Walk",
        ],
    ));
    let sv = ok(admin(dir, &["code", "list", "memo_type", "--lang", "sv"]));
    assert!(
        sv.lines()
            .any(|l| l.contains("walk") && l.contains("Promenad") && l.contains("(own)")),
        "{sv}"
    );
    ok(admin(dir, &["code", "retire", "memo_type", "walk"]));
    let offered = ok(admin(dir, &["code", "list", "memo_type"]));
    assert!(!offered.contains("walk"), "{offered}");
    assert!(offered.contains("meeting"), "{offered}");
    let all = ok(admin(dir, &["code", "list", "memo_type", "--all"]));
    assert!(
        all.lines()
            .any(|l| l.contains("walk") && l.contains("Kävely") && l.contains("retired")),
        "{all}"
    );
    let genders = ok(admin(dir, &["code", "list", "gender", "--lang", "en"]));
    assert!(
        genders.contains("female") && genders.contains("Female"),
        "{genders}"
    );

    ok(admin(dir, &["org", "set", "small_cell_threshold", "8"]));
    let show = ok(admin(dir, &["org", "show"]));
    assert!(
        show.lines()
            .any(|l| l.starts_with("small_cell_threshold") && l.contains(" 8 ")),
        "{show}"
    );
    let (code, msg) = err(&admin(dir, &["org", "set", "retention_years", "9"]));
    assert_eq!(code, Some(1));
    assert!(
        msg.contains("retention_years must be between 0 and 4"),
        "{msg}"
    );

    let printed = ok(admin(
        dir,
        &[
            "user", "rights", "maija", "--memos", "false", "--view", "all",
        ],
    ));
    assert!(
        printed.contains("view=all")
            && printed.contains("modify=own")
            && !printed.contains("memos"),
        "{printed}"
    );
    let users = ok(admin(dir, &["user", "list"]));
    let line = users
        .lines()
        .find(|l| l.starts_with("maija"))
        .expect("maija");
    assert!(
        line.contains("view=all") && line.contains("(adjusted)"),
        "{users}"
    );
    let printed = ok(admin(dir, &["user", "rights", "maija", "--reset"]));
    assert!(
        printed.contains("view=unit") && printed.contains("memos"),
        "{printed}"
    );

    // A worker has none of the administration rights: exit 6 for each.
    for args in [
        &["unit", "add", "Etelä"][..],
        &["unit", "retire", "Itä"],
        &["code", "add", "memo_type", "run", "--fi", "Juoksu"],
        &["code", "retire", "memo_type", "meeting"],
        &["org", "set", "offline_lease_days", "30"],
        &["user", "rights", "maija", "--view", "all"],
    ] {
        let (code, msg) = err(&maija(dir, args));
        assert_eq!(code, Some(6), "{args:?}: {msg}");
    }
    // …but sees the codes she may choose.
    assert!(ok(maija(dir, &["code", "list", "gender"])).contains("female"));
}

#[test]
fn a_too_long_name_is_refused_naming_the_field_and_the_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    store(dir);
    let long = format!("{}\nTestinen\n", "A".repeat(10_000));
    let out = polku_with(
        dir,
        PASSWORD,
        None,
        Some(&long),
        &[
            "--user",
            "admin",
            "client",
            "add",
            "--first-name",
            "-",
            "--last-name",
            "-",
        ],
    );
    let (code, msg) = err(&out);
    assert_eq!(code, Some(1));
    assert!(
        msg.contains("first_name is too long: at most 100 characters"),
        "{msg}"
    );
    assert!(!msg.contains("AAAA"), "no personal data in the message");
}

/// The README's own `client add` example runs as written (with a store and
/// a user filled in): its codes are ones `code list` offers.
#[test]
fn the_readmes_client_add_example_runs_as_written() {
    let readme = include_str!("../../../README.md");
    let line = readme
        .lines()
        .find(|l| l.starts_with("polku --store DIR --user NAME client add"))
        .expect("the README has a client add example");
    let command = line.split('#').next().expect("command").trim();
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    store(dir);
    let store_arg = dir.to_str().expect("utf-8 path");
    let args: Vec<&str> = command
        .split_whitespace()
        .skip(1)
        .map(|w| match w {
            "DIR" => store_arg,
            "NAME" => "admin",
            w => w,
        })
        .collect();
    // `polku_with` adds `--store`; the example's own is given first, and
    // the last one wins, so drop the helper's by passing the rest only.
    assert_eq!(&args[..4], ["--store", store_arg, "--user", "admin"]);
    let out = polku_with(dir, PASSWORD, None, Some("Aino\nTestinen\n"), &args[2..]);
    let id = ok(out);
    assert!(id.trim().parse::<uuid::Uuid>().is_ok(), "{id}");
    let gender = args
        .iter()
        .position(|a| *a == "--gender")
        .map(|i| args[i + 1])
        .expect("the example gives a gender");
    assert!(
        ok(admin(dir, &["code", "list", "gender"]))
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some(gender)),
        "{gender} is offered"
    );
}
