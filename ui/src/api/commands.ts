// Typed wrappers of every command in docs/app-commands.md. The UI calls the
// shell only through these. Commands with arguments take them as one object
// named `args` (`invoke("client_list", { args: { … } })`).
import type * as T from "./types";
import { isErrorDto, type ErrorDto } from "./types";

export type InvokeFn = (cmd: string, payload?: Record<string, unknown>) => Promise<unknown>;

let current: InvokeFn | null = null;
const listeners = new Set<(e: ErrorDto) => void>();

/** Chooses the backend: the Tauri shell's `invoke`, or the mock in tests and `npm run dev`. */
export function setInvoke(fn: InvokeFn) {
  current = fn;
}

/** Called on every rejected command (the app watches for `session.locked`). */
export function onCommandError(fn: (e: ErrorDto) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Turns whatever a rejection carries into an ErrorDto; never a stack trace. */
export function toErrorDto(e: unknown): ErrorDto {
  if (isErrorDto(e)) return { code: e.code, params: e.params ?? {} };
  if (typeof e === "string") {
    try {
      const parsed = JSON.parse(e);
      if (isErrorDto(parsed)) return { code: parsed.code, params: parsed.params ?? {} };
    } catch {
      /* not JSON */
    }
  }
  return { code: "ui.unexpected", params: {} };
}

async function call<R>(cmd: string, args?: Record<string, unknown>): Promise<R> {
  if (!current) throw { code: "ui.no_backend", params: {} } satisfies ErrorDto;
  try {
    return (await current(cmd, args === undefined ? undefined : { args })) as R;
  } catch (e) {
    const dto = toErrorDto(e);
    listeners.forEach((l) => l(dto));
    throw dto;
  }
}

export const api = {
  // Session
  appInfo: () => call<T.AppInfo>("app_info"),
  sessionState: () => call<T.SessionState>("session_state"),
  login: (login: string, password: string) => call<T.Me>("login", { login, password }),
  changePassword: (current: string, next: string) =>
    call<T.Me>("change_password", { current, new: next }),
  lock: () => call<null>("lock"),
  unlock: (password: string) => call<T.Me>("unlock", { password }),
  logout: () => call<null>("logout"),
  touch: () => call<null>("touch"),

  // Codes
  codes: () => call<T.Codes>("codes"),

  // Clients
  clientList: (a: T.ClientListArgs) => call<T.ClientRow[]>("client_list", { ...a }),
  clientView: (id: T.Id) => call<T.ClientView>("client_view", { id }),
  clientAdd: (input: T.ClientInput) => call<{ id: T.Id }>("client_add", { input }),
  clientEditBasic: (id: T.Id, basic: T.BasicEdit) =>
    call<T.ClientView>("client_edit_basic", { id, basic }),
  clientResolveConflict: (id: T.Id, field: string, value: string) =>
    call<T.ClientView>("client_resolve_conflict", { id, field, value }),
  clientHistory: (id: T.Id) => call<T.HistoryRow[]>("client_history", { id }),

  // The record
  backgroundSet: (id: T.Id, field: T.BackgroundField, text: string) =>
    call<T.ClientView>("background_set", { id, field, text }),
  situationAdd: (id: T.Id, input: T.SituationInput) =>
    call<T.ClientView>("situation_add", { id, input }),
  periodOpen: (id: T.Id, input: T.PeriodInput) => call<T.ClientView>("period_open", { id, input }),
  periodText: (id: T.Id, period: T.Id, which: "goals" | "final_assessment", text: string) =>
    call<T.ClientView>("period_text", { id, period, which, text }),
  periodClose: (id: T.Id, period: T.Id, input: T.PeriodClose) =>
    call<T.ClientView>("period_close", { id, period, input }),
  measureAdd: (id: T.Id, period: T.Id, kind: string, start?: T.IsoDate | null) =>
    call<T.ClientView>("measure_add", { id, period, kind, start: start ?? null }),
  measureStatus: (
    id: T.Id,
    period: T.Id,
    measure: T.Id,
    status: "completed" | "discontinued" | "ongoing",
    end?: T.IsoDate | null,
  ) => call<T.ClientView>("measure_status", { id, period, measure, status, end: end ?? null }),
  memoAdd: (id: T.Id, text: string, kind?: string | null) =>
    call<T.ClientView>("memo_add", { id, text, kind: kind ?? null }),
  /** The quick entry's memo: saved, no view of the client back. */
  memoAddQuick: (id: T.Id, text: string, kind?: string | null) =>
    call<{ id: T.Id }>("memo_add_quick", { id, text, kind: kind ?? null }),
  memoEdit: (id: T.Id, memo: T.Id, text: string) => call<T.ClientView>("memo_edit", { id, memo, text }),
  memoDelete: (id: T.Id, memo: T.Id) => call<T.ClientView>("memo_delete", { id, memo }),
  memoRestore: (id: T.Id, memo: T.Id) => call<T.ClientView>("memo_restore", { id, memo }),
  referralAdd: (id: T.Id, input: T.ReferralInput) => call<T.ClientView>("referral_add", { id, input }),
  consentAdd: (id: T.Id, topic: T.ConsentTopic, given?: T.IsoDate | null) =>
    call<T.ClientView>("consent_add", { id, topic, given: given ?? null }),
  consentWithdraw: (id: T.Id, consent: T.Id) => call<T.ClientView>("consent_withdraw", { id, consent }),
  disclosureAdd: (id: T.Id, input: T.DisclosureInput) =>
    call<T.ClientView>("disclosure_add", { id, input }),
  attachmentAdd: (id: T.Id, name: string, bytes_base64: string) =>
    call<T.AttachmentRow[]>("attachment_add", { id, name, bytes_base64 }),
  attachmentList: (id: T.Id) => call<T.AttachmentRow[]>("attachment_list", { id }),
  attachmentGet: (id: T.Id, attachment: T.Id) =>
    call<{ name: string; bytes_base64: string }>("attachment_get", { id, attachment }),
  attachmentDelete: (id: T.Id, attachment: T.Id) =>
    call<T.AttachmentRow[]>("attachment_delete", { id, attachment }),

  // Brief contacts and activity memos
  contactAdd: (input: T.ContactInput) => call<{ id: T.Id }>("contact_add", { input }),
  contactList: (from?: T.IsoDate | null, to?: T.IsoDate | null) =>
    call<T.ContactRow[]>("contact_list", { from: from ?? null, to: to ?? null }),
  activityAdd: (input: T.ActivityInput) => call<{ id: T.Id }>("activity_add", { input }),
  activityList: (from?: T.IsoDate | null, to?: T.IsoDate | null) =>
    call<T.ActivityRow[]>("activity_list", { from: from ?? null, to: to ?? null }),
  activityShow: (activity: T.Id) => call<T.ActivityShow>("activity_show", { activity }),
  activityEdit: (activity: T.Id, edit: Partial<T.ActivityInput>) =>
    call<T.ActivityShow>("activity_edit", { activity, edit }),

  // Sync
  syncStatus: () => call<T.SyncStatus>("sync_status"),
  syncNow: () => call<T.SyncStatus>("sync_now"),
  clientNames: () => call<T.ClientName[]>("client_names"),
  retentionDue: () => call<T.RetentionRow[]>("retention_due"),
};

export type Api = typeof api;
