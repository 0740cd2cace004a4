import { type Kysely, sql } from 'kysely';
import type { Database } from './database.js';

/**
 * Seconds until `key` (`u:<account>` or `a:<address>`) may try to sign in
 * again: 0 while it has fewer than `limit` failures within the last
 * `windowSeconds`, else until the oldest of its last `limit` failures leaves
 * the window. By the database's clock, so every console replica agrees.
 */
export async function loginFailureWait(db: Kysely<Database>, key: string, limit: number, windowSeconds: number): Promise<number> {
  const r = await db
    .selectFrom('login_failures')
    .select(sql<number>`extract(epoch from (at + make_interval(secs => ${windowSeconds}) - now()))`.as('wait'))
    .where('key', '=', key)
    .where('at', '>', sql<Date>`now() - make_interval(secs => ${windowSeconds})`)
    .orderBy('at', 'desc')
    .offset(limit - 1)
    .limit(1)
    .executeTakeFirst();
  return r ? Math.max(0, Math.ceil(Number(r.wait))) : 0;
}

/**
 * Records one failed sign-in under each key (now, by the database's clock),
 * and deletes failures that have left the window: the table holds at most
 * what the limits let through in one window.
 */
export async function recordLoginFailure(db: Kysely<Database>, keys: readonly string[], windowSeconds: number): Promise<void> {
  await db.deleteFrom('login_failures').where('at', '<', sql<Date>`now() - make_interval(secs => ${windowSeconds})`).execute();
  if (keys.length)
    await db
      .insertInto('login_failures')
      .values(keys.map((key) => ({ key })))
      .execute();
}

/** Forgets a key's failures (an account that signed in). */
export async function clearLoginFailures(db: Kysely<Database>, key: string): Promise<void> {
  await db.deleteFrom('login_failures').where('key', '=', key).execute();
}
