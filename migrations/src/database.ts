import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Liveness of a target as the scraper last decided it. */
export type TargetState = 'unknown' | 'up' | 'down';

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
  created_at: CreatedAt;
}

/**
 * `heartbeats`: one row per scrape, partitioned by day on `time` (the scrape's
 * start). Figures are null when the target did not expose the samples they
 * derive from (or, for cpu, on the first scrape: it needs two samples).
 */
export interface HeartbeatTable {
  target_id: number;
  time: ColumnType<Date, Date | string, never>;
  up: boolean;
  duration_seconds: number;
  error: string | null;
  samples: number | null;
  cpu_usage_percent: number | null;
  memory_used_bytes: number | null;
  memory_total_bytes: number | null;
  disk_used_bytes: number | null;
  disk_total_bytes: number | null;
  load1: number | null;
  uptime_seconds: number | null;
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

/** The whole schema, as Kysely sees it. */
export interface Database {
  targets: TargetTable;
  heartbeats: HeartbeatTable;
  events: EventTable;
}

export type Target = Selectable<TargetTable>;
export type NewTarget = Insertable<TargetTable>;
export type TargetUpdate = Updateable<TargetTable>;
export type Heartbeat = Selectable<HeartbeatTable>;
export type NewHeartbeat = Insertable<HeartbeatTable>;
export type Event = Selectable<EventTable>;
export type NewEvent = Insertable<EventTable>;
