import { useEffect, useRef } from "react";
import { Button } from "suomifi-ui-components";
import type { Me } from "../api/types";
import { useI18n } from "../i18n";
import { useApp, type Route } from "../context";
import { LanguageSwitch } from "../components/LanguageSwitch";
import { SyncIndicator } from "./Sync";
import { SyncPanel } from "./Sync";
import { Clients } from "./Clients";
import { ClientAdd } from "./ClientAdd";
import { ClientCard } from "./ClientCard";
import { Activities } from "./Activities";
import { Settings } from "./Settings";
import { QuickEntry } from "./QuickEntry";

const NAV: { view: Route["view"]; key: string; testid: string }[] = [
  { view: "clients", key: "nav.clients", testid: "nav-clients" },
  { view: "activities", key: "nav.activities", testid: "nav-activities" },
  { view: "sync", key: "nav.sync", testid: "nav-sync" },
  { view: "settings", key: "nav.settings", testid: "nav-settings" },
];

function isTyping(el: Element | null): boolean {
  if (!el) return false;
  const tag = el.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (el as HTMLElement).isContentEditable;
}

export function Shell(props: {
  status: string;
  clearStatus(): void;
  quickOpen: boolean;
  setQuickOpen(v: boolean): void;
  onLock(): void;
  onLogout(): void;
  onMe(me: Me): void;
}) {
  const { t } = useI18n();
  const { me, info, route, go } = useApp();
  const mainRef = useRef<HTMLElement>(null);
  const { setQuickOpen } = props;

  // Keys from anywhere: Ctrl+K quick entry; Ctrl+F or / the client search.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const k = e.key.toLowerCase();
      if ((e.ctrlKey || e.metaKey) && !e.altKey && k === "k") {
        e.preventDefault();
        setQuickOpen(true);
      } else if ((e.ctrlKey || e.metaKey) && !e.altKey && k === "f") {
        e.preventDefault();
        go({ view: "clients", focus: Date.now() });
      } else if (e.key === "/" && !e.ctrlKey && !e.altKey && !e.metaKey && !isTyping(document.activeElement)) {
        e.preventDefault();
        go({ view: "clients", focus: Date.now() });
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [go, setQuickOpen]);

  // A status message fades after a while (it stays in the live region long enough to be read).
  useEffect(() => {
    if (!props.status) return;
    const id = window.setTimeout(props.clearStatus, 8000);
    return () => window.clearTimeout(id);
  }, [props.status, props.clearStatus]);

  const current = route.view === "client" || route.view === "client-add" ? "clients" : route.view;

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        {t("app.skip")}
      </a>
      <header className="app-header" data-testid="app-header">
        <div className="header-left">
          <span className="brand">{t("app.name")}</span>
          {info?.organisation && (
            <span className="org" data-testid="header-org">
              <span className="visually-hidden">{t("header.organisation")}: </span>
              {info.organisation}
            </span>
          )}
        </div>
        <div className="header-right">
          <SyncIndicator />
          <span className="user" data-testid="header-user">
            <span className="visually-hidden">{t("header.user")}: </span>
            {me.login}
          </span>
          <LanguageSwitch />
          <Button variant="secondary" className="small-button" onClick={() => setQuickOpen(true)} data-testid="quick-open">
            {t("header.quick")}
          </Button>
          <Button variant="secondaryNoBorder" className="small-button" onClick={props.onLock} data-testid="lock-button">
            {t("header.lock")}
          </Button>
        </div>
      </header>
      <nav className="app-nav" aria-label={t("nav.label")}>
        <ul>
          {NAV.map((n) => (
            <li key={n.view}>
              <a
                href={`#${n.view}`}
                aria-current={current === n.view ? "page" : undefined}
                className={current === n.view ? "current" : undefined}
                data-testid={n.testid}
                onClick={(e) => {
                  e.preventDefault();
                  go({ view: n.view } as Route);
                }}
              >
                {t(n.key)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div className="status-line" role="status" aria-live="polite" data-testid="status-message">
        {props.status}
      </div>
      <main id="main" ref={mainRef} className="app-main" tabIndex={-1}>
        {route.view === "clients" && <Clients focus={route.focus} />}
        {route.view === "client-add" && <ClientAdd />}
        {route.view === "client" && <ClientCard id={route.id} initialTab={route.tab ?? 0} />}
        {route.view === "activities" && <Activities />}
        {route.view === "sync" && <SyncPanel />}
        {route.view === "settings" && <Settings onMe={props.onMe} onLogout={props.onLogout} />}
      </main>
      {props.quickOpen && <QuickEntry onClose={() => setQuickOpen(false)} />}
    </div>
  );
}
