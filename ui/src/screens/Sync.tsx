import { useCallback, useEffect, useState } from "react";
import { Button, Heading, Paragraph } from "suomifi-ui-components";
import { api } from "../api/commands";
import type { ErrorDto, SyncDocNote, SyncStatus } from "../api/types";
import { useI18n } from "../i18n";
import { useApp } from "../context";
import { fmtInstant, fmtWhen } from "../format";
import { ErrorAlert } from "../components/ui";

/** Polls `sync_status` (never blocks anything: it is its own timer). */
export function useSyncStatus(intervalMs: number) {
  const [status, setStatus] = useState<SyncStatus | null>(null);
  const refresh = useCallback(async () => {
    try {
      setStatus(await api.syncStatus());
    } catch {
      /* a locked session is handled by the app; otherwise try again next time */
    }
  }, []);
  useEffect(() => {
    let alive = true;
    let id = 0;
    const tick = async () => {
      await refresh();
      if (alive) id = window.setTimeout(tick, status?.running ? Math.min(intervalMs, 2000) : intervalMs);
    };
    tick();
    return () => {
      alive = false;
      window.clearTimeout(id);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [refresh, intervalMs, status?.running]);
  return { status, setStatus, refresh };
}

function reach(t: (k: string) => string, s: SyncStatus) {
  if (s.hub_reachable === true) return { text: t("sync.reachable"), cls: "ok" };
  if (s.hub_reachable === false) return { text: t("sync.unreachable"), cls: "warn" };
  return { text: t("sync.unknown"), cls: "muted" };
}

/** The header's sync status: last sync, waiting changes, hub reachable. */
export function SyncIndicator() {
  const { t } = useI18n();
  const { go } = useApp();
  const { status } = useSyncStatus(10_000);
  if (!status) return <span className="sync-indicator" data-testid="sync-status" />;
  const r = reach(t, status);
  return (
    <a
      href="#sync"
      className={`sync-indicator ${r.cls}`}
      data-testid="sync-status"
      onClick={(e) => {
        e.preventDefault();
        go({ view: "sync" });
      }}
    >
      <span className="visually-hidden">{t("sync.label")}: </span>
      {!status.enrolled ? (
        <span>{t("sync.not_enrolled")}</span>
      ) : (
        <>
          <span className={`dot ${r.cls}`} aria-hidden="true" />
          <span data-testid="sync-last">
            {status.running
              ? t("sync.running")
              : status.last_sync
                ? t("sync.last", { time: fmtWhen(status.last_sync) })
                : t("sync.never")}
          </span>
          <span className="sep" aria-hidden="true">
            ·
          </span>
          <span data-testid="sync-waiting">{t("sync.waiting", { n: status.waiting_changes })}</span>
          <span className="sep" aria-hidden="true">
            ·
          </span>
          <span data-testid="sync-reachable">{r.text}</span>
        </>
      )}
    </a>
  );
}

function docName(t: (k: string) => string, doc: string) {
  const k = `sync.doc.${doc}`;
  const v = t(k);
  return v === k ? t("sync.doc.other") : v;
}

function DocNotes({ notes, testid }: { notes: SyncDocNote[]; testid: string }) {
  const { t, err } = useI18n();
  return (
    <ul className="doc-notes" data-testid={testid}>
      {notes.map((n, i) => (
        <li key={`${n.doc}-${n.at}-${i}`}>
          <strong>{t("sync.doc_at", { doc: docName(t, n.doc), time: fmtInstant(n.at) })}</strong>
          <div>{err({ code: n.code, params: {} })}</div>
        </li>
      ))}
    </ul>
  );
}

/** The sync panel: the status in words, sync now, refused and quarantined documents explained. */
export function SyncPanel() {
  const { t } = useI18n();
  const { notify } = useApp();
  const { status, setStatus } = useSyncStatus(2_000);
  const [error, setError] = useState<ErrorDto | null>(null);

  async function now() {
    setError(null);
    try {
      setStatus(await api.syncNow());
      notify(t("sync.started"));
    } catch (e) {
      setError(e as ErrorDto);
    }
  }

  return (
    <section aria-labelledby="sync-title" className="stack">
      <Heading variant="h1" id="sync-title">
        {t("sync.title")}
      </Heading>
      <Paragraph>{t("sync.intro")}</Paragraph>
      {status && (
        <dl className="facts" data-testid="sync-panel">
          <dt>{t("sync.fact.state")}</dt>
          <dd>
            {!status.enrolled
              ? t("sync.not_enrolled")
              : status.running
                ? t("sync.running")
                : status.last_sync
                  ? t("sync.last", { time: fmtInstant(status.last_sync) })
                  : t("sync.never")}
          </dd>
          <dt>{t("sync.fact.waiting")}</dt>
          <dd>{status.waiting_changes}</dd>
          <dt>{t("sync.fact.hub")}</dt>
          <dd>{reach(t, status).text}</dd>
        </dl>
      )}
      <div>
        <Button onClick={now} disabled={!status?.enrolled || status?.running} data-testid="sync-now">
          {status?.running ? t("sync.running") : t("sync.now")}
        </Button>
      </div>
      <ErrorAlert error={error} />
      {status?.last_error && (
        <div>
          <Heading variant="h2">{t("sync.last_error")}</Heading>
          <ErrorAlert error={status.last_error} testid="sync-last-error" />
        </div>
      )}
      <Heading variant="h2">{t("sync.refused")}</Heading>
      {status && status.refused.length === 0 ? (
        <Paragraph>{t("sync.refused_none")}</Paragraph>
      ) : (
        <DocNotes notes={status?.refused ?? []} testid="sync-refused" />
      )}
      <Heading variant="h2">{t("sync.quarantined")}</Heading>
      {status && status.quarantined.length === 0 ? (
        <Paragraph>{t("sync.quarantined_none")}</Paragraph>
      ) : (
        <DocNotes notes={status?.quarantined ?? []} testid="sync-quarantined" />
      )}
    </section>
  );
}
