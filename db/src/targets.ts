import { type Kysely, sql } from 'kysely';
import { type Database, HEARTBEAT_COLUMNS, type Heartbeat, TARGET_COLUMNS, type Target, type TargetState } from './database.js';
import {
  columnsOf,
  heartbeatOf,
  type NEWEST_HEARTBEAT_WINDOW_SECONDS,
  newestHeartbeatOf,
  newestHeartbeatSince,
  prefixedColumns,
} from './heartbeats.js';

/** What it takes to add a target; the rest has defaults (15 s interval, 10 s timeout). */
export interface TargetInput {
  name: string;
  url: string;
  interval_seconds?: number;
  timeout_seconds?: number;
  labels?: Record<string, string>;
  source?: string;
  /** A bearer token for this target's exporter (else the scraper's VIGIL_EXPORTER_TOKEN is sent). */
  token?: string | null;
  /** The exporter's PTY socket when not beside its metrics (VIGIL_PTY_LISTEN), e.g. ws://10.0.0.5:9120/pty. */
  pty_url?: string | null;
}

/** Thrown when a target of that name exists already. */
export class TargetExistsError extends Error {
  override name = 'TargetExistsError';
}

/**
 * Adds a target.
 * @throws TargetExistsError when the name is taken
 */
export async function addTarget(db: Kysely<Database>, input: TargetInput): Promise<Target> {
  const row = await db
    .insertInto('targets')
    .values(values(input))
    .onConflict((oc) => oc.column('name').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new TargetExistsError(`a target named "${input.name}" exists already; remove it first or pick another name`);
  return row;
}

/** Adds a target, or updates the URL, interval, timeout and labels of the one with that name. */
export async function upsertTarget(db: Kysely<Database>, input: TargetInput): Promise<Target> {
  const v = values(input);
  return db
    .insertInto('targets')
    .values(v)
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ url: v.url, interval_seconds: v.interval_seconds, timeout_seconds: v.timeout_seconds, labels: v.labels }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

function values(input: TargetInput) {
  const interval = input.interval_seconds ?? 15;
  return {
    name: input.name,
    url: input.url,
    interval_seconds: interval,
    timeout_seconds: input.timeout_seconds ?? Math.min(10, interval),
    labels: JSON.stringify(input.labels ?? {}),
    source: input.source ?? 'cli',
    token: input.token ?? null,
    pty_url: input.pty_url ?? null,
  };
}

/** Every target, by name. */
export async function listTargets(db: Kysely<Database>): Promise<Target[]> {
  return db.selectFrom('targets').selectAll().orderBy('name').execute();
}

/** One target by name, or undefined. */
export async function getTargetByName(db: Kysely<Database>, name: string): Promise<Target | undefined> {
  return db.selectFrom('targets').selectAll().where('name', '=', name).executeTakeFirst();
}

/** One target by id, or undefined. */
export async function getTarget(db: Kysely<Database>, id: number): Promise<Target | undefined> {
  return db.selectFrom('targets').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Pauses or resumes a target, with an event (`paused` / `resumed`) naming who
 * did it. A paused target is not scraped and raises no alerts; a resumed one
 * starts again as `unknown`, so the time it spent paused does not count as
 * silence (see the scraper's liveness rule).
 * @returns the target before and after, or null when there is no such target
 */
export async function setPaused(
  db: Kysely<Database>,
  id: number,
  paused: boolean,
  by: string,
): Promise<{ before: Target; after: Target } | null> {
  return db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('targets').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    if (!before) return null;
    if (before.paused === paused) return { before, after: before };
    const now = new Date();
    const after = await trx
      .updateTable('targets')
      .set(paused ? { paused } : { paused, state: 'unknown', state_changed_at: now })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('events')
      .values({
        target_id: id,
        time: now,
        type: paused ? 'paused' : 'resumed',
        from_state: before.state,
        to_state: after.state,
        message: `${before.name} ${paused ? 'paused' : 'resumed'} by ${by}`,
      })
      .execute();
    return { before, after };
  });
}

/** A page of targets: filters, and the page (1-based) of `perPage`, by name. */
export interface TargetQuery {
  /** A state, or `paused` for the paused ones (whatever their state). */
  state?: TargetState | 'paused';
  /** Labels every target must have, with these values. */
  labels?: Record<string, string>;
  /** A substring of the name, case-insensitive. */
  q?: string;
  /** What enrolled hosts said of themselves: their provider, region (exact). */
  provider?: string;
  region?: string;
  /** Only those waiting for approval (true), or none of them (false). */
  pending?: boolean;
  /** Only these targets. */
  ids?: readonly number[];
  page?: number;
  perPage?: number;
}

/**
 * A target with its newest heartbeat (null: none within
 * {@link NEWEST_HEARTBEAT_WINDOW_SECONDS}): the one view of a target that the
 * API, the console's pages and the CLI list.
 */
export type TargetWithHeartbeat = Target & { heartbeat: Heartbeat | null };

/** The targets a query's filters select (state, labels, name, ids). */
function filtered(db: Kysely<Database>, query: TargetQuery) {
  let q = db.selectFrom('targets');
  if (query.state === 'paused') q = q.where('paused', '=', true);
  else if (query.state) q = q.where('state', '=', query.state).where('paused', '=', false);
  if (query.labels && Object.keys(query.labels).length > 0) q = q.where(sql<boolean>`labels @> ${JSON.stringify(query.labels)}::jsonb`);
  // LIKE's own wildcards in the search are matched literally.
  if (query.q) q = q.where('name', 'ilike', `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  if (query.ids) q = q.where('id', '=', sql<number>`any(${[...query.ids]}::int[])`);
  if (query.provider !== undefined) q = q.where(sql<boolean>`metadata->>'provider' = ${query.provider}`);
  if (query.region !== undefined) q = q.where(sql<boolean>`metadata->>'region' = ${query.region}`);
  if (query.pending !== undefined) q = q.where('pending_approval', '=', query.pending);
  return q;
}

/**
 * The targets a {@link TargetQuery} selects, one page of them by name, each
 * with its newest heartbeat read in the same query ({@link newestHeartbeatOf}),
 * and how many match in all, counted alongside: one round trip's latency.
 */
export async function queryTargets(
  db: Kysely<Database>,
  query: TargetQuery = {},
): Promise<{ items: TargetWithHeartbeat[]; total: number }> {
  if (query.ids?.length === 0) return { items: [], total: 0 };
  const q = filtered(db, query);
  const perPage = query.perPage ?? 100;
  // The page of targets first, then one heartbeat probe for each of them only.
  const page = q
    .selectAll()
    .orderBy('name')
    .limit(perPage)
    .offset(((query.page ?? 1) - 1) * perPage);
  const [{ rows }, total] = await Promise.all([
    sql<Record<string, unknown>>`
      select t.*, ${prefixedColumns('h', HEARTBEAT_COLUMNS)}
      from (${page}) t
      left join ${newestHeartbeatOf('t.id', newestHeartbeatSince())} h on true
      order by t.name`.execute(db),
    q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return {
    items: rows.map((r) => {
      const target = columnsOf<TargetWithHeartbeat>(r, TARGET_COLUMNS);
      target.heartbeat = heartbeatOf(r, target.id, 'h_');
      return target;
    }),
    total: Number(total.n),
  };
}

/** One target with its newest heartbeat (the view {@link queryTargets} lists), or null when there is no such target. */
export async function getTargetWithHeartbeat(db: Kysely<Database>, id: number): Promise<TargetWithHeartbeat | null> {
  const { items } = await queryTargets(db, { ids: [id], perPage: 1 });
  return items[0] ?? null;
}

/** What may change of a target after it was added. */
export interface TargetPatch {
  url?: string;
  /** A bearer token for this target's exporter; null to send VIGIL_EXPORTER_TOKEN again. */
  token?: string | null;
  /** The exporter's PTY socket; null: beside its metrics again. */
  pty_url?: string | null;
  interval_seconds?: number;
  timeout_seconds?: number;
  labels?: Record<string, string>;
}

/**
 * Changes a target's URL, interval, timeout or labels (pausing is {@link setPaused}).
 * @returns the target before and after, or null when there is no such target
 * @throws the database's check violation for an interval or timeout out of range
 */
export async function updateTarget(
  db: Kysely<Database>,
  id: number,
  patch: TargetPatch,
): Promise<{ before: Target; after: Target } | null> {
  return db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('targets').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    if (!before) return null;
    const set = {
      ...(patch.url === undefined ? {} : { url: patch.url }),
      ...(patch.interval_seconds === undefined ? {} : { interval_seconds: patch.interval_seconds }),
      ...(patch.timeout_seconds === undefined ? {} : { timeout_seconds: patch.timeout_seconds }),
      ...(patch.labels === undefined ? {} : { labels: JSON.stringify(patch.labels) }),
      ...(patch.token === undefined ? {} : { token: patch.token }),
      ...(patch.pty_url === undefined ? {} : { pty_url: patch.pty_url }),
    };
    if (Object.keys(set).length === 0) return { before, after: before };
    const after = await trx.updateTable('targets').set(set).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    return { before, after };
  });
}

/** Removes a target by id; returns it, or null when there was none. */
export async function removeTargetById(db: Kysely<Database>, id: number): Promise<Target | null> {
  return (await db.deleteFrom('targets').where('id', '=', id).returningAll().executeTakeFirst()) ?? null;
}

/** Removes a target (its heartbeats and events go with it). Returns whether one was removed. */
export async function removeTarget(db: Kysely<Database>, name: string): Promise<boolean> {
  const r = await db.deleteFrom('targets').where('name', '=', name).executeTakeFirst();
  return r.numDeletedRows > 0n;
}

/** One state change the liveness job decided. */
export interface Transition {
  targetId: number;
  from: TargetState;
  to: TargetState;
  at: Date;
  message: string;
}

/**
 * Records state transitions: each updates its target's state and writes one
 * `events` row, all in one transaction. A transition whose target is no longer
 * in the `from` state (another writer got there first) is skipped.
 * @returns the transitions applied
 */
export async function applyTransitions(db: Kysely<Database>, transitions: Transition[]): Promise<Transition[]> {
  if (transitions.length === 0) return [];
  return db.transaction().execute(async (tx) => {
    const done: Transition[] = [];
    for (const t of transitions) {
      const r = await tx
        .updateTable('targets')
        .set({ state: t.to, state_changed_at: t.at })
        .where('id', '=', t.targetId)
        .where('state', '=', t.from)
        .executeTakeFirst();
      if (r.numUpdatedRows === 0n) continue;
      await tx
        .insertInto('events')
        .values({ target_id: t.targetId, time: t.at, type: 'state', from_state: t.from, to_state: t.to, message: t.message })
        .execute();
      done.push(t);
    }
    return done;
  });
}

/** A target with the time of its last successful scrape (null: none in the look-back window) and its last error. */
export interface TargetLiveness {
  id: number;
  name: string;
  state: TargetState;
  interval_seconds: number;
  state_changed_at: Date;
  created_at: Date;
  last_success: Date | null;
  /** The error of the newest heartbeat in the window (null when it succeeded or there is none). */
  last_error: string | null;
}

/**
 * Every target but the paused ones, with its last successful heartbeat no older than `lookbackSeconds`
 * (uses the partial index `heartbeats_last_success`).
 */
export async function targetLiveness(db: Kysely<Database>, lookbackSeconds = 86_400): Promise<TargetLiveness[]> {
  const since = new Date(Date.now() - lookbackSeconds * 1000);
  return db
    .selectFrom('targets as t')
    .select(['t.id', 't.name', 't.state', 't.interval_seconds', 't.state_changed_at', 't.created_at'])
    .where('t.paused', '=', false)
    .select((eb) =>
      eb
        .selectFrom('heartbeats as h')
        .select(sql<Date>`max(h.time)`.as('m'))
        .whereRef('h.target_id', '=', 't.id')
        .where('h.up', '=', true)
        .where('h.time', '>', since)
        .as('last_success'),
    )
    .select((eb) =>
      eb
        .selectFrom('heartbeats as h')
        .select('h.error')
        .whereRef('h.target_id', '=', 't.id')
        .where('h.time', '>', since)
        .orderBy('h.time', 'desc')
        .limit(1)
        .as('last_error'),
    )
    .orderBy('t.id')
    .execute() as Promise<TargetLiveness[]>;
}
