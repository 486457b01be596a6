// The DTOs of docs/app-commands.md (the contract between ui/ and src-tauri/)
// and of crates/polku-api/tests/contract/*.json. Field names are snake_case
// as on the wire. Dates are ISO `YYYY-MM-DD`, instants RFC 3339 UTC.

export type IsoDate = string;
export type Instant = string;
export type Id = string;

/** Every command rejects with this. */
export interface ErrorDto {
  code: string;
  params: Record<string, string>;
}

export function isErrorDto(e: unknown): e is ErrorDto {
  return (
    typeof e === "object" &&
    e !== null &&
    typeof (e as { code?: unknown }).code === "string"
  );
}

export interface DemoUser {
  login: string;
  password: string;
  role: Role;
}

export interface AppInfo {
  version: string;
  store: "laptop" | "hub";
  organisation?: string | null;
  demo_users?: DemoUser[] | null;
}

export type Role = "worker" | "coordinator" | "admin";

export interface SessionState {
  state: "none" | "locked" | "open";
  login?: string | null;
  must_change_password: boolean;
  idle_lock_minutes: number;
  /** Not in the contract (an assumption the UI can live without): the open session's Me. */
  me?: Me | null;
}

export interface Unit {
  id: Id;
  name: string;
}

export interface Me {
  login: string;
  role: Role;
  units: Unit[];
  must_change_password: boolean;
  idle_lock_minutes: number;
  offline_lease_expires?: Instant | null;
  may: { view_record: boolean; memos: boolean; admin: boolean; statistics: boolean };
}

export type Lang = "fi" | "sv" | "en";

export interface Code {
  code: string;
  label: Record<Lang, string>;
  retired: boolean;
}

export type CodeListName =
  | "gender"
  | "mother_tongue"
  | "arrival_route"
  | "referral_source"
  | "measure"
  | "main_activity"
  | "livelihood"
  | "housing"
  | "highest_education"
  | "education_status"
  | "outcome"
  | "memo_type"
  | "activity_kind"
  | "age_group"
  | "contact_channel"
  | "contact_topic";

export type Codes = Partial<Record<CodeListName, Code[]>> & Record<string, Code[] | undefined>;

export type Scope = "own" | "unit" | "all";
export type StatusFilter = "active" | "ended" | "any";

export interface ClientListArgs {
  query: string;
  scope: Scope;
  status: StatusFilter;
  missing_only: boolean;
}

export interface ClientRow {
  id: Id;
  first_name: string;
  last_name: string;
  birth_date?: IsoDate | null;
  unit?: string | null;
  responsible: string[];
  active: boolean;
  missing: number;
}

export interface Address {
  street: string;
  postal_code: string;
  city: string;
}

export interface BasicData {
  first_name: string;
  last_name: string;
  birth_date: IsoDate | null;
  gender: string | null;
  mother_tongue: string | null;
  henkilotunnus: string | null;
  email: string;
  phone: string;
  address: Address;
}

export type BackgroundField =
  | "health"
  | "family"
  | "skills"
  | "education"
  | "work_experience"
  | "strengths"
  | "goal"
  | "other";

export type Background = Record<BackgroundField, string>;

export interface SituationSnapshot {
  id: Id;
  date: IsoDate;
  period: Id | null;
  phase: "start" | "end" | "interim";
  highest_education: string | null;
  education_status: string | null;
  main_activity: string | null;
  livelihood: string | null;
  housing: string | null;
}

export type MeasureStatus = "planned" | "ongoing" | "completed" | "discontinued";

export interface Measure {
  id: Id;
  code: string;
  start: IsoDate | null;
  status: MeasureStatus;
  end: IsoDate | null;
}

export interface Period {
  id: Id;
  arrival_route: string | null;
  start: IsoDate | null;
  end: IsoDate | null;
  closed: boolean;
  measures: Record<Id, Measure>;
  outcome: string | null;
  referral: Id | null;
  goals: string;
  final_assessment: string;
}

export interface Memo {
  id: Id;
  date: IsoDate;
  author: string;
  kind: string;
  text: string;
  deleted: Instant | null;
}

export interface AttachmentRef {
  id: Id;
  file_name: string;
  media_type: string;
  size: number;
  added_at: Instant;
  memo: Id | null;
}

export interface Referral {
  id: Id;
  source: string;
  received: IsoDate;
  follow_up: string;
  follow_up_decided: IsoDate | null;
}

export type ConsentTopic = "follow_up" | "disclosure" | "other";

