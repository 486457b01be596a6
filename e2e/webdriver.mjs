// A small W3C WebDriver client over Node's fetch: the few commands the
// harness needs (sessions, elements, keys, scripts, screenshots). It talks
// only to tauri-driver on loopback.

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

export const Key = {
  Enter: "\uE007",
  Tab: "\uE004",
  Escape: "\uE00C",
  Control: "\uE009",
  Shift: "\uE008",
  Alt: "\uE00A",
  Backspace: "\uE003",
};

/** Set E2E_TRACE=1 to log every WebDriver request. */
const trace = process.env.E2E_TRACE === "1";
const REQUEST_TIMEOUT_MS = Number(process.env.E2E_REQUEST_TIMEOUT_MS || 90_000);

/** Repaints the page on every frame for a few seconds (see `screenshot`). */
const PULSE = `
  document.getElementById("e2e-repaint")?.remove();
  const d = document.createElement("div");
  d.id = "e2e-repaint";
  d.setAttribute("aria-hidden", "true");
  d.style.cssText = "position:fixed;right:0;bottom:0;width:1px;height:1px;pointer-events:none;background:#000;opacity:0.01;z-index:2147483647";
  document.body.appendChild(d);
  const end = performance.now() + 5000;
  let on = false;
  const step = () => {
    if (!d.isConnected) return;
    on = !on;
    d.style.opacity = on ? "0.02" : "0.01";
    if (performance.now() < end) requestAnimationFrame(step); else d.remove();
  };
  requestAnimationFrame(step);
  return true;`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class WebDriver {
  constructor(base = "http://127.0.0.1:4444") {
    this.base = base;
    this.sid = null;
  }

  async cmd(method, path, body) {
    if (trace) console.log(`wd> ${method} ${path} ${body === undefined ? "" : JSON.stringify(body).slice(0, 120)}`);
    // A request that gets no answer (a web view that stopped answering)
    // fails the scenario instead of hanging the run.
    const res = await fetch(this.base + path, {
      method,
      headers: { "content-type": "application/json; charset=utf-8" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const json = await res.json().catch(() => ({}));
    const value = json.value;
    if (!res.ok || (value && value.error)) {
      const err = new Error(`${method} ${path}: ${value?.error ?? res.status} ${value?.message ?? ""}`);
      err.webdriver = value?.error;
      throw err;
    }
    return value;
  }

  s(path) {
    return `/session/${this.sid}${path}`;
  }

  async status() {
    return this.cmd("GET", "/status");
  }

  async start(application, args = []) {
    const v = await this.cmd("POST", "/session", {
      capabilities: {
        alwaysMatch: {
          browserName: "wry",
          "tauri:options": { application, args },
        },
      },
    });
    this.sid = v.sessionId;
    return this;
  }

  async quit() {
    if (this.sid) {
      await this.cmd("DELETE", `/session/${this.sid}`).catch(() => {});
      this.sid = null;
    }
  }

  async find(css) {
    const v = await this.cmd("POST", this.s("/element"), { using: "css selector", value: css });
    return v[ELEMENT];
  }

  async findAll(css) {
    const v = await this.cmd("POST", this.s("/elements"), { using: "css selector", value: css });
    return v.map((e) => e[ELEMENT]);
  }

  /** Waits until `css` matches a displayed element; returns it. */
  async waitFor(css, timeoutMs = 15000) {
    const end = Date.now() + timeoutMs;
    let last;
    while (Date.now() < end) {
      try {
        const el = await this.find(css);
        if (await this.cmd("GET", this.s(`/element/${el}/displayed`))) return el;
      } catch (e) {
        last = e;
      }
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${css}${last ? ` (${last.message})` : ""}`);
  }

  async waitGone(css, timeoutMs = 15000) {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if ((await this.findAll(css)).length === 0) return;
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${css} to go`);
  }

  async click(el) {
    return this.cmd("POST", this.s(`/element/${el}/click`), {});
  }

  async clear(el) {
    return this.cmd("POST", this.s(`/element/${el}/clear`), {});
  }

  async type(el, text) {
    return this.cmd("POST", this.s(`/element/${el}/value`), { text });
  }

  async text(el) {
    return this.cmd("GET", this.s(`/element/${el}/text`));
  }

  /** Types into whatever has the focus, as a person would (keys only). */
  async keys(...sequence) {
    const actions = [];
    for (const part of sequence) {
      if (Array.isArray(part)) {
        // A chord: press all, release in reverse.
        for (const k of part) actions.push({ type: "keyDown", value: k });
        for (const k of [...part].reverse()) actions.push({ type: "keyUp", value: k });
      } else {
        for (const ch of part) {
          actions.push({ type: "keyDown", value: ch }, { type: "keyUp", value: ch });
        }
      }
    }
    await this.cmd("POST", this.s("/actions"), {
      actions: [{ type: "key", id: "keyboard", actions }],
    });
    await this.cmd("DELETE", this.s("/actions")).catch(() => {});
  }

  async exec(script, args = []) {
    return this.cmd("POST", this.s("/execute/sync"), { script, args });
  }

  async execAsync(script, args = []) {
    return this.cmd("POST", this.s("/execute/async"), { script, args });
  }

  /** A PNG of the window. WebKitGTK's WebDriver answers a screenshot only
   *  after the page's next repaint, and a still page never repaints: the
   *  session then hangs (it did on every screen without a scroll bar, whose
   *  fading was the only repaint). So a 1-pixel, nearly transparent element
   *  in the corner changes on every animation frame while the shot is taken. */
  async screenshot() {
    await this.exec(PULSE).catch(() => {});
    try {
      return Buffer.from(await this.cmd("GET", this.s("/screenshot")), "base64");
    } finally {
      await this.exec("document.getElementById('e2e-repaint')?.remove();").catch(() => {});
    }
  }
}
