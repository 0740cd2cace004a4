/**
 * The shapes of the console's REST API (`/api/v1`), typed once: the routes
 * build them, the pages and scripts read them. Times are ISO 8601 strings,
 * sizes bytes, durations seconds.
 */
import type { HostMetadata } from '@vigil/core/enrolment';
import type { HeartbeatFigures } from '@vigil/core/heartbeat';
import type { ContainerInventory, Inventory, ServiceInventory } from '@vigil/core/inventory';
import type { Role, TargetState } from '@vigil/core/states';
import type { FigureSeries, NamedSeries } from '@vigil/db';

export type { Role, TargetState } from '@vigil/core/states';
export type { Band, FigureSeries, NamedSeries } from '@vigil/db';

/** Every error: `{error: {code, message, field?}}` with the HTTP status saying the kind. */
export interface ApiErrorBody {
  error: {
    /** `bad_request`, `invalid` (422, with `field`), `unauthenticated`, `forbidden`, `forbidden_origin`, `not_found`, `conflict`, `internal`. */
    code: string;
    message: string;
    /** The body field that was wrong (`labels.rack`), for `invalid`. */
    field?: string;
  };
}

/** A page of a list, with how many items match in all. */
export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  per_page: number;
}

/** A heartbeat: the scrape's result and the figures it gave (core's HeartbeatFigures but the sample count). */
export interface HeartbeatView extends Omit<HeartbeatFigures, 'samples'> {
  time: string;
  up: boolean;
  duration_seconds: number;
  error: string | null;
}

/** A target (its URL's password masked). */
export interface TargetView {
  id: number;
  name: string;
  url: string;
  interval_seconds: number;
  timeout_seconds: number;
  labels: Record<string, string>;
  source: string;
  state: TargetState;
  paused: boolean;
  state_changed_at: string;
  created_at: string;
  /** Whether the target has a token of its own (never shown); else the scraper's VIGIL_EXPORTER_TOKEN is sent. */
  has_token: boolean;
  /** The exporter's PTY socket when not beside its metrics; null: the metrics URL's host and port. */
  pty_url: string | null;
  /** The newest heartbeat within two days, or null. */
  heartbeat: HeartbeatView | null;
  /** What an enrolled host says of itself (provider, region, OS, kernel, CPU, memory…); {} for one added by hand. */
  metadata: HostMetadata;
  /** Enrolled with a token requiring approval, and not approved yet: not scraped. */
  pending_approval: boolean;
  /** Its exporter connects out to the console and is scraped over that connection. */
  connects_out: boolean;
  /** When it enrolled (or enrolled again, at its last start); null for a target added by hand. */
  enrolled_at: string | null;
}

/** An enrolment token as listed: never the token itself. */
export interface EnrolmentTokenView {
  id: number;
  name: string;
  /** Its first 8 characters, to tell it apart. */
  prefix: string;
  labels: Record<string, string>;
  require_approval: boolean;
  max_uses: number | null;
  uses: number;
  uses_left: number | null;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  created_by: string;
  created_at: string;
  /** Not revoked, expired or used up. */
  usable: boolean;
}

/** A new enrolment token: the listing, and the token, shown this once. */
export type NewEnrolmentTokenView = EnrolmentTokenView & { token: string };

export interface EventView {
  id: number;
  target_id: number;
  target_name: string;
  time: string;
  type: string;
  from_state: string | null;
  to_state: string | null;
  message: string;
}

export interface UserView {
  id: number;
  name: string;
  role: Role;
  created_at: string;
  password_changed_at: string;
  /** Whether they sign in with two factors (in lists of users and a user's own view). */
  two_factor?: boolean;
}

