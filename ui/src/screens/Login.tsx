import { useState, type FormEvent } from "react";
import { Button, Heading, Paragraph, TextInput } from "suomifi-ui-components";
import { api } from "../api/commands";
import type { AppInfo, ErrorDto, Me } from "../api/types";
import { useI18n } from "../i18n";
import { ErrorAlert } from "../components/ui";
import { LanguageSwitch } from "../components/LanguageSwitch";

export function Login({ info, onLogin }: { info: AppInfo | null; onLogin(me: Me): void }) {
  const { t } = useI18n();
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<{ user?: string; password?: string }>({});
  const [error, setError] = useState<ErrorDto | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const v: typeof errors = {};
    if (!user.trim()) v.user = t("login.need_user");
    if (!password) v.password = t("login.need_password");
    setErrors(v);
    setError(null);
    if (v.user || v.password) return;
    setBusy(true);
    try {
      onLogin(await api.login(user.trim(), password));
    } catch (e) {
      setError(e as ErrorDto);
      setPassword("");
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="center-page">
      <header className="center-top">
        <span className="brand">{t("app.name")}</span>
        {info?.organisation && <span className="org">{info.organisation}</span>}
        <LanguageSwitch />
      </header>
      <main id="main" className="center-card">
        <Heading variant="h1">{t("login.title")}</Heading>
        <form onSubmit={submit} noValidate className="stack">
          <TextInput
            labelText={t("login.user")}
            value={user}
            onChange={(v) => setUser(String(v ?? ""))}
            autoComplete="username"
            autoFocus
            status={errors.user ? "error" : "default"}
            statusText={errors.user}
            data-testid="login-user"
            fullWidth
          />
          <TextInput
            labelText={t("login.password")}
            type="password"
            value={password}
            onChange={(v) => setPassword(String(v ?? ""))}
            autoComplete="current-password"
            status={errors.password ? "error" : "default"}
            statusText={errors.password}
            data-testid="login-password"
            fullWidth
          />
          <ErrorAlert error={error} testid="login-error" />
          <div>
            <Button type="submit" disabled={busy} data-testid="login-submit">
              {t("login.submit")}
            </Button>
          </div>
        </form>
        {info?.demo_users && info.demo_users.length > 0 && (
          <section className="demo-users" aria-labelledby="demo-title" data-testid="demo-users">
            <Heading variant="h2" id="demo-title">
              {t("login.demo_title")}
            </Heading>
            <Paragraph>{t("login.demo_intro")}</Paragraph>
            <table className="plain">
              <thead>
                <tr>
                  <th scope="col">{t("login.user")}</th>
                  <th scope="col">{t("login.password")}</th>
                  <th scope="col">
                    <span className="visually-hidden">{t("common.choose")}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {info.demo_users.map((u) => (
                  <tr key={u.login}>
                    <td>
                      {u.login} <span className="muted">({t(`role.${u.role}`)})</span>
                    </td>
                    <td>
                      <code>{u.password}</code>
                    </td>
                    <td>
                      <button
                        type="button"
                        className="link-button"
                        aria-label={t("login.demo_use", { login: u.login })}
                        onClick={() => {
                          setUser(u.login);
                          setPassword(u.password);
                        }}
                      >
                        {t("login.demo_use_short")}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        )}
      </main>
    </div>
  );
}
