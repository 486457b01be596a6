import { afterEach, describe, expect, it, vi } from "vitest";
import { act, waitFor } from "@testing-library/react";
import { callsOf, loginAs, renderApp } from "./helpers";
import { DEMO_PASSWORD } from "../api/mock";

afterEach(() => {
  vi.useRealTimers();
});

describe("language", () => {
  it("switches fi → sv → en from the header, and remembers the choice", async () => {
    const h = renderApp({ clients: 0 });
    await loginAs(h);
    expect(await h.findByRole("heading", { level: 1, name: "Asiakkaat" })).toBeTruthy();
    await h.user.click(h.getByTestId("lang-sv"));
    expect(h.getByRole("heading", { level: 1, name: "Klienter" })).toBeTruthy();
    expect(h.getByTestId("nav-activities").textContent).toBe("Verksamhetsanteckningar");
    expect(localStorage.getItem("polku.lang")).toBe("sv");
    expect(document.documentElement.lang).toBe("sv");
    await h.user.click(h.getByTestId("lang-en"));
    expect(h.getByRole("heading", { level: 1, name: "Clients" })).toBeTruthy();
    expect(h.getByTestId("lang-en").getAttribute("aria-pressed")).toBe("true");
  });

  it("switches in My settings too, and the login screen starts in the remembered language", async () => {
    const h = renderApp({ clients: 0 });
    await loginAs(h);
    await h.user.click(await h.findByTestId("nav-settings"));
    await h.user.selectOptions(h.getByTestId("settings-language"), "sv");
    expect(h.getByRole("heading", { level: 1, name: "Mina inställningar" })).toBeTruthy();
    h.unmount();
    const h2 = renderApp({ clients: 0, lang: undefined });
    expect(await h2.findByRole("heading", { level: 1, name: "Logga in" })).toBeTruthy();
  });

  it("shows an error from the backend in the chosen language", async () => {
    const h = renderApp({ clients: 0 });
    await h.user.click(await h.findByTestId("lang-sv"));
    await loginAs(h, "maija", "fel");
    expect((await h.findByTestId("login-error")).textContent).toContain("Fel lösenord");
  });
});

describe("lock", () => {
  it("a command rejected with session.locked brings up the lock screen with nothing personal", async () => {
    const h = renderApp({ clients: 0, extraClients: [{ first_name: "Aino", last_name: "Salainen" }] });
    await loginAs(h);
    await h.findByTestId("client-row");
    h.backend.lockNow();
    await h.user.type(h.getByTestId("client-search"), "x");
    expect(await h.findByTestId("lock-screen")).toBeTruthy();
    expect(document.body.textContent).not.toContain("Salainen");
    expect(h.queryByTestId("client-search")).toBeNull();
    await h.user.type(h.getByTestId("lock-password"), "väärä");
    await h.user.click(h.getByTestId("lock-submit"));
    expect((await h.findByTestId("lock-error")).textContent).toContain("Väärä salasana");
    await h.user.type(h.getByTestId("lock-password"), DEMO_PASSWORD);
    await h.user.click(h.getByTestId("lock-submit"));
    expect(await h.findByTestId("client-search")).toBeTruthy();
  });

  it("the lock button locks at once and unlock asks for the password", async () => {
    const h = renderApp({ clients: 0 });
    await loginAs(h);
    await h.user.click(await h.findByTestId("lock-button"));
    expect(await h.findByTestId("lock-screen")).toBeTruthy();
    expect(callsOf(h, "lock")).toHaveLength(1);
    await h.user.click(h.getByTestId("lock-submit"));
    expect(await h.findByText("Anna salasana.")).toBeTruthy();
    expect(callsOf(h, "unlock")).toHaveLength(0);
  });

  it("passes user activity on with touch at most once a minute", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true, toFake: ["Date"] });
    const h = renderApp({ clients: 0 });
    await loginAs(h);
    await h.findByTestId("client-search");
    const touches = () => callsOf(h, "touch").length;
    await h.user.keyboard("a");
    await h.user.keyboard("b");
    expect(touches()).toBe(0);
    await act(async () => {
      vi.setSystemTime(Date.now() + 61_000);
    });
    await h.user.keyboard("c");
    await h.user.keyboard("d");
    await waitFor(() => expect(touches()).toBe(1));
    await act(async () => {
      vi.setSystemTime(Date.now() + 30_000);
    });
    await h.user.keyboard("e");
    expect(touches()).toBe(1);
  });
});

describe("sync", () => {
  it("keeps the status in the header and explains refused changes in words", async () => {
    const h = renderApp({ clients: 0 });
    await loginAs(h);
    await waitFor(() => expect(h.getByTestId("sync-status").textContent).toContain("3 muutosta odottaa"));
    const s = h.getByTestId("sync-status");
    expect(s.textContent).toContain("keskus tavoitettavissa");
    expect(s.textContent).toMatch(/Synkronoitu \d\d\.\d\d/);
    await h.user.click(s);
    expect((await h.findByTestId("sync-refused")).textContent).toContain("Keskus ei hyväksynyt muutosta, koska sinulla ei ole oikeutta");
    await h.user.click(h.getByTestId("sync-now"));
    await waitFor(() => expect(callsOf(h, "sync_now")).toHaveLength(1));
    expect(await h.findByText("Synkronointi käynnistetty.")).toBeTruthy();
  });
});
