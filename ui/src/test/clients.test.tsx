import { describe, expect, it } from "vitest";
import { waitFor } from "@testing-library/react";
import { callsOf, loginAs, renderApp } from "./helpers";

describe("client list", () => {
  it("shows names as 'Sukunimi, Etunimi' and birth dates as d.m.yyyy", async () => {
    const h = renderApp({ clients: 0, extraClients: [{ first_name: "Aino", last_name: "Aaltonen", birth_date: "2008-05-01" }] });
    await loginAs(h);
    const row = await h.findByTestId("client-row");
    expect(row.textContent).toBe("Aaltonen, Aino");
    expect(row.closest("tr")!.textContent).toContain("1.5.2008");
  });

  it("searches by name and by birth date d.m.yyyy", async () => {
    const h = renderApp({
      clients: 0,
      extraClients: [
        { first_name: "Aino", last_name: "Aaltonen", birth_date: "2008-05-01" },
        { first_name: "Eino", last_name: "Blomqvist", birth_date: "2007-12-24" },
      ],
    });
    await loginAs(h);
    await waitFor(() => expect(h.getAllByTestId("client-row")).toHaveLength(2));
    await h.user.type(h.getByTestId("client-search"), "blom");
    await waitFor(() => expect(h.getAllByTestId("client-row").map((r) => r.textContent)).toEqual(["Blomqvist, Eino"]));
    await h.user.clear(h.getByTestId("client-search"));
    await h.user.type(h.getByTestId("client-search"), "1.5.2008");
    await waitFor(() => expect(h.getAllByTestId("client-row").map((r) => r.textContent)).toEqual(["Aaltonen, Aino"]));
  });

  it("sends the filters to client_list", async () => {
    const h = renderApp();
    await loginAs(h);
    await h.findAllByTestId("client-row");
    await h.user.selectOptions(h.getByTestId("filter-scope"), "all");
    await h.user.selectOptions(h.getByTestId("filter-status"), "ended");
    await waitFor(() => expect(callsOf(h, "client_list").at(-1)!.args).toEqual({ query: "", scope: "all", status: "ended", missing_only: false }));
  });

  it("renders only a window of 2,000 clients and reaches the last by keyboard", async () => {
    const h = renderApp({ clients: 2000 });
    await loginAs(h, "kaisa");
    await h.user.selectOptions(await h.findByTestId("filter-scope"), "all");
    await h.user.selectOptions(h.getByTestId("filter-status"), "any");
    await waitFor(() => expect(h.getByTestId("client-count").textContent).toBe("2000 asiakasta"));
    expect(h.getAllByTestId("client-row").length).toBeLessThan(60);
    await h.user.click(h.getByTestId("client-search"));
    await h.user.keyboard("{ArrowDown}{End}");
    await waitFor(() => expect(document.activeElement?.getAttribute("data-index")).toBe("1999"));
  });

  it("focuses the search with Ctrl+F and with /", async () => {
    const h = renderApp();
    await loginAs(h);
    const search = await h.findByTestId("client-search");
    (await h.findAllByTestId("client-row"))[0].focus();
    await h.user.keyboard("/");
    expect(document.activeElement).toBe(search);
    h.getAllByTestId("client-row")[0].focus();
    await h.user.keyboard("{Control>}f{/Control}");
    expect(document.activeElement).toBe(search);
  });
});