export interface Consent {
  id: Id;
  topic: ConsentTopic;
  note: string;
  given: IsoDate;
  withdrawn: IsoDate | null;
}

export interface Disclosure {
  id: Id;
  what: string;
  recipient: string;
  date: IsoDate;
  basis: string;
}

export interface Client {
  id: Id;
  created_at: Instant;
  basic: BasicData;
  background: Background;
  unit: Id | null;
  responsible: string[];
  snapshots: Record<Id, SituationSnapshot>;
  periods: Record<Id, Period>;
  memos: Record<Id, Memo>;
  attachments: Record<Id, AttachmentRef>;
  referrals: Record<Id, Referral>;
  consents: Record<Id, Consent>;
  disclosures: Record<Id, Disclosure>;
  follow_ups: Record<Id, unknown>;
}

export type Part = "shown" | "hidden_by_rights";

export interface Missing {
  what: string;
  period?: Id | null;
}

export interface Conflict {
  field: string;
  values: { value: string; by?: string | null }[];
}

export interface ClientView {
  client: Client;
  record: Part;
  memos: Part;
  missing?: Missing[];
  conflicts?: Conflict[];
  /** Login names of the users the client refers to, by user id. */
  people?: Record<string, string>;
}

export interface ClientInput {
  first_name: string;
  last_name: string;
  birth_date?: IsoDate | null;
  gender?: string | null;
  mother_tongue?: string | null;
  unit?: string | null;
}

export interface BasicEdit {
  first_name?: string;
  last_name?: string;
  birth_date?: IsoDate | null;
  gender?: string | null;
  mother_tongue?: string | null;
  phone?: string;
  email?: string;
  address?: Address;
}

export interface SituationInput {
  date: IsoDate;
  period?: Id | null;
  phase: "start" | "end" | "interim";
  highest_education?: string | null;
  education_status?: string | null;
  main_activity?: string | null;
  livelihood?: string | null;
  housing?: string | null;
}

export interface PeriodInput {
  start: IsoDate;
  arrival_route?: string | null;
  goals?: string;
  referral?: Id | null;
}

export interface PeriodClose {
  end: IsoDate;
  outcome: string;
  final_assessment?: string | null;
}

export interface ReferralInput {
  source: string;
  received: IsoDate;
  follow_up?: string;
  follow_up_decided?: IsoDate | null;
}

export interface DisclosureInput {
  what: string;
  recipient: string;
  date: IsoDate;
  basis: string;
}

export interface HistoryRow {
  at: Instant;
  user: string;
  action: string;
  what: string;
}

export interface AttachmentRow {
  id: Id;
  name: string;
  size: number;
  added_at: Instant;
  added_by: string;
}

export interface ContactInput {
  date: IsoDate;
  channel: string;
  gender?: string | null;
  age_group?: string | null;
  topic?: string | null;
  text: string;
  unit?: string | null;
}

export interface ContactRow extends ContactInput {
  id: Id;
  unit: string;
}

export interface MetCount {
  gender: string;
  age_group: string;
  count: number;
}

export interface ActivityInput {
  kind: string;
  date: IsoDate;
  duration_minutes: number;
  place: string;
  unit?: string | null;
  workers: string[];
  met: MetCount[];
  text: string;
}

export interface ActivityRow {
  id: Id;
  unit: string;
  kind: string;
  date: IsoDate;
  duration_minutes: number;
  place: string;
  workers: string[];
  met_total: number;
}

export interface ActivityShow {
  id: Id;
  unit: string;
  kind: string;
  date: IsoDate;
  duration_minutes: number;
  place: string;
  workers: string[];
  met: MetCount[];
  text: string;
}

export interface SyncDocNote {
  doc: string;
  code: string;
  at: Instant;
}

/** `client_names`: a client by name only (the quick entry's type-ahead). */
export type ClientName = Pick<ClientRow, "id" | "first_name" | "last_name" | "birth_date">;

/** `retention_due`: a client past retention that the user may see. */
export interface RetentionRow {
  client: Id;
  last_name: string;
  first_name: string;
  unit?: string | null;
  responsible: string[];
  last_period_end?: IsoDate | null;
  keep_until: IsoDate;
}

export interface SyncStatus {
  enrolled: boolean;
  running: boolean;
  last_sync?: Instant | null;
  waiting_changes: number;
  hub_reachable?: boolean | null;
  last_error?: ErrorDto | null;
  refused: SyncDocNote[];
  quarantined: SyncDocNote[];
}
