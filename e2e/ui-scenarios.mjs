// The scenarios through the UI, by the data-testids of
// ui/E2E-HOOKS.md, keyboard first. Screens are shot (and checked with axe)
// in Finnish and in Swedish.

import { Key } from "./webdriver.mjs";

const PW = "demo-password";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const id = (t) => `[data-testid="${t}"]`;

async function login(ctx, wd, user, password, shoot) {
  const u = await wd.waitFor(id("login-user"), 30000);
  if (shoot) await ctx.screen(wd, "login", "fi");
  await wd.clear(u);
  await wd.type(u, user);
  const p = await wd.find(id("login-password"));
  await wd.clear(p);
  await wd.type(p, password);
  const t0 = performance.now();
  await wd.type(p, Key.Enter);
  return t0;
}

async function select(wd, testid, value) {
  const opt = await wd.find(`${id(testid)} option[value="${value}"]`);
  await wd.click(opt);
}

async function focus(wd, testid) {
  await wd.exec(`document.querySelector(arguments[0]).focus();`, [id(testid)]);
}

async function statusText(wd) {
  const texts = [];
  for (const el of await wd.findAll(id("status-message"))) texts.push((await wd.text(el)).trim());
  return texts.join(" ");
}

/** Waits for the live region to announce a save (a text other than `before`). */
async function saved(wd, before = "") {
  const end = Date.now() + 10000;
  while (Date.now() < end) {
    const now = await statusText(wd);
    if (now && now !== before) return;
    const err = await wd.findAll(id("quick-error"));
    if (err.length) throw new Error(`quick entry error: ${await wd.text(err[0])}`);
    await sleep(20);
  }
  throw new Error("no saved message");
}

/** The UI's own figure of the last quick entry: Enter to saved, in ms. */
async function uiSaveMs(wd) {
  const v = await wd.exec("return document.body.dataset.quickSaveMs || null;");
  return v === null ? NaN : Number(v);
}

/** Chooses the first real option (not the empty "choose") of a select. */
async function selectFirst(wd, testid) {
  const opts = await wd.findAll(`${id(testid)} option:not([value=""])`);
  if (!opts.length) throw new Error(`no options in ${testid}`);
  await wd.click(opts[0]);
}

/** Scrolls `testid` to the top of the window (for a shot of what is below the fold). */
async function scrollTo(wd, testid) {
  // A little above it, so that its heading shows too.
  await wd.exec(`document.querySelector(arguments[0]).scrollIntoView({ block: "start" }); window.scrollBy(0, -96);`, [id(testid)]);
  await sleep(200);
}

/** Quick entry in each kind: brief contact, an existing client, a new young person (shots only). */
async function quickShots(ctx, wd, lang, lastName) {
  await wd.keys([Key.Control, "k"]);
  await wd.waitFor(id("quick-entry"));
  await sleep(300);
  await ctx.screen(wd, "quick-entry-contact", lang);
  await wd.keys(lastName.slice(0, 5));
  await wd.waitFor(id("quick-option-client"));
  await sleep(200);
  await ctx.screen(wd, "quick-entry-client", lang);
  await wd.keys([Key.Control, "a"], Key.Backspace, "Uusinen Aada");
  await sleep(300);
  await ctx.screen(wd, "quick-entry-new", lang);
  await wd.keys(Key.Escape);
  await wd.waitGone(id("quick-entry"));
}

async function setLang(wd, lang) {
  await wd.click(await wd.waitFor(id(`lang-${lang}`)));
  await sleep(300);
}

async function cardTabs(ctx, wd, lang) {
  for (const tab of ["basic", "background", "situation", "periods", "referrals", "memos", "attachments", "history"]) {
    await wd.click(await wd.waitFor(id(`tab-${tab}`)));
    await wd.waitFor(id(`panel-${tab}`));
    // The click scrolled the tab into view: the shot shows the whole window from the top.
    await wd.exec("window.scrollTo(0, 0);");
    await ctx.screen(wd, `card-${tab}`, lang);
  }
}

