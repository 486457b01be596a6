import { describe, expect, it } from "vitest";
import fi from "../i18n/fi.json";
import sv from "../i18n/sv.json";
import en from "../i18n/en.json";
import errors from "../../../crates/polku-api/tests/contract/errors.json";
import { errorMessage } from "../i18n";

const files: Record<string, Record<string, string>> = { fi, sv, en };
// Codes the app-commands contract and the service layer add to errors.json.
const EXTRA_CODES = [
  "session.locked",
  "session.none",
  "auth.must_change_password",
  "sync.refused_by_hub",
  "sync.refused_here",
  "sync.hub_unreachable",
  "sync.failed",
  "sync.not_enrolled",
  "sync.device_revoked",
  "sync.refused.rights",
  "sync.quarantined.inflation",
  "enrolment.refused",
  "enrolment.malformed_answer",
  "enrolment.ticket_for_another_user",
  "enrolment.bad_ticket",
  "hub.not_a_hub",
  "store.failed",
  "document.damaged",
];

describe("message files", () => {
  it("have every key in all three languages, none empty", () => {
    const all = new Set([...Object.keys(fi), ...Object.keys(sv), ...Object.keys(en)]);
    for (const [lang, m] of Object.entries(files)) {
      const missing = [...all].filter((k) => !(k in m));
      expect(missing, `missing in ${lang}.json`).toEqual([]);
      const empty = Object.entries(m).filter(([, v]) => !v.trim()).map(([k]) => k);
      expect(empty, `empty in ${lang}.json`).toEqual([]);
    }
  });

  it("use the same parameters in every language", () => {
    const params = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort().join(",");
    for (const k of Object.keys(fi)) {
      expect(params(sv[k as keyof typeof sv]), `sv ${k}`).toBe(params(fi[k as keyof typeof fi]));
      expect(params(en[k as keyof typeof en]), `en ${k}`).toBe(params(fi[k as keyof typeof fi]));
    }
  });

  it("have a message for every error code of errors.json and of the command contract", () => {
    const codes = new Set([...errors.map((e) => e.code), ...EXTRA_CODES]);
    for (const [lang, m] of Object.entries(files)) {
      const missing = [...codes].filter((c) => !(`error.${c}` in m));
      expect(missing, `error codes without a message in ${lang}.json`).toEqual([]);
    }
  });

  it("fill every parameter of errors.json's examples (no {param} left)", () => {
    for (const lang of ["fi", "sv", "en"] as const) {
      for (const e of errors) {
        const text = errorMessage(lang, e as { code: string; params: Record<string, string> });
        expect(text, `${lang} ${e.code}`).not.toMatch(/\{\w+\}/);
        expect(text).not.toContain("error.");
      }
    }
  });

  it("show the generic message with the code for an unknown code", () => {
    expect(errorMessage("fi", { code: "x.new_thing", params: {} })).toContain("x.new_thing");
  });

  it("name the missing right in words for rights.denied", () => {
    expect(errorMessage("fi", { code: "rights.denied", params: { missing: "memos" } })).toContain(
      "nähdä tai kirjoittaa muistioita",
    );
  });
});

describe("message keys used in the code", () => {
  it("all exist in fi.json (a typo in t(\"…\") would show the key)", async () => {
    const mods = import.meta.glob("../**/*.tsx", { query: "?raw", import: "default", eager: true }) as Record<string, string>;
    const used = new Set<string>();
    for (const [path, src] of Object.entries(mods)) {
      if (path.includes("/test/")) continue;
      for (const m of src.matchAll(/\bt\(\s*"([a-z_]+\.[a-z_.]+)"/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(100);
    const missing = [...used].filter((k) => !(k in fi));
    expect(missing).toEqual([]);
  });
});
