//! Helpers shared by the CLI's process tests: run `polku`, start `polku hub`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// Run `polku --store STORE ARGS` with `POLKU_PASSWORD` set, a new password
/// from `new_password` (if any), and standard input from `stdin`.
pub fn polku_with(
    store: &Path,
    password: &str,
    new_password: Option<&str>,
    stdin: Option<&str>,
    args: &[&str],
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_polku"));
    cmd.arg("--store")
        .arg(store)
        .args(args)
        .env("POLKU_PASSWORD", password)
        .env_remove("POLKU_NEW_PASSWORD")
        .env_remove("POLKU_USER")
        .env_remove("POLKU_STORE");
    if let Some(p) = new_password {
        cmd.env("POLKU_NEW_PASSWORD", p);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run polku");
    {
        use std::io::Write;
        let mut input = child.stdin.take().expect("stdin");
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).expect("write stdin");
        }
    }
    child.wait_with_output().expect("wait polku")
}

/// The command's stdout; panics with its stderr when it failed.
pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "polku failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// A UDP port free on loopback right now.
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Start `polku hub` as `admin` with `password` and wait until it listens.
pub fn start_hub(store: &Path, password: &str, port: u16) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_polku"))
        .arg("--store")
        .arg(store)
        .args([
            "--user",
            "admin",
            "hub",
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .env("POLKU_PASSWORD", password)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hub");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the hub did not start");
    assert!(line.contains("listening"), "unexpected first line: {line}");
    child
}
