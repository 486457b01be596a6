import { describe, expect, it } from "vitest";
import { loginAs, renderApp } from "./helpers";

const EVIL = "<img src=x onerror=alert(1)>";

describe("what a person typed is text, never HTML", () => {
  it("shows a client named like an img tag as text in the list, with no img element", async () => {
    const h = renderApp({ clients: 0, extraClients: [{ first_name: EVIL, last_name: "<b>Lihava</b>" }] });
    await loginAs(h);
    const row = await h.findByTestId("client-row");
    expect(row.textContent).toBe(`<b>Lihava</b>, ${EVIL}`);
    expect(document.querySelector("img")).toBeNull();
    expect(document.querySelector("b")).toBeNull();
  });
});
