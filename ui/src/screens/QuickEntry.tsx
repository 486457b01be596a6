// Quick entry (Ctrl+K from anywhere): a brief contact without a name, a
// contact with an existing young person (type-ahead by name), or a new young
// person. Tab moves through the fields, Enter saves, Esc closes and gives the
// focus back to where it was.
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { Button, Heading, TextInput } from "suomifi-ui-components";
import { api } from "../api/commands";
import type { ClientName, ErrorDto } from "../api/types";
import { useI18n } from "../i18n";
import { useApp } from "../context";
import { fmtDate, personName, todayIso } from "../format";
import { CodeSelect, DateField, ErrorAlert, readDate } from "../components/ui";

type Who = { kind: "anon" } | { kind: "new" } | { kind: "client"; row: ClientName };

const MAX_MATCHES = 8;
const LAST_CHANNEL = "polku.quick.channel";

function matches(rows: ClientName[], q: string): ClientName[] {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [];
  const out: ClientName[] = [];
  for (const r of rows) {
    const hay = `${r.first_name} ${r.last_name} ${fmtDate(r.birth_date)}`.toLowerCase();
    if (words.every((w) => hay.includes(w))) {
      out.push(r);
      if (out.length >= MAX_MATCHES) break;
    }
  }
  return out;
}

