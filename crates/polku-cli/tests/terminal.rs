//! Passwords typed at a terminal: `init` asks for the first password twice and
//! refuses two different ones. `script` (util-linux) gives `polku` a real
//! terminal; the test types into it only after each prompt has appeared.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Run `polku ARGS` on a terminal, typing each of `lines` after the prompt
/// before it appears; returns whether it succeeded and what it printed.
fn on_a_terminal(args: &str, prompts: &[(&str, &str)]) -> (bool, String) {
    let polku = env!("CARGO_BIN_EXE_polku");
    let mut child = Command::new("script")
        .args(["-qec", &format!("{polku} {args}"), "/dev/null"])
        .env_remove("POLKU_PASSWORD")
        .env_remove("POLKU_NEW_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run script");
    let mut stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel::<u8>();
    std::thread::spawn(move || {
        let mut b = [0u8; 1];
        while stdout.read(&mut b).map(|n| n == 1).unwrap_or(false) {
            if tx.send(b[0]).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let mut stdin = child.stdin.take().expect("stdin");
    for (prompt, answer) in prompts {
        while !String::from_utf8_lossy(&seen).contains(prompt) {
            let b = rx
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| {
                    panic!(
                        "no prompt {prompt:?}; saw {:?}",
                        String::from_utf8_lossy(&seen)
                    )
                });
            seen.push(b);
        }
        seen.clear();
        stdin
            .write_all(format!("{answer}\r").as_bytes())
            .expect("type");
        stdin.flush().expect("flush");
    }
    let status = child.wait().expect("wait");
    while let Ok(b) = rx.recv_timeout(Duration::from_millis(200)) {
        seen.push(b);
    }
    (
        status.success(),
        String::from_utf8_lossy(&seen).into_owned(),
    )
}

#[test]
fn init_asks_for_the_password_twice_and_refuses_two_different_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s");
    let args = format!("--store {} init --admin admin", store.display());
    let (ok, out) = on_a_terminal(
        &args,
        &[
            ("password", "kolme karhua metsassa"),
            ("Again", "neljä karhua metsassa"),
        ],
    );
    assert!(!ok, "{out}");
    assert!(out.contains("differ"), "{out}");
    assert!(!store.join("polku.db").exists());
    // A short password is refused by the policy, with the reason.
    let (ok, out) = on_a_terminal(&args, &[("password", "lyhyt"), ("Again", "lyhyt")]);
    assert!(!ok, "{out}");
    assert!(out.contains("at least 10 characters"), "{out}");
    let (ok, out) = on_a_terminal(
        &args,
        &[
            ("password", "kolme karhua metsassa"),
            ("Again", "kolme karhua metsassa"),
        ],
    );
    assert!(ok, "{out}");
    assert!(store.join("polku.db").exists());
}
