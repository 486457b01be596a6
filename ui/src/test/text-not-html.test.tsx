import { describe, expect, it } from "vitest";
import { waitFor } from "@testing-library/react";
import { loginAs, renderApp } from "./helpers";

const EVIL = "<img src=x onerror=alert(1)>";

describe("what a person typed is text, never HTML", () => {
  it("shows a client named like an img tag as text in the list, the card and a memo, with no img element", async () => {
    const h = renderApp({ clients: 0, extraClients: [{ first_name: EVIL, last_name: "<b>Lihava</b>" }] });
    await loginAs(h);
    const row = await h.findByTestId("client-row");
    expect(row.textContent).toBe(`<b>Lihava</b>, ${EVIL}`);
    expect(document.querySelector("img")).toBeNull();
    expect(document.querySelector("b")).toBeNull();
    await h.user.click(row);
    expect((await h.findByTestId("card-name")).textContent).toBe(`<b>Lihava</b>, ${EVIL}`);
    expect((h.getByTestId("basic-first") as HTMLInputElement).value).toBe(EVIL);
    await h.user.keyboard("{Alt>}6{/Alt}");
    await h.user.type(h.getByTestId("memo-text-input"), `Sanoi ${EVIL}`);
    await h.user.click(h.getByTestId("memo-add"));
    await waitFor(() => expect(h.getAllByTestId("memo-text").some((m) => m.textContent === `Sanoi ${EVIL}`)).toBe(true));
    expect(document.querySelector("img")).toBeNull();
    expect(document.querySelector("b")).toBeNull();
  });

  it("the quick entry's type-ahead shows such a name as text", async () => {
    const h = renderApp({ clients: 0, extraClients: [{ first_name: EVIL, last_name: "Virtanen" }] });
    await loginAs(h);
    await h.findByTestId("client-row");
    await h.user.keyboard("{Control>}k{/Control}");
    await h.findByTestId("quick-entry");
    await h.user.keyboard("virtanen");
    await waitFor(() => expect(h.getByTestId("quick-option-client").textContent).toBe(`Virtanen, ${EVIL}`));
    expect(document.querySelector("img")).toBeNull();
  });
});
