// Chooses the backend: inside the Tauri shell its `invoke`; in a plain
// browser (`npm run dev`) the in-memory mock with synthetic demo data.
import { invoke } from "@tauri-apps/api/core";
import { setInvoke } from "./commands";
import { createMockBackend } from "./mock";

export function inTauri(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}

export function installBackend(): "tauri" | "mock" {
  if (inTauri()) {
    setInvoke((cmd, payload) => invoke(cmd, payload));
    return "tauri";
  }
  setInvoke(createMockBackend().invoke);
  return "mock";
}
