import { describe, expect, it } from "vitest";
import { waitFor } from "@testing-library/react";
import { callsOf, loginAs, renderApp } from "./helpers";
import { DEMO_PASSWORD } from "../api/mock";

describe("login", () => {
  it("asks for both fields before calling the backend", async () => {
    const h = renderApp();
    await h.user.click(await h.findByTestId("login-submit"));
    expect(await h.findByText("Anna käyttäjätunnus.")).toBeTruthy();
    expect(h.getByText("Anna salasana.")).toBeTruthy();
    expect(callsOf(h, "login")).toHaveLength(0);
  });

  it("says a wrong password in words and clears the password", async () => {
    const h = renderApp();
    await loginAs(h, "maija", "väärä-salasana");
    const alert = await h.findByTestId("login-error");
    expect(alert.textContent).toContain("Väärä salasana");
    expect((h.getByTestId("login-password") as HTMLInputElement).value).toBe("");
  });

  it("says a deactivated user in words", async () => {
    const h = renderApp();
    await loginAs(h, "entinen");
    expect((await h.findByTestId("login-error")).textContent).toContain("poistettu käytöstä");
  });

  it("says an expired offline lease in words", async () => {
    const h = renderApp({ leaseExpired: true });
    await loginAs(h, "maija");
    expect((await h.findByTestId("login-error")).textContent).toContain("ilman yhteyttä käyttämisen aika on päättynyt");
  });

  it("says too many attempts with the wait time", async () => {
    const h = renderApp();
    for (let i = 0; i < 6; i++) await loginAs(h, "maija", `väärä${i}`).then(() => h.findByTestId("login-error"));
    await waitFor(() => expect(h.getByTestId("login-error").textContent).toContain("Odota 30 sekuntia"));
  });

  it("shows the demo users on the demo store only", async () => {
    const h = renderApp();
    const box = await h.findByTestId("demo-users");
    expect(box.textContent).toContain("maija");
    expect(box.textContent).toContain(DEMO_PASSWORD);
    h.unmount();
    const h2 = renderApp({ demoUsers: false });
    await h2.findByTestId("login-user");
    expect(h2.queryByTestId("demo-users")).toBeNull();
  });

  it("opens the client list after a good password", async () => {
    const h = renderApp();
    await loginAs(h);
    expect(await h.findByRole("heading", { level: 1, name: "Asiakkaat" })).toBeTruthy();
    expect(h.getByTestId("header-user").textContent).toContain("maija");
  });

  it("shows only the password change when the password is temporary, and checks it", async () => {
    const h = renderApp();
    await loginAs(h, "uusi", "vaihda-heti-1");
    expect(await h.findByTestId("change-password-form")).toBeTruthy();
    expect(h.queryByTestId("client-search")).toBeNull();
    await h.user.type(h.getByTestId("change-current"), "vaihda-heti-1");
    await h.user.type(h.getByTestId("change-new"), "lyhyt");
    await h.user.type(h.getByTestId("change-repeat"), "toinen");
    await h.user.click(h.getByTestId("change-submit"));
    expect(await h.findByText(/Uusi salasana on liian lyhyt/)).toBeTruthy();
    expect(h.getByText(/Salasanat eivät ole samat/)).toBeTruthy();
    expect(callsOf(h, "change_password")).toHaveLength(0);
    await h.user.clear(h.getByTestId("change-new"));
    await h.user.clear(h.getByTestId("change-repeat"));
    await h.user.type(h.getByTestId("change-new"), "pitkä oma lause 42");
    await h.user.type(h.getByTestId("change-repeat"), "pitkä oma lause 42");
    await h.user.click(h.getByTestId("change-submit"));
    expect(await h.findByTestId("client-search")).toBeTruthy();
    expect(callsOf(h, "change_password")[0].args).toEqual({ current: "vaihda-heti-1", new: "pitkä oma lause 42" });
  });
});
