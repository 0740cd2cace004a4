import { type Kysely, sql } from 'kysely';
import type { Database, ScraperMember } from './database.js';

/**
 * The key of the transaction-level advisory lock under which targets are
 * shared out (`pg_try_advisory_xact_lock`): one replica at a time plans and
 * moves, so two never hand the same target to different members.
 */
export const REBALANCE_LOCK = 7_436_201_001;

/** A scraper replica as it announces itself. */
export interface MemberInfo {
  id: string;
  hostname: string;
  pid: number;
  version: string;
}

/** Adds (or, with the same id, refreshes) a replica's membership row; `started_at` and `last_seen` are the database's now. */
export async function joinScrapers(db: Kysely<Database>, m: MemberInfo): Promise<void> {
  await db
    .insertInto('scrapers')
    .values(m)
    .onConflict((oc) => oc.column('id').doUpdateSet({ last_seen: sql`now()` }))
    .execute();
}

/**
 * A replica's membership heartbeat: sets its `last_seen` to the database's
 * clock and returns that clock (to measure how far the replica's own is off).
 * @returns the database's now, or null when the row is gone (removed as long
 *   dead, or by hand): the replica must join again
 */
export async function beatScraper(db: Kysely<Database>, id: string): Promise<Date | null> {
  const r = await db
    .updateTable('scrapers')
    .set({ last_seen: sql`now()` })
    .where('id', '=', id)
    .returning(sql<Date>`now()`.as('now'))
    .executeTakeFirst();
  return r ? new Date(r.now) : null;
}

/**
 * Removes a replica's row: its targets' `scraper_id` empties with it (the
 * foreign key), so the next share-out hands them on.
 */
export async function leaveScrapers(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('scrapers').where('id', '=', id).execute();
}

/** Removes the rows of replicas not seen for `olderThanSeconds` (by the database's clock). @returns how many */
export async function pruneScrapers(db: Kysely<Database>, olderThanSeconds: number): Promise<number> {
  const r = await db
    .deleteFrom('scrapers')
    .where('last_seen', '<', sql<Date>`now() - make_interval(secs => ${olderThanSeconds})`)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** A replica with whether it is live (seen within the timeout, by the database's clock) and how many unpaused targets it owns. */
export type ScraperStatus = ScraperMember & { live: boolean; owned: number };

/** Every replica's row, live ones first, then by start time. */
export async function listScrapers(db: Kysely<Database>, timeoutSeconds: number): Promise<ScraperStatus[]> {
  const rows = await db
    .selectFrom('scrapers as s')
    .selectAll('s')
    .select(sql<boolean>`s.last_seen > now() - make_interval(secs => ${timeoutSeconds})`.as('live'))
    .select((eb) =>
      eb
        .selectFrom('targets as t')
        .select(eb.fn.countAll<string>().as('n'))
        .whereRef('t.scraper_id', '=', 's.id')
        .where('t.paused', '=', false)
        .as('owned'),
    )
    .orderBy('live', 'desc')
    .orderBy('s.started_at')
    .orderBy('s.id')
    .execute();
  return rows.map((r) => ({ ...r, owned: Number(r.owned ?? 0) }));
}

/** How many replicas are live now, by the database's clock. */
export async function liveScraperCount(db: Kysely<Database>, timeoutSeconds: number): Promise<number> {
  const r = await db
    .selectFrom('scrapers')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('last_seen', '>', sql<Date>`now() - make_interval(secs => ${timeoutSeconds})`)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** The ids of the unpaused targets a replica owns, ascending. */
export async function ownedTargetIds(db: Kysely<Database>, scraperId: string): Promise<number[]> {
  const rows = await db
    .selectFrom('targets')
    .select('id')
    .where('scraper_id', '=', scraperId)
    .where('paused', '=', false)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

/** One target moved to another replica. */
export interface Move {
  targetId: number;
  to: string;
}

/**
 * Shares the targets out among the live replicas, moving as few as it can:
 * with N targets and M replicas each gets ⌊N/M⌋ or ⌈N/M⌉ (the replicas that
 * hold most keep the extra one). Targets of no live replica, and a replica's
 * surplus (its highest ids), go to the replicas short of their share, in id
 * order. Pure: the same input gives the same plan on every replica.
 * @param owned each live replica's targets, by replica id
 * @param orphans targets whose replica is gone (or that never had one)
 */
export function planRebalance(owned: ReadonlyMap<string, readonly number[]>, orphans: readonly number[]): Move[] {
  const members = [...owned.keys()].sort();
  if (members.length === 0) return [];
  const total = orphans.length + members.reduce((n, m) => n + owned.get(m)!.length, 0);
  const base = Math.floor(total / members.length);
  const extra = total % members.length;
  const byLoad = [...members].sort((a, b) => owned.get(b)!.length - owned.get(a)!.length || (a < b ? -1 : 1));
  const quota = new Map(byLoad.map((m, i) => [m, base + (i < extra ? 1 : 0)]));
  const pool = [...orphans];
  for (const m of members) {
    const ids = [...owned.get(m)!].sort((a, b) => a - b);
    const surplus = ids.length - quota.get(m)!;
    if (surplus > 0) pool.push(...ids.slice(ids.length - surplus));
  }
  pool.sort((a, b) => a - b);
  const moves: Move[] = [];
  let next = 0;
  for (const m of members) {
    for (let short = quota.get(m)! - owned.get(m)!.length; short > 0 && next < pool.length; short--)
      moves.push({ targetId: pool[next++]!, to: m });
  }
  return moves;
}

/** What one share-out did. */
export interface Rebalance {
  /** The live replicas it shared among. */
  members: string[];
  moves: Move[];
}

/**
 * Shares the unpaused targets out among the replicas seen within
 * `timeoutSeconds` (by the database's clock), in one transaction under the
 * advisory lock REBALANCE_LOCK (see planRebalance). Safe to call from every
 * replica at once: the others find the lock taken and return null.
 * @returns what it did, or null when another replica holds the lock
 */
export async function rebalanceTargets(db: Kysely<Database>, timeoutSeconds: number): Promise<Rebalance | null> {
  return db.transaction().execute(async (tx) => {
    const lock = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${REBALANCE_LOCK}) as ok`.execute(tx);
    if (!lock.rows[0]?.ok) return null;
    const live = await tx
      .selectFrom('scrapers')
      .select('id')
      .where('last_seen', '>', sql<Date>`now() - make_interval(secs => ${timeoutSeconds})`)
      .execute();
    const owned = new Map<string, number[]>(live.map((m) => [m.id, []]));
    const orphans: number[] = [];
    const targets = await tx.selectFrom('targets').select(['id', 'scraper_id']).where('paused', '=', false).execute();
    for (const t of targets) {
      const list = t.scraper_id === null ? undefined : owned.get(t.scraper_id);
      if (list) list.push(t.id);
      else orphans.push(t.id);
    }
    const moves = planRebalance(owned, orphans);
    const to = new Map<string, number[]>();
    for (const m of moves) {
      const ids = to.get(m.to);
      if (ids) ids.push(m.targetId);
      else to.set(m.to, [m.targetId]);
    }
    for (const [member, ids] of to) await tx.updateTable('targets').set({ scraper_id: member }).where('id', 'in', ids).execute();
    return { members: [...owned.keys()].sort(), moves };
  });
}