async function otherScreens(ctx, wd, lang) {
  await wd.click(await wd.waitFor(id("nav-activities")));
  await wd.waitFor(id("activity-form"));
  await ctx.screen(wd, "activity-form", lang);
  await wd.waitFor(id("activity-row"));
  await scrollTo(wd, "activity-list");
  await ctx.screen(wd, "activity-list", lang);
  await wd.click(await wd.waitFor(id("nav-sync")));
  await wd.waitFor(id("sync-panel"));
  await ctx.screen(wd, "sync", lang);
  await wd.click(await wd.waitFor(id("nav-settings")));
  await wd.waitFor(id("change-password-form"));
  await ctx.screen(wd, "settings", lang);
  await scrollTo(wd, "change-password-form");
  await ctx.screen(wd, "password-change", lang);
  await wd.click(await wd.waitFor(id("nav-clients")));
  await wd.waitFor(id("client-row"));
}

let memoText = "";
let clientName = "";

export const scenarios = [
  [
    "UI: a wrong password shows its message",
    async (ctx) => {
      const wd = await ctx.open();
      try {
        await login(ctx, wd, "worker1", "väärä-salasana", true);
        const err = await wd.waitFor(id("login-error"));
        ctx.check((await wd.text(err)).trim().length > 0, "the login error is shown in words");
        await ctx.screen(wd, "login-error", "fi");
      } finally {
        await wd.quit();
      }
    },
  ],
  [
    "UI: log in, quick entries by keyboard alone, a period with a measure, a memo; every screen in fi and sv",
    async (ctx) => {
      const wd = await ctx.open();
      try {
        const t0 = await login(ctx, wd, "worker1", PW, false);
        await wd.waitFor(id("client-row"), 30000);
        ctx.time("UI: password to client list", performance.now() - t0);
        await ctx.screen(wd, "clients", "fi");

        // A brief contact: Ctrl+K, Tab, Enter.
        await wd.keys([Key.Control, "k"]);
        await wd.waitFor(id("quick-entry"));
        await wd.keys(Key.Tab);
        let t = performance.now();
        await wd.keys(Key.Enter);
        await saved(wd);
        ctx.time("UI: quick entry Enter to saved (brief contact, WebDriver)", performance.now() - t);
        ctx.time("UI: quick entry Enter to saved (brief contact, the UI's own figure)", await uiSaveMs(wd));
        await wd.waitGone(id("quick-entry"));

        // A contact with an existing client (one of the worker's own):
        // Ctrl+K, part of the name, Tab, Tab, text, Enter.
        // The client worker1 recorded in the IPC scenario above.
        clientName = "Päästä-päähän, Testi";
        const last = clientName.split(",")[0];
        await wd.keys([Key.Control, "k"]);
        await wd.waitFor(id("quick-entry"));
        await wd.keys(last.slice(0, Math.min(5, last.length)));
        await sleep(300);
        await wd.keys(Key.Tab, Key.Tab, "Soitettiin, sovittiin tapaaminen.");
        const before = await statusText(wd);
        t = performance.now();
        await wd.keys(Key.Enter);
        await saved(wd, before);
        ctx.time("UI: quick entry Enter to saved (existing client, WebDriver)", performance.now() - t);
        ctx.time("UI: quick entry Enter to saved (existing client, the UI's own figure)", await uiSaveMs(wd));
        await wd.waitGone(id("quick-entry"));

        // A new young person: Ctrl+K, "Sukunimi Etunimi" (no match: "Uusi
        // nuori"), Tab to the names, Enter.
        await wd.keys([Key.Control, "k"]);
        await wd.waitFor(id("quick-entry"));
        await wd.keys("Pikanen Pekka");
        await sleep(300);
        await wd.keys(Key.Tab);
        const beforeNew = await statusText(wd);
        t = performance.now();
        await wd.keys(Key.Enter);
        await saved(wd, beforeNew);
        ctx.time("UI: quick entry Enter to saved (new young person, the UI's own figure)", await uiSaveMs(wd));
        await wd.waitGone(id("quick-entry"));

        // An activity memo with counts of young people met.
        await wd.click(await wd.waitFor(id("nav-activities")));
        await wd.waitFor(id("activity-form"));
        await selectFirst(wd, "activity-kind");
        await wd.type(await wd.find(id("activity-duration")), "90");
        await wd.type(await wd.find(id("activity-place")), "Nuorisotalo");
        await wd.type(await wd.find('[data-testid^="met-female-"]'), "3");
        await wd.click(await wd.find(id("activity-save")));
        await wd.waitFor(id("activity-row"));
        ctx.check(true, "an activity memo is listed");
        await wd.click(await wd.waitFor(id("nav-clients")));

        // Open the client, a period with a measure, a memo.
        await wd.type(await wd.waitFor(id("client-search")), last);
        await sleep(400);
        await wd.click(await wd.waitFor(id("client-row")));
        await wd.waitFor(id("client-card"));
        await wd.click(await wd.waitFor(id("tab-periods")));
        await wd.waitFor(id("panel-periods"));
        await sleep(300);
        // The client has an open period from the IPC scenario: a new one
        // only when the form is offered.
        if ((await wd.findAll(id("period-open-form"))).length) {
          await select(wd, "period-route", "young_person");
          await wd.click(await wd.find(id("period-open-save")));
        }
        await wd.waitFor(id("period"));
        const measuresBefore = (await wd.findAll(id("measure-row"))).length;
        await select(wd, "measure-kind", "guidance");
        await wd.click(await wd.find(id("measure-add")));
        await sleep(500);
        ctx.check((await wd.findAll(id("measure-row"))).length > measuresBefore, "a measure added to the period");
        await wd.click(await wd.waitFor(id("tab-memos")));
        memoText = `Muistio ${Date.now()}`;
        const memo = await wd.waitFor(id("memo-text-input"));
        await wd.type(memo, memoText);
        await wd.click(await wd.find(id("memo-add")));
        await sleep(300);
        const texts = await Promise.all((await wd.findAll(id("memo-text"))).map((e) => wd.text(e)));
        ctx.check(texts.some((x) => x.includes(memoText)), "the memo is listed");
        await cardTabs(ctx, wd, "fi");
        await wd.click(await wd.waitFor(id("card-back")));
        await wd.clear(await wd.waitFor(id("client-search")));
        await wd.waitFor(id("client-row"));
        await quickShots(ctx, wd, "fi", last);
        await otherScreens(ctx, wd, "fi");

        // The same screens in Swedish.
        await setLang(wd, "sv");
        await ctx.screen(wd, "clients", "sv");
        await quickShots(ctx, wd, "sv", last);
        await wd.type(await wd.waitFor(id("client-search")), last);
        await sleep(400);
        await wd.click(await wd.waitFor(id("client-row")));
        await wd.waitFor(id("client-card"));
        await cardTabs(ctx, wd, "sv");
        await wd.click(await wd.waitFor(id("card-back")));
        await otherScreens(ctx, wd, "sv");
        await wd.click(await wd.waitFor(id("lock-button")));
        await wd.waitFor(id("lock-screen"));
        await ctx.screen(wd, "lock", "sv");
        // The lock screen keeps the language switch: leave Finnish behind.
        await setLang(wd, "fi").catch(() => {});
      } finally {
        await wd.quit();
      }
    },
  ],
  [
    "UI: after a restart all of it is there; a worker of another unit does not see the client",
    async (ctx) => {
      let wd = await ctx.open();
      try {
        await login(ctx, wd, "worker1", PW, false);
        const search = await wd.waitFor(id("client-search"), 30000);
        await wd.type(search, clientName.split(",")[0]);
        await sleep(400);
        await wd.click(await wd.waitFor(id("client-row")));
        await wd.waitFor(id("client-card"));
        await wd.click(await wd.waitFor(id("tab-memos")));
        await wd.waitFor(id("memo-text"));
        const texts = await Promise.all((await wd.findAll(id("memo-text"))).map((e) => wd.text(e)));
        ctx.check(texts.some((x) => x.includes(memoText)), "the memo is there after a restart");
        ctx.check(texts.some((x) => x.includes("sovittiin tapaaminen")), "the quick-entry contact is there");
        await wd.click(await wd.waitFor(id("tab-periods")));
        ctx.check((await wd.findAll(id("measure-row"))).length >= 1, "the period and its measure are there");
      } finally {
        await wd.quit();
      }
      wd = await ctx.open();
      try {
        await login(ctx, wd, "worker2", PW, false);
        const search = await wd.waitFor(id("client-search"), 30000);
        await wd.type(search, clientName.split(",")[0]);
        await sleep(400);
        const rows = await Promise.all((await wd.findAll(id("client-row"))).map((e) => wd.text(e)));
        ctx.check(!rows.some((r) => r.trim() === clientName), "worker2 (another unit) does not see the client");
      } finally {
        await wd.quit();
      }
    },
  ],
  [
    "UI: the idle lock locks and unlocking works",
    async (ctx) => {
      const wd = await ctx.open(["--test-idle-lock-seconds", "4"]);
      try {
        await login(ctx, wd, "worker1", PW, false);
        await wd.waitFor(id("client-row"), 30000);
        await wd.waitFor(id("lock-screen"), 30000);
        ctx.check(true, "the idle lock locked the app");
        await ctx.screen(wd, "lock", "fi");
        const p = await wd.waitFor(id("lock-password"));
        await wd.type(p, "väärä");
        await wd.click(await wd.find(id("lock-submit")));
        await wd.waitFor(id("lock-error"));
        ctx.check(true, "a wrong password does not unlock");
        await wd.clear(p);
        await wd.type(p, PW + Key.Enter);
        await wd.waitFor(id("app-header"));
        await wd.waitFor(id("client-row"));
        ctx.check(true, "the password unlocks");
      } finally {
        await wd.quit();
      }
    },
  ],
];

