import { type Kysely, type RawBuilder, sql } from 'kysely';
import { type Database, HEARTBEAT_COLUMNS, type Heartbeat, type NewHeartbeat } from './database.js';

/**
 * How far back a target's newest heartbeat is looked for, in seconds (two days).
 * A target with none that recent shows none: the fleet, the API, the CLI and the
 * console's pages all read "newest" through {@link newestHeartbeatOf} with this window.
 */
export const NEWEST_HEARTBEAT_WINDOW_SECONDS = 172_800;

/** The start of the newest-heartbeat window ending now. */
export function newestHeartbeatSince(withinSeconds = NEWEST_HEARTBEAT_WINDOW_SECONDS): Date {
  return new Date(Date.now() - withinSeconds * 1000);
}

/**
 * The one "newest heartbeat" query, as a lateral subquery to join on: the newest
 * heartbeat of the target whose id is `targetId` (a column reference such as
 * `t.id`) newer than `since`, optionally its newest successful one (on the
 * partial index of up heartbeats). One primary-key probe per target, not a scan
 * of the window as DISTINCT ON would need.
 * @param columns the heartbeat columns to select (default: every one)
 */
export function newestHeartbeatOf(
  targetId: string,
  since: Date,
  { upOnly = false, columns }: { upOnly?: boolean; columns?: readonly (keyof Heartbeat)[] } = {},
): RawBuilder<unknown> {
  const selected = columns ? sql.join(columns.map((c) => sql.ref(c))) : sql`*`;
  return sql`lateral (
    select ${selected} from heartbeats
    where target_id = ${sql.ref(targetId)} and time > ${since} ${upOnly ? sql`and up` : sql``}
    order by time desc
    limit 1
  )`;
}

/**
 * Reads the columns `columns` of a joined row, each stored under `prefix` + its
 * name, into one object of type `T`. Built whole from known columns: no key scans
 * or deletes per row (V8 keeps such objects fast).
 */
export function columnsOf<T>(row: Readonly<Record<string, unknown>>, columns: readonly (keyof T & string)[], prefix = ''): T {
  const out: Partial<Record<keyof T, unknown>> = {};
  for (const c of columns) out[c] = row[prefix + c];
  return out as T;
}

/** `h.time as h_time, h.up as h_up, …`: a joined heartbeat's columns under a prefix, for {@link columnsOf}. */
export function prefixedColumns(alias: string, columns: readonly string[], prefix = `${alias}_`): RawBuilder<unknown> {
  return sql.join(columns.map((c) => sql`${sql.ref(`${alias}.${c}`)} as ${sql.ref(prefix + c)}`));
}

/** A joined row's heartbeat (see {@link prefixedColumns}), or null when the join found none. */
export function heartbeatOf(
  row: Readonly<Record<string, unknown>>,
  targetId: number,
  prefix: string,
  columns: readonly (keyof Heartbeat & string)[] = HEARTBEAT_COLUMNS,
): Heartbeat | null {
  if (row[`${prefix}time`] === null || row[`${prefix}time`] === undefined) return null;
  const h = columnsOf<Heartbeat>(row, columns, prefix);
  h.target_id = targetId;
  return h;
}

/** Writes heartbeats with one multi-row insert per call (never one insert per row). */
export async function insertHeartbeats(db: Kysely<Database>, rows: NewHeartbeat[]): Promise<void> {
  if (rows.length === 0) return;
  // A retried batch may overlap one that did land: the first write wins.
  await db
    .insertInto('heartbeats')
    .values(rows)
    .onConflict((oc) => oc.columns(['target_id', 'time']).doNothing())
    .execute();
}

/**
 * The newest heartbeat of each target (or of those in `targetIds`) within the
 * last `withinSeconds` (default {@link NEWEST_HEARTBEAT_WINDOW_SECONDS}), by
 * target id; targets with none are left out.
 */
export async function latestHeartbeats(
  db: Kysely<Database>,
  withinSeconds = NEWEST_HEARTBEAT_WINDOW_SECONDS,
  { successfulOnly = false, targetIds }: { successfulOnly?: boolean; targetIds?: readonly number[] } = {},
): Promise<Heartbeat[]> {
  if (targetIds?.length === 0) return [];
  const { rows } = await sql<Heartbeat>`
    select h.*
    from targets t
    cross join ${newestHeartbeatOf('t.id', newestHeartbeatSince(withinSeconds), { upOnly: successfulOnly })} h
    ${targetIds ? sql`where t.id = any(${[...targetIds]}::int[])` : sql``}
    order by t.id`.execute(db);
  return rows;
}

/** A target's heartbeats, newest first: every column, or `columns` (and the target id) only. */
export async function recentHeartbeats(
  db: Kysely<Database>,
  targetId: number,
  limit = 100,
  columns?: readonly (keyof Heartbeat & string)[],
): Promise<Heartbeat[]> {
  const q = db.selectFrom('heartbeats').where('target_id', '=', targetId).orderBy('time', 'desc').limit(limit);
  return (columns ? q.select([...columns, 'target_id'] as never) : q.selectAll()).execute() as Promise<Heartbeat[]>;
}

/** A target's heartbeats from `from` to `to` (inclusive), oldest first, at most `limit`. */
export async function heartbeatsBetween(
  db: Kysely<Database>,
  targetId: number,
  from: Date,
  to: Date,
  limit = 20_000,
): Promise<Heartbeat[]> {
  return db
    .selectFrom('heartbeats')
    .selectAll()
    .where('target_id', '=', targetId)
    .where('time', '>=', from)
    .where('time', '<=', to)
    .orderBy('time')
    .limit(limit)
    .execute();
}
