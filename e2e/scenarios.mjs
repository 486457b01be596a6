// The end-to-end scenarios, in order (they share one temporary demo store).
// `ctx` (run.mjs): open() starts the app, screen() shoots and runs axe,
// invoke() calls a command through the app's own IPC as the UI does,
// check() records a result, time() logs a timing.
//
// The first group drives the real binary through its IPC and capabilities
// (any UI); the second drives the UI by the data-testids of
// ui/E2E-HOOKS.md and runs when that file is there.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Key } from "./webdriver.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// The UI scenarios are part of the default run (E2E_UI=0 leaves them out,
// e.g. to try the IPC scenarios alone).
const uiBuilt = fs.existsSync(path.join(root, "ui", "package.json"));
const hasUi = uiBuilt && process.env.E2E_UI !== "0";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PW = "demo-password";
const today = () => new Date().toISOString().slice(0, 10);

async function waitForApp(ctx, wd) {
  for (let i = 0; i < 100; i++) {
    const r = await ctx.invoke(wd, "app_info").catch(() => null);
    if (r && r.ok) return r.ok;
    await sleep(100);
  }
  throw new Error("the app did not answer app_info");
}

const ipc = [
  [
    "the app opens on a fresh demo store and lists its demo users",
    async (ctx) => {
      const wd = await ctx.open();
      try {
        const info = await waitForApp(ctx, wd);
        const logins = (info.demo_users || []).map((u) => u.login);
        ctx.check(logins.includes("worker1") && logins.includes("worker2"), "demo users listed in app_info");
        const units = new Set((info.demo_users || []).map((u) => u.unit).filter(Boolean));
        ctx.check(units.size >= 2, "demo users in two units");
        if (uiBuilt) {
          // The login screen of the real UI, with the demo users.
          await wd.waitFor('[data-testid="login-user"]', 30000);
          // The language is remembered by the web view (also across runs on
          // one machine): choose each one before its screenshot, and leave
          // Finnish, the default, behind.
          for (const lang of ["fi", "sv"]) {
            await wd.click(await wd.find(`[data-testid="lang-${lang}"]`));
            await sleep(300);
            const html = await wd.exec("return document.documentElement.lang", []).catch(() => null);
            if (html !== null) ctx.check(html === lang, `the page says lang=${lang} (${html})`);
            await ctx.screen(wd, "login", lang);
          }
          await wd.click(await wd.find('[data-testid="lang-fi"]'));
        } else {
          await ctx.screen(wd, "start", "fi");
        }
      } finally {
        await wd.quit();
      }
    },
  ],
  [
    "only the app's own commands are allowed; a wrong password is refused",
    async (ctx) => {
      const wd = await ctx.open();
      try {
        await waitForApp(ctx, wd);
        const core = await ctx.invoke(wd, "plugin:app|version");
        ctx.check(core.err !== undefined, "a core command outside the capability is refused");
        const wrong = await ctx.invoke(wd, "login", { login: "worker1", password: "väärä-salasana" });
        ctx.check(wrong.err && wrong.err.code === "auth.wrong_password", "wrong password: auth.wrong_password");
        const none = await ctx.invoke(wd, "client_list", { query: "", scope: "all", status: "any", missing_only: false });
        ctx.check(none.err && none.err.code === "session.none", "no session: session.none");
      } finally {
        await wd.quit();
      }
    },
  ],
  [
    "a worker records, a worker of another unit does not see it, a restart keeps it",
    async (ctx) => {
      let wd = await ctx.open();
      let id;
      try {
        await waitForApp(ctx, wd);
        const t0 = performance.now();
        const me = await ctx.invoke(wd, "login", { login: "worker1", password: PW });
        const list = await ctx.invoke(wd, "client_list", { query: "", scope: "all", status: "any", missing_only: false });
        ctx.time("IPC: password to client list (backend)", performance.now() - t0);
        ctx.check(me.ok && list.ok && list.ok.length > 0, "worker1 logs in and sees clients");
        const added = await ctx.invoke(wd, "client_add", {
          input: { first_name: "Testi", last_name: "Päästä-päähän", birth_date: null, gender: null, mother_tongue: null, unit: null },
        });
        id = added.ok && added.ok.id;
        ctx.check(Boolean(id), "client_add gives an id");
        const period = await ctx.invoke(wd, "period_open", { id, input: { start: null, arrival_route: "young_person", referral: null, goals: "" } });
        const pid = period.ok && Object.keys(period.ok.client.periods)[0];
        const measure = await ctx.invoke(wd, "measure_add", { id, period: pid, kind: "guidance" });
        ctx.check(measure.ok && Object.keys(measure.ok.client.periods[pid].measures).length === 1, "period opened, measure added");
        const t1 = performance.now();
        const memo = await ctx.invoke(wd, "memo_add", { id, text: "Tavattiin kirjastolla.", kind: null });
        ctx.time("IPC: memo_add to saved (backend)", performance.now() - t1);
        ctx.check(memo.ok && Object.keys(memo.ok.client.memos).length === 1, "memo added");
        const t2 = performance.now();
        const contact = await ctx.invoke(wd, "contact_add", { input: { date: today(), channel: "street", gender: null, age_group: "16-17", topic: null, text: "", unit: null } });
        ctx.time("IPC: contact_add to saved (backend)", performance.now() - t2);
        ctx.check(Boolean(contact.ok), "brief contact added");
      } finally {
        await wd.quit();
      }
      // Restart: a new process on the same store.
      wd = await ctx.open();
      try {
        await waitForApp(ctx, wd);
        await ctx.invoke(wd, "login", { login: "worker1", password: PW });
        const v = await ctx.invoke(wd, "client_view", { id });
        ctx.check(
          v.ok && Object.keys(v.ok.client.memos).length === 1 && Object.keys(v.ok.client.periods).length === 1,
          "after a restart the client, its period, measure and memo are there",
        );
        const contacts = await ctx.invoke(wd, "contact_list", {});
        ctx.check(contacts.ok && contacts.ok.length >= 1, "after a restart the brief contact is there");
        await ctx.invoke(wd, "logout");
        // worker2 works in the other unit.
        await ctx.invoke(wd, "login", { login: "worker2", password: PW });
        const other = await ctx.invoke(wd, "client_list", { query: "", scope: "all", status: "any", missing_only: false });
        ctx.check(other.ok && !other.ok.some((r) => r.id === id), "a worker of another unit does not see the client");
        const direct = await ctx.invoke(wd, "client_view", { id });
        ctx.check(direct.err && direct.err.code === "rights.denied", "nor open it by its id");
      } finally {
        await wd.quit();
      }
    },
  ],
  [
    "the idle lock locks and unlocking works",
    async (ctx) => {
      const wd = await ctx.open(["--test-idle-lock-seconds", "3"]);
      try {
        await waitForApp(ctx, wd);
        await ctx.invoke(wd, "login", { login: "worker1", password: PW });
        let state;
        for (let i = 0; i < 40; i++) {
          await sleep(500);
          state = await ctx.invoke(wd, "session_state");
          if (state.ok && state.ok.state === "locked") break;
        }
        ctx.check(state.ok && state.ok.state === "locked", "locked after the idle time");
        const refused = await ctx.invoke(wd, "client_list", { query: "", scope: "all", status: "any", missing_only: false });
        ctx.check(refused.err && refused.err.code === "session.locked", "a locked session refuses commands");
        const bad = await ctx.invoke(wd, "unlock", { password: "väärä" });
        ctx.check(bad.err && bad.err.code === "auth.wrong_password", "a wrong password does not unlock");
        const ok = await ctx.invoke(wd, "unlock", { password: PW });
        ctx.check(ok.ok && ok.ok.login === "worker1", "the password unlocks");
      } finally {
        await wd.quit();
      }
    },
  ],
];

export const scenarios = hasUi ? [...ipc, ...(await import("./ui-scenarios.mjs")).scenarios] : ipc;
export { Key };
