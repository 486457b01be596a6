// Messages in Finnish (default), Swedish and English. Keys are flat; `{name}`
// in a message is replaced by a parameter. Error codes are `error.<code>`.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import fi from "./fi.json";
import sv from "./sv.json";
import en from "./en.json";
import type { Code, CodeListName, Codes, ErrorDto, Lang } from "../api/types";

export const messages: Record<Lang, Record<string, string>> = { fi, sv, en };
export const LANGS: Lang[] = ["fi", "sv", "en"];
const STORAGE_KEY = "polku.lang";

export function storedLang(): Lang {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    if (v === "fi" || v === "sv" || v === "en") return v;
  } catch {
    /* no storage */
  }
  return "fi";
}

export function format(msg: string, params?: Record<string, string | number>): string {
  if (!params) return msg;
  return msg.replace(/\{(\w+)\}/g, (all, k: string) => (k in params ? String(params[k]) : all));
}

export function translate(lang: Lang, key: string, params?: Record<string, string | number>): string {
  const m = messages[lang][key] ?? messages.fi[key] ?? key;
  return format(m, params);
}

/** An error as words: what happened and what to do. Unknown codes get the generic message with the code. */
export function errorMessage(lang: Lang, e: ErrorDto): string {
  const key = `error.${e.code}`;
  const params: Record<string, string> = { ...(e.params ?? {}) };
  if (e.code === "rights.denied") {
    const r = `right.${params.missing}`;
    params.missing = messages[lang][r] ?? params.missing ?? "";
  }
  if (messages[lang][key]) return format(messages[lang][key], params);
  return translate(lang, "error.generic", { code: e.code });
}

interface I18n {
  lang: Lang;
  setLang(l: Lang): void;
  t(key: string, params?: Record<string, string | number>): string;
  err(e: ErrorDto): string;
  codes: Codes;
  setCodes(c: Codes): void;
  /** The label of a code in the user's language; a retired code still shows its label. */
  label(list: CodeListName, code: string | null | undefined): string;
  /** The codes that may be chosen for a new entry: never retired ones. */
  options(list: CodeListName): Code[];
}

const Ctx = createContext<I18n | null>(null);

export function I18nProvider({ children, initial }: { children: ReactNode; initial?: Lang }) {
  const [lang, setLangState] = useState<Lang>(initial ?? storedLang());
  const [codes, setCodes] = useState<Codes>({});
  const setLang = useCallback((l: Lang) => {
    setLangState(l);
    try {
      localStorage.setItem(STORAGE_KEY, l);
    } catch {
      /* no storage */
    }
    document.documentElement.lang = l;
  }, []);
  const value = useMemo<I18n>(
    () => ({
      lang,
      setLang,
      t: (k, p) => translate(lang, k, p),
      err: (e) => errorMessage(lang, e),
      codes,
      setCodes,
      label: (list, code) => {
        if (code === null || code === undefined || code === "") return translate(lang, "common.not_set");
        const c = (codes[list] ?? []).find((x) => x.code === code);
        return c ? (c.label[lang] ?? c.label.fi) : code;
      },
      options: (list) => (codes[list] ?? []).filter((c) => !c.retired),
    }),
    [lang, setLang, codes],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error("useI18n outside I18nProvider");
  return v;
}
