// An in-memory backend implementing the commands of docs/app-commands.md, for
// Vitest and for `npm run dev` in a plain browser (no Tauri). Synthetic demo
// data only: every name here is generated.
import type * as T from "./types";
import type { ErrorDto } from "./types";
import type { InvokeFn } from "./commands";
import codesJson from "./mockCodes.json";

const codes = codesJson as unknown as T.Codes;

export const DEMO_PASSWORD = "demo-salasana-1";

interface MockUser {
  id: string;
  login: string;
  password: string;
  role: T.Role;
  units: T.Unit[];
  active: boolean;
  must_change_password: boolean;
}

export interface MockOptions {
  /** How many generated clients (default 2,000). */
  clients?: number;
  /** Extra clients to put first (for tests). */
  extraClients?: Partial<T.BasicData>[];
  /** The demo store shows its users on the login screen (default true). */
  demoUsers?: boolean;
  /** Today, for tests (default the real date). */
  today?: string;
  /** The offline lease of maija has expired (login rejects). */
  leaseExpired?: boolean;
  /** Clients past retention, for the reminder at login (default none). */
  retentionDue?: T.RetentionRow[];
}

export interface MockCall {
  cmd: string;
  args: Record<string, unknown> | undefined;
}

export interface MockBackend {
  invoke: InvokeFn;
  calls: MockCall[];
  /** Locks the session as the backend does by itself (idle time, suspend). */
  lockNow(): void;
  clients: T.Client[];
}

const UNITS: T.Unit[] = [
  { id: "u-keskusta", name: "Keskusta" },
  { id: "u-itainen", name: "Itäinen" },
  { id: "u-pohjoinen", name: "Pohjoinen" },
];

const FIRST_F = ["Aino", "Emma", "Sofia", "Helmi", "Aada", "Linnea", "Venla", "Ella", "Iida", "Sara", "Noora", "Oona", "Pihla", "Kerttu", "Lumi"];
const FIRST_M = ["Eino", "Leo", "Onni", "Väinö", "Elias", "Oliver", "Aatu", "Niilo", "Joel", "Veeti", "Eetu", "Lauri", "Otso", "Mikael", "Rasmus"];
const LAST = ["Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen", "Koskinen", "Järvinen", "Lehtonen", "Lehtinen", "Saarinen", "Salminen", "Heinonen", "Niemi", "Heikkilä", "Kinnunen", "Salonen", "Turunen", "Salo", "Laitinen", "Tuominen", "Rantanen", "Karjalainen", "Jokinen", "Mattila", "Savolainen", "Lahtinen", "Ahonen", "Lindqvist", "Björk", "Ek", "Holm"];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

let idCounter = 0;
function uuid(): string {
  idCounter += 1;
  const hex = idCounter.toString(16).padStart(12, "0");
  const r = Math.floor(Math.random() * 0xffff)
    .toString(16)
    .padStart(4, "0");
  return `${r}0000-0000-4000-8000-${hex}`;
}

function err(code: string, params: Record<string, string> = {}): ErrorDto {
  return { code, params };
}

function emptyClient(id: string, at: string): T.Client {
  return {
    id,
    created_at: at,
    basic: {
      first_name: "",
      last_name: "",
      birth_date: null,
      gender: null,
      mother_tongue: null,
      henkilotunnus: null,
      email: "",
      phone: "",
      address: { street: "", postal_code: "", city: "" },
    },
    background: { education: "", family: "", goal: "", health: "", other: "", skills: "", strengths: "", work_experience: "" },
    unit: null,
    responsible: [],
    snapshots: {},
    periods: {},
    memos: {},
    attachments: {},
    referrals: {},
    consents: {},
    disclosures: {},
    follow_ups: {},
  };
}

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function activeCode(list: T.CodeListName, code: string | null | undefined): void {
  if (code === null || code === undefined || code === "") return;
  const c = (codes[list] ?? []).find((x) => x.code === code);
  if (!c) throw err("code.unknown", { code, list });
  if (c.retired) throw err("code.retired", { list });
}

