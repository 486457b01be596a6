// The record's tabs: background, situation (dated snapshots), periods and measures.
import { useEffect, useId, useState } from "react";
import { Button, Heading, Paragraph } from "suomifi-ui-components";
import { api } from "../api/commands";
import type { BackgroundField, CodeListName, MeasureStatus, Period, SituationSnapshot } from "../api/types";
import { useI18n } from "../i18n";
import { fmtDate, todayIso } from "../format";
import { CodeSelect, DateField, ErrorAlert, Form, readDate, Select } from "../components/ui";
import { missingText, useAction, type TabProps } from "./ClientCard";

const BG_FIELDS: BackgroundField[] = ["education", "work_experience", "skills", "strengths", "goal", "health", "family", "other"];

export function TextArea(props: {
  label: string;
  value: string;
  onChange(v: string): void;
  testid?: string;
  rows?: number;
  error?: string;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id} className="field-label">
        {props.label}
      </label>
      <textarea
        id={id}
        className="native-textarea"
        rows={props.rows ?? 3}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        data-testid={props.testid}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `${id}-err` : undefined}
      />
      {props.error && (
        <div id={`${id}-err`} className="field-error" role="alert">
          {props.error}
        </div>
      )}
    </div>
  );
}

export function BackgroundTab({ view, setView }: TabProps) {
  const { t } = useI18n();
  const bg = view.client.background;
  const [draft, setDraft] = useState({ ...bg });
  const { error, busy, run } = useAction();
  useEffect(() => setDraft({ ...bg }), [bg]);

  async function save() {
    const changed = BG_FIELDS.filter((f) => draft[f] !== bg[f]);
    if (changed.length === 0) return;
    const nv = await run(async () => {
      let last = view;
      for (const f of changed) last = await api.backgroundSet(view.client.id, f, draft[f]);
      return last;
    });
    if (nv) setView(nv);
  }

  return (
    <div>
      <Heading variant="h2">{t("tab.background")}</Heading>
      <Form onSubmit={save} testid="background-form" label={t("tab.background")}>
        <div className="two-col">
          {BG_FIELDS.map((f) => (
            <TextArea
              key={f}
              label={t(`background.${f}`)}
              value={draft[f]}
              onChange={(x) => setDraft((d) => ({ ...d, [f]: x }))}
              testid={`background-${f}`}
            />
          ))}
        </div>
        <ErrorAlert error={error} />
        <div className="row">
          <Button type="submit" disabled={busy} data-testid="background-save">
            {t("background.save")}
          </Button>
          <span className="muted">{t("common.save_shortcut")}</span>
        </div>
      </Form>
    </div>
  );
}

const SIT_FIELDS: (keyof SituationSnapshot & CodeListName)[] = [
  "highest_education",
  "education_status",
  "main_activity",
  "livelihood",
  "housing",
];

function periodRange(p: Period) {
  return `${fmtDate(p.start)}–${fmtDate(p.end)}`;
}

