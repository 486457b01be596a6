import { useCallback, useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent } from "react";
import { Button, Checkbox, Heading, TextInput } from "suomifi-ui-components";
import { api } from "../api/commands";
import type { ClientRow, ErrorDto, Scope, StatusFilter } from "../api/types";
import { useI18n } from "../i18n";
import { useApp } from "../context";
import { fmtDate, personName } from "../format";
import { ErrorAlert, Select } from "../components/ui";

export const ROW_HEIGHT = 44;
const OVERSCAN = 8;

/** The reminder at login: the clients past retention that the user sees, each opening its card. */
export function RetentionNotice() {
  const { t } = useI18n();
  const { retention, hideRetention, go } = useApp();
  if (!retention || retention.length === 0) return null;
  return (
    <div className="missing-box" role="region" aria-labelledby="retention-title" data-testid="retention-notice">
      <div className="title-row">
        <strong id="retention-title">{t("clients.retention.title")}</strong>
        <Button variant="secondaryNoBorder" className="small-button" onClick={hideRetention} data-testid="retention-hide">
          {t("clients.retention.hide")}
        </Button>
      </div>
      <p>{t("clients.retention.count", { n: retention.length })}</p>
      <ul data-testid="retention-list">
        {retention.map((r) => (
          <li key={r.client}>
            <a
              href={`#client-${r.client}`}
              onClick={(e) => {
                e.preventDefault();
                go({ view: "client", id: r.client });
              }}
            >
              {personName(r.first_name, r.last_name)}
            </a>{" "}
            <span className="muted">({t("clients.retention.keep_until", { date: fmtDate(r.keep_until) })})</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The client list: search and filters, then a windowed table (only the rows in view are in the page). */
export function Clients({ focus }: { focus?: number }) {
  const { t } = useI18n();
  const { go, dataVersion, listShown } = useApp();
  const [query, setQuery] = useState("");
  const [scope, setScope] = useState<Scope>(() => (sessionStorage.getItem("polku.scope") as Scope) || "own");
  const [status, setStatus] = useState<StatusFilter>("active");
  const [missingOnly, setMissingOnly] = useState(false);
  const [rows, setRows] = useState<ClientRow[] | null>(null);
  const [error, setError] = useState<ErrorDto | null>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const scrollRef = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewH, setViewH] = useState(600);
  const [active, setActive] = useState(0);
  const pendingFocus = useRef<number | null>(null);

  useEffect(() => {
    sessionStorage.setItem("polku.scope", scope);
  }, [scope]);

  useEffect(() => {
    searchRef.current?.focus();
  }, [focus]);

  // Ask the backend; a fast typist's intermediate queries are dropped (the
  // first list is asked for at once).
  const firstLoad = useRef(true);
  useEffect(() => {
    let stale = false;
    const delay = firstLoad.current ? 0 : 120;
    firstLoad.current = false;
    const id = window.setTimeout(async () => {
      try {
        const r = await api.clientList({ query, scope, status, missing_only: missingOnly });
        if (!stale) {
          setRows(r);
          listShown?.();
          setError(null);
          setActive(0);
          if (scrollRef.current) scrollRef.current.scrollTop = 0;
          setScrollTop(0);
        }
      } catch (e) {
        if (!stale) setError(e as ErrorDto);
      }
    }, delay);
    return () => {
      stale = true;
      window.clearTimeout(id);
    };
  }, [query, scope, status, missingOnly, dataVersion]);

  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (el && el.clientHeight > 0) setViewH(el.clientHeight);
  }, [rows]);

  const total = rows?.length ?? 0;
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(total, Math.ceil((scrollTop + viewH) / ROW_HEIGHT) + OVERSCAN);
  const visible = rows ? rows.slice(first, last) : [];

  const focusRow = useCallback(
    (i: number) => {
      if (!rows || rows.length === 0) return;
      const idx = Math.max(0, Math.min(rows.length - 1, i));
      setActive(idx);
      // Scroll so the row is in view (the header row sits above the first body row).
      const h = scrollRef.current?.clientHeight || viewH;
      const top = idx * ROW_HEIGHT;
      let next = scrollTop;
      if (top < next) next = top;
      else if (top + ROW_HEIGHT * 2 > next + h) next = top + ROW_HEIGHT * 2 - h;
      if (scrollRef.current) scrollRef.current.scrollTop = next;
      setScrollTop(next);
      const b = scrollRef.current?.querySelector<HTMLButtonElement>(`[data-index="${idx}"]`);
      if (b) b.focus();
      else pendingFocus.current = idx;
    },
    [rows, viewH, scrollTop],
  );

  useEffect(() => {
    const idx = pendingFocus.current;
    if (idx === null) return;
    const b = scrollRef.current?.querySelector<HTMLButtonElement>(`[data-index="${idx}"]`);
    if (b) {
      b.focus();
      pendingFocus.current = null;
    }
  });

  function onListKey(e: KeyboardEvent) {
    const page = Math.max(1, Math.floor(viewH / ROW_HEIGHT) - 1);
    if (e.key === "ArrowDown") focusRow(active + 1);
    else if (e.key === "ArrowUp") {
      if (active === 0) searchRef.current?.focus();
      else focusRow(active - 1);
    } else if (e.key === "PageDown") focusRow(active + page);
    else if (e.key === "PageUp") focusRow(active - page);
    else if (e.key === "Home") focusRow(0);
    else if (e.key === "End") focusRow(total - 1);
    else return;
    e.preventDefault();
  }

  function onSearchKey(e: KeyboardEvent) {
    if (e.key === "ArrowDown" && rows && rows.length > 0) {
      e.preventDefault();
      focusRow(0);
    } else if (e.key === "Enter" && rows && rows.length > 0) {
      e.preventDefault();
      go({ view: "client", id: rows[0].id });
    }
  }

  return (
    <section aria-labelledby="clients-title" className="clients">
      <div className="title-row">
        <Heading variant="h1" id="clients-title">
          {t("clients.title")}
        </Heading>
        <Button variant="secondary" onClick={() => go({ view: "client-add" })} data-testid="client-add">
          {t("clients.add")}
        </Button>
      </div>
      <RetentionNotice />
      <div className="search-bar" role="search">
        <TextInput
          id="client-search"
          ref={searchRef}
          labelText={t("clients.search")}
          hintText={t("clients.search_hint")}
          value={query}
          onChange={(v) => setQuery(String(v ?? ""))}
          onKeyDown={onSearchKey}
          autoComplete="off"
          data-testid="client-search"
          className="search-input"
          fullWidth
        />
        <fieldset className="filters">
          <legend className="visually-hidden">{t("clients.filters")}</legend>
          <Select label={t("clients.scope")} value={scope} onChange={(v) => setScope(v as Scope)} data-testid="filter-scope">
            <option value="own">{t("clients.scope.own")}</option>
            <option value="unit">{t("clients.scope.unit")}</option>
            <option value="all">{t("clients.scope.all")}</option>
          </Select>
          <Select label={t("clients.status")} value={status} onChange={(v) => setStatus(v as StatusFilter)} data-testid="filter-status">
            <option value="active">{t("clients.status.active")}</option>
            <option value="ended">{t("clients.status.ended")}</option>
            <option value="any">{t("clients.status.any")}</option>
          </Select>
          <Checkbox
            checked={missingOnly}
            onClick={({ checkboxState }) => setMissingOnly(checkboxState)}
            data-testid="filter-missing"
            className="filter-check"
          >
            {t("clients.missing_only")}
          </Checkbox>
        </fieldset>
      </div>
      <ErrorAlert error={error} />
      <p className="count" aria-live="polite" data-testid="client-count">
        {rows ? t("clients.count", { n: total }) : t("common.loading")}
      </p>
      {rows && rows.length === 0 && <p data-testid="clients-none">{t("clients.none")}</p>}
      {rows && rows.length > 0 && (
        <div
          className="client-scroll"
          ref={scrollRef}
          onScroll={(e) => setScrollTop((e.target as HTMLDivElement).scrollTop)}
          data-testid="client-list"
        >
          <table className="client-table" aria-rowcount={total + 1} aria-labelledby="clients-title">
            <thead>
              <tr aria-rowindex={1} style={{ height: ROW_HEIGHT }}>
                <th scope="col">{t("clients.col.name")}</th>
                <th scope="col">{t("clients.col.birth")}</th>
                <th scope="col">{t("clients.col.unit")}</th>
                <th scope="col">{t("clients.col.missing")}</th>
              </tr>
            </thead>
            <tbody onKeyDown={onListKey}>
              {first > 0 && <tr aria-hidden="true" style={{ height: first * ROW_HEIGHT }} />}
              {visible.map((r, j) => {
                const i = first + j;
                return (
                  <tr key={r.id} aria-rowindex={i + 2} style={{ height: ROW_HEIGHT }} className={r.active ? "" : "ended"}>
                    <td>
                      <button
                        type="button"
                        className="row-button"
                        data-testid="client-row"
                        data-index={i}
                        tabIndex={i === active ? 0 : -1}
                        onFocus={() => setActive(i)}
                        onClick={() => go({ view: "client", id: r.id })}
                      >
                        {personName(r.first_name, r.last_name)}
                      </button>
                      {!r.active && <span className="tag">{t("clients.ended")}</span>}
                    </td>
                    <td>{fmtDate(r.birth_date)}</td>
                    <td>{r.unit ?? ""}</td>
                    <td>
                      {r.missing > 0 ? (
                        <span className="missing-badge">{t("clients.missing_n", { n: r.missing })}</span>
                      ) : (
                        <span className="muted">{t("clients.missing_none")}</span>
                      )}
                    </td>
                  </tr>
                );
              })}
              {last < total && <tr aria-hidden="true" style={{ height: (total - last) * ROW_HEIGHT }} />}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
