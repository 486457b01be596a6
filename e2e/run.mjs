#!/usr/bin/env node
// End-to-end tests of the real Polku app binary: Xvfb, tauri-driver (which
// drives Debian's WebKitWebDriver), a fresh temporary demo store per run,
// a WebDriver session per app start. Screenshots of every screen go to a
// folder (default target/e2e-screenshots, printed at the end), in Finnish
// and in Swedish; axe-core runs on every screen and a serious or critical
// violation fails the run. Where no display can be started the run is
// skipped with a message (under CI=true it fails instead).
//
//   node e2e/run.mjs --app target/debug/polku-app [--out DIR] [--clients 200]

import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

import { WebDriver } from "./webdriver.mjs";
import { scenarios } from "./scenarios.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const require = createRequire(import.meta.url);

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const targetDir = process.env.CARGO_TARGET_DIR || path.join(root, "target");
const app = path.resolve(arg("app", process.env.POLKU_APP_BIN || path.join(targetDir, "debug", "polku-app")));
const out = path.resolve(arg("out", process.env.E2E_SCREENSHOTS || path.join(targetDir, "e2e-screenshots")));
const clients = arg("clients", process.env.E2E_DEMO_CLIENTS || "200");
const port = Number(process.env.E2E_DRIVER_PORT || 4444);
const strict = process.env.CI === "true";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.log("e2e:", ...a);

function skip(why) {
  if (strict) {
    console.error(`e2e: FAILED (CI=true, cannot run): ${why}`);
    process.exit(1);
  }
  console.log(`e2e: SKIPPED: ${why}`);
  process.exit(0);
}

function which(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
}

