// The app: boot (app_info, session_state), login, the forced password
// change, the lock screen, and the shell around the screens (header with
// organisation, user, sync status and language; navigation; main).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, onCommandError } from "./api/commands";
import type { AppInfo, Codes, Me, RetentionRow } from "./api/types";
import { useI18n } from "./i18n";
import { AppContext, type AppCtx, type Route } from "./context";
import { Login } from "./screens/Login";
import { MustChangePassword } from "./screens/ChangePassword";
import { Lock } from "./screens/Lock";
import { Shell } from "./screens/Shell";

type Phase =
  | { kind: "boot" }
  | { kind: "login" }
  | { kind: "change"; me: Me }
  | { kind: "locked"; login: string | null }
  | { kind: "open"; me: Me };

/** The pause in typing after the client list before the retention reminder is asked for. */
export const RETENTION_PAUSE_MS = 2_000;

/** How often user activity is passed on to the backend's idle timer. */
export const TOUCH_INTERVAL_MS = 60_000;

export function App() {
  const { t, setCodes } = useI18n();
  const [phase, setPhase] = useState<Phase>({ kind: "boot" });
  const [info, setInfo] = useState<AppInfo | null>(null);
  const phaseRef = useRef(phase);
  phaseRef.current = phase;

  const opened = useCallback(
    async (me: Me) => {
      if (me.must_change_password) {
        setPhase({ kind: "change", me });
        return;
      }
      try {
        setCodes((await api.codes()) as Codes);
      } catch {
        /* the screens show labels as codes until the next try */
      }
      setPhase({ kind: "open", me });
    },
    [setCodes],
  );

  // Boot: what store this is, and whether a session is already there.
  useEffect(() => {
    (async () => {
      try {
        setInfo(await api.appInfo());
      } catch {
        /* shown without organisation */
      }
      try {
        const s = await api.sessionState();
        if (s.state === "open" && s.me) await opened(s.me);
        else if (s.state === "open") {
          // An open session without its Me (the UI was reloaded): lock it, the password brings Me back.
          await api.lock().catch(() => undefined);
          setPhase({ kind: "locked", login: s.login ?? null });
        } else if (s.state === "locked") setPhase({ kind: "locked", login: s.login ?? null });
        else setPhase({ kind: "login" });
      } catch {
        setPhase({ kind: "login" });
      }
    })();
  }, [opened]);

  // Any command rejected with session.locked brings up the lock screen; the
  // open screens unmount, so nothing decrypted stays in the page.
  useEffect(
    () =>
      onCommandError((e) => {
        const p = phaseRef.current;
        if (e.code === "session.locked" && p.kind === "open") setPhase({ kind: "locked", login: p.me.login });
        if (e.code === "auth.must_change_password" && p.kind === "open") setPhase({ kind: "change", me: p.me });
      }),
    [],
  );

  // User activity: touch at most once a minute; lock after the idle time here too.
  useEffect(() => {
    if (phase.kind !== "open") return;
    let lastTouch = Date.now();
    let lastActivity = Date.now();
    const idleMs = Math.max(1, phase.me.idle_lock_minutes) * 60_000;
    const onActivity = () => {
      lastActivity = Date.now();
      if (lastActivity - lastTouch >= TOUCH_INTERVAL_MS) {
        lastTouch = lastActivity;
        api.touch().catch(() => undefined);
      }
    };
    const timer = window.setInterval(() => {
      if (Date.now() - lastActivity >= idleMs) {
        api.lock().catch(() => undefined);
        setPhase({ kind: "locked", login: phase.me.login });
      }
    }, 15_000);
    const evs = ["keydown", "pointerdown", "wheel", "pointermove"] as const;
    evs.forEach((e) => window.addEventListener(e, onActivity, { passive: true }));
    return () => {
      window.clearInterval(timer);
      evs.forEach((e) => window.removeEventListener(e, onActivity));
    };
  }, [phase]);

  const lock = useCallback(async () => {
    const p = phaseRef.current;
    await api.lock().catch(() => undefined);
    setPhase({ kind: "locked", login: p.kind === "open" ? p.me.login : null });
  }, []);

  const logout = useCallback(async () => {
    await api.logout().catch(() => undefined);
    setPhase({ kind: "login" });
  }, []);

  switch (phase.kind) {
    case "boot":
      return (
        <main id="main" className="center-page">
          <p role="status">{t("app.loading")}</p>
        </main>
      );
    case "login":
      return <Login info={info} onLogin={opened} />;
    case "change":
      return <MustChangePassword onDone={opened} />;
    case "locked":
      return <Lock login={phase.login} onUnlock={opened} onLogout={logout} />;
    case "open":
      return <OpenApp me={phase.me} info={info} onLock={lock} onLogout={logout} onMe={(me) => setPhase({ kind: "open", me })} />;
  }
}

function OpenApp({
  me,
  info,
  onLock,
  onLogout,
  onMe,
}: {
  me: Me;
  info: AppInfo | null;
  onLock(): void;
  onLogout(): void;
  onMe(me: Me): void;
}) {
  const [route, setRoute] = useState<Route>({ view: "clients" });
  const [status, setStatus] = useState("");
  const [quickOpen, setQuickOpen] = useState(false);
  const [dataVersion, setDataVersion] = useState(0);
  const [retention, setRetention] = useState<RetentionRow[]>([]);
  const { lang } = useI18n();
  // The reminder at login: the clients past retention. It reads every
  // client (the backend is busy with it for a moment), so it is asked for
  // only once the client list is up and the user has paused typing for
  // RETENTION_PAUSE_MS: a quick entry right after the login never waits.
  const retentionAsked = useRef(false);
  const listShown = useCallback(() => {
    if (retentionAsked.current) return;
    retentionAsked.current = true;
    let timer = 0;
    const ask = () => {
      window.removeEventListener("keydown", later);
      api.retentionDue().then(setRetention, () => undefined);
    };
    const later = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, RETENTION_PAUSE_MS);
    };
    window.addEventListener("keydown", later);
    later();
  }, []);
  // A status message is in the language it was written in: a language change clears it.
  useEffect(() => setStatus(""), [lang]);
  const ctx = useMemo<AppCtx>(
    () => ({
      me,
      info,
      route,
      go: (r) => setRoute(r),
      notify: (text) => setStatus(text),
      openQuick: () => setQuickOpen(true),
      dataVersion,
      bumpData: () => setDataVersion((n) => n + 1),
      retention,
      hideRetention: () => setRetention([]),
      listShown,
    }),
    [me, info, route, dataVersion, retention, listShown],
  );
  return (
    <AppContext.Provider value={ctx}>
      <Shell
        status={status}
        clearStatus={() => setStatus("")}
        quickOpen={quickOpen}
        setQuickOpen={setQuickOpen}
        onLock={onLock}
        onLogout={onLogout}
        onMe={onMe}
      />
    </AppContext.Provider>
  );
}
