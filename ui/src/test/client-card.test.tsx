import { describe, expect, it } from "vitest";
import { waitFor, within } from "@testing-library/react";
import { callsOf, loginAs, renderApp } from "./helpers";
import { todayIso, fmtDate } from "../format";

async function openCard(opts: Parameters<typeof renderApp>[0] = {}, login = "maija") {
  const h = renderApp({
    clients: 0,
    extraClients: [{ first_name: "Aino", last_name: "Virtanen", birth_date: "2008-05-01", gender: "female" }],
    ...opts,
  });
  await loginAs(h, login);
  if (login !== "maija") await h.user.selectOptions(await h.findByTestId("filter-scope"), "all");
  await h.user.click(await h.findByTestId("client-row"));
  await h.findByTestId("client-card");
  return h;
}

describe("client card", () => {
  it("switches tabs with Alt+1…8 and marks missing mandatory data", async () => {
    const h = await openCard();
    expect(h.getByTestId("card-name").textContent).toBe("Virtanen, Aino");
    expect(h.getByTestId("card-missing").textContent).toContain("Äidinkieli puuttuu.");
    expect(h.getByLabelText("Äidinkieli (puuttuu)")).toBeTruthy();
    await h.user.keyboard("{Alt>}6{/Alt}");
    expect(h.getByTestId("tab-memos").getAttribute("aria-selected")).toBe("true");
    expect(h.getByTestId("panel-memos")).toBeTruthy();
    await h.user.keyboard("{Alt>}4{/Alt}");
    expect(h.getByTestId("panel-periods")).toBeTruthy();
    await h.user.keyboard("{ArrowRight}");
    expect(h.getByTestId("tab-referrals").getAttribute("aria-selected")).toBe("true");
    expect(document.activeElement).toBe(h.getByTestId("tab-referrals"));
  });

  it("says 'ei oikeutta nähdä' for a part hidden by rights, never an empty list", async () => {
    const h = await openCard({}, "kaisa");
    await h.user.click(h.getByTestId("tab-memos"));
    expect(within(h.getByTestId("panel-memos")).getByTestId("hidden-by-rights").textContent).toContain("ei oikeutta nähdä");
    expect(h.queryByTestId("memo-form")).toBeNull();
    await h.user.click(h.getByTestId("tab-periods"));
    expect(within(h.getByTestId("panel-periods")).getByText("ei oikeutta nähdä")).toBeTruthy();
  });

  it("edits basic data and Ctrl+S saves only the changed fields", async () => {
    const h = await openCard();
    await h.user.selectOptions(h.getByTestId("basic-tongue"), "sv");
    await h.user.type(h.getByTestId("basic-phone"), "040 1234567");
    await h.user.keyboard("{Control>}s{/Control}");
    await waitFor(() => expect(callsOf(h, "client_edit_basic")).toHaveLength(1));
    expect(callsOf(h, "client_edit_basic")[0].args!.basic).toEqual({ mother_tongue: "sv", phone: "040 1234567" });
    await waitFor(() => expect(h.queryByTestId("card-missing")).toBeNull());
  });

  it("refuses a birth date that is not a date, in words", async () => {
    const h = await openCard();
    await h.user.clear(h.getByTestId("basic-birth"));
    await h.user.type(h.getByTestId("basic-birth"), "31.2.2008");
    await h.user.click(h.getByTestId("basic-save"));
    expect(await h.findByText(/Kirjoita päivämäärä muodossa p.k.vvvv/)).toBeTruthy();
    expect(callsOf(h, "client_edit_basic")).toHaveLength(0);
  });

  it("shows both values of a conflict with who wrote them and lets the worker pick", async () => {
    // the mock puts a phone conflict (and a memo) on the first of maija's own clients
    const h = await openCard();
    const box = h.getByTestId("conflict");
    expect(box.textContent).toContain("kirjoittanut maija");
    expect(box.textContent).toContain("kirjoittanut kaisa");
    expect(within(box).getAllByTestId("conflict-value").map((e) => e.textContent)).toContain("050 333 4444");
    await h.user.click(within(box).getAllByTestId("conflict-pick")[1]);
    await waitFor(() => expect(h.queryByTestId("conflict")).toBeNull());
    expect(callsOf(h, "client_resolve_conflict")[0].args).toMatchObject({ field: "basic.phone", value: "050 333 4444" });
    expect((h.getByTestId("basic-phone") as HTMLInputElement).value).toBe("050 333 4444");
  });
});

