import type { AlertRuleSpec, Severity } from '@vigil/core/alerts';
import type { ChannelKind } from '@vigil/core/channels';
import type { HostMetadata } from '@vigil/core/enrolment';
import type { HeartbeatFigures } from '@vigil/core/heartbeat';
import type { ContainerInventory, ServiceInventory } from '@vigil/core/inventory';
import type { Role, TargetState } from '@vigil/core/states';
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

export type { Role, TargetState } from '@vigil/core/states';

/** A timestamp column: read as a Date, written as a Date or an ISO string, defaulted by the database. */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

/**
 * `targets`: what the scraper polls. `url` is the full metrics URL
 * (`http://host:9110/metrics`); `interval_seconds` and `timeout_seconds` follow
 * Prometheus' `scrape_interval` / `scrape_timeout`.
 */
export interface TargetTable {
  id: Generated<number>;
  name: string;
  url: string;
  interval_seconds: ColumnType<number, number | undefined, number>;
  timeout_seconds: ColumnType<number, number | undefined, number>;
  /** Free-form labels, as in Prometheus' static_configs. */
  labels: ColumnType<Record<string, string>, string | undefined, string>;
  /** Who added it: `cli`, `start` (the local exporter), `console`, ... */
  source: ColumnType<string, string | undefined, string>;
  state: ColumnType<TargetState, TargetState | undefined, TargetState>;
  state_changed_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** A paused target is not scraped and raises no alerts. */
  paused: ColumnType<boolean, boolean | undefined, boolean>;
  /** Sent as `Authorization: Bearer` to this target's exporter instead of VIGIL_EXPORTER_TOKEN; a secret, never shown. */
  token: ColumnType<string | null, string | null | undefined, string | null>;
  /** The target's PTY socket (`ws://host:port/pty`) when not beside its metrics; null: the metrics URL's host and port. */
  pty_url: ColumnType<string | null, string | null | undefined, string | null>;
  /** The scraper replica that owns its scrapes and liveness (`scrapers.id`); null until one takes it. */
  scraper_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  /** An enrolled host's key: the RFC 7638 thumbprint of its Ed25519 public key (unique) and the JWK; null for a target added by hand. */
  key_thumbprint: ColumnType<string | null, string | null | undefined, string | null>;
  public_key: ColumnType<Record<string, string> | null, string | null | undefined, string | null>;
  /** What an enrolled exporter says of its host (core's HostMetadata): provider, region, OS, kernel, CPU, memory… */
  metadata: ColumnType<HostMetadata, string | undefined, string>;
  /** Enrolled with a token that requires approval, and not approved yet: also paused, so nothing scrapes it. */
  pending_approval: ColumnType<boolean, boolean | undefined, boolean>;
  /** Its exporter connects out to the console and is scraped over that connection (its url is the console's relay). */
  connects_out: ColumnType<boolean, boolean | undefined, boolean>;
  enrolment_token_id: ColumnType<number | null, number | null | undefined, number | null>;
  enrolled_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** `enrolment_tokens`: handed to new hosts so they enrol themselves; only the SHA-256 and the first 8 characters are kept. */
export interface EnrolmentTokenTable {
  id: Generated<number>;
  name: string;
  token_hash: string;
  prefix: string;
  /** Labels every host enrolled with it gets (its own labels win on a clash). */
  labels: ColumnType<Record<string, string>, string | undefined, string>;
  require_approval: ColumnType<boolean, boolean | undefined, boolean>;
  /** How many hosts it may enrol; null: no limit. */
  max_uses: ColumnType<number | null, number | null | undefined, number | null>;
  uses: ColumnType<number, number | undefined, number>;
  expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_by: string;
  created_at: CreatedAt;
}

/** `enrolment_nonces`: the `jti` of signed enrolment requests until they expire (replays are refused). */
export interface EnrolmentNonceTable {
  jti: string;
  expires_at: ColumnType<Date, Date | string, Date | string>;
}

/**
 * `heartbeats`: one row per scrape, partitioned by day on `time` (the scrape's
 * start). Figures are null when the target did not expose the samples they
 * derive from (or, for cpu, on the first scrape: it needs two samples).
 */
export interface HeartbeatTable extends HeartbeatFigures {
  target_id: number;
  time: ColumnType<Date, Date | string, never>;
  up: boolean;
  duration_seconds: number;
  error: string | null;
}

/** `events`: what happened to a target, newest last (state transitions for now). */
export interface EventTable {
  id: Generated<number>;
  target_id: number;
  time: CreatedAt;
  type: string;
  from_state: TargetState | null;
  to_state: TargetState | null;
  message: string;
}

export type { ChannelKind } from '@vigil/core/channels';

/** `notification_channels`: each is sent every target's down and recovery events from its creation on. */
export interface NotificationChannelTable {
  id: Generated<number>;
  name: string;
  kind: ChannelKind;
  /** The webhook URL, or the Alertmanager's base URL (`http://alertmanager:9093`). */
  url: string;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: CreatedAt;
  /** Which alerts it receives: label matchers (core's alerts.ts; empty: all) and the least severity. */
  matchers: ColumnType<string, string | undefined, string>;
  min_severity: ColumnType<string, string | undefined, string>;
  /** The labels alerts are grouped by into one message, comma-separated (default `alertname`). */
  group_by: ColumnType<string, string | undefined, string>;
  /** Alertmanager's group_wait, group_interval and repeat_interval, seconds. */
  group_wait_seconds: ColumnType<number, number | undefined, number>;
  group_interval_seconds: ColumnType<number, number | undefined, number>;
  repeat_interval_seconds: ColumnType<number, number | undefined, number>;
  /** The scraper replica sending its grouped host events now, and until when. */
  claimed_by: ColumnType<string | null, string | null | undefined, string | null>;
  claimed_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** `alert_rules`: a rule's name and its spec (core's alertRuleSchema). */
export interface AlertRuleTable {
  id: Generated<number>;
  name: string;
  spec: ColumnType<AlertRuleSpec, string, string>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** Where an alert is: its condition holds but not yet for long enough, it fires, or it is over (kept as history). */
export type AlertState = 'pending' | 'firing' | 'resolved';

/** `alerts`: one per rule, target and subject while open; resolved ones are the history. */
export interface AlertTable {
  id: Generated<number>;
  rule_id: number;
  target_id: number;
  /** '' for the host, `container:<name>` or `probe:<name>`. */
  subject: ColumnType<string, string | undefined, string>;
  state: AlertState;
  severity: Severity;
  summary: string;
  value: ColumnType<number | null, number | null | undefined, number | null>;
  /** The labels silences and routes match (core's alertLabels), as when it started. */
  labels: ColumnType<Record<string, string>, string | undefined, string>;
  started_at: ColumnType<Date, Date | string, Date | string>;
  fired_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  resolved_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** Held back while its host was down, stopped or paused. */
  inhibited: ColumnType<boolean, boolean | undefined, boolean>;
  /** The silence that held it back at the last notification pass, or null. */
  silenced_by: ColumnType<number | null, number | null | undefined, number | null>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** `alert_sends`: what a channel was told of an alert. */
export interface AlertSendTable {
  alert_id: number;
  channel_id: number;
  firing_sent_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  resolved_sent_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** `alert_groups`: a channel's group of alerts (by its group_by labels) and when it is next due. */
export interface AlertGroupTable {
  channel_id: number;
  group_key: string;
  labels: ColumnType<Record<string, string>, string | undefined, string>;
  next_flush_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_flush_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  claimed_by: ColumnType<string | null, string | null | undefined, string | null>;
  claimed_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** `silences`: alerts whose labels match are not sent from starts_at to ends_at; with a cron `schedule`, for `duration_seconds` from each time it names (a maintenance window). */
export interface SilenceTable {
  id: Generated<number>;
  matchers: string;
  starts_at: ColumnType<Date, Date | string, Date | string>;
  ends_at: ColumnType<Date, Date | string, Date | string>;
  schedule: ColumnType<string | null, string | null | undefined, string | null>;
  duration_seconds: ColumnType<number | null, number | null | undefined, number | null>;
  created_by: string;
  comment: ColumnType<string, string | undefined, string>;
  created_at: CreatedAt;
}

/** Whether a delivery is still to be (re)tried, went through, or was given up. */
export type DeliveryStatus = 'pending' | 'sent' | 'failed';

/** `notification_deliveries`: one event to one channel, retried with backoff until sent or given up. */
export interface NotificationDeliveryTable {
  id: Generated<number>;
  channel_id: number;
  event_id: number;
  status: ColumnType<DeliveryStatus, DeliveryStatus | undefined, DeliveryStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  sent_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** The scraper replica sending it now, and until when its claim holds (past that, another may). */
  claimed_by: ColumnType<string | null, string | null | undefined, string | null>;
  claimed_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: CreatedAt;
}

/** `users`: who may sign in to the console, with an argon2id password hash (PHC string). */
export interface UserTable {
  id: Generated<number>;
  name: string;
  role: Role;
  password_hash: string;
  created_at: CreatedAt;
  password_changed_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** `sessions`: one signed-in browser; the cookie holds a random token, the table only its SHA-256. */
export interface SessionTable {
  id_hash: string;
  user_id: number;
  created_at: CreatedAt;
  last_seen_at: ColumnType<Date, Date | string | undefined, Date | string>;
  expires_at: ColumnType<Date, Date | string, Date | string>;
  client_address: string | null;
  user_agent: string | null;
  /** The password was right; the second factor (a TOTP or recovery code) is still to come. Such a session signs in nobody. */
  second_factor_pending: ColumnType<boolean, boolean | undefined, boolean>;
}

/** `user_totp`: a user's TOTP (RFC 6238) secret, base32; `pending_secret` while it is being set up; `last_step` the last 30 s step accepted. */
export interface UserTotpTable {
  user_id: number;
  secret: string | null;
  pending_secret: string | null;
  enabled_at: Date | null;
  last_step: ColumnType<string | null, number | string | null, number | string | null>;
}

/** `recovery_codes`: single-use codes for a user who lost their authenticator, stored as SHA-256. */
export interface RecoveryCodeTable {
  user_id: number;
  code_hash: string;
  created_at: CreatedAt;
  used_at: Date | null;
}

/** `user_identities`: an account at an OpenID Connect provider (issuer, `sub`) linked to a user. */
export interface UserIdentityTable {
  issuer: string;
  subject: string;
  user_id: number;
  created_at: CreatedAt;
  last_sign_in_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** `settings`: console-wide settings an admin changes, by key. */
export interface SettingTable {
  key: string;
  value: ColumnType<unknown, string, string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** `api_keys`: a key acts as its user, with that user's role; only its SHA-256 and a display prefix are kept. */
export interface ApiKeyTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  key_hash: string;
  /** The key's first characters (`vgl_AbCd`), to tell keys apart in listings. */
  prefix: string;
  created_at: CreatedAt;
  expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** `audit_log`: one row per admin or operator action: who, what, when, from where, before and after. */
export interface AuditLogTable {
  id: Generated<string>;
  time: CreatedAt;
  user_id: number | null;
  /** The user's name when it acted (kept after the user is removed). */
  user_name: string;
  /** `user.create`, `target.pause`, `api_key.revoke`, … */
  action: string;
  object_type: string;
  object_id: string | null;
  client_address: string | null;
  before: ColumnType<unknown, string | null | undefined, never>;
  after: ColumnType<unknown, string | null | undefined, never>;
}

/** `terminal_sessions`: one row per terminal or log stream opened through the console. */
export interface TerminalSessionTable {
  id: Generated<string>;
  user_id: number | null;
  /** The user's name when it opened (kept after the user is removed). */
  user_name: string;
  target_id: number | null;
  target_name: string;
  kind: 'shell' | 'exec' | 'logs';
  container: string | null;
  /** The browser's Origin header, and its address. */
  origin: string | null;
  client_ip: string | null;
  started_at: CreatedAt;
  ended_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** Keystrokes sent to the host, and output received from it, bytes. */
  bytes_in: ColumnType<string, number | undefined, number>;
  bytes_out: ColumnType<string, number | undefined, number>;
  exit_code: number | null;
  exit_signal: string | null;
  /** Why it ended: exit, closed by the user, grace period over, signed out, the host's limits… */
  end_reason: string | null;
  /** The asciicast v2 file's path, when recorded. */
  recording: string | null;
}

/** `target_inventory`: a target's containers and services as its latest scrape showed them (core's Inventory shapes). */
export interface TargetInventoryTable {
  target_id: number;
  containers: ColumnType<ContainerInventory[], string, string>;
  services: ColumnType<ServiceInventory[], string, string>;
  /** When the scrape that wrote this row started. */
  scraped_at: ColumnType<Date, Date | string, Date | string>;
  /** When the set, or a state, health, restart count or probe result, last changed. */
  changed_at: ColumnType<Date, Date | string, Date | string>;
  /** What of the inventory is news (core's inventoryFingerprint): a write with the same one keeps `changed_at`. */
  fingerprint: string | null;
}

/**
 * `heartbeats_hourly`: one row per target and UTC hour, from that hour's
 * heartbeats. cpu, memory and disk are percent (memory used / total, disk
 * used / (used + avail) as df), load1 as is; each min/avg/max over the up
 * scrapes, null when none carried the figure.
 */
export interface HeartbeatHourlyTable {
  target_id: number;
  hour: ColumnType<Date, Date | string, never>;
  scrapes: number;
  up_scrapes: number;
  cpu_min: number | null;
  cpu_avg: number | null;
  cpu_max: number | null;
  memory_min: number | null;
  memory_avg: number | null;
  memory_max: number | null;
  disk_min: number | null;
  disk_avg: number | null;
  disk_max: number | null;
  load1_min: number | null;
  load1_avg: number | null;
  load1_max: number | null;
  net_rx_min: number | null;
  net_rx_avg: number | null;
  net_rx_max: number | null;
  net_tx_min: number | null;
  net_tx_avg: number | null;
  net_tx_max: number | null;
  disk_read_min: number | null;
  disk_read_avg: number | null;
  disk_read_max: number | null;
  disk_write_min: number | null;
  disk_write_avg: number | null;
  disk_write_max: number | null;
  disk_reads_min: number | null;
  disk_reads_avg: number | null;
  disk_reads_max: number | null;
  disk_writes_min: number | null;
  disk_writes_avg: number | null;
  disk_writes_max: number | null;
  temperature_min: number | null;
  temperature_avg: number | null;
  temperature_max: number | null;
  /** Each interface's hourly average: {device: [rx, tx]} bytes per second. */
  net_interfaces: Record<string, [number, number]> | null;
  /** Each container's hourly average: {name: [cpu %, memory bytes, rx, tx]}. */
  container_figures: Record<string, (number | null)[]> | null;
  /** Each probe's hour: {service: [successes, results]}. */
  probe_results: Record<string, [number, number]> | null;
}

/** `scrapers`: one row per running scraper replica; `last_seen` is the database's clock at its latest membership heartbeat. */
export interface ScraperTable {
  /** Random, made at each start (`<hostname>-<pid>-<random>`). */
  id: string;
  hostname: string;
  pid: number;
  version: string;
  started_at: CreatedAt;
  last_seen: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** `login_failures`: one row per failed sign-in, per key (`u:<account>` or `a:<address>`), shared by the console's replicas. */
export interface LoginFailureTable {
  key: string;
  at: CreatedAt;
}

/** One group of a status page: its name, and the labels a host must have to be in it (all of them; none: every host). */
export interface StatusPageGroup {
  name: string;
  selector: Record<string, string>;
}

/** `status_pages`: a public, read-only page of hosts' states and availability, at /status/<slug>. */
export interface StatusPageTable {
  id: Generated<number>;
  slug: string;
  title: string;
  groups: ColumnType<StatusPageGroup[], string, string>;
  /** A note or incident message shown at the top, or null. */
  note: string | null;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** The whole schema, as Kysely sees it. */
export interface Database {
  targets: TargetTable;
  heartbeats: HeartbeatTable;
  events: EventTable;
  notification_channels: NotificationChannelTable;
  notification_deliveries: NotificationDeliveryTable;
  users: UserTable;
  sessions: SessionTable;
  api_keys: ApiKeyTable;
  audit_log: AuditLogTable;
  target_inventory: TargetInventoryTable;
  heartbeats_hourly: HeartbeatHourlyTable;
  terminal_sessions: TerminalSessionTable;
  scrapers: ScraperTable;
  login_failures: LoginFailureTable;
  status_pages: StatusPageTable;
  user_totp: UserTotpTable;
  recovery_codes: RecoveryCodeTable;
  settings: SettingTable;
  user_identities: UserIdentityTable;
  alert_rules: AlertRuleTable;
  alerts: AlertTable;
  alert_sends: AlertSendTable;
  alert_groups: AlertGroupTable;
  silences: SilenceTable;
  enrolment_tokens: EnrolmentTokenTable;
  enrolment_nonces: EnrolmentNonceTable;
}

export type Target = Selectable<TargetTable>;
export type NewTarget = Insertable<TargetTable>;
export type TargetUpdate = Updateable<TargetTable>;
export type Heartbeat = Selectable<HeartbeatTable>;
export type NewHeartbeat = Insertable<HeartbeatTable>;
export type Event = Selectable<EventTable>;
export type NewEvent = Insertable<EventTable>;
export type NotificationChannel = Selectable<NotificationChannelTable>;
export type NotificationDelivery = Selectable<NotificationDeliveryTable>;
export type User = Selectable<UserTable>;
export type Session = Selectable<SessionTable>;
export type ApiKey = Selectable<ApiKeyTable>;
export type TerminalSession = Selectable<TerminalSessionTable>;
export type AuditEntry = Selectable<AuditLogTable>;
export type TargetInventory = Selectable<TargetInventoryTable>;
export type HeartbeatHourly = Selectable<HeartbeatHourlyTable>;
export type ScraperMember = Selectable<ScraperTable>;
export type StatusPage = Selectable<StatusPageTable>;
export type AlertRuleRow = Selectable<AlertRuleTable>;
export type Alert = Selectable<AlertTable>;
export type Silence = Selectable<SilenceTable>;
export type EnrolmentToken = Selectable<EnrolmentTokenTable>;

/** The columns of `targets`, for queries that name them (reading rows whole, without key scans). */
export const TARGET_COLUMNS = [
  'id',
  'name',
  'url',
  'interval_seconds',
  'timeout_seconds',
  'labels',
  'source',
  'state',
  'state_changed_at',
  'paused',
  'token',
  'pty_url',
  'scraper_id',
  'created_at',
  'key_thumbprint',
  'public_key',
  'metadata',
  'pending_approval',
  'connects_out',
  'enrolment_token_id',
  'enrolled_at',
] as const satisfies readonly (keyof TargetTable)[];

/** The columns of `heartbeats` but its target's id. */
export const HEARTBEAT_COLUMNS = [
  'time',
  'up',
  'duration_seconds',
  'error',
  'samples',
  'cpu_usage_percent',
  'memory_used_bytes',
  'memory_total_bytes',
  'disk_used_bytes',
  'disk_total_bytes',
  'disk_avail_bytes',
  'load1',
  'uptime_seconds',
  'pty_sessions',
  'net_receive_bytes_per_second',
  'net_transmit_bytes_per_second',
  'net_interfaces',
  'disk_read_bytes_per_second',
  'disk_written_bytes_per_second',
  'disk_reads_per_second',
  'disk_writes_per_second',
  'temperature_celsius',
  'container_figures',
  'probe_results',
] as const satisfies readonly (keyof HeartbeatTable)[];

/** The per-name figures of a heartbeat (JSON, per interface and per container): left out where only the host's figures are shown. */
export type NamedHeartbeatFigures = 'net_interfaces' | 'container_figures' | 'probe_results';

/** {@link HEARTBEAT_COLUMNS} but the per-name JSON figures: what a fleet view reads for each target. */
export const SCALAR_HEARTBEAT_COLUMNS = HEARTBEAT_COLUMNS.filter(
  (c): c is Exclude<(typeof HEARTBEAT_COLUMNS)[number], NamedHeartbeatFigures> =>
    c !== 'net_interfaces' && c !== 'container_figures' && c !== 'probe_results',
);
