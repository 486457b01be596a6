import { describe, expect, it } from "vitest";
import { waitFor } from "@testing-library/react";
import { callsOf, loginAs, renderApp } from "./helpers";
import { todayIso } from "../format";

async function openCard() {
  const h = renderApp({ clients: 0, extraClients: [{ first_name: "Aino", last_name: "Virtanen" }] });
  await loginAs(h);
  await h.user.click(await h.findByTestId("client-row"));
  await h.findByTestId("client-card");
  return h;
}

describe("record tabs", () => {
  it("background: Ctrl+S saves only the changed fields, one background_set each", async () => {
    const h = await openCard();
    await h.user.keyboard("{Alt>}2{/Alt}");
    await h.user.type(h.getByTestId("background-skills"), "Piirtää hyvin");
    await h.user.type(h.getByTestId("background-goal"), "Ammattikoulu");
    await h.user.keyboard("{Control>}s{/Control}");
    await waitFor(() => expect(callsOf(h, "background_set")).toHaveLength(2));
    expect(callsOf(h, "background_set").map((c) => [c.args!.field, c.args!.text])).toEqual([
      ["skills", "Piirtää hyvin"],
      ["goal", "Ammattikoulu"],
    ]);
  });

  it("situation: adds a dated snapshot and lists it with the labels of the codes", async () => {
    const h = await openCard();
    await h.user.keyboard("{Alt>}3{/Alt}");
    await h.user.selectOptions(h.getByTestId("situation-housing"), "with_parents");
    await h.user.selectOptions(h.getByTestId("situation-main_activity"), "unemployed");
    await h.user.click(h.getByTestId("situation-save"));
    const list = await h.findByTestId("situation-list");
    expect(list.textContent).toContain("Vanhempien luona");
    expect(list.textContent).toContain("Työtön työnhakija");
    expect(callsOf(h, "situation_add")[0].args!.input).toMatchObject({ date: todayIso(), housing: "with_parents", phase: "interim" });
  });

  it("referrals, consents (withdraw) and disclosures (all fields asked for)", async () => {
    const h = await openCard();
    await h.user.keyboard("{Alt>}5{/Alt}");
    await h.user.click(h.getByTestId("referral-add"));
    expect(await h.findByText("Valitse ilmoittaja.")).toBeTruthy();
    await h.user.selectOptions(h.getByTestId("referral-source"), "basic_education");
    await h.user.click(h.getByTestId("referral-add"));
    expect((await h.findByTestId("referral-list")).textContent).toContain("Perusopetuksen järjestäjä");

    await h.user.click(h.getByTestId("consent-add"));
    expect((await h.findByTestId("consent-list")).textContent).toContain("voimassa");
    await h.user.click(h.getByTestId("consent-withdraw"));
    await waitFor(() => expect(h.getByTestId("consent-list").textContent).not.toContain("voimassa"));

    await h.user.type(h.getByTestId("disclosure-what"), "Perustiedot");
    await h.user.click(h.getByTestId("disclosure-add"));
    expect(await h.findByText(/Täytä kaikki kentät/)).toBeTruthy();
    expect(callsOf(h, "disclosure_add")).toHaveLength(0);
    await h.user.type(h.getByTestId("disclosure-recipient"), "TE-toimisto");
    await h.user.type(h.getByTestId("disclosure-basis"), "Nuoren suostumus");
    await h.user.click(h.getByTestId("disclosure-add"));
    expect((await h.findByTestId("disclosure-list")).textContent).toContain("TE-toimisto");
  });
});

describe("retired codes", () => {
  it("an old record shows a retired code's label; the select keeps it but never offers it for new entries", async () => {
    const h = renderApp({ clients: 0, extraClients: [{ first_name: "Aino", last_name: "Virtanen" }] });
    const c = h.backend.clients[0];
    c.periods["p1"] = {
      id: "p1", arrival_route: "young_person", start: "2026-01-05", end: null, closed: false,
      measures: { m1: { id: "m1", code: "old_course", start: "2026-01-05", status: "ongoing", end: null } },
      outcome: null, referral: null, goals: "", final_assessment: "",
    };
    await loginAs(h);
    await h.user.click(await h.findByTestId("client-row"));
    await h.user.click(await h.findByTestId("tab-periods"));
    expect((await h.findByTestId("measure-row")).textContent).toContain("Vanha kurssi (poistunut)");
    const kinds = Array.from((h.getByTestId("measure-kind") as HTMLSelectElement).options).map((o) => o.value);
    expect(kinds).not.toContain("old_course");
  });
});