describe("periods and measures", () => {
  it("opens a period, adds a measure, changes its status", async () => {
    const h = await openCard();
    await h.user.click(h.getByTestId("tab-periods"));
    await h.user.selectOptions(h.getByTestId("period-route"), "young_person");
    await h.user.click(h.getByTestId("period-open-save"));
    await h.findByTestId("period");
    expect(callsOf(h, "period_open")[0].args!.input).toMatchObject({ start: todayIso(), arrival_route: "young_person" });
    await h.user.selectOptions(h.getByTestId("measure-kind"), "job_search");
    await h.user.click(h.getByTestId("measure-add"));
    const row = await h.findByTestId("measure-row");
    expect(row.textContent).toContain("Työnhaun tuki");
    const kinds = Array.from((h.getByTestId("measure-kind") as HTMLSelectElement).options).map((o) => o.value);
    expect(kinds).not.toContain("old_course");
    await h.user.selectOptions(h.getByTestId("measure-status"), "completed");
    await h.user.click(h.getByTestId("measure-status-save"));
    await waitFor(() => expect(h.getByTestId("measure-row").textContent).toContain("toteutunut"));
  });

  it("closing a period asks for the outcome and an end not before the start", async () => {
    const h = await openCard();
    await h.user.click(h.getByTestId("tab-periods"));
    await h.user.clear(h.getByTestId("period-start"));
    await h.user.type(h.getByTestId("period-start"), "1.3.2026");
    await h.user.click(h.getByTestId("period-open-save"));
    await h.user.click(await h.findByTestId("period-close"));
    await h.user.clear(h.getByTestId("period-end"));
    await h.user.type(h.getByTestId("period-end"), "28.2.2026");
    await h.user.click(h.getByTestId("period-close-save"));
    expect(await h.findByText("Loppupäivä ei voi olla ennen jakson alkupäivää 1.3.2026.")).toBeTruthy();
    expect(h.getByText(/Valitse sijoittuminen/)).toBeTruthy();
    expect(callsOf(h, "period_close")).toHaveLength(0);
    await h.user.clear(h.getByTestId("period-end"));
    await h.user.type(h.getByTestId("period-end"), "15.3.2026");
    await h.user.selectOptions(h.getByTestId("period-outcome"), "vocational");
    await h.user.click(h.getByTestId("period-close-save"));
    await waitFor(() => expect(callsOf(h, "period_close")).toHaveLength(1));
    expect(callsOf(h, "period_close")[0].args!.input).toMatchObject({ end: "2026-03-15", outcome: "vocational" });
    await waitFor(() => expect(h.getByTestId("period").textContent).toContain("päättynyt"));
    expect(h.getByTestId("period").textContent).toContain("Ammatilliseen koulutukseen");
  });

  it("shows a backend refusal of a period close in words", async () => {
    const h = await openCard();
    await h.user.click(h.getByTestId("tab-periods"));
    await h.user.click(h.getByTestId("period-open-save"));
    await h.user.click(await h.findByTestId("period-close"));
    await h.user.selectOptions(h.getByTestId("period-outcome"), "employment");
    // the period gets closed elsewhere in the meantime
    await h.backend.invoke("period_close", {
      args: { id: h.backend.clients[0].id, period: Object.keys(h.backend.clients[0].periods)[0], input: { end: todayIso(), outcome: "employment" } },
    });
    await h.user.click(h.getByTestId("period-close-save"));
    expect((await h.findByTestId("period-close-error")).textContent).toContain("Jakso on jo päättynyt");
  });
});

describe("memos and attachments", () => {
  it("adds, edits, deletes and restores a memo", async () => {
    const h = await openCard();
    await h.user.keyboard("{Alt>}6{/Alt}");
    await h.user.click(h.getByTestId("memo-add"));
    expect(await h.findByText("Kirjoita muistioon tekstiä.")).toBeTruthy();
    await h.user.type(h.getByTestId("memo-text-input"), "Ensimmäinen tapaaminen");
    await h.user.click(h.getByTestId("memo-add"));
    const memo = () => h.getByText(/Ensimmäinen tapaaminen|Korjattu teksti/).closest("article") as HTMLElement;
    await h.findByText("Ensimmäinen tapaaminen");
    expect(memo().textContent).toContain(fmtDate(todayIso()));
    await h.user.click(within(memo()).getByTestId("memo-edit"));
    await h.user.clear(h.getByTestId("memo-edit-text"));
    await h.user.type(h.getByTestId("memo-edit-text"), "Korjattu teksti");
    await h.user.click(h.getByTestId("memo-edit-save"));
    expect(await h.findByText("Korjattu teksti")).toBeTruthy();
    await h.user.click(within(memo()).getByTestId("memo-delete"));
    await waitFor(() => expect(h.queryByText("Korjattu teksti")).toBeNull());
    await h.user.click(h.getByTestId("memo-show-deleted"));
    expect(memo().textContent).toContain("poistettu");
    await h.user.click(within(memo()).getByTestId("memo-restore"));
    await waitFor(() => expect(within(memo()).queryByTestId("memo-restore")).toBeNull());
    expect(callsOf(h, "memo_restore")).toHaveLength(1);
  });

  it("adds an attachment from a file, lists it and deletes it", async () => {
    const h = await openCard();
    await h.user.keyboard("{Alt>}7{/Alt}");
    const file = new File(["hei maailma"], "todistus.txt", { type: "text/plain" });
    await h.user.upload(h.getByTestId("attachment-input"), file);
    const row = await h.findByTestId("attachment-row");
    expect(row.textContent).toContain("todistus.txt");
    expect(atob(callsOf(h, "attachment_add")[0].args!.bytes_base64 as string)).toBe("hei maailma");
    await h.user.click(h.getByTestId("attachment-delete"));
    await waitFor(() => expect(h.queryByTestId("attachment-row")).toBeNull());
  });

  it("lists the history of changes from the audit log", async () => {
    const h = await openCard();
    await h.user.keyboard("{Alt>}8{/Alt}");
    const list = await h.findByTestId("history-list");
    expect(list.textContent).toContain("Avasi asiakaskortin");
    expect(list.textContent).toContain("maija");
  });
});
