// The card's other tabs: referrals, consents and disclosures; memos;
// attachments; the history of changes (from the audit log).
import { useEffect, useId, useRef, useState } from "react";
import { Button, Checkbox, Heading, Paragraph, TextInput } from "suomifi-ui-components";
import { api } from "../api/commands";
import type { AttachmentRow, ConsentTopic, ErrorDto, HistoryRow, Memo } from "../api/types";
import { useI18n } from "../i18n";
import { fmtDate, fmtInstant, fmtSize, personOf, todayIso } from "../format";
import { CodeSelect, DateField, ErrorAlert, Form, readDate, Select } from "../components/ui";
import { useAction, type TabProps } from "./ClientCard";
import { TextArea } from "./CardRecord";

export function ReferralsTab({ view, setView }: TabProps) {
  const { t, label } = useI18n();
  const c = view.client;
  const refs = Object.values(c.referrals).sort((a, b) => b.received.localeCompare(a.received));
  const consents = Object.values(c.consents).sort((a, b) => b.given.localeCompare(a.given));
  const discl = Object.values(c.disclosures).sort((a, b) => b.date.localeCompare(a.date));

  // referral form
  const [source, setSource] = useState("");
  const [received, setReceived] = useState(fmtDate(todayIso()));
  const [followUp, setFollowUp] = useState("");
  const [rv, setRv] = useState<{ source?: string; received?: string }>({});
  const ra = useAction();
  async function addReferral() {
    const w: typeof rv = {};
    if (!source) w.source = t("referral.need_source");
    const d = readDate(received, t, true);
    if (!d.ok) w.received = d.error;
    setRv(w);
    if (w.source || !d.ok) return;
    const nv = await ra.run(() => api.referralAdd(c.id, { source, received: d.value!, follow_up: followUp, follow_up_decided: null }));
    if (nv) {
      setView(nv);
      setSource("");
      setFollowUp("");
    }
  }

  // consent form
  const [topic, setTopic] = useState<ConsentTopic>("follow_up");
  const [given, setGiven] = useState(fmtDate(todayIso()));
  const [cv, setCv] = useState<string | undefined>();
  const ca = useAction();
  async function addConsent() {
    const d = readDate(given, t, true);
    setCv(d.ok ? undefined : d.error);
    if (!d.ok) return;
    const nv = await ca.run(() => api.consentAdd(c.id, topic, d.value));
    if (nv) setView(nv);
  }
  async function withdraw(id: string) {
    const nv = await ca.run(() => api.consentWithdraw(c.id, id));
    if (nv) setView(nv);
  }

  // disclosure form
  const [what, setWhat] = useState("");
  const [recipient, setRecipient] = useState("");
  const [ddate, setDdate] = useState(fmtDate(todayIso()));
  const [basis, setBasis] = useState("");
  const [dv, setDv] = useState<{ all?: string; date?: string }>({});
  const da = useAction();
  async function addDisclosure() {
    const w: typeof dv = {};
    const d = readDate(ddate, t, true);
    if (!d.ok) w.date = d.error;
    if (!what.trim() || !recipient.trim() || !basis.trim()) w.all = t("disclosure.incomplete");
    setDv(w);
    if (w.all || !d.ok) return;
    const nv = await da.run(() => api.disclosureAdd(c.id, { what, recipient, date: d.value!, basis }));
    if (nv) {
      setView(nv);
      setWhat("");
      setRecipient("");
      setBasis("");
    }
  }

  return (
    <div>
      <Heading variant="h2">{t("referral.title")}</Heading>
      {refs.length === 0 ? (
        <Paragraph>{t("common.empty")}</Paragraph>
      ) : (
        <table className="plain" data-testid="referral-list">
          <thead>
            <tr>
              <th scope="col">{t("referral.received")}</th>
              <th scope="col">{t("referral.source")}</th>
              <th scope="col">{t("referral.follow_up")}</th>
            </tr>
          </thead>
          <tbody>
            {refs.map((r) => (
              <tr key={r.id}>
                <td>{fmtDate(r.received)}</td>
                <td>{label("referral_source", r.source)}</td>
                <td className="memo-text">{r.follow_up}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="subform">
        <Form onSubmit={addReferral} testid="referral-form" label={t("referral.add")}>
          <div className="two-col">
            <CodeSelect list="referral_source" label={t("referral.source")} value={source} onChange={setSource} error={rv.source} data-testid="referral-source" />
            <DateField label={t("referral.received")} value={received} onChange={setReceived} error={rv.received} testid="referral-received" />
          </div>
          <TextArea label={t("referral.follow_up")} value={followUp} onChange={setFollowUp} rows={2} />
          <ErrorAlert error={ra.error} />
          <div>
            <Button type="submit" disabled={ra.busy} data-testid="referral-add">
              {t("referral.add")}
            </Button>
          </div>
        </Form>
      </div>

      <Heading variant="h2" className="section-gap">
        {t("consent.title")}
      </Heading>
      {consents.length === 0 ? (
        <Paragraph>{t("common.empty")}</Paragraph>
      ) : (
        <table className="plain" data-testid="consent-list">
          <thead>
            <tr>
              <th scope="col">{t("consent.topic")}</th>
              <th scope="col">{t("consent.given")}</th>
              <th scope="col">{t("consent.withdrawn")}</th>
              <th scope="col">
                <span className="visually-hidden">{t("attachments.actions")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {consents.map((k) => (
              <tr key={k.id}>
                <td>
                  {t(`consent.topic.${k.topic}`)}
                  {k.note ? ` — ${k.note}` : ""}
                </td>
                <td>{fmtDate(k.given)}</td>
                <td>{k.withdrawn ? fmtDate(k.withdrawn) : <span className="ok-text">{t("consent.in_force")}</span>}</td>
                <td>
                  {!k.withdrawn && (
                    <Button variant="secondary" className="small-button" disabled={ca.busy} onClick={() => withdraw(k.id)} data-testid="consent-withdraw">
                      {t("consent.withdraw")}
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="subform">
        <Form onSubmit={addConsent} testid="consent-form" className="inline-form" label={t("consent.add")}>
          <Select label={t("consent.topic")} value={topic} onChange={(x) => setTopic(x as ConsentTopic)} data-testid="consent-topic">
            <option value="follow_up">{t("consent.topic.follow_up")}</option>
            <option value="disclosure">{t("consent.topic.disclosure")}</option>
            <option value="other">{t("consent.topic.other")}</option>
          </Select>
          <DateField label={t("consent.given")} value={given} onChange={setGiven} error={cv} testid="consent-given" />
          <Button type="submit" disabled={ca.busy} data-testid="consent-add">
            {t("consent.add")}
          </Button>
        </Form>
        <ErrorAlert error={ca.error} />
      </div>

      <Heading variant="h2" className="section-gap">
        {t("disclosure.title")}
      </Heading>
      {discl.length === 0 ? (
        <Paragraph>{t("common.empty")}</Paragraph>
      ) : (
        <table className="plain" data-testid="disclosure-list">
          <thead>
            <tr>
              <th scope="col">{t("disclosure.date")}</th>
              <th scope="col">{t("disclosure.what")}</th>
              <th scope="col">{t("disclosure.recipient")}</th>
              <th scope="col">{t("disclosure.basis")}</th>
            </tr>
          </thead>
          <tbody>
            {discl.map((d) => (
              <tr key={d.id}>
                <td>{fmtDate(d.date)}</td>
                <td>{d.what}</td>
                <td>{d.recipient}</td>
                <td>{d.basis}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="subform">
        <Form onSubmit={addDisclosure} testid="disclosure-form" label={t("disclosure.add")}>
          <div className="two-col">
            <TextInput labelText={t("disclosure.what")} value={what} onChange={(x) => setWhat(String(x ?? ""))} fullWidth data-testid="disclosure-what" />
            <TextInput labelText={t("disclosure.recipient")} value={recipient} onChange={(x) => setRecipient(String(x ?? ""))} fullWidth data-testid="disclosure-recipient" />
            <DateField label={t("disclosure.date")} value={ddate} onChange={setDdate} error={dv.date} testid="disclosure-date" />
            <TextInput labelText={t("disclosure.basis")} value={basis} onChange={(x) => setBasis(String(x ?? ""))} fullWidth data-testid="disclosure-basis" />
          </div>
          <ErrorAlert error={dv.all ?? da.error} />
          <div>
            <Button type="submit" disabled={da.busy} data-testid="disclosure-add">
              {t("disclosure.add")}
            </Button>
          </div>
        </Form>
      </div>
    </div>
  );
}

function MemoItem({ memo, view, setView }: TabProps & { memo: Memo }) {
  const { t, label } = useI18n();
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(memo.text);
  const [v, setV] = useState<string | undefined>();
  const { error, busy, run } = useAction();
  const id = view.client.id;

  async function save() {
    if (!text.trim()) {
      setV(t("memos.need_text"));
      return;
    }
    setV(undefined);
    const nv = await run(() => api.memoEdit(id, memo.id, text));
    if (nv) {
      setView(nv);
      setEditing(false);
    }
  }
  async function del() {
    const nv = await run(() => api.memoDelete(id, memo.id));
    if (nv) setView(nv);
  }
  async function restore() {
    const nv = await run(() => api.memoRestore(id, memo.id));
    if (nv) setView(nv);
  }

  return (
    <article className={memo.deleted ? "item deleted" : "item"} data-testid="memo">
      <div className="item-head">
        <span className="muted">
          {t("memos.meta", { date: fmtDate(memo.date), kind: label("memo_type", memo.kind), author: personOf(view, memo.author) })}
          {memo.deleted && ` · ${t("memos.deleted")}`}
        </span>
        <div className="row">
          {!memo.deleted && !editing && (
            <>
              <Button variant="secondaryNoBorder" className="small-button" onClick={() => setEditing(true)} data-testid="memo-edit">
                {t("common.edit")}
              </Button>
              <Button variant="secondaryNoBorder" className="small-button" disabled={busy} onClick={del} data-testid="memo-delete">
                {t("common.delete")}
              </Button>
            </>
          )}
          {memo.deleted && (
            <Button variant="secondaryNoBorder" className="small-button" disabled={busy} onClick={restore} data-testid="memo-restore">
              {t("common.restore")}
            </Button>
          )}
        </div>
      </div>
      {editing ? (
        <Form onSubmit={save} testid="memo-edit-form" label={t("common.edit")}>
          <TextArea label={t("memos.text")} value={text} onChange={setText} error={v} testid="memo-edit-text" rows={4} />
          <div className="row">
            <Button type="submit" disabled={busy} data-testid="memo-edit-save">
              {t("common.save")}
            </Button>
            <Button
              type="button"
              variant="secondary"
              onClick={() => {
                setEditing(false);
                setText(memo.text);
              }}
            >
              {t("common.cancel")}
            </Button>
          </div>
        </Form>
      ) : (
        <p className="memo-text" data-testid="memo-text">
          {memo.text}
        </p>
      )}
      <ErrorAlert error={error} />
    </article>
  );
}

export function MemosTab({ view, setView }: TabProps) {
  const { t } = useI18n();
  const [showDeleted, setShowDeleted] = useState(false);
  const memos = Object.values(view.client.memos)
    .filter((m) => showDeleted || !m.deleted)
    .sort((a, b) => b.date.localeCompare(a.date));
  const [text, setText] = useState("");
  const [kind, setKind] = useState("meeting");
  const [v, setV] = useState<string | undefined>();
  const { error, busy, run } = useAction();

  async function add() {
    if (!text.trim()) {
      setV(t("memos.need_text"));
      return;
    }
    setV(undefined);
    const nv = await run(() => api.memoAdd(view.client.id, text, kind));
    if (nv) {
      setView(nv);
      setText("");
    }
  }

  return (
    <div>
      <Heading variant="h2">{t("memos.title")}</Heading>
      <div className="subform">
        <Heading variant="h3">{t("memos.add")}</Heading>
        <Form onSubmit={add} testid="memo-form" label={t("memos.add")}>
          <CodeSelect list="memo_type" allowEmpty={false} label={t("memos.kind")} value={kind} onChange={setKind} data-testid="memo-kind" />
          <TextArea label={t("memos.text")} value={text} onChange={setText} error={v} testid="memo-text-input" rows={4} />
          <ErrorAlert error={error} />
          <div className="row">
            <Button type="submit" disabled={busy} data-testid="memo-add">
              {t("memos.save")}
            </Button>
            <span className="muted">{t("common.save_shortcut")}</span>
          </div>
        </Form>
      </div>
      <div className="row list-tools">
        <Checkbox checked={showDeleted} onClick={({ checkboxState }) => setShowDeleted(checkboxState)} data-testid="memo-show-deleted">
          {t("memos.show_deleted")}
        </Checkbox>
      </div>
      {memos.length === 0 && <Paragraph>{t("common.empty")}</Paragraph>}
      {memos.map((m) => (
        <MemoItem key={m.id} memo={m} view={view} setView={setView} />
      ))}
    </div>
  );
}

const MAX_ATTACHMENT = 20 * 1024 * 1024;

function toBase64(buf: ArrayBuffer): string {
  const bytes = new Uint8Array(buf);
  let s = "";
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) s += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(s);
}

function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(s.length));
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function readFile(f: File): Promise<ArrayBuffer> {
  if (typeof f.arrayBuffer === "function") return f.arrayBuffer();
  return new Promise((res, rej) => {
    const r = new FileReader();
    r.onload = () => res(r.result as ArrayBuffer);
    r.onerror = () => rej(r.error);
    r.readAsArrayBuffer(f);
  });
}

export function AttachmentsTab({ view }: TabProps) {
  const { t } = useI18n();
  const [rows, setRows] = useState<AttachmentRow[] | null>(null);
  const [loadErr, setLoadErr] = useState<ErrorDto | null>(null);
  const [tooBig, setTooBig] = useState<string | undefined>();
  const { error, busy, run } = useAction();
  const fileRef = useRef<HTMLInputElement>(null);
  const fid = useId();
  const id = view.client.id;

  useEffect(() => {
    api.attachmentList(id).then(setRows).catch((e) => setLoadErr(e as ErrorDto));
  }, [id]);

  async function add(files: FileList | null) {
    const f = files?.[0];
    if (!f) return;
    if (f.size > MAX_ATTACHMENT) {
      setTooBig(t("attachments.too_big"));
      return;
    }
    setTooBig(undefined);
    const r = await run(async () => api.attachmentAdd(id, f.name, toBase64(await readFile(f))));
    if (r) setRows(r);
    if (fileRef.current) fileRef.current.value = "";
  }

  async function download(a: AttachmentRow) {
    const got = await run(() => api.attachmentGet(id, a.id), "");
    if (!got) return;
    const url = URL.createObjectURL(new Blob([fromBase64(got.bytes_base64)]));
    const link = document.createElement("a");
    link.href = url;
    link.download = got.name;
    link.rel = "noopener";
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  async function del(a: AttachmentRow) {
    const r = await run(() => api.attachmentDelete(id, a.id));
    if (r) setRows(r);
  }

  return (
    <div>
      <Heading variant="h2">{t("attachments.title")}</Heading>
      <div className="subform field">
        <label htmlFor={fid} className="field-label">
          {t("attachments.add")}
        </label>
        <input id={fid} ref={fileRef} type="file" onChange={(e) => add(e.target.files)} disabled={busy} data-testid="attachment-input" />
        {tooBig && (
          <div className="field-error" role="alert">
            {tooBig}
          </div>
        )}
      </div>
      <ErrorAlert error={loadErr ?? error} />
      {rows && rows.length === 0 && <Paragraph>{t("common.empty")}</Paragraph>}
      {rows && rows.length > 0 && (
        <table className="plain" data-testid="attachment-list">
          <thead>
            <tr>
              <th scope="col">{t("attachments.name")}</th>
              <th scope="col">{t("attachments.size")}</th>
              <th scope="col">{t("attachments.added")}</th>
              <th scope="col">{t("attachments.by")}</th>
              <th scope="col">
                <span className="visually-hidden">{t("attachments.actions")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((a) => (
              <tr key={a.id} data-testid="attachment-row">
                <td>{a.name}</td>
                <td>{fmtSize(a.size)}</td>
                <td>{fmtInstant(a.added_at)}</td>
                <td>{a.added_by}</td>
                <td>
                  <div className="row">
                    <Button variant="secondary" className="small-button" onClick={() => download(a)} data-testid="attachment-open">
                      {t("attachments.open")}
                    </Button>
                    <Button variant="secondaryNoBorder" className="small-button" disabled={busy} onClick={() => del(a)} data-testid="attachment-delete">
                      {t("common.delete")}
                    </Button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function HistoryTab({ view }: TabProps) {
  const { t } = useI18n();
  const [rows, setRows] = useState<HistoryRow[] | null>(null);
  const [error, setError] = useState<ErrorDto | null>(null);
  useEffect(() => {
    api.clientHistory(view.client.id).then(setRows).catch((e) => setError(e as ErrorDto));
  }, [view]);
  return (
    <div>
      <Heading variant="h2">{t("tab.history")}</Heading>
      <Paragraph>{t("history.intro")}</Paragraph>
      <ErrorAlert error={error} />
      {rows && rows.length === 0 && <Paragraph>{t("common.empty")}</Paragraph>}
      {rows && rows.length > 0 && (
        <table className="plain" data-testid="history-list">
          <thead>
            <tr>
              <th scope="col">{t("history.at")}</th>
              <th scope="col">{t("history.user")}</th>
              <th scope="col">{t("history.action")}</th>
              <th scope="col">{t("history.what")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={`${r.at}-${i}`}>
                <td>{fmtInstant(r.at)}</td>
                <td>{r.user}</td>
                <td>{t(`action.${r.action}`) === `action.${r.action}` ? r.action : t(`action.${r.action}`)}</td>
                <td>{t(`what.${r.what}`) === `what.${r.what}` ? r.what : t(`what.${r.what}`)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
