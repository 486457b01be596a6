// The client card: a header with the name, the missing mandatory data, and
// eight tabs (Alt+1…8). A part hidden by rights says so, never shown as empty.
import { useCallback, useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { Button, Heading, TextInput } from "suomifi-ui-components";
import { api } from "../api/commands";
import type { BasicEdit, ClientView, Conflict, ErrorDto, Missing } from "../api/types";
import { useI18n } from "../i18n";
import { useApp } from "../context";
import { fmtDate, personName, personOf, todayIso } from "../format";
import { CodeSelect, DateField, ErrorAlert, Form, Hidden, readDate } from "../components/ui";
import { BackgroundTab, PeriodsTab, SituationTab } from "./CardRecord";
import { AttachmentsTab, HistoryTab, MemosTab, ReferralsTab } from "./CardOther";

export const TABS = [
  { key: "tab.basic", id: "basic" },
  { key: "tab.background", id: "background" },
  { key: "tab.situation", id: "situation" },
  { key: "tab.periods", id: "periods" },
  { key: "tab.referrals", id: "referrals" },
  { key: "tab.memos", id: "memos" },
  { key: "tab.attachments", id: "attachments" },
  { key: "tab.history", id: "history" },
] as const;

/** Runs a command for a form: busy while it runs, the error in words if it fails. */
export function useAction() {
  const { notify } = useApp();
  const { t } = useI18n();
  const [error, setError] = useState<ErrorDto | null>(null);
  const [busy, setBusy] = useState(false);
  const run = useCallback(
    async <R,>(fn: () => Promise<R>, ok = "common.saved"): Promise<R | undefined> => {
      setBusy(true);
      setError(null);
      try {
        const r = await fn();
        if (ok) notify(t(ok));
        return r;
      } catch (e) {
        setError(e as ErrorDto);
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    [notify, t],
  );
  return { error, setError, busy, run };
}

export interface TabProps {
  view: ClientView;
  setView(v: ClientView): void;
}

export function missingText(t: (k: string, p?: Record<string, string>) => string, m: Missing) {
  const k = `missing.${m.what}`;
  const v = t(k);
  return v === k ? t("missing.other", { what: m.what }) : v;
}

export function ClientCard({ id, initialTab }: { id: string; initialTab: number }) {
  const { t } = useI18n();
  const { go } = useApp();
  const [view, setView] = useState<ClientView | null>(null);
  const [error, setError] = useState<ErrorDto | null>(null);
  const [tab, setTab] = useState(initialTab);
  const tabRefs = useRef<(HTMLButtonElement | null)[]>([]);
  const base = useId();

  useEffect(() => {
    let stale = false;
    api
      .clientView(id)
      .then((v) => !stale && setView(v))
      .catch((e) => !stale && setError(e as ErrorDto));
    return () => {
      stale = true;
    };
  }, [id]);

  const select = useCallback((i: number, focus = true) => {
    setTab(i);
    if (focus) window.setTimeout(() => tabRefs.current[i]?.focus(), 0);
  }, []);

  // Alt+1…8 switches tabs from anywhere on the card.
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.altKey && !e.ctrlKey && !e.metaKey && /^Digit[1-8]$/.test(e.code)) {
        e.preventDefault();
        select(Number(e.code.slice(5)) - 1);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [select]);

  function onTabKey(e: KeyboardEvent) {
    if (e.key === "ArrowRight") select((tab + 1) % TABS.length);
    else if (e.key === "ArrowLeft") select((tab + TABS.length - 1) % TABS.length);
    else if (e.key === "Home") select(0);
    else if (e.key === "End") select(TABS.length - 1);
    else return;
    e.preventDefault();
  }

  const back = (
    <button type="button" className="link-button" onClick={() => go({ view: "clients" })} data-testid="card-back">
      ← {t("card.back")}
    </button>
  );

  if (error)
    return (
      <section>
        {back}
        <ErrorAlert error={error} testid="card-error" />
      </section>
    );
  if (!view) return <p role="status">{t("common.loading")}</p>;

  const b = view.client.basic;
  const missing = view.missing ?? [];
  const hiddenRecord = view.record === "hidden_by_rights";
  const hiddenMemos = view.memos === "hidden_by_rights";

  return (
    <section aria-labelledby="card-title" data-testid="client-card">
      {back}
      <div className="card-head">
        <Heading variant="h1" id="card-title" data-testid="card-name">
          {personName(b.first_name, b.last_name)}
        </Heading>
        <span className="card-meta">{fmtDate(b.birth_date)}</span>
      </div>
      {missing.length > 0 && (
        <div className="missing-box" data-testid="card-missing" role="region" aria-label={t("card.missing")}>
          <strong>{t("card.missing")}</strong>
          <ul>
            {missing.map((m, i) => (
              <li key={`${m.what}-${m.period ?? ""}-${i}`}>{missingText(t, m)}</li>
            ))}
          </ul>
        </div>
      )}
      <div role="tablist" aria-label={t("card.tabs")} className="tablist" onKeyDown={onTabKey}>
        {TABS.map((x, i) => (
          <button
            key={x.id}
            ref={(el) => {
              tabRefs.current[i] = el;
            }}
            role="tab"
            type="button"
            id={`${base}-tab-${i}`}
            aria-selected={tab === i}
            aria-controls={`${base}-panel`}
            tabIndex={tab === i ? 0 : -1}
            className="tab"
            onClick={() => select(i, false)}
            data-testid={`tab-${x.id}`}
            aria-keyshortcuts={`Alt+${i + 1}`}
          >
            {t(x.key)}
          </button>
        ))}
        <span className="tab-hint muted" aria-hidden="true">
          {t("card.tab_hint")}
        </span>
      </div>
      <div
        role="tabpanel"
        id={`${base}-panel`}
        aria-labelledby={`${base}-tab-${tab}`}
        className="tabpanel"
        tabIndex={0}
        data-testid={`panel-${TABS[tab].id}`}
      >
        {tab === 0 && <BasicTab view={view} setView={setView} />}
        {tab === 1 && (hiddenRecord ? <Hidden /> : <BackgroundTab view={view} setView={setView} />)}
        {tab === 2 && (hiddenRecord ? <Hidden /> : <SituationTab view={view} setView={setView} />)}
        {tab === 3 && (hiddenRecord ? <Hidden /> : <PeriodsTab view={view} setView={setView} />)}
        {tab === 4 && (hiddenRecord ? <Hidden /> : <ReferralsTab view={view} setView={setView} />)}
        {tab === 5 && (hiddenMemos ? <Hidden /> : <MemosTab view={view} setView={setView} />)}
        {tab === 6 && (hiddenRecord ? <Hidden /> : <AttachmentsTab view={view} setView={setView} />)}
        {tab === 7 && <HistoryTab view={view} setView={setView} />}
      </div>
    </section>
  );
}

function ConflictBox({ c, onPick, busy }: { c: Conflict; onPick(value: string): void; busy: boolean }) {
  const { t } = useI18n();
  const name = t(c.field.replace(/^basic\./, "basic."));
  return (
    <div className="conflict" data-testid="conflict" role="group" aria-label={t("conflict.title", { field: name })}>
      <strong>{t("conflict.title", { field: name })}</strong>
      <div>{t("conflict.intro")}</div>
      <ul>
        {c.values.map((v, i) => (
          <li key={i}>
            <div className="memo-text" data-testid="conflict-value">
              {v.value}
            </div>
            <div className="muted">{v.by ? t("conflict.by", { by: v.by }) : t("conflict.by_unknown")}</div>
            <Button variant="secondary" className="small-button" disabled={busy} onClick={() => onPick(v.value)} data-testid="conflict-pick">
              {t("conflict.pick")}
            </Button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function BasicTab({ view, setView }: TabProps) {
  const { t } = useI18n();
  const { me } = useApp();
  const b = view.client.basic;
  const [first, setFirst] = useState(b.first_name);
  const [last, setLast] = useState(b.last_name);
  const [birth, setBirth] = useState(fmtDate(b.birth_date));
  const [gender, setGender] = useState(b.gender ?? "");
  const [tongue, setTongue] = useState(b.mother_tongue ?? "");
  const [phone, setPhone] = useState(b.phone);
  const [email, setEmail] = useState(b.email);
  const [street, setStreet] = useState(b.address.street);
  const [postal, setPostal] = useState(b.address.postal_code);
  const [city, setCity] = useState(b.address.city);
  const [v, setV] = useState<{ name?: string; birth?: string }>({});
  const { error, busy, run } = useAction();
  const missing = new Set((view.missing ?? []).map((m) => m.what));
  const conflicts = view.conflicts ?? [];
  const mark = (what: string) => (missing.has(what) ? ` (${t("card.missing_mark")})` : "");
  const unitName = me.units.find((u) => u.id === view.client.unit)?.name ?? view.client.unit ?? "";

  // After a save or a picked conflict the form shows what the backend now holds.
  useEffect(() => {
    setFirst(b.first_name);
    setLast(b.last_name);
    setBirth(fmtDate(b.birth_date));
    setGender(b.gender ?? "");
    setTongue(b.mother_tongue ?? "");
    setPhone(b.phone);
    setEmail(b.email);
    setStreet(b.address.street);
    setPostal(b.address.postal_code);
    setCity(b.address.city);
  }, [b]);

  async function save() {
    const w: typeof v = {};
    if (!first.trim() && !last.trim()) w.name = t("add.need_name");
    const d = readDate(birth, t, false);
    if (!d.ok) w.birth = d.error;
    else if (d.value && d.value > todayIso()) w.birth = t("add.future_date");
    setV(w);
    if (w.name || w.birth || !d.ok) return;
    const edit: BasicEdit = {};
    if (first !== b.first_name) edit.first_name = first;
    if (last !== b.last_name) edit.last_name = last;
    if (d.value !== b.birth_date) edit.birth_date = d.value;
    if ((gender || null) !== b.gender) edit.gender = gender || null;
    if ((tongue || null) !== b.mother_tongue) edit.mother_tongue = tongue || null;
    if (phone !== b.phone) edit.phone = phone;
    if (email !== b.email) edit.email = email;
    if (street !== b.address.street || postal !== b.address.postal_code || city !== b.address.city)
      edit.address = { street, postal_code: postal, city };
    if (Object.keys(edit).length === 0) return;
    const nv = await run(() => api.clientEditBasic(view.client.id, edit));
    if (nv) setView(nv);
  }

  async function pick(c: Conflict, value: string) {
    const nv = await run(() => api.clientResolveConflict(view.client.id, c.field, value));
    if (nv) setView(nv);
  }

  return (
    <div>
      <Heading variant="h2">{t("tab.basic")}</Heading>
      {conflicts.map((c) => (
        <ConflictBox key={c.field} c={c} busy={busy} onPick={(val) => pick(c, val)} />
      ))}
      <Form onSubmit={save} testid="basic-form" label={t("tab.basic")}>
        <div className="two-col">
          <TextInput
            labelText={t("basic.first_name")}
            value={first}
            onChange={(x) => setFirst(String(x ?? ""))}
            status={v.name ? "error" : "default"}
            statusText={v.name}
            data-testid="basic-first"
            fullWidth
          />
          <TextInput
            labelText={t("basic.last_name")}
            value={last}
            onChange={(x) => setLast(String(x ?? ""))}
            status={v.name ? "error" : "default"}
            data-testid="basic-last"
            fullWidth
          />
        </div>
        <div className="three-col">
          <DateField label={t("basic.birth_date") + mark("basic.birth_date")} value={birth} onChange={setBirth} error={v.birth} testid="basic-birth" />
          <CodeSelect list="gender" label={t("basic.gender") + mark("basic.gender")} value={gender} onChange={setGender} data-testid="basic-gender" />
          <CodeSelect
            list="mother_tongue"
            label={t("basic.mother_tongue") + mark("basic.mother_tongue")}
            value={tongue}
            onChange={setTongue}
            data-testid="basic-tongue"
          />
        </div>
        <div className="two-col">
          <TextInput labelText={t("basic.phone")} type="tel" value={phone} onChange={(x) => setPhone(String(x ?? ""))} data-testid="basic-phone" fullWidth />
          <TextInput labelText={t("basic.email")} type="email" value={email} onChange={(x) => setEmail(String(x ?? ""))} data-testid="basic-email" fullWidth />
        </div>
        <div className="three-col">
          <TextInput labelText={t("basic.street")} value={street} onChange={(x) => setStreet(String(x ?? ""))} fullWidth />
          <TextInput labelText={t("basic.postal_code")} value={postal} onChange={(x) => setPostal(String(x ?? ""))} fullWidth />
          <TextInput labelText={t("basic.city")} value={city} onChange={(x) => setCity(String(x ?? ""))} fullWidth />
        </div>
        <dl className="facts">
          <dt>{t("card.unit")}</dt>
          <dd>{unitName}</dd>
          <dt>{t("card.responsible")}</dt>
          <dd>{view.client.responsible.map((u) => personOf(view, u)).join(", ")}</dd>
          {b.henkilotunnus && (
            <>
              <dt>{t("basic.henkilotunnus")}</dt>
              <dd>{b.henkilotunnus}</dd>
            </>
          )}
        </dl>
        <ErrorAlert error={error} testid="basic-error" />
        <div className="row">
          <Button type="submit" disabled={busy} data-testid="basic-save">
            {t("basic.save")}
          </Button>
          <span className="muted">{t("common.save_shortcut")}</span>
        </div>
      </Form>
    </div>
  );
}
