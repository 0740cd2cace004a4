import type { Kysely } from 'kysely';
import type { Database, Event } from './database.js';

/** Events with their target's name, newest first; optionally for one target. */
export async function listEvents(
  db: Kysely<Database>,
  options: { targetId?: number; limit?: number } = {},
): Promise<(Event & { target_name: string })[]> {
  let q = db
    .selectFrom('events as e')
    .innerJoin('targets as t', 't.id', 'e.target_id')
    .selectAll('e')
    .select('t.name as target_name')
    .orderBy('e.time', 'desc')
    .orderBy('e.id', 'desc')
    .limit(options.limit ?? 100);
  if (options.targetId !== undefined) q = q.where('e.target_id', '=', options.targetId);
  return q.execute();
}
