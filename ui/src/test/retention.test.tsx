import { describe, expect, it } from "vitest";
import { waitFor, within } from "@testing-library/react";
import { callsOf, loginAs, renderApp } from "./helpers";
import { personOf } from "../format";
import { missingText } from "../screens/ClientCard";
import { translate } from "../i18n";
import type { Lang, RetentionRow } from "../api/types";

describe("the retention reminder at login", () => {
  it("lists the clients past retention with their dates, each opening its card, and hides", async () => {
    const due: RetentionRow[] = [];
    const h2 = renderApp({ clients: 3, retentionDue: due });
    const c = h2.backend.clients[0];
    due.push({ client: c.id, last_name: c.basic.last_name, first_name: c.basic.first_name, unit: null, responsible: ["maija"], keep_until: "2025-12-31" });
    const name = `${c.basic.last_name}, ${c.basic.first_name}`;
    await loginAs(h2);
    const notice = await h2.findByTestId("retention-notice", {}, { timeout: 5000 });
    expect(callsOf(h2, "retention_due")).toHaveLength(1);
    expect(notice.textContent).toContain("1 asiakkaalta");
    const list = within(notice).getByTestId("retention-list");
    expect(list.textContent).toContain(name);
    expect(list.textContent).toContain("31.12.2025");
    await h2.user.click(within(list).getByRole("link", { name }));
    expect(await h2.findByTestId("client-card")).toBeTruthy();
    await h2.user.click(h2.getByTestId("card-back"));
    await h2.user.click(await h2.findByTestId("retention-hide"));
    expect(h2.queryByTestId("retention-notice")).toBeNull();
  });

  it("is not there when no client is past retention", async () => {
    const h = renderApp({ clients: 3 });
    await loginAs(h);
    await h.findAllByTestId("client-row");
    // Not at once: only after a pause in typing.
    expect(callsOf(h, "retention_due")).toHaveLength(0);
    await waitFor(() => expect(callsOf(h, "retention_due")).toHaveLength(1), { timeout: 5000 });
    expect(h.queryByTestId("retention-notice")).toBeNull();
    // Asked for only after the client list (it reads every client): never in the list's way.
    const cmds = h.backend.calls.map((c) => c.cmd);
    expect(cmds.indexOf("retention_due")).toBeGreaterThan(cmds.indexOf("client_list"));
  });
});

describe("the card names people and what is missing in words", () => {
  it("shows a user by login, never a bare id", () => {
    const view = { people: { "018cc251-f400-71df-b591-0d8a4aeb7725": "worker1" } };
    expect(personOf(view, "018cc251-f400-71df-b591-0d8a4aeb7725")).toBe("worker1");
    expect(personOf(view, "018cc251-0000-71df-b591-0d8a4aeb7725")).toBe("–");
  });

  it("has words for every missing item the backend reports, in fi, sv and en", () => {
    // polku_api::MissingItem::what (listing.rs).
    const whats = [
      "basic.first_name", "basic.last_name", "basic.birth_date", "basic.gender", "basic.mother_tongue", "unit",
      "period.arrival_route", "period.start", "period.measure", "period.end", "period.outcome", "situation",
      "situation.highest_education", "situation.education_status", "situation.main_activity", "situation.livelihood",
      "situation.housing",
    ];
    for (const lang of ["fi", "sv", "en"] as Lang[]) {
      const t = (k: string, p?: Record<string, string>) => translate(lang, k, p);
      for (const what of whats) {
        const text = missingText(t, { what } as never);
        expect(text, `${lang} ${what}`).not.toBe(t("missing.other", { what }));
      }
    }
  });
});
