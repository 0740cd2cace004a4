import { type Kysely, sql } from 'kysely';
import type { Database, Heartbeat, NewHeartbeat } from './database.js';

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
 * The newest heartbeat of each target within the last `withinSeconds` (default
 * two days): one primary-key probe per target (a lateral join), not a scan of
 * every heartbeat in the window as DISTINCT ON would need.
 */
export async function latestHeartbeats(
  db: Kysely<Database>,
  withinSeconds = 172_800,
  { successfulOnly = false, targetIds }: { successfulOnly?: boolean; targetIds?: readonly number[] } = {},
): Promise<Heartbeat[]> {
  if (targetIds?.length === 0) return [];
  const since = new Date(Date.now() - withinSeconds * 1000);
  const { rows } = await sql<Heartbeat>`
    select h.*
    from targets t
    cross join lateral (
      select * from heartbeats
      where target_id = t.id and time > ${since} ${successfulOnly ? sql`and up` : sql``}
      order by time desc
      limit 1
    ) h
    ${targetIds ? sql`where t.id = any(${[...targetIds]}::int[])` : sql``}
    order by t.id`.execute(db);
  return rows;
}

/** A target's heartbeats, newest first. */
export async function recentHeartbeats(db: Kysely<Database>, targetId: number, limit = 100): Promise<Heartbeat[]> {
  return db.selectFrom('heartbeats').selectAll().where('target_id', '=', targetId).orderBy('time', 'desc').limit(limit).execute();
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
