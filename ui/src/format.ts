// Finnish conventions (Swedish the same): dates d.m.yyyy, times hh.mm.

/** `2008-05-01` → `1.5.2008`. */
export function fmtDate(iso: string | null | undefined): string {
  if (!iso) return "";
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!m) return iso;
  return `${+m[3]}.${+m[2]}.${m[1]}`;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** An instant in local time as `d.m.yyyy hh.mm`. */
export function fmtInstant(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getDate()}.${d.getMonth() + 1}.${d.getFullYear()} ${pad(d.getHours())}.${pad(d.getMinutes())}`;
}

/** An instant as `hh.mm` today, else `d.m.yyyy hh.mm`. */
export function fmtWhen(iso: string | null | undefined, now = new Date()): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  if (d.toDateString() === now.toDateString()) return `${pad(d.getHours())}.${pad(d.getMinutes())}`;
  return fmtInstant(iso);
}

/** Today as ISO `YYYY-MM-DD` in local time. */
export function todayIso(now = new Date()): string {
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/**
 * Reads `d.m.yyyy` (also `d.m.yy`? no: four-digit years only, and ISO) into ISO.
 * Returns `null` for an empty string and `undefined` for something unreadable.
 */
export function parseDate(s: string): string | null | undefined {
  const t = s.trim();
  if (!t) return null;
  let y: number, mo: number, d: number;
  let m = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(t);
  if (m) {
    d = +m[1];
    mo = +m[2];
    y = +m[3];
  } else if ((m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t))) {
    y = +m[1];
    mo = +m[2];
    d = +m[3];
  } else return undefined;
  const dt = new Date(Date.UTC(y, mo - 1, d));
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d) return undefined;
  return `${y}-${pad(mo)}-${pad(d)}`;
}

export function fmtSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} kt`;
  return `${(n / 1024 / 1024).toFixed(1)} Mt`;
}

export function personName(first: string, last: string): string {
  if (last && first) return `${last}, ${first}`;
  return last || first;
}

/** A user the client refers to, by login name (the card never shows a bare id). */
export function personOf(view: { people?: Record<string, string> }, user: string): string {
  return view.people?.[user] ?? "–";
}
