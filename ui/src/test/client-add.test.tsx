import { describe, expect, it } from "vitest";
import { waitFor } from "@testing-library/react";
import { callsOf, loginAs, renderApp } from "./helpers";

describe("new client form", () => {
  it("asks for a name and a readable birth date, then saves and opens the card", async () => {
    const h = renderApp({ clients: 0 });
    await loginAs(h);
    await h.user.click(await h.findByTestId("client-add"));
    await h.user.click(h.getByTestId("add-save"));
    expect(await h.findByText("Anna etunimi tai sukunimi.")).toBeTruthy();
    await h.user.type(h.getByTestId("add-first"), "Venla");
    await h.user.type(h.getByTestId("add-birth"), "2008-13-01");
    await h.user.click(h.getByTestId("add-save"));
    expect(await h.findByText(/Kirjoita päivämäärä muodossa p.k.vvvv/)).toBeTruthy();
    await h.user.clear(h.getByTestId("add-birth"));
    await h.user.type(h.getByTestId("add-birth"), "1.1.2999");
    await h.user.click(h.getByTestId("add-save"));
    expect(await h.findByText("Syntymäaika ei voi olla tulevaisuudessa.")).toBeTruthy();
    expect(callsOf(h, "client_add")).toHaveLength(0);
    await h.user.clear(h.getByTestId("add-birth"));
    await h.user.type(h.getByTestId("add-birth"), "3.4.2009");
    await h.user.type(h.getByTestId("add-last"), "Laine");
    await h.user.selectOptions(h.getByTestId("add-gender"), "female");
    await h.user.keyboard("{Control>}s{/Control}");
    await waitFor(() => expect(callsOf(h, "client_add")).toHaveLength(1));
    expect(callsOf(h, "client_add")[0].args!.input).toEqual({
      first_name: "Venla",
      last_name: "Laine",
      birth_date: "2009-04-03",
      gender: "female",
      mother_tongue: null,
      unit: "Keskusta",
    });
    expect((await h.findByTestId("card-name")).textContent).toBe("Laine, Venla");
  });
});