export function SituationTab({ view, setView }: TabProps) {
  const { t, label } = useI18n();
  const snaps = Object.values(view.client.snapshots).sort((a, b) => b.date.localeCompare(a.date));
  const periods = Object.values(view.client.periods);
  const [date, setDate] = useState(fmtDate(todayIso()));
  const [phase, setPhase] = useState<"start" | "end" | "interim">("interim");
  const [period, setPeriod] = useState(periods.find((p) => !p.closed && !p.end)?.id ?? "");
  const [vals, setVals] = useState<Record<string, string>>({});
  const [v, setV] = useState<string | undefined>();
  const { error, busy, run } = useAction();

  async function save() {
    const d = readDate(date, t, true, "situation.need_date");
    setV(d.ok ? undefined : d.error);
    if (!d.ok) return;
    const nv = await run(() =>
      api.situationAdd(view.client.id, {
        date: d.value!,
        phase,
        period: period || null,
        highest_education: vals.highest_education || null,
        education_status: vals.education_status || null,
        main_activity: vals.main_activity || null,
        livelihood: vals.livelihood || null,
        housing: vals.housing || null,
      }),
    );
    if (nv) {
      setView(nv);
      setVals({});
    }
  }

  return (
    <div>
      <Heading variant="h2">{t("situation.title")}</Heading>
      {snaps.length === 0 ? (
        <Paragraph>{t("common.empty")}</Paragraph>
      ) : (
        <table className="plain" data-testid="situation-list">
          <thead>
            <tr>
              <th scope="col">{t("situation.date")}</th>
              <th scope="col">{t("situation.phase")}</th>
              {SIT_FIELDS.map((f) => (
                <th scope="col" key={f}>
                  {t(`situation.${f}`)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {snaps.map((s) => (
              <tr key={s.id}>
                <td>{fmtDate(s.date)}</td>
                <td>{t(`phase.${s.phase}`)}</td>
                {SIT_FIELDS.map((f) => (
                  <td key={f}>{s[f] ? label(f, s[f] as string) : <span className="muted">{t("common.not_set")}</span>}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="subform">
        <Heading variant="h3">{t("situation.add")}</Heading>
        <Form onSubmit={save} testid="situation-form" label={t("situation.add")}>
          <div className="three-col">
            <DateField label={t("situation.date")} value={date} onChange={setDate} error={v} testid="situation-date" />
            <Select label={t("situation.phase")} value={phase} onChange={(x) => setPhase(x as typeof phase)} data-testid="situation-phase">
              <option value="start">{t("phase.start")}</option>
              <option value="interim">{t("phase.interim")}</option>
              <option value="end">{t("phase.end")}</option>
            </Select>
            <Select label={t("situation.period")} value={period} onChange={setPeriod} data-testid="situation-period">
              <option value="">{t("situation.no_period")}</option>
              {periods.map((p) => (
                <option key={p.id} value={p.id}>
                  {periodRange(p)}
                </option>
              ))}
            </Select>
          </div>
          <div className="three-col">
            {SIT_FIELDS.map((f) => (
              <CodeSelect
                key={f}
                list={f}
                label={t(`situation.${f}`)}
                value={vals[f] ?? ""}
                onChange={(x) => setVals((o) => ({ ...o, [f]: x }))}
                data-testid={`situation-${f}`}
              />
            ))}
          </div>
          <ErrorAlert error={error} />
          <div>
            <Button type="submit" disabled={busy} data-testid="situation-save">
              {t("situation.add")}
            </Button>
          </div>
        </Form>
      </div>
    </div>
  );
}

function OpenPeriod({ view, setView }: TabProps) {
  const { t } = useI18n();
  const [start, setStart] = useState(fmtDate(todayIso()));
  const [route, setRoute] = useState("");
  const [goals, setGoals] = useState("");
  const [v, setV] = useState<string | undefined>();
  const { error, busy, run } = useAction();
  async function save() {
    const d = readDate(start, t, true, "period.need_start");
    setV(d.ok ? undefined : d.error);
    if (!d.ok) return;
    const nv = await run(() => api.periodOpen(view.client.id, { start: d.value!, arrival_route: route || null, goals }));
    if (nv) setView(nv);
  }
  return (
    <div className="subform">
      <Heading variant="h3">{t("period.open")}</Heading>
      <Form onSubmit={save} testid="period-open-form" label={t("period.open")}>
        <div className="two-col">
          <DateField label={t("period.start")} value={start} onChange={setStart} error={v} testid="period-start" />
          <CodeSelect list="arrival_route" label={t("period.arrival_route")} value={route} onChange={setRoute} data-testid="period-route" />
        </div>
        <TextArea label={t("period.goals")} value={goals} onChange={setGoals} testid="period-goals" />
        <ErrorAlert error={error} />
        <div>
          <Button type="submit" disabled={busy} data-testid="period-open-save">
            {t("period.open")}
          </Button>
        </div>
      </Form>
    </div>
  );
}

function ClosePeriod({ view, setView, period }: TabProps & { period: Period }) {
  const { t } = useI18n();
  const [end, setEnd] = useState(fmtDate(todayIso()));
  const [outcome, setOutcome] = useState("");
  const [assessment, setAssessment] = useState(period.final_assessment);
  const [v, setV] = useState<{ end?: string; outcome?: string }>({});
  const { error, busy, run } = useAction();
  async function save() {
    const w: typeof v = {};
    const d = readDate(end, t, true, "period.need_end");
    if (!d.ok) w.end = d.error;
    else if (period.start && d.value! < period.start) w.end = t("period.end_before_start", { start: fmtDate(period.start) });
    if (!outcome) w.outcome = t("period.need_outcome");
    setV(w);
    if (w.end || w.outcome || !d.ok) return;
    const nv = await run(() =>
      api.periodClose(view.client.id, period.id, { end: d.value!, outcome, final_assessment: assessment || null }),
    );
    if (nv) setView(nv);
  }
  return (
    <div className="subform">
      <Heading variant="h4">{t("period.close_title")}</Heading>
      <Form onSubmit={save} testid="period-close-form" label={t("period.close_title")}>
        <div className="two-col">
          <DateField label={t("period.end")} value={end} onChange={setEnd} error={v.end} testid="period-end" />
          <CodeSelect list="outcome" label={t("period.outcome")} value={outcome} onChange={setOutcome} error={v.outcome} data-testid="period-outcome" />
        </div>
        <TextArea label={t("period.final_assessment")} value={assessment} onChange={setAssessment} testid="period-assessment" />
        <ErrorAlert error={error} testid="period-close-error" />
        <div>
          <Button type="submit" disabled={busy} data-testid="period-close-save">
            {t("period.close")}
          </Button>
        </div>
      </Form>
    </div>
  );
}

function Measures({ view, setView, period }: TabProps & { period: Period }) {
  const { t, label } = useI18n();
  const ms = Object.values(period.measures).sort((a, b) => (a.start ?? "").localeCompare(b.start ?? ""));
  const ended = period.closed || !!period.end;
  const [kind, setKind] = useState("");
  const [start, setStart] = useState(fmtDate(todayIso()));
  const [v, setV] = useState<{ kind?: string; start?: string }>({});
  const { error, busy, run } = useAction();
  const [statusDraft, setStatusDraft] = useState<Record<string, MeasureStatus>>({});

  async function add() {
    const w: typeof v = {};
    if (!kind) w.kind = t("common.choose");
    const d = readDate(start, t, false);
    if (!d.ok) w.start = d.error;
    setV(w);
    if (w.kind || !d.ok) return;
    const nv = await run(() => api.measureAdd(view.client.id, period.id, kind, d.value));
    if (nv) {
      setView(nv);
      setKind("");
    }
  }

  async function setStatus(measure: string) {
    const s = statusDraft[measure];
    if (!s || s === "planned") return;
    const nv = await run(() => api.measureStatus(view.client.id, period.id, measure, s, s === "ongoing" ? null : todayIso()));
    if (nv) setView(nv);
  }

  return (
    <div>
      <Heading variant="h4">{t("measure.title")}</Heading>
      {ms.length === 0 ? (
        <Paragraph>{t("measure.none")}</Paragraph>
      ) : (
        <table className="plain" data-testid="measure-list">
          <thead>
            <tr>
              <th scope="col">{t("measure.kind")}</th>
              <th scope="col">{t("measure.start")}</th>
              <th scope="col">{t("measure.status")}</th>
              {!ended && <th scope="col">{t("measure.set_status")}</th>}
            </tr>
          </thead>
          <tbody>
            {ms.map((m) => (
              <tr key={m.id} data-testid="measure-row">
                <td>{label("measure", m.code)}</td>
                <td>{fmtDate(m.start)}</td>
                <td>
                  {t(`status.${m.status}`)}
                  {m.end ? ` ${fmtDate(m.end)}` : ""}
                </td>
                {!ended && (
                  <td>
                    <div className="row">
                      <Select
                        label={t("measure.status")}
                        className="compact-label"
                        value={statusDraft[m.id] ?? m.status}
                        onChange={(x) => setStatusDraft((d) => ({ ...d, [m.id]: x as MeasureStatus }))}
                        data-testid="measure-status"
                      >
                        {m.status === "planned" && <option value="planned">{t("status.planned")}</option>}
                        <option value="ongoing">{t("status.ongoing")}</option>
                        <option value="completed">{t("status.completed")}</option>
                        <option value="discontinued">{t("status.discontinued")}</option>
                      </Select>
                      <Button variant="secondary" className="small-button" disabled={busy} onClick={() => setStatus(m.id)} data-testid="measure-status-save">
                        {t("measure.set_status")}
                      </Button>
                    </div>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!ended && (
        <Form onSubmit={add} testid="measure-form" className="row measure-form" label={t("measure.add")}>
          <CodeSelect list="measure" label={t("measure.kind")} value={kind} onChange={setKind} error={v.kind} data-testid="measure-kind" />
          <DateField label={t("measure.start")} value={start} onChange={setStart} error={v.start} testid="measure-start" />
          <Button type="submit" disabled={busy} data-testid="measure-add">
            {t("measure.add")}
          </Button>
        </Form>
      )}
      <ErrorAlert error={error} />
    </div>
  );
}

function PeriodBox({ view, setView, period }: TabProps & { period: Period }) {
  const { t, label } = useI18n();
  const ended = period.closed || !!period.end;
  const missing = (view.missing ?? []).filter((m) => m.period === period.id);
  const [goals, setGoals] = useState(period.goals);
  const [closing, setClosing] = useState(false);
  const { error, busy, run } = useAction();
  useEffect(() => setGoals(period.goals), [period.goals]);

  async function saveGoals() {
    const nv = await run(() => api.periodText(view.client.id, period.id, "goals", goals));
    if (nv) setView(nv);
  }

  return (
    <article className="item" data-testid="period" aria-labelledby={`p-${period.id}`}>
      <div className="item-head">
        <Heading variant="h3" id={`p-${period.id}`}>
          {t("period.title", { range: periodRange(period) })}
        </Heading>
        <span className={ended ? "muted" : "ok-text"}>{ended ? t("period.ended") : t("period.ongoing")}</span>
      </div>
      {missing.length > 0 && (
        <ul className="missing-box">
          {missing.map((m, i) => (
            <li key={i}>{missingText(t, m)}</li>
          ))}
        </ul>
      )}
      <dl className="facts">
        <dt>{t("period.arrival_route")}</dt>
        <dd>{label("arrival_route", period.arrival_route)}</dd>
        {ended && (
          <>
            <dt>{t("period.outcome")}</dt>
            <dd>{label("outcome", period.outcome)}</dd>
            <dt>{t("period.final_assessment")}</dt>
            <dd className="memo-text">{period.final_assessment || t("common.not_set")}</dd>
          </>
        )}
      </dl>
      <Form onSubmit={saveGoals} testid="period-goals-form" label={t("period.goals")}>
        <TextArea label={t("period.goals")} value={goals} onChange={setGoals} testid="period-goals-edit" />
        <div>
          <Button type="submit" variant="secondary" className="small-button" disabled={busy || goals === period.goals}>
            {t("period.save_goals")}
          </Button>
        </div>
      </Form>
      <ErrorAlert error={error} />
      <Measures view={view} setView={setView} period={period} />
      {!ended &&
        (closing ? (
          <ClosePeriod view={view} setView={setView} period={period} />
        ) : (
          <div className="row period-actions">
            <Button variant="secondary" onClick={() => setClosing(true)} data-testid="period-close">
              {t("period.close")}
            </Button>
          </div>
        ))}
    </article>
  );
}

export function PeriodsTab({ view, setView }: TabProps) {
  const { t } = useI18n();
  const periods = Object.values(view.client.periods).sort((a, b) => (b.start ?? "").localeCompare(a.start ?? ""));
  const anyOpen = periods.some((p) => !p.closed && !p.end);
  return (
    <div>
      <Heading variant="h2">{t("tab.periods")}</Heading>
      {periods.length === 0 && <Paragraph>{t("period.none")}</Paragraph>}
      {periods.map((p) => (
        <PeriodBox key={p.id} view={view} setView={setView} period={p} />
      ))}
      {!anyOpen && <OpenPeriod view={view} setView={setView} />}
    </div>
  );
}