const children = [];
function start(cmd, args, env = {}) {
  const child = spawn(cmd, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines = [];
  const keep = (d) => {
    lines.push(...d.toString().split("\n"));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  child.lines = lines;
  children.push(child);
  return child;
}

function stopAll() {
  for (const c of children.reverse()) {
    if (c.exitCode === null) c.kill("SIGTERM");
  }
}
process.on("exit", stopAll);
process.on("SIGINT", () => process.exit(130));
process.on("SIGTERM", () => process.exit(143));

async function startDisplay() {
  if (!which("Xvfb")) skip("Xvfb is not installed, so no display can be started");
  for (let n = 99; n < 110; n++) {
    if (fs.existsSync(`/tmp/.X${n}-lock`)) continue;
    const x = start("Xvfb", [`:${n}`, "-screen", "0", "1280x800x24", "-nolisten", "tcp"]);
    for (let i = 0; i < 50; i++) {
      if (fs.existsSync(`/tmp/.X11-unix/X${n}`)) return `:${n}`;
      if (x.exitCode !== null) break;
      await sleep(100);
    }
    x.kill();
  }
  skip("Xvfb could not start a display");
}

async function startDriver(display) {
  for (const tool of ["tauri-driver", "WebKitWebDriver"]) {
    if (!which(tool)) skip(`${tool} is not installed (scripts/test installs it)`);
  }
  const driver = start("tauri-driver", ["--port", String(port)], { DISPLAY: display });
  const wd = new WebDriver(`http://127.0.0.1:${port}`);
  for (let i = 0; i < 100; i++) {
    try {
      await wd.status();
      return driver;
    } catch {
      if (driver.exitCode !== null) break;
      await sleep(100);
    }
  }
  throw new Error(`tauri-driver did not start:\n${driver.lines.join("\n")}`);
}

/** Runs axe-core on the page; returns the serious and critical violations. */
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
async function axe(wd) {
  await wd.exec(`${axeSource};return true;`);
  const violations = await wd.execAsync(
    `const done = arguments[arguments.length - 1];
     axe.run(document, { resultTypes: ["violations"] })
       .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
         nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")) }))))
       .catch(e => done([{ id: "axe-error", impact: "critical", help: String(e), nodes: [] }]));`,
  );
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** The context a scenario gets: the driver, the app, shots and checks. */
function context(storeDir) {
  const problems = [];
  const timings = [];
  const shots = [];
  const ctx = {
    storeDir,
    problems,
    timings,
    /** Starts the app (a new WebDriver session) with extra arguments; on
     *  the run's demo store unless `store` names another (with `clients`). */
    async open(extra = [], store = { dir: storeDir, clients }) {
      const wd = new WebDriver(`http://127.0.0.1:${port}`);
      await wd.start(app, ["--demo-store", store.dir, "--demo-clients", String(store.clients), ...extra]);
      // Keep what the window last showed, for a failure's screenshot.
      const quit = wd.quit.bind(wd);
      wd.quit = async () => {
        ctx.lastShot = await wd.screenshot().catch(() => null);
        await quit();
      };
      return wd;
    },
    /** A screenshot of the screen `name` in `lang`, and axe on it. */
    async screen(wd, name, lang = "fi") {
      const dir = path.join(out, lang);
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${name}.png`);
      fs.writeFileSync(file, await wd.screenshot());
      shots.push(file);
      const bad = await axe(wd);
      for (const v of bad) {
        problems.push(`axe ${v.impact} on ${lang}/${name}: ${v.id} (${v.help}) at ${v.nodes.join(", ")}`);
      }
    },
    /** Calls a command of the app through its own IPC, as the UI does. */
    async invoke(wd, command, args) {
      return wd.execAsync(
        `const done = arguments[arguments.length - 1];
         window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1])
           .then(v => done({ ok: v === undefined ? null : v }), e => done({ err: e }));`,
        [command, args === undefined ? {} : { args }],
      );
    },
    check(ok, what) {
      if (!ok) problems.push(what);
      log(`${ok ? "ok  " : "FAIL"} ${what}`);
    },
    time(what, ms) {
      timings.push(`${what}: ${ms.toFixed(0)} ms`);
      log(`time ${what}: ${ms.toFixed(0)} ms`);
    },
    shots,
  };
  return ctx;
}

async function main() {
  if (!fs.existsSync(app)) {
    console.error(`e2e: the app binary ${app} is missing (cargo build -p polku-app)`);
    process.exit(1);
  }
  const display = await startDisplay();
  log(`display ${display}`);
  await startDriver(display);
  const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), "polku-e2e-store-"));
  // The figures' own store (E2E_BENCH_CLIENTS clients, default 2,000; 0: no figures).
  const benchDir = fs.mkdtempSync(path.join(os.tmpdir(), "polku-e2e-bench-"));
  fs.rmSync(out, { recursive: true, force: true });
  const ctx = context(storeDir);
  ctx.benchDir = benchDir;
  let failed = false;
  for (const [name, run] of scenarios) {
    log(`scenario: ${name}`);
    try {
      await run(ctx);
    } catch (e) {
      failed = true;
      // What the window showed when it failed (the session may be gone).
      const shot = ctx.lastShot;
      if (shot) {
        fs.mkdirSync(path.join(out, "failures"), { recursive: true });
        fs.writeFileSync(path.join(out, "failures", `${name.replace(/[^a-z0-9]+/gi, "-")}.png`), shot);
      }
      ctx.problems.push(`${name}: ${e.stack || e}`);
      log(`FAIL ${name}: ${e.message}`);
    }
  }
  fs.rmSync(storeDir, { recursive: true, force: true });
  fs.rmSync(benchDir, { recursive: true, force: true });
  console.log(`\ne2e: screenshots (${ctx.shots.length}) in ${out}`);
  if (ctx.timings.length) console.log(`e2e: timings (logged, not asserted):\n  ${ctx.timings.join("\n  ")}`);
  if (ctx.problems.length || failed) {
    console.error(`e2e: FAILED:\n  ${ctx.problems.join("\n  ")}`);
    process.exit(1);
  }
  console.log("e2e: passed");
  // Exit now: the exit handler stops Xvfb, tauri-driver and the app, which
  // would otherwise keep the event loop (and CI) waiting.
  process.exit(0);
}

main().catch((e) => {
  console.error(`e2e: ${e.stack || e}`);
  process.exit(1);
});
