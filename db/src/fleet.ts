import { type Kysely, sql } from 'kysely';
import { type Database, HEARTBEAT_COLUMNS, type Heartbeat, TARGET_COLUMNS, type Target } from './database.js';

/** One target of the fleet view: its newest heartbeat (null: none within the window) and its newest successful one, whose figures the view shows. */
export interface FleetEntry {
  target: Target;
  heartbeat: Pick<Heartbeat, 'time' | 'up' | 'error'> | null;
  figures: Heartbeat | null;
}

/** The heartbeat columns the fleet shows: its figures. */
const FIGURE_COLUMNS = HEARTBEAT_COLUMNS.filter((c) => c !== 'time' && c !== 'up' && c !== 'error');

/**
 * Every target by name with its newest heartbeat and its newest successful
 * one within `withinSeconds` (default two days), in one query: two
 * primary-key probes per target (lateral joins; the successful one on the
 * partial index of up heartbeats), not a scan of the window.
 */
export async function fleetSnapshot(db: Kysely<Database>, withinSeconds = 172_800): Promise<FleetEntry[]> {
  const since = new Date(Date.now() - withinSeconds * 1000);
  const figures = sql.raw(FIGURE_COLUMNS.map((c) => `f.${c} as f_${c}`).join(', '));
  const { rows } = await sql<Target & Record<string, unknown>>`
    select ${sql.raw(TARGET_COLUMNS.map((c) => `t.${c}`).join(', '))}, h.time as h_time, h.up as h_up, h.error as h_error, f.time as f_time, ${figures}
    from targets t
    left join lateral (
      select time, up, error from heartbeats where target_id = t.id and time > ${since} order by time desc limit 1
    ) h on true
    left join lateral (
      select * from heartbeats where target_id = t.id and time > ${since} and up order by time desc limit 1
    ) f on true
    order by t.name`.execute(db);
  return rows.map((r) => {
    // Objects built whole from known columns: no per-row key scans, no deletes (V8 keeps them fast).
    const target = {} as Record<string, unknown>;
    for (const c of TARGET_COLUMNS) target[c] = r[c];
    let figures: Heartbeat | null = null;
    if (r.f_time !== null) {
      const f: Record<string, unknown> = { target_id: r.id, time: r.f_time, up: true, error: null };
      for (const c of FIGURE_COLUMNS) f[c] = r[`f_${c}`];
      figures = f as unknown as Heartbeat;
    }
    return {
      target: target as unknown as Target,
      heartbeat: r.h_time === null ? null : { time: r.h_time as Date, up: r.h_up as boolean, error: r.h_error as string | null },
      figures,
    };
  });
}
