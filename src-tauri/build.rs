//! Tauri's build step, with a permission for each of the app's own
//! commands: the capability grants exactly these, nothing else.

include!("src/command_names.rs");

fn main() {
    let attrs = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attrs) {
        panic!("tauri build step failed: {e:#}");
    }
}