/** The median of `n` runs of `f` (milliseconds). */
async function median(n, f) {
  const xs = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f();
    xs.push(performance.now() - t);
  }
  xs.sort((a, b) => a - b);
  return xs[Math.floor(n / 2)];
}

scenarios.push([
  "figures (logged, never asserted): cold start and quick entry with a large demo store",
  async (ctx) => {
    const n = Number(process.env.E2E_BENCH_CLIENTS ?? 2000);
    if (!n) {
      console.log("e2e: figures skipped (E2E_BENCH_CLIENTS=0)");
      return;
    }
    const store = { dir: ctx.benchDir, clients: n };
    // First start: the demo store is made before the window opens.
    let t = performance.now();
    let wd = await ctx.open([], store);
    try {
      await wd.waitFor(id("login-user"), 300000);
      ctx.time(`figures: first start, ${n}-client demo store made, to the login form`, performance.now() - t);
    } finally {
      await wd.quit();
    }
    // Cold start on the existing store.
    t = performance.now();
    wd = await ctx.open([], store);
    try {
      await wd.waitFor(id("login-user"), 60000);
      ctx.time("figures: cold start, process start to the login form", performance.now() - t);
      await setLang(wd, "fi");
      const rtt = await median(21, () => ctx.invoke(wd, "app_info"));
      ctx.time("figures: baseline, IPC round trip of app_info through WebDriver (median of 21)", rtt);
      const t0 = await login(ctx, wd, "worker1", PW, false);
      await wd.waitFor(id("client-row"), 60000);
      ctx.time(`figures: password (Enter) to the client list, ${n}-client store (worker1)`, performance.now() - t0);
      const count = await wd.text(await wd.find(id("client-count")));
      console.log(`e2e: figures: the list says "${count.trim()}"`);
      // Quick entry: the shortcut to the dialog ready (its client list loaded),
      // then a brief contact and a contact with an existing client.
      t = performance.now();
      await wd.keys([Key.Control, "k"]);
      await wd.waitFor(id("quick-entry"));
      ctx.time("figures: Ctrl+K to the quick entry dialog shown", performance.now() - t);
      await wd.keys(Key.Tab);
      const before = await statusText(wd);
      await wd.keys(Key.Enter);
      await saved(wd, before);
      ctx.time(`figures: quick entry Enter to saved, brief contact (UI's own figure, ${n} clients)`, await uiSaveMs(wd));
      await wd.waitGone(id("quick-entry"));
      const first = (await wd.text(await wd.waitFor(id("client-row")))).split(",")[0].trim();
      await wd.keys([Key.Control, "k"]);
      await wd.waitFor(id("quick-entry"));
      await wd.keys(first);
      await wd.waitFor(id("quick-option-client"));
      await sleep(200);
      await wd.keys(Key.Tab, Key.Tab, "Tavattiin.");
      const before2 = await statusText(wd);
      await wd.keys(Key.Enter);
      await saved(wd, before2);
      ctx.time(`figures: quick entry Enter to saved, existing client (UI's own figure, ${n} clients)`, await uiSaveMs(wd));
    } finally {
      await wd.quit();
    }
  },
]);
