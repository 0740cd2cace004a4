import { maskUrl } from '@vigil/core/secrets';
import {
  type Database,
  deliveriesOfEvents,
  type Event,
  type EventDelivery,
  type FleetEntry,
  fleetSnapshot,
  getTarget,
  type Heartbeat,
  listEvents,
  type NamedHeartbeatFigures,
  queryEvents,
  recentHeartbeats,
  SCALAR_HEARTBEAT_COLUMNS,
  type Target,
} from '@vigil/db';
import type { Kysely } from 'kysely';
import type { FleetRowView } from '$lib/api';

/** A fleet entry as pages and the stream show it: times as ISO strings, the URL's password masked. */
export function fleetRowView({ target: t, heartbeat: h, figures: f }: FleetEntry): FleetRowView {
  return {
    id: t.id,
    name: t.name,
    url: maskUrl(t.url),
    labels: t.labels,
    state: t.state,
    paused: t.paused,
    state_changed_at: t.state_changed_at.toISOString(),
    interval_seconds: t.interval_seconds,
    provider: t.metadata?.provider ?? null,
    region: t.metadata?.region ?? null,
    pending_approval: t.pending_approval ?? false,
    connects_out: t.connects_out ?? false,
    heartbeat: h && { time: h.time.toISOString(), up: h.up, error: h.error },
    figures: f && {
      time: f.time.toISOString(),
      cpu_usage_percent: f.cpu_usage_percent,
      memory_used_bytes: f.memory_used_bytes,
      memory_total_bytes: f.memory_total_bytes,
      disk_used_bytes: f.disk_used_bytes,
      disk_total_bytes: f.disk_total_bytes,
      disk_avail_bytes: f.disk_avail_bytes,
      load1: f.load1,
      uptime_seconds: f.uptime_seconds,
      pty_sessions: f.pty_sessions,
      net_receive_bytes_per_second: f.net_receive_bytes_per_second,
      net_transmit_bytes_per_second: f.net_transmit_bytes_per_second,
      disk_read_bytes_per_second: f.disk_read_bytes_per_second,
      disk_written_bytes_per_second: f.disk_written_bytes_per_second,
      disk_reads_per_second: f.disk_reads_per_second,
      disk_writes_per_second: f.disk_writes_per_second,
      temperature_celsius: f.temperature_celsius,
    },
  };
}

/** The fleet overview: every target by name with its newest heartbeat and newest figures, in one query. */
export async function loadFleet(db: Kysely<Database>): Promise<FleetRowView[]> {
  return (await fleetSnapshot(db)).map(fleetRowView);
}

/** A host's page: the target, its recent heartbeats (newest first) and events; null when no such target. */
export async function loadHost(
  db: Kysely<Database>,
  id: number,
  limit = 120,
): Promise<{ target: ReturnType<typeof shown>; heartbeats: Omit<Heartbeat, NamedHeartbeatFigures>[]; events: Event[] } | null> {
  const target = await getTarget(db, id);
  if (!target) return null;
  // The host's own figures only: the per-interface and per-container ones come as series.
  const [heartbeats, events] = await Promise.all([
    recentHeartbeats(db, id, limit, SCALAR_HEARTBEAT_COLUMNS),
    listEvents(db, { targetId: id, limit: 50 }),
  ]);
  return { target: shown(target), heartbeats, events };
}

/** A target as pages get it: its URL with any password masked (the page, and so the browser, never holds it). */
function shown({ token, ...target }: Target): Omit<Target, 'token'> & { has_token: boolean } {
  return { ...target, url: maskUrl(target.url), has_token: token !== null };
}

/** An event with its target's name and how its notifications fared (by channel name; empty when none was due). */
export type EventRow = Event & { target_name: string; deliveries: EventDelivery[] };

/**
 * The events page: a page of events, newest first (of one host, of one type),
 * each with its notification deliveries, and how many match in all.
 */
export async function loadEvents(
  db: Kysely<Database>,
  query: { targetId?: number; type?: string; page?: number; perPage?: number } = {},
): Promise<{ events: EventRow[]; total: number }> {
  const { items: events, total } = await queryEvents(db, { perPage: 100, ...query });
  const deliveries = await deliveriesOfEvents(
    db,
    events.map((e) => e.id),
  );
  return { events: events.map((e) => ({ ...e, deliveries: deliveries.get(e.id) ?? [] })), total };
}
