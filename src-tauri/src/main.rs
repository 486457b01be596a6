//! Polku's desktop app: a Tauri window over [`polku_service::desk::Desk`].
//!
//! The shell parses the command line, prepares the WebKitGTK environment,
//! creates the embedded demo store on first start (when no store is given)
//! and registers the commands; every rule lives in the desk and below it.
//! It logs nothing but the demo users of the demo store (invented people)
//! and start-up failures as codes.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use polku_service::desk::{Desk, DeskConfig};

/// Polku, the register of outreach youth work.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The store directory; without it, the embedded demo store.
    #[arg(long, env = "POLKU_STORE")]
    store: Option<PathBuf>,
    /// Clients in a new demo store (2000 for the benchmark).
    #[arg(long, env = "POLKU_DEMO_CLIENTS", default_value_t = 200)]
    demo_clients: usize,
    /// Where the demo store lives (default: the user's data directory).
    #[arg(long, env = "POLKU_DEMO_STORE")]
    demo_store: Option<PathBuf>,
    /// End-to-end tests only: lock after this many seconds without a
    /// command when that is shorter than the organisation's setting (it can
    /// never lengthen the lock).
    #[arg(long, env = "POLKU_TEST_IDLE_LOCK_SECONDS", hide = true)]
    test_idle_lock_seconds: Option<u64>,
}

fn default_demo_dir() -> PathBuf {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    data.join("polku").join("demo-store")
}

/// WebKitGTK's DMA-BUF renderer paints a blank window on many Linux set-ups
/// (NVIDIA, some Wayland compositors, software rendering): turn it off
/// unless the user chose otherwise.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn webkit_environment() {
    if std::env::var_os("WEBKIT_DISABLE_DMABUF_RENDERER").is_none() {
        // SAFETY: called first thing in `main`, before any other thread
        // exists, so nothing reads the environment concurrently.
        unsafe { std::env::set_var("WEBKIT_DISABLE_DMABUF_RENDERER", "1") };
    }
}

fn main() {
    #[cfg(target_os = "linux")]
    webkit_environment();
    let args = Args::parse();

    let (dir, demo_users) = match args.store {
        Some(dir) => (dir, None),
        None => {
            let dir = args.demo_store.unwrap_or_else(default_demo_dir);
            let users = tauri::async_runtime::block_on(Desk::ensure_demo_store(
                dir.clone(),
                args.demo_clients,
                polku_api::KdfParams::default(),
            ));
            match users {
                Ok(users) => {
                    println!("Polku demo store: {}", dir.display());
                    println!(
                        "Demo users (invented people, password for all: {}):",
                        polku_api::DEMO_PASSWORD
                    );
                    for u in &users {
                        println!(
                            "  {:<12} {:<12} {}",
                            u.login,
                            u.role,
                            u.unit.as_deref().unwrap_or("-")
                        );
                    }
                    (dir, Some(users))
                }
                Err(e) => {
                    eprintln!("error: the demo store could not be made ({})", e.code);
                    std::process::exit(4);
                }
            }
        }
    };
    let mut config = DeskConfig::new(dir);
    config.version = env!("CARGO_PKG_VERSION").to_owned();
    config.demo_users = demo_users;
    config.idle_lock_cap = args.test_idle_lock_seconds.map(Duration::from_secs);
    let desk = Desk::new(config);
    let background = desk.clone();
    let on_exit = desk.clone();

    let app = tauri::Builder::default()
        .manage(desk)
        .setup(move |_| {
            tauri::async_runtime::spawn(background.run_background());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::session_state,
            commands::login,
            commands::change_password,
            commands::lock,
            commands::unlock,
            commands::logout,
            commands::touch,
            commands::codes,
            commands::client_list,
            commands::client_view,
            commands::client_add,
            commands::client_edit_basic,
            commands::client_resolve_conflict,
            commands::client_history,
            commands::background_set,
            commands::situation_add,
            commands::period_open,
            commands::period_text,
            commands::period_close,
            commands::measure_add,
            commands::measure_status,
            commands::memo_add,
            commands::memo_edit,
            commands::memo_delete,
            commands::memo_restore,
            commands::referral_add,
            commands::consent_add,
            commands::consent_withdraw,
            commands::disclosure_add,
            commands::attachment_add,
            commands::attachment_list,
            commands::attachment_get,
            commands::attachment_delete,
            commands::contact_add,
            commands::contact_list,
            commands::activity_add,
            commands::activity_list,
            commands::activity_show,
            commands::activity_edit,
            commands::sync_status,
            commands::sync_now,
            commands::retention_due,
            commands::memo_add_quick,
            commands::client_names,
        ])
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(_) => {
            eprintln!("error: the window could not be opened");
            std::process::exit(1);
        }
    };
    app.run(move |_, event| {
        if let tauri::RunEvent::Exit = event {
            // Close the session cleanly: views refreshed, the logout audited.
            let _ = tauri::async_runtime::block_on(on_exit.logout());
        }
    });
}
