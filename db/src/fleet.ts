import { type Kysely, sql } from 'kysely';
import {
  type Database,
  type Heartbeat,
  type NamedHeartbeatFigures,
  SCALAR_HEARTBEAT_COLUMNS,
  TARGET_COLUMNS,
  type Target,
} from './database.js';
import {
  columnsOf,
  heartbeatOf,
  NEWEST_HEARTBEAT_WINDOW_SECONDS,
  newestHeartbeatOf,
  newestHeartbeatSince,
  prefixedColumns,
} from './heartbeats.js';

/** One target of the fleet view: its newest heartbeat (null: none within the window) and its newest successful one, whose figures the view shows. */
export interface FleetEntry {
  target: Target;
  heartbeat: Pick<Heartbeat, 'time' | 'up' | 'error'> | null;
  /** Its figures but the per-interface and per-container ones. */
  figures: Omit<Heartbeat, NamedHeartbeatFigures> | null;
}

const LATEST_COLUMNS = ['time', 'up', 'error'] as const satisfies readonly (keyof Heartbeat)[];

/**
 * Every target by name with its newest heartbeat and its newest successful
 * one within `withinSeconds` (default two days), in one query: two
 * primary-key probes per target (see {@link newestHeartbeatOf}).
 */
export async function fleetSnapshot(db: Kysely<Database>, withinSeconds = NEWEST_HEARTBEAT_WINDOW_SECONDS): Promise<FleetEntry[]> {
  const since = newestHeartbeatSince(withinSeconds);
  const { rows } = await sql<Record<string, unknown>>`
    select ${sql.join(TARGET_COLUMNS.map((c) => sql.ref(`t.${c}`)))}, ${prefixedColumns('h', LATEST_COLUMNS)}, ${prefixedColumns('f', SCALAR_HEARTBEAT_COLUMNS)}
    from targets t
    left join ${newestHeartbeatOf('t.id', since, { columns: LATEST_COLUMNS })} h on true
    left join ${newestHeartbeatOf('t.id', since, { upOnly: true })} f on true
    order by t.name`.execute(db);
  return rows.map((r) => {
    const target = columnsOf<Target>(r, TARGET_COLUMNS);
    return {
      target,
      heartbeat: r.h_time === null ? null : columnsOf<FleetEntry['heartbeat'] & object>(r, LATEST_COLUMNS, 'h_'),
      figures: heartbeatOf(r, target.id, 'f_', SCALAR_HEARTBEAT_COLUMNS),
    };
  });
}
