import { render } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { setInvoke } from "../api/commands";
import { createMockBackend, DEMO_PASSWORD, type MockOptions } from "../api/mock";
import { I18nProvider } from "../i18n";
import { App } from "../App";
import type { Lang } from "../api/types";

export function renderApp(opts: MockOptions & { lang?: Lang } = {}) {
  const backend = createMockBackend({ clients: 40, ...opts });
  setInvoke(backend.invoke);
  const user = userEvent.setup();
  const r = render(
    <I18nProvider initial={"lang" in opts ? opts.lang : "fi"}>
      <App />
    </I18nProvider>,
  );
  return { ...r, backend, user };
}

export async function loginAs(
  h: ReturnType<typeof renderApp>,
  login = "maija",
  password = DEMO_PASSWORD,
) {
  const u = await h.findByTestId("login-user");
  await h.user.type(u, login);
  await h.user.type(h.getByTestId("login-password"), password);
  await h.user.click(h.getByTestId("login-submit"));
}

export function callsOf(h: ReturnType<typeof renderApp>, cmd: string) {
  return h.backend.calls.filter((c) => c.cmd === cmd);
}
