import { maskUrl } from '@vigil/core/secrets';
import {
  type Database,
  deliveriesOfEvents,
  type Event,
  type EventDelivery,
  getTarget,
  type Heartbeat,
  latestHeartbeats,
  listEvents,
  listTargets,
  recentHeartbeats,
  type Target,
} from '@vigil/db';
import type { Kysely } from 'kysely';

/** One row of the fleet overview: a target with its newest heartbeat (null: never scraped in two days) and the figures of its newest successful one. */
export interface FleetRow {
  target: Target;
  /** The newest successful heartbeat, whose figures the row shows (older than `heartbeat` when the last scrapes failed). */
  figures: Heartbeat | null;
  heartbeat: Heartbeat | null;
}

/** The fleet overview: every target by name with its newest heartbeat, and counts by state. */
export async function loadFleet(db: Kysely<Database>): Promise<{ rows: FleetRow[]; counts: Record<Target['state'], number> }> {
  const [targets, latest, successful] = await Promise.all([
    listTargets(db),
    latestHeartbeats(db),
    latestHeartbeats(db, undefined, { successfulOnly: true }),
  ]);
  const byTarget = new Map(latest.map((h) => [h.target_id, h]));
  const figuresOf = new Map(successful.map((h) => [h.target_id, h]));
  const counts = { up: 0, down: 0, unknown: 0, stopped: 0 };
  for (const t of targets) counts[t.state]++;
  return {
    rows: targets.map((target) => ({
      target: shown(target),
      heartbeat: byTarget.get(target.id) ?? null,
      figures: figuresOf.get(target.id) ?? null,
    })),
    counts,
  };
}

/** A host's page: the target, its recent heartbeats (newest first) and events; null when no such target. */
export async function loadHost(
  db: Kysely<Database>,
  id: number,
  limit = 120,
): Promise<{ target: Target; heartbeats: Heartbeat[]; events: Event[] } | null> {
  const target = await getTarget(db, id);
  if (!target) return null;
  const [heartbeats, events] = await Promise.all([recentHeartbeats(db, id, limit), listEvents(db, { targetId: id, limit: 50 })]);
  return { target: shown(target), heartbeats, events };
}

/** A target as pages get it: its URL with any password masked (the page, and so the browser, never holds it). */
function shown(target: Target): Target {
  return { ...target, url: maskUrl(target.url) };
}

/** An event with its target's name and how its notifications fared (by channel name; empty when none was due). */
export type EventRow = Event & { target_name: string; deliveries: EventDelivery[] };

/** The events page: the newest events, each with its notification deliveries. */
export async function loadEvents(db: Kysely<Database>, limit = 200): Promise<EventRow[]> {
  const events = await listEvents(db, { limit });
  const deliveries = await deliveriesOfEvents(
    db,
    events.map((e) => e.id),
  );
  return events.map((e) => ({ ...e, deliveries: deliveries.get(e.id) ?? [] }));
}