export function QuickEntry({ onClose }: { onClose(): void }) {
  const { t, options } = useI18n();
  const { notify, bumpData } = useApp();
  const titleId = useId();
  const listId = useId();
  const returnTo = useRef<Element | null>(document.activeElement);
  const dialogRef = useRef<HTMLDivElement>(null);
  const whoRef = useRef<HTMLInputElement>(null);

  const [clients, setClients] = useState<ClientName[]>([]);
  const [query, setQuery] = useState("");
  const [highlight, setHighlight] = useState(0);
  const [who, setWho] = useState<Who>({ kind: "anon" });
  const [date, setDate] = useState(fmtDate(todayIso()));
  const channels = options("contact_channel");
  const [channel, setChannel] = useState(() => {
    const last = localStorage.getItem(LAST_CHANNEL);
    return last && channels.some((c) => c.code === last) ? last : (channels[0]?.code ?? "");
  });
  const [topic, setTopic] = useState("");
  const [gender, setGender] = useState("");
  const [ageGroup, setAgeGroup] = useState("");
  const [memoKind, setMemoKind] = useState("meeting");
  const [text, setText] = useState("");
  const [first, setFirst] = useState("");
  const [last, setLast] = useState("");
  const [v, setV] = useState<{ date?: string; text?: string; name?: string; channel?: string }>({});
  const [error, setError] = useState<ErrorDto | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    whoRef.current?.focus();
    api
      .clientNames()
      .then(setClients)
      .catch(() => undefined);
  }, []);

  const found = useMemo(() => matches(clients, query), [clients, query]);
  // Options: brief contact, new young person, then the matching clients.
  const opts: Who[] = useMemo(
    () => [{ kind: "anon" }, { kind: "new" }, ...found.map((row) => ({ kind: "client" as const, row }))],
    [found],
  );

  // Typing a name highlights the first match, or "new young person" when nothing matches.
  useEffect(() => {
    if (!query.trim()) setHighlight(0);
    else setHighlight(found.length > 0 ? 2 : 1);
  }, [query, found.length]);

  // The highlighted option is the choice (what Tab or Enter takes), so "Valittu" never says otherwise.
  useEffect(() => {
    setWho(opts[highlight] ?? opts[0]);
  }, [opts, highlight]);

  function close() {
    onClose();
    const el = returnTo.current as HTMLElement | null;
    if (el && typeof el.focus === "function" && document.contains(el)) el.focus();
  }

  // A new young person's names follow what is typed ("Virtanen Aino" → last
  // name Virtanen, first name Aino) until the names are edited themselves, so
  // the fields never look empty while "Uusi nuori" is chosen.
  const namesEdited = useRef(false);
  useEffect(() => {
    if (who.kind !== "new" || namesEdited.current) return;
    const parts = query.trim().split(/\s+/).filter(Boolean);
    if (parts.length <= 1) {
      setFirst(parts[0] ?? "");
      setLast("");
    } else {
      setLast(parts[0]);
      setFirst(parts.slice(1).join(" "));
    }
  }, [who.kind, query]);

  function choose(i: number) {
    setWho(opts[i] ?? opts[0]);
  }

  function label(w: Who) {
    if (w.kind === "anon") return t("quick.anonymous");
    if (w.kind === "new") return t("quick.new");
    const bd = fmtDate(w.row.birth_date);
    return `${personName(w.row.first_name, w.row.last_name)}${bd ? ` (${bd})` : ""}`;
  }

  function onWhoKey(e: KeyboardEvent<HTMLInputElement>) {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setHighlight((h) => Math.min(opts.length - 1, h + 1));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setHighlight((h) => Math.max(0, h - 1));
    } else if (e.key === "Enter") {
      // Enter in the name field chooses; the next Enter (in a later field) saves.
      e.preventDefault();
      e.stopPropagation();
      choose(highlight);
      const next = dialogRef.current?.querySelector<HTMLElement>(
        "[data-quick-first] input, [data-quick-first] select",
      );
      window.setTimeout(() => next?.focus(), 0);
    } else if (e.key === "Tab" && !e.shiftKey) {
      choose(highlight);
    }
  }

  async function save() {
    if (busy) return;
    const w: typeof v = {};
    let iso: string | null = null;
    if (who.kind === "anon") {
      const d = readDate(date, t, true);
      if (!d.ok) w.date = d.error;
      else iso = d.value;
      if (!channel) w.channel = t("common.choose");
    } else if (!text.trim()) {
      if (who.kind === "client") w.text = t("quick.need_text");
    }
    if (who.kind === "new" && !first.trim() && !last.trim()) w.name = t("add.need_name");
    setV(w);
    setError(null);
    if (Object.keys(w).length > 0) return;
    setBusy(true);
    const started = performance.now();
    try {
      if (who.kind === "anon") {
        await api.contactAdd({
          date: iso!,
          channel,
          topic: topic || null,
          gender: gender || null,
          age_group: ageGroup || null,
          text,
        });
        localStorage.setItem(LAST_CHANNEL, channel);
        notify(t("quick.saved_contact"));
      } else if (who.kind === "client") {
        await api.memoAddQuick(who.row.id, text, memoKind);
        notify(t("quick.saved_memo", { name: personName(who.row.first_name, who.row.last_name) }));
      } else {
        const { id } = await api.clientAdd({ first_name: first.trim(), last_name: last.trim() });
        if (text.trim()) await api.memoAddQuick(id, text, memoKind);
        notify(t("quick.saved_new", { name: personName(first.trim(), last.trim()) }));
      }
      // For the end-to-end log: milliseconds from Enter to the saved entry.
      document.body.dataset.quickSaveMs = String(Math.round(performance.now() - started));
      bumpData();
      close();
    } catch (e) {
      setError(e as ErrorDto);
      setBusy(false);
    }
  }

  function onDialogKey(e: KeyboardEvent<HTMLDivElement>) {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      close();
      return;
    }
    const target = e.target as HTMLElement;
    if (e.key === "Enter" && !e.shiftKey && target !== whoRef.current && target.tagName !== "BUTTON") {
      e.preventDefault();
      save();
      return;
    }
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") {
      e.preventDefault();
      save();
      return;
    }
    // Tab goes round inside the dialog; Esc always leaves it.
    if (e.key === "Tab" && dialogRef.current) {
      const f = Array.from(
        dialogRef.current.querySelectorAll<HTMLElement>("input, select, textarea, button:not([disabled])"),
      ).filter((x) => x.tabIndex >= 0);
      if (f.length === 0) return;
      if (!e.shiftKey && document.activeElement === f[f.length - 1]) {
        e.preventDefault();
        f[0].focus();
      } else if (e.shiftKey && document.activeElement === f[0]) {
        e.preventDefault();
        f[f.length - 1].focus();
      }
    }
  }

  const activeId = `${listId}-${highlight}`;

  return (
    <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && close()}>
      <div
        ref={dialogRef}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        className="dialog"
        data-testid="quick-entry"
        onKeyDown={onDialogKey}
      >
        <Heading variant="h2" id={titleId}>
          {t("quick.title")}
        </Heading>
        <div className="field">
          <label htmlFor={`${listId}-input`} className="field-label">
            {t("quick.who")}
          </label>
          <div className="field-hint" id={`${listId}-hint`}>
            {t("quick.who_hint")}
          </div>
          <input
            id={`${listId}-input`}
            ref={whoRef}
            className="native-input"
            role="combobox"
            aria-expanded="true"
            aria-controls={listId}
            aria-activedescendant={activeId}
            aria-autocomplete="list"
            aria-describedby={`${listId}-hint`}
            autoComplete="off"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={onWhoKey}
            data-testid="quick-who"
          />
          <ul id={listId} role="listbox" aria-label={t("quick.options")} className="quick-options" data-testid="quick-options">
            {opts.map((o, i) => (
              <li
                key={o.kind === "client" ? o.row.id : o.kind}
                id={`${listId}-${i}`}
                role="option"
                aria-selected={i === highlight}
                className={o.kind === "client" ? "" : "special"}
                data-testid={o.kind === "client" ? "quick-option-client" : `quick-option-${o.kind}`}
                onMouseDown={(e) => {
                  e.preventDefault();
                  setHighlight(i);
                  choose(i);
                }}
              >
                {label(o)}
              </li>
            ))}
          </ul>
          <div className="quick-chosen" aria-live="polite" data-testid="quick-chosen">
            {t("quick.chosen", { who: label(who) })}
          </div>
        </div>

        <div className="stack quick-fields">
          {who.kind === "anon" && (
            <>
              <div className="three-col">
                <div data-quick-first>
                  <DateField label={t("quick.date")} value={date} onChange={setDate} error={v.date} testid="quick-date" />
                </div>
                <CodeSelect
                  list="contact_channel"
                  allowEmpty={false}
                  label={t("quick.channel")}
                  value={channel}
                  onChange={setChannel}
                  error={v.channel}
                  data-testid="quick-channel"
                />
                <CodeSelect list="contact_topic" label={t("quick.topic")} value={topic} onChange={setTopic} data-testid="quick-topic" />
              </div>
            </>
          )}
          {who.kind === "new" && (
            <div className="two-col">
              <div data-quick-first>
                <TextInput
                  labelText={t("quick.first")}
                  value={first}
                  onChange={(x) => {
                    namesEdited.current = true;
                    setFirst(String(x ?? ""));
                  }}
                  status={v.name ? "error" : "default"}
                  statusText={v.name}
                  autoComplete="off"
                  data-testid="quick-first"
                  fullWidth
                />
              </div>
              <TextInput
                labelText={t("quick.last")}
                value={last}
                onChange={(x) => {
                  namesEdited.current = true;
                  setLast(String(x ?? ""));
                }}
                autoComplete="off"
                data-testid="quick-last"
                fullWidth
              />
            </div>
          )}
          {who.kind !== "anon" && (
            <div data-quick-first={who.kind === "client" ? "" : undefined}>
              <CodeSelect
                list="memo_type"
                allowEmpty={false}
                label={t("quick.kind")}
                value={memoKind}
                onChange={setMemoKind}
                hint={t("quick.not_today")}
                data-testid="quick-kind"
              />
            </div>
          )}
          <div className="field">
            <label htmlFor={`${listId}-text`} className="field-label">
              {t("quick.text")}
              {who.kind === "anon" && <span className="muted"> ({t("common.optional")})</span>}
            </label>
            <textarea
              id={`${listId}-text`}
              className="native-textarea"
              value={text}
              rows={2}
              onChange={(e) => setText(e.target.value)}
              aria-invalid={v.text ? true : undefined}
              aria-describedby={v.text ? `${listId}-text-err` : undefined}
              data-testid="quick-text"
            />
            {v.text && (
              <div id={`${listId}-text-err`} className="field-error" role="alert">
                {v.text}
              </div>
            )}
          </div>
          {who.kind === "anon" && (
            <div className="two-col">
              <CodeSelect list="gender" label={t("quick.gender")} value={gender} onChange={setGender} data-testid="quick-gender" />
              <CodeSelect list="age_group" label={t("quick.age_group")} value={ageGroup} onChange={setAgeGroup} data-testid="quick-age-group" />
            </div>
          )}
        </div>
        <ErrorAlert error={error} testid="quick-error" />
        <div className="dialog-foot">
          <span className="muted">{t("quick.hint")}</span>
          <div className="row">
            <Button onClick={save} disabled={busy} data-testid="quick-entry-save">
              {t("quick.save")}
            </Button>
            <Button variant="secondary" onClick={close} data-testid="quick-entry-close">
              {t("quick.close")}
            </Button>
          </div>
        </div>
      </div>
    </div>
  );
}