/** What a client lacks of the mandatory data (the mock's idea of it). */
export function missingOf(c: T.Client): T.Missing[] {
  const m: T.Missing[] = [];
  if (!c.basic.birth_date) m.push({ what: "basic.birth_date" });
  if (!c.basic.gender) m.push({ what: "basic.gender" });
  if (!c.basic.mother_tongue) m.push({ what: "basic.mother_tongue" });
  for (const p of Object.values(c.periods)) {
    if (!p.arrival_route) m.push({ what: "period.arrival_route", period: p.id });
    if ((p.closed || p.end) && !p.outcome) m.push({ what: "period.outcome", period: p.id });
  }
  return m;
}

function isActive(c: T.Client): boolean {
  const ps = Object.values(c.periods);
  return ps.length === 0 || ps.some((p) => !p.closed && !p.end);
}

export function createMockBackend(opts: MockOptions = {}): MockBackend {
  const today = opts.today ?? isoDay(new Date());
  const now = () => new Date().toISOString();
  const users: MockUser[] = [
    { id: "user-maija", login: "maija", password: DEMO_PASSWORD, role: "worker", units: [UNITS[0]], active: true, must_change_password: false },
    { id: "user-ville", login: "ville", password: DEMO_PASSWORD, role: "worker", units: [UNITS[1]], active: true, must_change_password: false },
    { id: "user-kaisa", login: "kaisa", password: DEMO_PASSWORD, role: "coordinator", units: UNITS, active: true, must_change_password: false },
    { id: "user-uusi", login: "uusi", password: "vaihda-heti-1", role: "worker", units: [UNITS[0]], active: true, must_change_password: true },
    { id: "user-entinen", login: "entinen", password: DEMO_PASSWORD, role: "worker", units: [UNITS[0]], active: false, must_change_password: false },
  ];
  let session: { state: "none" | "locked" | "open"; user: MockUser | null } = { state: "none", user: null };
  let failed = 0;
  const calls: MockCall[] = [];
  const clients: T.Client[] = [];
  const conflicts = new Map<string, T.Conflict[]>();
  const history = new Map<string, T.HistoryRow[]>();
  const blobs = new Map<string, { name: string; bytes: string; by: string }>();
  const contacts: T.ContactRow[] = [];
  const activities: T.ActivityShow[] = [];
  const sync: T.SyncStatus = {
    enrolled: true,
    running: false,
    last_sync: new Date(Date.now() - 12 * 60_000).toISOString(),
    waiting_changes: 3,
    hub_reachable: true,
    last_error: null,
    refused: [{ doc: "record", code: "sync.refused.rights", at: new Date(Date.now() - 3600_000).toISOString() }],
    quarantined: [],
  };

  // Generated demo clients.
  const rand = rng(20261202);
  const pick = <X,>(xs: X[]): X => xs[Math.floor(rand() * xs.length)];
  const base = new Date(today + "T00:00:00Z").getTime();
  for (const extra of opts.extraClients ?? []) {
    const c = emptyClient(uuid(), now());
    c.basic = { ...c.basic, ...extra };
    c.unit = UNITS[0].id;
    c.responsible = ["maija"];
    clients.push(c);
  }
  const n = opts.clients ?? 2000;
  for (let i = 0; i < n; i++) {
    const c = emptyClient(uuid(), new Date(base - Math.floor(rand() * 700) * 86400_000).toISOString());
    const female = rand() < 0.5;
    c.basic.first_name = pick(female ? FIRST_F : FIRST_M);
    c.basic.last_name = pick(LAST);
    const age = 15 + Math.floor(rand() * 15);
    if (rand() > 0.08) {
      c.basic.birth_date = isoDay(new Date(base - (age * 365.25 + Math.floor(rand() * 365)) * 86400_000));
    }
    if (rand() > 0.1) c.basic.gender = female ? "female" : "male";
    c.basic.mother_tongue = rand() > 0.1 ? pick(["fi", "fi", "fi", "sv", "other"]) : null;
    c.basic.phone = rand() > 0.3 ? `040 ${100 + Math.floor(rand() * 899)} ${1000 + Math.floor(rand() * 8999)}` : "";
    const unit = i % 3 === 0 ? UNITS[0] : pick(UNITS);
    c.unit = unit.id;
    c.responsible = unit.id === UNITS[0].id ? (rand() < 0.5 ? ["maija"] : ["kaisa"]) : ["ville"];
    if (rand() < 0.85) {
      const pid = uuid();
      const start = isoDay(new Date(base - Math.floor(rand() * 400) * 86400_000));
      const ended = rand() < 0.3;
      c.periods[pid] = {
        id: pid,
        arrival_route: rand() < 0.9 ? pick((codes.arrival_route ?? []).map((x) => x.code)) : null,
        start,
        end: ended ? today : null,
        closed: ended,
        measures: {},
        outcome: ended && rand() < 0.7 ? pick((codes.outcome ?? []).map((x) => x.code)) : null,
        referral: null,
        goals: "",
        final_assessment: "",
      };
      const mid = uuid();
      c.periods[pid].measures[mid] = { id: mid, code: rand() < 0.1 ? "old_course" : "guidance", start, status: "ongoing", end: null };
    }
    clients.push(c);
  }
  // One client with a conflict on the phone number, one with memos.
  const demoConflict = clients.find((c) => c.unit === UNITS[0].id && c.responsible.includes("maija"));
  if (demoConflict) {
    conflicts.set(demoConflict.id, [
      { field: "basic.phone", values: [{ value: demoConflict.basic.phone || "040 111 2222", by: "maija" }, { value: "050 333 4444", by: "kaisa" }] },
    ]);
    const mid = uuid();
    demoConflict.memos[mid] = { id: mid, date: today, author: "maija", kind: "meeting", text: "Tavattiin kirjastolla, puhuttiin opiskelusta.", deleted: null };
  }

  function me(u: MockUser): T.Me {
    return {
      login: u.login,
      role: u.role,
      units: u.units,
      must_change_password: u.must_change_password,
      idle_lock_minutes: 10,
      offline_lease_expires: new Date(Date.now() + 14 * 86400_000).toISOString(),
      may: { view_record: true, memos: true, admin: u.role === "admin", statistics: u.role !== "worker" },
    };
  }

  function audit(id: string, action: string, what: string) {
    const list = history.get(id) ?? [];
    list.unshift({ at: now(), user: session.user?.login ?? "?", action, what });
    history.set(id, list);
  }

  function user(): MockUser {
    if (session.state === "locked") throw err("session.locked");
    if (session.state !== "open" || !session.user) throw err("auth.reauth_required");
    if (session.user.must_change_password) throw err("auth.must_change_password");
    return session.user;
  }

  function inUnits(u: MockUser, c: T.Client) {
    return u.units.some((x) => x.id === c.unit);
  }

  function findClient(id: unknown): T.Client {
    const u = user();
    const c = clients.find((x) => x.id === id);
    if (!c) throw err("client.not_found", { id: String(id) });
    if (u.role === "worker" && !inUnits(u, c)) throw err("rights.denied", { missing: "view" });
    return c;
  }

  function view(c: T.Client): T.ClientView {
    const u = user();
    // A coordinator sees the basic data of other units' clients, not their record.
    const full = u.role !== "coordinator" || c.responsible.includes(u.login);
    const copy: T.Client = JSON.parse(JSON.stringify(c));
    if (!full) {
      copy.background = emptyClient("", "").background;
      copy.snapshots = {};
      copy.periods = {};
      copy.memos = {};
      copy.attachments = {};
      copy.referrals = {};
      copy.consents = {};
      copy.disclosures = {};
    }
    return {
      client: copy,
      record: full ? "shown" : "hidden_by_rights",
      memos: full ? "shown" : "hidden_by_rights",
      missing: missingOf(c),
      conflicts: conflicts.get(c.id) ?? [],
      // The mock's user ids are their logins.
      people: Object.fromEntries(
        [...c.responsible, ...Object.values(copy.memos).map((m) => m.author)].map((u) => [u, u]),
      ),
    };
  }

  function period(c: T.Client, id: unknown): T.Period {
    const p = c.periods[String(id)];
    if (!p) throw err("record.not_found", { what: "period" });
    return p;
  }

  function text(s: unknown, field: string, max = 10000): string {
    const t = String(s ?? "");
    if (t.length > max) throw err("input.too_long", { field, max: String(max) });
    return t;
  }

  function unitName(id: string | null): string | null {
    return UNITS.find((u) => u.id === id)?.name ?? null;
  }

  function attachmentRows(c: T.Client): T.AttachmentRow[] {
    return Object.values(c.attachments).map((a) => ({
      id: a.id,
      name: a.file_name,
      size: a.size,
      added_at: a.added_at,
      added_by: blobs.get(a.id)?.by ?? "?",
    }));
  }

  const handlers: Record<string, (a: Record<string, any>) => unknown> = {
    app_info: () => ({
      version: "0.1.0",
      store: "laptop",
      organisation: "Etsivät ry (demo)",
      demo_users:
        opts.demoUsers === false
          ? null
          : users.filter((u) => u.active).map((u) => ({ login: u.login, password: u.password, role: u.role })),
    }),
    session_state: () => ({
      state: session.state,
      login: session.user?.login ?? null,
      must_change_password: session.user?.must_change_password ?? false,
      idle_lock_minutes: 10,
      me: session.state === "open" && session.user ? me(session.user) : null,
    }),
    login: (a) => {
      if (failed >= 5) throw err("auth.too_many_attempts", { retry_after_secs: "30" });
      const u = users.find((x) => x.login === String(a.login ?? "").trim());
      if (!u) {
        failed += 1;
        throw err("auth.unknown_user");
      }
      if (u.password !== a.password) {
        failed += 1;
        throw err("auth.wrong_password");
      }
      if (!u.active) throw err("auth.user_inactive");
      if (opts.leaseExpired && u.login === "maija") throw err("auth.reauth_required");
      failed = 0;
      session = { state: "open", user: u };
      return me(u);
    },
    change_password: (a) => {
      if (session.state !== "open" || !session.user) throw err("auth.reauth_required");
      if (a.current !== session.user.password) throw err("auth.wrong_password");
      const next = String(a.new ?? "");
      if (next.length < 10) throw err("password.too_short", { min: "10" });
      if (["salasana123", "password123", "1234567890"].includes(next)) throw err("password.too_common");
      session.user.password = next;
      session.user.must_change_password = false;
      return me(session.user);
    },
    lock: () => {
      if (session.user) session.state = "locked";
      return null;
    },
    unlock: (a) => {
      if (session.state !== "locked" || !session.user) throw err("auth.reauth_required");
      if (failed >= 5) throw err("auth.too_many_attempts", { retry_after_secs: "30" });
      if (a.password !== session.user.password) {
        failed += 1;
        throw err("auth.wrong_password");
      }
      failed = 0;
      session.state = "open";
      return me(session.user);
    },
    logout: () => {
      session = { state: "none", user: null };
      return null;
    },
    touch: () => {
      user();
      return null;
    },
    codes: () => {
      user();
      return codes;
    },
    client_names: () =>
      (handlers.client_list({ query: "", scope: "all", status: "any", missing_only: false }) as T.ClientRow[]).map((r) => ({
        id: r.id,
        first_name: r.first_name,
        last_name: r.last_name,
        birth_date: r.birth_date,
      })),
    client_list: (a) => {
      const u = user();
      const q = String(a.query ?? "").trim().toLowerCase();
      const scope = a.scope ?? "own";
      const status = a.status ?? "any";
      const words = q.split(/\s+/).filter(Boolean);
      const rows: T.ClientRow[] = [];
      for (const c of clients) {
        if (u.role === "worker" && !inUnits(u, c)) continue;
        if (scope === "own" && !c.responsible.includes(u.login)) continue;
        if (scope === "unit" && !inUnits(u, c)) continue;
        const active = isActive(c);
        if (status === "active" && !active) continue;
        if (status === "ended" && active) continue;
        const missing = missingOf(c).length;
        if (a.missing_only && missing === 0) continue;
        if (words.length) {
          const bd = c.basic.birth_date;
          const fi = bd ? `${+bd.slice(8, 10)}.${+bd.slice(5, 7)}.${bd.slice(0, 4)}` : "";
          const hay = `${c.basic.first_name} ${c.basic.last_name} ${bd ?? ""} ${fi}`.toLowerCase();
          if (!words.every((w) => hay.includes(w))) continue;
        }
        rows.push({
          id: c.id,
          first_name: c.basic.first_name,
          last_name: c.basic.last_name,
          birth_date: c.basic.birth_date,
          unit: unitName(c.unit),
          responsible: c.responsible,
          active,
          missing,
        });
      }
      rows.sort((x, y) => x.last_name.localeCompare(y.last_name, "fi") || x.first_name.localeCompare(y.first_name, "fi"));
      return rows;
    },
    client_view: (a) => {
      const c = findClient(a.id);
      audit(c.id, "client.view", "client");
      return view(c);
    },
    client_add: (a) => {
      const u = user();
      const input = a.input as T.ClientInput;
      if (!String(input.first_name ?? "").trim() && !String(input.last_name ?? "").trim()) throw err("client.needs_name");
      activeCode("gender", input.gender);
      activeCode("mother_tongue", input.mother_tongue);
      const c = emptyClient(uuid(), now());
      c.basic.first_name = text(input.first_name, "first_name", 100).trim();
      c.basic.last_name = text(input.last_name, "last_name", 100).trim();
      c.basic.birth_date = input.birth_date || null;
      c.basic.gender = input.gender || null;
      c.basic.mother_tongue = input.mother_tongue || null;
      const unit = input.unit ? UNITS.find((x) => x.name === input.unit || x.id === input.unit) : u.units[0];
      if (!unit) throw err("unit.unknown");
      c.unit = unit.id;
      c.responsible = [u.login];
      clients.push(c);
      sync.waiting_changes += 1;
      audit(c.id, "client.add", "basic");
      return { id: c.id };
    },
    client_edit_basic: (a) => {
      const c = findClient(a.id);
      const b = a.basic as T.BasicEdit;
      activeCode("gender", b.gender);
      activeCode("mother_tongue", b.mother_tongue);
      const next = { ...c.basic };
      for (const k of ["first_name", "last_name", "phone", "email"] as const) {
        if (b[k] !== undefined) next[k] = text(b[k], k, 100);
      }
      if (b.birth_date !== undefined) next.birth_date = b.birth_date || null;
      if (b.gender !== undefined) next.gender = b.gender || null;
      if (b.mother_tongue !== undefined) next.mother_tongue = b.mother_tongue || null;
      if (b.address !== undefined) next.address = { ...b.address };
      if (!next.first_name.trim() && !next.last_name.trim()) throw err("client.needs_name");
      c.basic = next;
      sync.waiting_changes += 1;
      audit(c.id, "client.edit", "basic");
      return view(c);
    },
    client_resolve_conflict: (a) => {
      const c = findClient(a.id);
      if (a.field === "basic.phone") c.basic.phone = String(a.value);
      conflicts.set(c.id, (conflicts.get(c.id) ?? []).filter((x) => x.field !== a.field));
      audit(c.id, "client.resolve_conflict", "basic");
      return view(c);
    },
    client_history: (a) => {
      const c = findClient(a.id);
      return history.get(c.id) ?? [];
    },
    background_set: (a) => {
      const c = findClient(a.id);
      const f = a.field as T.BackgroundField;
      if (!(f in c.background)) throw err("internal.invalid", { what: "background field" });
      c.background[f] = text(a.text, f);
      audit(c.id, "record.background", "background");
      return view(c);
    },
    situation_add: (a) => {
      const c = findClient(a.id);
      const i = a.input as T.SituationInput;
      for (const l of ["highest_education", "education_status", "main_activity", "livelihood", "housing"] as const) activeCode(l, i[l]);
      const id = uuid();
      c.snapshots[id] = {
        id,
        date: i.date,
        period: i.period ?? null,
        phase: i.phase ?? "interim",
        highest_education: i.highest_education ?? null,
        education_status: i.education_status ?? null,
        main_activity: i.main_activity ?? null,
        livelihood: i.livelihood ?? null,
        housing: i.housing ?? null,
      };
      audit(c.id, "record.situation", "situation");
      return view(c);
    },
    period_open: (a) => {
      const c = findClient(a.id);
      const i = a.input as T.PeriodInput;
      activeCode("arrival_route", i.arrival_route);
      const id = uuid();
      c.periods[id] = {
        id,
        arrival_route: i.arrival_route ?? null,
        start: i.start,
        end: null,
        closed: false,
        measures: {},
        outcome: null,
        referral: i.referral ?? null,
        goals: i.goals ?? "",
        final_assessment: "",
      };
      audit(c.id, "record.period_open", "period");
      return view(c);
    },
    period_text: (a) => {
      const c = findClient(a.id);
      const p = period(c, a.period);
      if (a.which === "goals") p.goals = text(a.text, "goals");
      else p.final_assessment = text(a.text, "final_assessment");
      audit(c.id, "record.period_text", "period");
      return view(c);
    },
    period_close: (a) => {
      const c = findClient(a.id);
      const p = period(c, a.period);
      const i = a.input as T.PeriodClose;
      if (p.closed) throw err("period.ended");
      activeCode("outcome", i.outcome);
      if (p.start && i.end < p.start) throw err("period.ends_before_start");
      p.end = i.end;
      p.closed = true;
      p.outcome = i.outcome;
      if (i.final_assessment) p.final_assessment = i.final_assessment;
      audit(c.id, "record.period_close", "period");
      return view(c);
    },
    measure_add: (a) => {
      const c = findClient(a.id);
      const p = period(c, a.period);
      if (p.closed) throw err("period.ended");
      activeCode("measure", a.kind);
      const id = uuid();
      p.measures[id] = { id, code: String(a.kind), start: a.start ?? today, status: "ongoing", end: null };
      audit(c.id, "record.measure_add", "measure");
      return view(c);
    },
    measure_status: (a) => {
      const c = findClient(a.id);
      const p = period(c, a.period);
      const m = p.measures[String(a.measure)];
      if (!m) throw err("record.not_found", { what: "measure" });
      m.status = a.status;
      m.end = a.status === "ongoing" ? null : (a.end ?? today);
      audit(c.id, "record.measure_status", "measure");
      return view(c);
    },
    memo_add: (a) => {
      const c = findClient(a.id);
      const t = text(a.text, "memo");
      if (!t.trim()) throw err("memo.empty");
      const kind = a.kind ?? "meeting";
      activeCode("memo_type", kind);
      const id = uuid();
      c.memos[id] = { id, date: today, author: user().login, kind, text: t, deleted: null };
      sync.waiting_changes += 1;
      audit(c.id, "memo.add", "memo");
      return view(c);
    },
    memo_add_quick: (a) => {
      const v = handlers.memo_add(a) as T.ClientView;
      const ids = Object.keys(v.client.memos);
      return { id: ids[ids.length - 1] };
    },
    memo_edit: (a) => {
      const c = findClient(a.id);
      const m = c.memos[String(a.memo)];
      if (!m) throw err("record.not_found", { what: "memo" });
      const t = text(a.text, "memo");
      if (!t.trim()) throw err("memo.empty");
      m.text = t;
      audit(c.id, "memo.edit", "memo");
      return view(c);
    },
    memo_delete: (a) => {
      const c = findClient(a.id);
      const m = c.memos[String(a.memo)];
      if (!m) throw err("record.not_found", { what: "memo" });
      m.deleted = now();
      audit(c.id, "memo.delete", "memo");
      return view(c);
    },
    memo_restore: (a) => {
      const c = findClient(a.id);
      const m = c.memos[String(a.memo)];
      if (!m) throw err("record.not_found", { what: "memo" });
      m.deleted = null;
      audit(c.id, "memo.restore", "memo");
      return view(c);
    },
    referral_add: (a) => {
      const c = findClient(a.id);
      const i = a.input as T.ReferralInput;
      activeCode("referral_source", i.source);
      const id = uuid();
      c.referrals[id] = { id, source: i.source, received: i.received, follow_up: i.follow_up ?? "", follow_up_decided: i.follow_up_decided ?? null };
      audit(c.id, "record.referral_add", "referral");
      return view(c);
    },
    consent_add: (a) => {
      const c = findClient(a.id);
      const id = uuid();
      c.consents[id] = { id, topic: a.topic, note: "", given: a.given ?? today, withdrawn: null };
      audit(c.id, "record.consent_add", "consent");
      return view(c);
    },
    consent_withdraw: (a) => {
      const c = findClient(a.id);
      const k = c.consents[String(a.consent)];
      if (!k) throw err("record.not_found", { what: "consent" });
      if (today < k.given) throw err("consent.withdrawn_before_given");
      k.withdrawn = today;
      audit(c.id, "record.consent_withdraw", "consent");
      return view(c);
    },
    disclosure_add: (a) => {
      const c = findClient(a.id);
      const i = a.input as T.DisclosureInput;
      if (!i.what?.trim() || !i.recipient?.trim() || !i.basis?.trim() || !i.date) throw err("disclosure.incomplete");
      const id = uuid();
      c.disclosures[id] = { id, what: i.what, recipient: i.recipient, date: i.date, basis: i.basis };
      audit(c.id, "record.disclosure_add", "disclosure");
      return view(c);
    },
    attachment_add: (a) => {
      const c = findClient(a.id);
      const id = uuid();
      const bytes = String(a.bytes_base64 ?? "");
      c.attachments[id] = {
        id,
        file_name: String(a.name),
        media_type: "application/octet-stream",
        size: Math.floor((bytes.length * 3) / 4),
        added_at: now(),
        memo: null,
      };
      blobs.set(id, { name: String(a.name), bytes, by: user().login });
      audit(c.id, "attachment.add", "attachment");
      return attachmentRows(c);
    },
    attachment_list: (a) => attachmentRows(findClient(a.id)),
    attachment_get: (a) => {
      const c = findClient(a.id);
      const b = blobs.get(String(a.attachment));
      if (!b || !c.attachments[String(a.attachment)]) throw err("attachment.not_found", { id: String(a.attachment) });
      audit(c.id, "attachment.get", "attachment");
      return { name: b.name, bytes_base64: b.bytes };
    },
    attachment_delete: (a) => {
      const c = findClient(a.id);
      if (!c.attachments[String(a.attachment)]) throw err("attachment.not_found", { id: String(a.attachment) });
      delete c.attachments[String(a.attachment)];
      audit(c.id, "attachment.delete", "attachment");
      return attachmentRows(c);
    },
    contact_add: (a) => {
      const u = user();
      const i = a.input as T.ContactInput;
      activeCode("contact_channel", i.channel);
      if (!i.channel) throw err("code.unknown", { code: "", list: "contact_channel" });
      activeCode("contact_topic", i.topic);
      activeCode("gender", i.gender);
      activeCode("age_group", i.age_group);
      const id = uuid();
      contacts.push({ ...i, text: text(i.text, "text"), id, unit: i.unit ?? u.units[0]?.name ?? "" });
      sync.waiting_changes += 1;
      return { id };
    },
    contact_list: (a) => {
      user();
      return contacts.filter((c) => (!a.from || c.date >= a.from) && (!a.to || c.date <= a.to));
    },
    activity_add: (a) => {
      const u = user();
      const i = a.input as T.ActivityInput;
      activeCode("activity_kind", i.kind);
      for (const m of i.met) {
        activeCode("gender", m.gender);
        activeCode("age_group", m.age_group);
      }
      const id = uuid();
      activities.push({ ...i, id, unit: i.unit ?? u.units[0]?.name ?? "", met: i.met.filter((m) => m.count > 0) });
      sync.waiting_changes += 1;
      return { id };
    },
    activity_list: (a) => {
      user();
      return activities
        .filter((c) => (!a.from || c.date >= a.from) && (!a.to || c.date <= a.to))
        .map((x) => ({
          id: x.id,
          unit: x.unit,
          kind: x.kind,
          date: x.date,
          duration_minutes: x.duration_minutes,
          place: x.place,
          workers: x.workers,
          met_total: x.met.reduce((s, m) => s + m.count, 0),
        }));
    },
    activity_show: (a) => {
      user();
      const x = activities.find((y) => y.id === a.activity);
      if (!x) throw err("activity.not_found", { id: String(a.activity) });
      return x;
    },
    activity_edit: (a) => {
      user();
      const x = activities.find((y) => y.id === a.activity);
      if (!x) throw err("activity.not_found", { id: String(a.activity) });
      Object.assign(x, a.edit);
      return x;
    },
    sync_status: () => {
      user();
      return { ...sync };
    },
    retention_due: () => {
      user();
      return opts.retentionDue ?? [];
    },
    sync_now: () => {
      user();
      sync.running = true;
      setTimeout(() => {
        sync.running = false;
        sync.last_sync = now();
        sync.waiting_changes = 0;
      }, 1500);
      return { ...sync };
    },
  };

  const invoke: InvokeFn = async (cmd, payload) => {
    const args = payload?.args as Record<string, unknown> | undefined;
    calls.push({ cmd, args });
    const h = handlers[cmd];
    if (!h) throw err("internal.invalid", { what: "command" });
    // A structured copy, as over IPC: the UI never shares objects with the backend.
    return JSON.parse(JSON.stringify(h(args ?? {}) ?? null));
  };

  return {
    invoke,
    calls,
    clients,
    lockNow: () => {
      if (session.user) session.state = "locked";
    },
  };
}
