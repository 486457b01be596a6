// What the screens share: the logged-in user, where we are, a status line.
import { createContext, useContext } from "react";
import type { AppInfo, Id, Me, RetentionRow } from "./api/types";

export type Route =
  | { view: "clients"; focus?: number }
  | { view: "client-add" }
  | { view: "client"; id: Id; tab?: number }
  | { view: "activities" }
  | { view: "sync" }
  | { view: "settings" };

export interface AppCtx {
  me: Me;
  info: AppInfo | null;
  route: Route;
  go(r: Route): void;
  /** A short status message, read out by screen readers. */
  notify(text: string): void;
  openQuick(): void;
  /** Bumped when data changed elsewhere (quick entry), so lists reload. */
  dataVersion: number;
  bumpData(): void;
  /** The clients past retention, fetched once after login (the reminder on the client list). */
  retention?: RetentionRow[];
  hideRetention?(): void;
  /** The client list has shown its rows (the reminder is asked for only then, never in its way). */
  listShown?(): void;
}

export const AppContext = createContext<AppCtx | null>(null);

export function useApp(): AppCtx {
  const v = useContext(AppContext);
  if (!v) throw new Error("useApp outside AppContext");
  return v;
}
