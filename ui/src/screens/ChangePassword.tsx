import { useState, type FormEvent } from "react";
import { Button, Heading, Paragraph, TextInput } from "suomifi-ui-components";
import { api } from "../api/commands";
import type { ErrorDto, Me } from "../api/types";
import { useI18n } from "../i18n";
import { ErrorAlert } from "../components/ui";

/** The password change form: alone after a temporary password, or in My settings. */
export function ChangePasswordForm({ onDone, intro }: { onDone(me: Me): void; intro?: boolean }) {
  const { t } = useI18n();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [v, setV] = useState<{ current?: string; next?: string; repeat?: string }>({});
  const [error, setError] = useState<ErrorDto | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const w: typeof v = {};
    if (!current) w.current = t("change.need_current");
    if (next.length < 10) w.next = t("change.too_short");
    if (next !== repeat) w.repeat = t("change.mismatch");
    setV(w);
    setError(null);
    setDone(false);
    if (w.current || w.next || w.repeat) return;
    setBusy(true);
    try {
      const me = await api.changePassword(current, next);
      setCurrent("");
      setNext("");
      setRepeat("");
      setDone(true);
      onDone(me);
    } catch (e) {
      setError(e as ErrorDto);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} noValidate className="stack" data-testid="change-password-form">
      {intro && <Paragraph>{t("change.intro")}</Paragraph>}
      <TextInput
        labelText={t("change.current")}
        type="password"
        autoComplete="current-password"
        value={current}
        onChange={(x) => setCurrent(String(x ?? ""))}
        status={v.current ? "error" : "default"}
        statusText={v.current}
        data-testid="change-current"
        fullWidth
      />
      <TextInput
        labelText={t("change.new")}
        hintText={t("change.hint")}
        type="password"
        autoComplete="new-password"
        value={next}
        onChange={(x) => setNext(String(x ?? ""))}
        status={v.next ? "error" : "default"}
        statusText={v.next}
        data-testid="change-new"
        fullWidth
      />
      <TextInput
        labelText={t("change.repeat")}
        type="password"
        autoComplete="new-password"
        value={repeat}
        onChange={(x) => setRepeat(String(x ?? ""))}
        status={v.repeat ? "error" : "default"}
        statusText={v.repeat}
        data-testid="change-repeat"
        fullWidth
      />
      <ErrorAlert error={error} testid="change-error" />
      {done && (
        <p role="status" className="ok-text">
          {t("change.done")}
        </p>
      )}
      <div>
        <Button type="submit" disabled={busy} data-testid="change-submit">
          {t("change.submit")}
        </Button>
      </div>
    </form>
  );
}

export function MustChangePassword({ onDone }: { onDone(me: Me): void }) {
  const { t } = useI18n();
  return (
    <div className="center-page">
      <main id="main" className="center-card">
        <Heading variant="h1">{t("change.title")}</Heading>
        <ChangePasswordForm onDone={onDone} intro />
      </main>
    </div>
  );
}