export interface ApiKeyView {
  id: number;
  user_id: number;
  user_name: string;
  name: string;
  /** The key's first 8 characters. */
  prefix: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** `POST /api-keys`: the key itself, shown this once. */
export type NewApiKeyView = ApiKeyView & { key: string };

export interface AuditView {
  id: string;
  time: string;
  user_id: number | null;
  user_name: string;
  action: string;
  object_type: string;
  object_id: string | null;
  client_address: string | null;
  before: unknown;
  after: unknown;
}

export interface MeView {
  name: string;
  role: Role;
  via: 'session' | 'api_key';
  /** Whether they sign in with a TOTP code as well as the password. */
  two_factor: boolean;
}

/** `GET /targets/:id/heartbeats` without `step`: each heartbeat in the range, oldest first. */
export interface HeartbeatsResponse {
  from: string;
  to: string;
  items: HeartbeatView[];
}

/** `GET /targets/:id/heartbeats?step=`: min/avg/max per bucket, in columns (times in Unix seconds). */
export interface SeriesResponse {
  from: string;
  to: string;
  series: FigureSeries;
}

/** `GET /api/v1/targets/:id/interfaces` and `/containers`: per-name figures in buckets (db's NamedSeries). */
export interface NamedSeriesResponse {
  from: string;
  to: string;
  series: NamedSeries;
}

/** A container as the host's latest scrape showed it (bytes, percent of one core, Unix seconds). */
export type ContainerView = ContainerInventory;
/** A probed service as the host's latest scrape showed it (seconds; certificate expiry in Unix seconds). */
export type ServiceView = ServiceInventory;

/** `GET /targets/:id/inventory`: the host's containers and services; times null when none were ever seen. */
export interface InventoryView {
  scraped_at: string | null;
  changed_at: string | null;
  containers: ContainerView[];
  services: ServiceView[];
}

/** One host of the fleet view (the fleet page and its live stream). */
export interface FleetRowView {
  id: number;
  name: string;
  /** The metrics URL, its password masked. */
  url: string;
  labels: Record<string, string>;
  state: TargetState;
  paused: boolean;
  state_changed_at: string;
  interval_seconds: number;
  /** Where an enrolled host said it runs (null: not said). */
  provider: string | null;
  region: string | null;
  /** Waiting for an admin's approval (also paused). */
  pending_approval: boolean;
  /** Its exporter connects out; the URL is the console's relay. */
  connects_out: boolean;
  /** The newest scrape within two days, or null. */
  heartbeat: { time: string; up: boolean; error: string | null } | null;
  /** The figures of the newest successful scrape (older than `heartbeat` when the last scrapes failed), or null. */
  figures: Omit<HeartbeatView, 'up' | 'duration_seconds' | 'error' | 'net_interfaces' | 'container_figures' | 'probe_results'> | null;
}

/**
 * What `GET /fleet/stream` (Server-Sent Events) sends: first a `snapshot` of
 * every host, then an `update` with the hosts that changed or appeared and the
 * ids of those removed, whenever something did. `server_time` is Unix ms.
 */
/**
 * The fleet stream's events. `scrapers` is how many scraper replicas are live:
 * 0 means nobody is watching and the states are as last seen.
 */
export type FleetEvent =
  | { type: 'snapshot'; rows: FleetRowView[]; scrapers: number; server_time: number }
  | { type: 'update'; rows: FleetRowView[]; removed: number[]; scrapers: number; server_time: number };

/** `GET /scrapers`: one scraper replica (times ISO 8601, by the database's clock). */
export interface ScraperView {
  /** `<hostname>-<pid>-<random>`, made at each start. */
  id: string;
  hostname: string;
  pid: number;
  version: string;
  started_at: string;
  last_seen: string;
  /** Seen within VIGIL_SCRAPER_MEMBER_TIMEOUT. */
  live: boolean;
  /** Unpaused targets it scrapes, judges and notifies. */
  owned_targets: number;
}

/** `POST /targets/scrape` and `POST /targets/:id/scrape`: what one scrape gave, as the scraper would record it (nothing is written). */
export interface ScrapeTestView {
  /** The URL scraped, its password masked. */
  url: string;
  time: string;
  up: boolean;
  duration_seconds: number;
  /** Why it failed (what to check), or null. */
  error: string | null;
  /** The heartbeat's figures (cpu % is null: it needs two scrapes), or null when it failed. */
  figures: HeartbeatFigures | null;
  /** The containers and services the scrape shows, or null when it failed. */
  inventory: Inventory | null;
}

/** A notification channel; its URL masked (a webhook's path is its secret). */
export interface ChannelView {
  id: number;
  name: string;
  kind: 'webhook' | 'slack' | 'alertmanager' | 'discord' | 'teams' | 'ntfy' | 'gotify' | 'pushover' | 'telegram' | 'email';
  url: string;
  enabled: boolean;
  created_at: string;
  /** Which alerts it receives (label matchers; empty: all) and the least severity. */
  matchers: string;
  min_severity: string;
  /** How alerts are grouped into one message, and when: Alertmanager's group_by, group_wait, group_interval, repeat_interval. */
  group_by: string;
  group_wait_seconds: number;
  group_interval_seconds: number;
  repeat_interval_seconds: number;
}

/** A terminal session (`GET /api/v1/terminal-sessions`): who opened what, when, and how it ended. */
export interface TerminalSessionView {
  id: string;
  user_id: number | null;
  user_name: string;
  target_id: number | null;
  target_name: string;
  kind: 'shell' | 'exec' | 'logs';
  container: string | null;
  client_ip: string | null;
  started_at: string;
  /** null while it is open. */
  ended_at: string | null;
  /** Keystrokes sent to the host and output received, bytes. */
  bytes_in: number;
  bytes_out: number;
  exit_code: number | null;
  exit_signal: string | null;
  end_reason: string | null;
  /** Its asciicast v2 recording (`GET …/recording`), when it was recorded and has ended; else null. */
  recording: { url: string } | null;
}

/**
 * `GET /targets/:id/uptime`: availability, up / (up + down) from 0 to 1 (null
 * with neither), and the seconds in each state (paused, stopped and unknown
 * are not counted as downtime), over 24 h, 7 d, 30 d and 90 d, and per UTC day
 * for the last 90 days (oldest first).
 */
export interface UptimeView {
  windows: Record<'24h' | '7d' | '30d' | '90d', UptimeFigures>;
  days: (UptimeFigures & { day: string })[];
}

/** Successes over results of one probe, and their ratio (null without results). */
export interface ProbeFigures {
  ok: number;
  total: number;
  availability: number | null;
}

/** A probed service's availability: its results' success ratio over 24 h, 7 d, 30 d, 90 d and per UTC day for 90 days. */
export interface ProbeUptimeView {
  name: string;
  windows: Record<'24h' | '7d' | '30d' | '90d', ProbeFigures>;
  days: (ProbeFigures & { day: string })[];
}

/** `GET /api/v1/targets/:id/uptime`: the host's availability and each probe's. */
export interface TargetUptimeResponse extends UptimeView {
  probes: ProbeUptimeView[];
}

/** Seconds in each state, and the availability. */
export interface UptimeFigures {
  seconds: { up: number; down: number; stopped: number; paused: number; unknown: number };
  availability: number | null;
}
