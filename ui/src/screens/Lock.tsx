import { useState, type FormEvent } from "react";
import { Button, Heading, Paragraph, TextInput } from "suomifi-ui-components";
import { api } from "../api/commands";
import type { ErrorDto, Me } from "../api/types";
import { useI18n } from "../i18n";
import { ErrorAlert } from "../components/ui";
import { LanguageSwitch } from "../components/LanguageSwitch";

/** The lock screen: nothing personal, only the password to unlock. */
export function Lock({ login, onUnlock, onLogout }: { login: string | null; onUnlock(me: Me): void; onLogout(): void }) {
  const { t } = useI18n();
  const [password, setPassword] = useState("");
  const [v, setV] = useState<string | undefined>();
  const [error, setError] = useState<ErrorDto | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (!password) {
      setV(t("login.need_password"));
      return;
    }
    setV(undefined);
    setBusy(true);
    try {
      onUnlock(await api.unlock(password));
    } catch (e) {
      setError(e as ErrorDto);
      setPassword("");
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="center-page locked" data-testid="lock-screen">
      <header className="center-top">
        <span className="brand">{t("app.name")}</span>
        <LanguageSwitch />
      </header>
      <main id="main" className="center-card">
        <Heading variant="h1">{t("lock.title")}</Heading>
        <Paragraph>{t("lock.intro")}</Paragraph>
        {login && <Paragraph className="muted">{t("lock.user", { login })}</Paragraph>}
        <form onSubmit={submit} noValidate className="stack">
          <TextInput
            labelText={t("lock.password")}
            type="password"
            autoComplete="current-password"
            autoFocus
            value={password}
            onChange={(x) => setPassword(String(x ?? ""))}
            status={v ? "error" : "default"}
            statusText={v}
            data-testid="lock-password"
            fullWidth
          />
          <ErrorAlert error={error} testid="lock-error" />
          <div className="row">
            <Button type="submit" disabled={busy} data-testid="lock-submit">
              {t("lock.submit")}
            </Button>
            <Button type="button" variant="secondary" onClick={onLogout} data-testid="lock-logout">
              {t("lock.logout")}
            </Button>
          </div>
        </form>
      </main>
    </div>
  );
}
