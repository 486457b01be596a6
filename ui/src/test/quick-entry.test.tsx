import { describe, expect, it } from "vitest";
import { waitFor } from "@testing-library/react";
import { callsOf, loginAs, renderApp } from "./helpers";
import { todayIso } from "../format";

async function openApp(opts = {}) {
  const h = renderApp({
    clients: 0,
    extraClients: [
      { first_name: "Aino", last_name: "Virtanen", birth_date: "2008-05-01" },
      { first_name: "Eino", last_name: "Korhonen", birth_date: "2006-01-02" },
    ],
    ...opts,
  });
  await loginAs(h);
  await h.findAllByTestId("client-row");
  return h;
}

describe("quick entry by keyboard", () => {
  it("Ctrl+K → brief contact → Tab → Enter saves contact_add with today's date and closes", async () => {
    const h = await openApp();
    const before = document.activeElement;
    await h.user.keyboard("{Control>}k{/Control}");
    const dialog = await h.findByTestId("quick-entry");
    expect(document.activeElement).toBe(h.getByTestId("quick-who"));
    // brief contact is the first option, highlighted
    expect(h.getByTestId("quick-option-anon").getAttribute("aria-selected")).toBe("true");
    await h.user.keyboard("{Tab}");
    expect(document.activeElement).toBe(h.getByTestId("quick-date"));
    await h.user.keyboard("{Enter}");
    await waitFor(() => expect(callsOf(h, "contact_add")).toHaveLength(1));
    const input = callsOf(h, "contact_add")[0].args!.input as Record<string, unknown>;
    expect(input.date).toBe(todayIso());
    expect(input.channel).toBe("street");
    expect(input.text).toBe("");
    await waitFor(() => expect(h.queryByTestId("quick-entry")).toBeNull());
    expect(dialog.isConnected).toBe(false);
    expect(h.getByTestId("status-message").textContent).toBe("Lyhyt kontakti tallennettu.");
    expect(document.activeElement).toBe(before);
  });

  it("tabs through date, channel, topic and text, and Enter in the text saves", async () => {
    const h = await openApp();
    await h.user.keyboard("{Control>}k{/Control}");
    await h.findByTestId("quick-entry");
    await h.user.keyboard("{Tab}{Tab}");
    expect(document.activeElement).toBe(h.getByTestId("quick-channel"));
    await h.user.selectOptions(h.getByTestId("quick-channel"), "online");
    await h.user.keyboard("{Tab}");
    expect(document.activeElement).toBe(h.getByTestId("quick-topic"));
    await h.user.selectOptions(h.getByTestId("quick-topic"), "housing");
    await h.user.keyboard("{Tab}");
    expect(document.activeElement).toBe(h.getByTestId("quick-text"));
    await h.user.keyboard("Kysyi asunnosta{Shift>}{Enter}{/Shift}toinen rivi{Enter}");
    await waitFor(() => expect(callsOf(h, "contact_add")).toHaveLength(1));
    expect(callsOf(h, "contact_add")[0].args!.input).toMatchObject({
      channel: "online",
      topic: "housing",
      text: "Kysyi asunnosta\ntoinen rivi",
    });
  });

  it("never offers a retired channel", async () => {
    const h = await openApp();
    await h.user.keyboard("{Control>}k{/Control}");
    const sel = (await h.findByTestId("quick-channel")) as HTMLSelectElement;
    const values = Array.from(sel.options).map((o) => o.value);
    expect(values).toContain("street");
    expect(values).not.toContain("irc");
  });

  it("type-ahead chooses an existing client and saves a memo", async () => {
    const h = await openApp();
    const lists = callsOf(h, "client_list").length;
    await h.user.keyboard("{Control>}k{/Control}");
    await h.findByTestId("quick-entry");
    // The type-ahead asks for names only (client_names), never the full list with its records.
    await waitFor(() => expect(callsOf(h, "client_names")).toHaveLength(1));
    expect(callsOf(h, "client_list")).toHaveLength(lists);
    await h.user.keyboard("virta");
    await waitFor(() => expect(h.getAllByTestId("quick-option-client")[0].getAttribute("aria-selected")).toBe("true"));
    await h.user.keyboard("{Tab}{Tab}Tavattiin kirjastolla{Enter}");
    await waitFor(() => expect(callsOf(h, "memo_add_quick")).toHaveLength(1));
    const args = callsOf(h, "memo_add_quick")[0].args!;
    expect(args.text).toBe("Tavattiin kirjastolla");
    expect(args.kind).toBe("meeting");
    expect(h.backend.clients.find((c) => c.id === args.id)!.basic.last_name).toBe("Virtanen");
    expect(callsOf(h, "contact_add")).toHaveLength(0);
  });

  it("a memo for a client needs text", async () => {
    const h = await openApp();
    await h.user.keyboard("{Control>}k{/Control}");
    await h.findByTestId("quick-entry");
    await h.user.keyboard("korho{Tab}{Enter}");
    expect(await h.findByText("Kirjoita muistioon tekstiä.")).toBeTruthy();
    expect(callsOf(h, "memo_add_quick")).toHaveLength(0);
  });

  it("a name that matches nobody becomes a new young person: client_add then memo_add_quick", async () => {
    const h = await openApp();
    await h.user.keyboard("{Control>}k{/Control}");
    await h.findByTestId("quick-entry");
    await h.user.keyboard("Lindqvist Ella");
    await waitFor(() => expect(h.getByTestId("quick-option-new").getAttribute("aria-selected")).toBe("true"));
    // The names show what was typed already before Tab.
    await waitFor(() => expect((h.getByTestId("quick-last") as HTMLInputElement).value).toBe("Lindqvist"));
    await h.user.keyboard("{Tab}");
    expect((h.getByTestId("quick-first") as HTMLInputElement).value).toBe("Ella");
    expect((h.getByTestId("quick-last") as HTMLInputElement).value).toBe("Lindqvist");
    await h.user.click(h.getByTestId("quick-text"));
    await h.user.keyboard("Ensitapaaminen{Enter}");
    await waitFor(() => expect(callsOf(h, "memo_add_quick")).toHaveLength(1));
    expect(callsOf(h, "client_add")[0].args!.input).toMatchObject({ first_name: "Ella", last_name: "Lindqvist" });
    expect(h.backend.calls.findIndex((c) => c.cmd === "client_add")).toBeLessThan(
      h.backend.calls.findIndex((c) => c.cmd === "memo_add_quick"),
    );
  });

  it("Esc closes without saving and gives the focus back", async () => {
    const h = await openApp();
    const search = h.getByTestId("client-search");
    search.focus();
    await h.user.keyboard("{Control>}k{/Control}");
    await h.findByTestId("quick-entry");
    await h.user.keyboard("{Escape}");
    expect(h.queryByTestId("quick-entry")).toBeNull();
    expect(document.activeElement).toBe(search);
    expect(callsOf(h, "contact_add")).toHaveLength(0);
  });

  it("shows a bad date in words and does not save", async () => {
    const h = await openApp();
    await h.user.keyboard("{Control>}k{/Control}");
    await h.findByTestId("quick-entry");
    await h.user.keyboard("{Tab}");
    await h.user.clear(h.getByTestId("quick-date"));
    await h.user.keyboard("32.13.2026{Enter}");
    expect(await h.findByText(/Kirjoita päivämäärä muodossa p.k.vvvv/)).toBeTruthy();
    expect(callsOf(h, "contact_add")).toHaveLength(0);
  });
});
