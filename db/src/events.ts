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

/** A page of events, newest first: of one target, of one type, from `page` (1-based) of `perPage`, with the total. */
export async function queryEvents(
  db: Kysely<Database>,
  query: { targetId?: number; type?: string; page?: number; perPage?: number } = {},
): Promise<{ items: (Event & { target_name: string })[]; total: number }> {
  let q = db.selectFrom('events as e').innerJoin('targets as t', 't.id', 'e.target_id');
  if (query.targetId !== undefined) q = q.where('e.target_id', '=', query.targetId);
  if (query.type !== undefined) q = q.where('e.type', '=', query.type);
  const perPage = query.perPage ?? 100;
  const [items, total] = await Promise.all([
    q
      .selectAll('e')
      .select('t.name as target_name')
      .orderBy('e.time', 'desc')
      .orderBy('e.id', 'desc')
      .limit(perPage)
      .offset(((query.page ?? 1) - 1) * perPage)
      .execute(),
    q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items, total: Number(total.n) };
}

/** A change of a target's state as its events record it: a liveness transition, a pause or a resume. */
export interface StateEvent {
  time: Date;
  type: 'state' | 'paused' | 'resumed';
  /** The state it moved to (`paused` events: the state it was paused in). */
  to_state: Event['to_state'];
}

/**
 * A target's state changes since `since` (oldest first), with the last one
 * before it (null when none: a target starts `unknown`), from `events`
 * (types `state`, `paused`, `resumed`), for availability over a window.
 */
export async function stateHistory(
  db: Kysely<Database>,
  targetId: number,
  since: Date,
): Promise<{ before: StateEvent | null; changes: StateEvent[] }> {
  const kinds = ['state', 'paused', 'resumed'];
  const base = db.selectFrom('events').select(['time', 'type', 'to_state']).where('target_id', '=', targetId).where('type', 'in', kinds);
  const [before, changes] = await Promise.all([
    base.where('time', '<', since).orderBy('time', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst(),
    base.where('time', '>=', since).orderBy('time').orderBy('id').execute(),
  ]);
  return { before: (before as StateEvent | undefined) ?? null, changes: changes as StateEvent[] };
}
