import { describe, expect, it } from "vitest";
import { waitFor } from "@testing-library/react";
import { callsOf, loginAs, renderApp } from "./helpers";
import { todayIso } from "../format";

async function open() {
  const h = renderApp({ clients: 0 });
  await loginAs(h);
  await h.user.click(await h.findByTestId("nav-activities"));
  await h.findByTestId("activity-form");
  return h;
}

describe("activity memos", () => {
  it("checks kind, duration, place and the counts in words before saving", async () => {
    const h = await open();
    await h.user.type(h.getByTestId("activity-duration"), "kaksi tuntia");
    await h.user.type(h.getByTestId("met-female-16-17"), "3x");
    await h.user.click(h.getByTestId("activity-save"));
    expect(await h.findByText("Valitse toiminnan muoto.")).toBeTruthy();
    expect(h.getByText("Anna kesto kokonaisina minuutteina, 1–1440.")).toBeTruthy();
    expect(h.getByText("Anna paikka.")).toBeTruthy();
    expect(h.getByText("Määrän pitää olla kokonaisluku 0–999.")).toBeTruthy();
    expect(h.getByTestId("met-female-16-17").getAttribute("aria-invalid")).toBe("true");
    expect(callsOf(h, "activity_add")).toHaveLength(0);
  });

  it("saves the counts of young people met by gender and age group, and lists the memo", async () => {
    const h = await open();
    await h.user.selectOptions(h.getByTestId("activity-kind"), "street_work");
    await h.user.type(h.getByTestId("activity-duration"), "120");
    await h.user.type(h.getByTestId("activity-place"), "Kauppakeskus");
    await h.user.type(h.getByTestId("met-female-16-17"), "3");
    await h.user.type(h.getByTestId("met-male-18-20"), "2");
    expect(h.getByTestId("activity-total").textContent).toBe("Yhteensä 5");
    await h.user.click(h.getByTestId("activity-save"));
    await waitFor(() => expect(callsOf(h, "activity_add")).toHaveLength(1));
    expect(callsOf(h, "activity_add")[0].args!.input).toEqual({
      kind: "street_work",
      date: todayIso(),
      duration_minutes: 120,
      place: "Kauppakeskus",
      workers: ["maija"],
      met: [
        { gender: "male", age_group: "18-20", count: 2 },
        { gender: "female", age_group: "16-17", count: 3 },
      ],
      text: "",
    });
    const row = await h.findByTestId("activity-row");
    expect(row.textContent).toContain("Katutyö");
    expect(row.textContent).toContain("Kauppakeskus");
    expect(row.textContent).toContain("5");
  });

  it("every count cell is labelled by its gender and age group", async () => {
    const h = await open();
    expect(h.getByLabelText("Nainen 16–17-vuotiaat")).toBe(h.getByTestId("met-female-16-17"));
  });
});
