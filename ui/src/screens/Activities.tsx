// Activity memos (toimintamuistiot): a list, and a form with the counts of
// young people met by gender and age group. Brief contacts are listed below.
import { useEffect, useId, useState } from "react";
import { Button, Heading, Paragraph, TextInput } from "suomifi-ui-components";
import { api } from "../api/commands";
import type { ActivityRow, ContactRow, ErrorDto, MetCount } from "../api/types";
import { useI18n } from "../i18n";
import { useContext } from "react";
import { AppContext } from "../context";
import { fmtDate, todayIso } from "../format";
import { CodeSelect, DateField, ErrorAlert, Form, readDate } from "../components/ui";
import { TextArea } from "./CardRecord";

type Counts = Record<string, string>;
const cellKey = (g: string, a: string) => `${g}|${a}`;

export function parseCount(s: string): number | undefined {
  const t = s.trim();
  if (t === "") return 0;
  if (!/^\d{1,3}$/.test(t)) return undefined;
  return Number(t);
}

export function ActivityForm({ editing, onSaved }: { editing: string | null; onSaved(): void }) {
  const { t, options, lang } = useI18n();
  const app = useContext(AppContext);
  const genders = options("gender");
  const ages = options("age_group");
  const base = useId();
  const [kind, setKind] = useState("");
  const [date, setDate] = useState(fmtDate(todayIso()));
  const [duration, setDuration] = useState("");
  const [place, setPlace] = useState("");
  const [workers, setWorkers] = useState(app?.me.login ?? "");
  const [counts, setCounts] = useState<Counts>({});
  const [text, setText] = useState("");
  const [v, setV] = useState<Record<string, string | undefined>>({});
  const [error, setError] = useState<ErrorDto | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!editing) return;
    api
      .activityShow(editing)
      .then((a) => {
        setKind(a.kind);
        setDate(fmtDate(a.date));
        setDuration(String(a.duration_minutes));
        setPlace(a.place);
        setWorkers(a.workers.join(", "));
        const c: Counts = {};
        for (const m of a.met) c[cellKey(m.gender, m.age_group)] = String(m.count);
        setCounts(c);
        setText(a.text);
      })
      .catch((e) => setError(e as ErrorDto));
  }, [editing]);

  const badCells = new Set(Object.entries(counts).filter(([, x]) => parseCount(x) === undefined).map(([k]) => k));
  const total = Object.values(counts).reduce((s, x) => s + (parseCount(x) ?? 0), 0);

  async function save() {
    const w: typeof v = {};
    if (!kind) w.kind = t("activities.need_kind");
    const d = readDate(date, t, true);
    if (!d.ok) w.date = d.error;
    const dur = Number(duration.trim());
    if (!/^\d+$/.test(duration.trim()) || dur < 1 || dur > 1440) w.duration = t("activities.bad_duration");
    if (!place.trim()) w.place = t("activities.need_place");
    if (badCells.size > 0) w.counts = t("activities.bad_count");
    setV(w);
    setError(null);
    if (Object.values(w).some(Boolean) || !d.ok) return;
    const met: MetCount[] = [];
    for (const g of genders)
      for (const a of ages) {
        const n = parseCount(counts[cellKey(g.code, a.code)] ?? "") ?? 0;
        if (n > 0) met.push({ gender: g.code, age_group: a.code, count: n });
      }
    const input = {
      kind,
      date: d.value!,
      duration_minutes: dur,
      place: place.trim(),
      workers: workers
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
      met,
      text,
    };
    setBusy(true);
    try {
      if (editing) await api.activityEdit(editing, input);
      else await api.activityAdd(input);
      app?.notify(t("activities.saved"));
      setCounts({});
      setText("");
      setPlace("");
      setDuration("");
      onSaved();
    } catch (e) {
      setError(e as ErrorDto);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Form onSubmit={save} testid="activity-form" label={t("activities.add")}>
      <div className="three-col">
        <CodeSelect list="activity_kind" label={t("activities.kind")} value={kind} onChange={setKind} error={v.kind} data-testid="activity-kind" />
        <DateField label={t("activities.date")} value={date} onChange={setDate} error={v.date} testid="activity-date" />
        <TextInput
          labelText={t("activities.duration")}
          value={duration}
          inputMode="numeric"
          onChange={(x) => setDuration(String(x ?? ""))}
          status={v.duration ? "error" : "default"}
          statusText={v.duration}
          data-testid="activity-duration"
          fullWidth
        />
      </div>
      <div className="two-col">
        <TextInput
          labelText={t("activities.place")}
          value={place}
          onChange={(x) => setPlace(String(x ?? ""))}
          status={v.place ? "error" : "default"}
          statusText={v.place}
          data-testid="activity-place"
          fullWidth
        />
        <TextInput
          labelText={t("activities.workers")}
          hintText={t("activities.workers_hint")}
          value={workers}
          onChange={(x) => setWorkers(String(x ?? ""))}
          data-testid="activity-workers"
          fullWidth
        />
      </div>
      <fieldset className="met-fieldset">
        <legend className="field-label">{t("activities.met")}</legend>
        <table className="met-table" data-testid="activity-met">
          <thead>
            <tr>
              <th scope="col">{t("activities.age_group")}</th>
              {genders.map((g) => (
                <th scope="col" key={g.code} id={`${base}-g-${g.code}`}>
                  {g.label[lang]}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {ages.map((a) => (
              <tr key={a.code}>
                <th scope="row" id={`${base}-a-${a.code}`}>
                  {a.label[lang]}
                </th>
                {genders.map((g) => {
                  const k = cellKey(g.code, a.code);
                  return (
                    <td key={g.code}>
                      <input
                        inputMode="numeric"
                        aria-labelledby={`${base}-g-${g.code} ${base}-a-${a.code}`}
                        aria-invalid={badCells.has(k) ? true : undefined}
                        value={counts[k] ?? ""}
                        onChange={(e) => setCounts((c) => ({ ...c, [k]: e.target.value }))}
                        data-testid={`met-${g.code}-${a.code}`}
                      />
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
        <div className="met-total" data-testid="activity-total">
          {t("activities.total", { n: total })}
        </div>
        {v.counts && (
          <div className="field-error" role="alert">
            {v.counts}
          </div>
        )}
      </fieldset>
      <TextArea label={t("activities.text")} value={text} onChange={setText} testid="activity-text" />
      <ErrorAlert error={error} testid="activity-error" />
      <div className="row">
        <Button type="submit" disabled={busy} data-testid="activity-save">
          {t("activities.save")}
        </Button>
        <span className="muted">{t("common.save_shortcut")}</span>
      </div>
    </Form>
  );
}

export function Activities() {
  const { t, label } = useI18n();
  const app = useContext(AppContext);
  const [rows, setRows] = useState<ActivityRow[] | null>(null);
  const [contacts, setContacts] = useState<ContactRow[] | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [formKey, setFormKey] = useState(0);
  const [error, setError] = useState<ErrorDto | null>(null);

  const load = () => {
    api.activityList().then(setRows).catch((e) => setError(e as ErrorDto));
    api.contactList().then(setContacts).catch(() => undefined);
  };
  useEffect(load, [app?.dataVersion]);

  return (
    <section aria-labelledby="act-title">
      <Heading variant="h1" id="act-title">
        {t("activities.title")}
      </Heading>
      <div className="subform">
        <Heading variant="h2">{editing ? t("common.edit") : t("activities.add")}</Heading>
        <ActivityForm
          key={`${editing ?? "new"}-${formKey}`}
          editing={editing}
          onSaved={() => {
            setEditing(null);
            setFormKey((k) => k + 1);
            load();
          }}
        />
        {editing && (
          <Button variant="secondary" className="small-button" onClick={() => setEditing(null)}>
            {t("common.cancel")}
          </Button>
        )}
      </div>
      <ErrorAlert error={error} />
      <Heading variant="h2" className="section-gap">
        {t("activities.list")}
      </Heading>
      {rows && rows.length === 0 && <Paragraph>{t("activities.none")}</Paragraph>}
      {rows && rows.length > 0 && (
        <table className="plain" data-testid="activity-list">
          <thead>
            <tr>
              <th scope="col">{t("activities.date")}</th>
              <th scope="col">{t("activities.kind")}</th>
              <th scope="col">{t("activities.place")}</th>
              <th scope="col">{t("activities.duration")}</th>
              <th scope="col">{t("activities.met_total")}</th>
              <th scope="col">
                <span className="visually-hidden">{t("attachments.actions")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {[...rows]
              .sort((a, b) => b.date.localeCompare(a.date))
              .map((r) => (
                <tr key={r.id} data-testid="activity-row">
                  <td>{fmtDate(r.date)}</td>
                  <td>{label("activity_kind", r.kind)}</td>
                  <td>{r.place}</td>
                  <td>{r.duration_minutes}</td>
                  <td>{r.met_total}</td>
                  <td>
                    <button type="button" className="link-button" onClick={() => setEditing(r.id)} data-testid="activity-edit">
                      {t("common.edit")}
                    </button>
                  </td>
                </tr>
              ))}
          </tbody>
        </table>
      )}
      <Heading variant="h2" className="section-gap">
        {t("contacts.list")}
      </Heading>
      {contacts && contacts.length === 0 && <Paragraph>{t("contacts.none")}</Paragraph>}
      {contacts && contacts.length > 0 && (
        <table className="plain" data-testid="contact-list">
          <thead>
            <tr>
              <th scope="col">{t("quick.date")}</th>
              <th scope="col">{t("quick.channel")}</th>
              <th scope="col">{t("quick.topic")}</th>
              <th scope="col">{t("quick.gender")}</th>
              <th scope="col">{t("quick.age_group")}</th>
              <th scope="col">{t("quick.text")}</th>
            </tr>
          </thead>
          <tbody>
            {[...contacts]
              .sort((a, b) => b.date.localeCompare(a.date))
              .map((c) => (
                <tr key={c.id}>
                  <td>{fmtDate(c.date)}</td>
                  <td>{label("contact_channel", c.channel)}</td>
                  <td>{c.topic ? label("contact_topic", c.topic) : ""}</td>
                  <td>{c.gender ? label("gender", c.gender) : ""}</td>
                  <td>{c.age_group ? label("age_group", c.age_group) : ""}</td>
                  <td className="memo-text">{c.text}</td>
                </tr>
              ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
