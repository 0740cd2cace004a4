import { parseMatchers, SEVERITIES } from '@vigil/core/alerts';
import { CHANNEL_KINDS, MESSAGE_KINDS } from '@vigil/core/channels';
import { type Kysely, sql } from 'kysely';
import type { ChannelKind, Database, Event, NotificationChannel, Target } from './database.js';

/** Thrown for a channel that cannot be added or found; the message says what to do. */
export class ChannelError extends Error {
  override name = 'ChannelError';
  /** `exists`: the name is taken; `invalid`: a bad kind, URL or name (`field` says which). */
  constructor(
    message: string,
    readonly code: 'invalid' | 'exists' = 'invalid',
    readonly field?: string,
  ) {
    super(message);
  }
}

const KINDS: readonly ChannelKind[] = CHANNEL_KINDS;

/** A channel to add: name, kind and URL, and optionally which alerts it receives and how they are grouped. */
export interface ChannelInput {
  name: string;
  kind: string;
  url: string;
  /** Label matchers (core's parseMatchers): only the alerts whose labels match; empty for all. */
  matchers?: string;
  /** The least severity it receives: info (all), warning or critical. */
  min_severity?: string;
  /** Labels whose values group alerts into one message, comma-separated (default alertname). */
  group_by?: string;
  group_wait_seconds?: number;
  group_interval_seconds?: number;
  repeat_interval_seconds?: number;
}

/**
 * Adds a notification channel. `url` must be http(s) (smtp(s) for email, with
 * `from` and `to`); for `alertmanager`, the Alertmanager's base URL (alerts go
 * to `<url>/api/v2/alerts`). See core's CHANNEL_URL_HINTS.
 * @throws ChannelError for an unknown kind, a bad URL or a name already taken
 */
export async function addChannel(db: Kysely<Database>, c: ChannelInput): Promise<NotificationChannel> {
  if (!KINDS.includes(c.kind as ChannelKind))
    throw new ChannelError(`unknown channel kind "${c.kind.slice(0, 40)}": use ${KINDS.join(', ')}`, 'invalid', 'kind');
  // The URL is a secret (a webhook's path): errors never repeat it.
  let u: URL;
  try {
    u = new URL(c.url);
  } catch {
    throw new ChannelError('the URL is not a URL: give the full http:// or https:// address', 'invalid', 'url');
  }
  if (c.kind === 'email') {
    if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:')
      throw new ChannelError(`an email channel's URL starts with smtp:// or smtps://, not ${u.protocol}`, 'invalid', 'url');
    if (!u.searchParams.get('from') || !u.searchParams.get('to'))
      throw new ChannelError('an email channel needs ?from=<address>&to=<address,…> in its URL', 'invalid', 'url');
  } else if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new ChannelError(`the URL must start with http:// or https://, not ${u.protocol}`, 'invalid', 'url');
  else if (c.kind === 'pushover' && (!u.searchParams.get('token') || !u.searchParams.get('user')))
    throw new ChannelError('a Pushover URL needs ?token=<app token>&user=<user key>', 'invalid', 'url');
  else if (c.kind === 'telegram' && !u.searchParams.get('chat_id'))
    throw new ChannelError('a Telegram URL needs ?chat_id=<chat id>', 'invalid', 'url');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(c.name))
    throw new ChannelError(
      `channel name "${c.name.slice(0, 70)}": use letters, digits, dot, dash or underscore (at most 63)`,
      'invalid',
      'name',
    );
  const route = channelRouteProblem(c);
  if (route) throw new ChannelError(route.message, 'invalid', route.field);
  const taken = await db.selectFrom('notification_channels').select('id').where('name', '=', c.name).executeTakeFirst();
  if (taken) throw new ChannelError(`a channel named "${c.name}" exists: remove it first or pick another name`, 'exists', 'name');
  return db
    .insertInto('notification_channels')
    .values({
      name: c.name,
      kind: c.kind as ChannelKind,
      url: c.url,
      matchers: c.matchers?.trim() ?? '',
      min_severity: c.min_severity ?? 'info',
      group_by: c.group_by?.trim() || 'alertname',
      group_wait_seconds: c.group_wait_seconds ?? 30,
      group_interval_seconds: c.group_interval_seconds ?? 300,
      repeat_interval_seconds: c.repeat_interval_seconds ?? 14_400,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** What is wrong with a channel's routing and grouping settings (naming the field), or null. */
export function channelRouteProblem(c: Omit<ChannelInput, 'name' | 'kind' | 'url'>): { field: string; message: string } | null {
  try {
    parseMatchers(c.matchers ?? '');
  } catch (err) {
    return { field: 'matchers', message: (err as Error).message };
  }
  if (c.min_severity !== undefined && !(SEVERITIES as readonly string[]).includes(c.min_severity))
    return { field: 'min_severity', message: `min_severity is one of ${SEVERITIES.join(', ')}` };
  for (const l of (c.group_by ?? '').split(',').map((x) => x.trim()))
    if (l && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(l))
      return { field: 'group_by', message: `group_by: "${l.slice(0, 40)}" is not a label name` };
  const ranges = [
    ['group_wait_seconds', 0, 3600],
    ['group_interval_seconds', 0, 86_400],
    ['repeat_interval_seconds', 60, 7 * 86_400],
  ] as const;
  for (const [field, min, max] of ranges) {
    const v = c[field];
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max))
      return { field, message: `${field} is whole seconds from ${min} to ${max}` };
  }
  return null;
}

/** What may change of a channel: whether it is on, and which alerts it receives and how they are grouped. */
export type ChannelPatch = Partial<Omit<ChannelInput, 'name' | 'kind' | 'url'> & { enabled: boolean }>;

/**
 * Changes a channel's routing and grouping, or turns it off and on (its name,
 * kind and URL stay: remove it and add another to change those).
 * @returns it changed, or null when there is none
 * @throws ChannelError naming the field that is wrong
 */
export async function updateChannel(db: Kysely<Database>, id: number, patch: ChannelPatch): Promise<NotificationChannel | null> {
  const problem = channelRouteProblem(patch);
  if (problem) throw new ChannelError(problem.message, 'invalid', problem.field);
  const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  if (typeof set.matchers === 'string') set.matchers = set.matchers.trim();
  if (typeof set.group_by === 'string') set.group_by = set.group_by.trim() || 'alertname';
  if (Object.keys(set).length === 0) return getChannel(db, id);
  return (await db.updateTable('notification_channels').set(set).where('id', '=', id).returningAll().executeTakeFirst()) ?? null;
}

/** Every channel, by name. */
export async function listChannels(db: Kysely<Database>): Promise<NotificationChannel[]> {
  return db.selectFrom('notification_channels').selectAll().orderBy('name').execute();
}

/** One channel by id, or null. */
export async function getChannel(db: Kysely<Database>, id: number): Promise<NotificationChannel | null> {
  return (await db.selectFrom('notification_channels').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
}

/** Removes a channel by id with its deliveries; returns it, or null when there was none. */
export async function removeChannelById(db: Kysely<Database>, id: number): Promise<NotificationChannel | null> {
  return (await db.deleteFrom('notification_channels').where('id', '=', id).returningAll().executeTakeFirst()) ?? null;
}

/** Removes a channel and its deliveries; false when there is none of that name. */
export async function removeChannel(db: Kysely<Database>, name: string): Promise<boolean> {
  const r = await db.deleteFrom('notification_channels').where('name', '=', name).executeTakeFirst();
  return r.numDeletedRows > 0n;
}

/**
 * How far back each pass looks for events to queue. Events are written by the
 * same scraper that queues them, seconds apart, so a day only matters after a
 * day-long stall; looking at every past event would make each pass (every 2 s)
 * grow with the event log.
 */
export const ENQUEUE_LOOKBACK_SECONDS = 86_400;

/**
 * Queues a delivery for every enabled channel of every event worth telling:
 * a target going down, or coming back from down, since the channel was
 * created and within ENQUEUE_LOOKBACK_SECONDS. Idempotent (unique per channel
 * and event). Returns how many it queued.
 */
export async function enqueueDeliveries(db: Kysely<Database>): Promise<number> {
  const r = await db
    .insertInto('notification_deliveries')
    .columns(['channel_id', 'event_id', 'next_attempt_at'])
    .expression((eb) =>
      eb
        .selectFrom('notification_channels as c')
        .innerJoin('events as e', (j) => j.onRef('e.time', '>=', 'c.created_at'))
        .select([
          'c.id as channel_id',
          'e.id as event_id',
          // Messages for people wait the channel's group_wait, so that hosts going down together go out as one.
          sql<Date>`e.time + make_interval(secs => case when c.kind in (${sql.join(GROUPED_KINDS.map((k) => sql.lit(k)))}) then c.group_wait_seconds else 0 end)`.as(
            'next_attempt_at',
          ),
        ])
        .where('e.time', '>=', sql<Date>`now() - make_interval(secs => ${ENQUEUE_LOOKBACK_SECONDS})`)
        .where('c.enabled', '=', true)
        .where((w) => w.or([w('e.to_state', '=', 'down'), w('e.from_state', '=', 'down')])),
    )
    .onConflict((oc) => oc.columns(['channel_id', 'event_id']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n);
}

/** The channel kinds whose host events are grouped into one message (messages for people; a webhook or an Alertmanager gets each event). */
export const GROUPED_KINDS: readonly string[] = [...MESSAGE_KINDS];

/** A delivery that is due, with what it is about. */
export interface DueDelivery {
  id: number;
  attempts: number;
  /** When it is due: the event's time plus the channel's group wait, or a retry's time. */
  next_attempt_at: Date;
  channel: Pick<NotificationChannel, 'id' | 'name' | 'kind' | 'url' | 'group_by'>;
  event: Pick<Event, 'id' | 'time' | 'from_state' | 'to_state' | 'message'>;
  target: Pick<Target, 'id' | 'name' | 'url' | 'labels'>;
}

/** How long a replica's claim on a delivery holds (seconds): past it, a claim by a replica that died mid-send lapses and another sends. */
export const DELIVERY_CLAIM_SECONDS = 60;

/**
 * Claims the pending deliveries whose next attempt is due at `now` and that no
 * other replica holds (`FOR UPDATE SKIP LOCKED`, then `claimed_by` and
 * `claimed_until` = the database's now + DELIVERY_CLAIM_SECONDS), oldest
 * event first, and returns them with what they are about. Two replicas
 * calling at once never get the same delivery.
 */
export async function dueDeliveries(db: Kysely<Database>, now: Date, limit = 100, claimedBy = 'scraper'): Promise<DueDelivery[]> {
  const claimed = await db
    .updateTable('notification_deliveries')
    .set({ claimed_by: claimedBy, claimed_until: sql<Date>`now() + make_interval(secs => ${DELIVERY_CLAIM_SECONDS})` })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('notification_deliveries as d')
        .innerJoin('events as e', 'e.id', 'd.event_id')
        .select('d.id')
        .where('d.status', '=', 'pending')
        .where('d.next_attempt_at', '<=', now)
        .where((w) => w.or([w('d.claimed_until', 'is', null), w('d.claimed_until', '<', sql<Date>`now()`)]))
        .orderBy('e.time')
        .orderBy('d.id')
        .limit(limit)
        .forUpdate('d')
        .skipLocked(),
    )
    .returning('id')
    .execute();
  return claimedDeliveries(
    db,
    claimed.map((c) => c.id),
  );
}

/**
 * Claims a channel for sending its grouped host events (one replica at a
 * time, DELIVERY_CLAIM_SECONDS at most), so that of two replicas that each
 * claimed part of a group, one sends it whole. A replica holding it may claim
 * it again.
 */
export async function claimChannel(db: Kysely<Database>, channelId: number, claimedBy: string): Promise<boolean> {
  const r = await db
    .updateTable('notification_channels')
    .set({ claimed_by: claimedBy, claimed_until: sql<Date>`now() + make_interval(secs => ${DELIVERY_CLAIM_SECONDS})` })
    .where('id', '=', channelId)
    .where((w) => w.or([w('claimed_until', 'is', null), w('claimed_until', '<', sql<Date>`now()`), w('claimed_by', '=', claimedBy)]))
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/** Gives a channel claimed with {@link claimChannel} back. */
export async function releaseChannel(db: Kysely<Database>, channelId: number, claimedBy: string): Promise<void> {
  await db
    .updateTable('notification_channels')
    .set({ claimed_by: null, claimed_until: null })
    .where('id', '=', channelId)
    .where('claimed_by', '=', claimedBy)
    .execute();
}

/**
 * Claims every pending delivery of a channel that nobody else holds: due or
 * waiting, first try or retry (a channel claimed with {@link claimChannel}
 * gathers its whole groups this way).
 */
export async function claimChannelDeliveries(db: Kysely<Database>, channelId: number, claimedBy: string): Promise<DueDelivery[]> {
  const claimed = await db
    .updateTable('notification_deliveries')
    .set({ claimed_by: claimedBy, claimed_until: sql<Date>`now() + make_interval(secs => ${DELIVERY_CLAIM_SECONDS})` })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('notification_deliveries as d')
        .select('d.id')
        .where('d.status', '=', 'pending')
        .where('d.channel_id', '=', channelId)
        .where((w) =>
          w.or([w('d.claimed_until', 'is', null), w('d.claimed_until', '<', sql<Date>`now()`), w('d.claimed_by', '=', claimedBy)]),
        )
        .limit(1000)
        .forUpdate('d')
        .skipLocked(),
    )
    .returning('id')
    .execute();
  return claimedDeliveries(
    db,
    claimed.map((c) => c.id),
  );
}

/** Gives claimed deliveries back unsent (another pass, or replica, sends them when due). */
export async function releaseDeliveries(db: Kysely<Database>, ids: readonly number[]): Promise<void> {
  if (ids.length)
    await db
      .updateTable('notification_deliveries')
      .set({ claimed_until: null })
      .where('id', 'in', [...ids])
      .execute();
}

async function claimedDeliveries(db: Kysely<Database>, ids: readonly number[]): Promise<DueDelivery[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('notification_deliveries as d')
    .innerJoin('notification_channels as c', 'c.id', 'd.channel_id')
    .innerJoin('events as e', 'e.id', 'd.event_id')
    .innerJoin('targets as t', 't.id', 'e.target_id')
    .select([
      'd.id',
      'd.attempts',
      'd.next_attempt_at',
      'c.id as channel_id',
      'c.name as channel_name',
      'c.kind',
      'c.url as channel_url',
      'c.group_by',
      'e.id as event_id',
      'e.time',
      'e.from_state',
      'e.to_state',
      'e.message',
      't.id as target_id',
      't.name as target_name',
      't.url as target_url',
      't.labels',
    ])
    .where('d.id', 'in', [...ids])
    .orderBy('e.time')
    .orderBy('d.id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    attempts: r.attempts,
    next_attempt_at: r.next_attempt_at,
    channel: { id: r.channel_id, name: r.channel_name, kind: r.kind, url: r.channel_url, group_by: r.group_by },
    event: { id: r.event_id, time: r.time, from_state: r.from_state, to_state: r.to_state, message: r.message },
    target: { id: r.target_id, name: r.target_name, url: r.target_url, labels: r.labels },
  }));
}

/**
 * Records one attempt: `sent`, or a failure to retry at `retryAt`, or (retryAt
 * null) given up as `failed`.
 */
export async function recordDeliveryAttempt(
  db: Kysely<Database>,
  id: number,
  outcome: { sent: true; at: Date } | { sent: false; error: string; retryAt: Date | null },
): Promise<void> {
  const q = db.updateTable('notification_deliveries').where('id', '=', id);
  if (outcome.sent)
    await q
      .set((eb) => ({ status: 'sent', sent_at: outcome.at, attempts: eb('attempts', '+', 1), last_error: null, claimed_until: null }))
      .execute();
  else
    await q
      .set((eb) => ({
        status: outcome.retryAt ? 'pending' : 'failed',
        next_attempt_at: outcome.retryAt ?? new Date(),
        attempts: eb('attempts', '+', 1),
        last_error: outcome.error,
        claimed_until: null,
      }))
      .execute();
}

/** How one event fared on one channel, for showing beside the event. */
export interface EventDelivery {
  event_id: number;
  channel: string;
  kind: ChannelKind;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  last_error: string | null;
  sent_at: Date | null;
}

/** The deliveries of the given events, by event id, each list by channel name. */
export async function deliveriesOfEvents(db: Kysely<Database>, eventIds: readonly number[]): Promise<Map<number, EventDelivery[]>> {
  const out = new Map<number, EventDelivery[]>();
  if (eventIds.length === 0) return out;
  const rows = await db
    .selectFrom('notification_deliveries as d')
    .innerJoin('notification_channels as c', 'c.id', 'd.channel_id')
    .select(['d.event_id', 'c.name as channel', 'c.kind', 'd.status', 'd.attempts', 'd.last_error', 'd.sent_at'])
    .where('d.event_id', 'in', [...eventIds])
    .orderBy('c.name')
    .execute();
  for (const r of rows) {
    const list = out.get(r.event_id) ?? [];
    list.push(r);
    out.set(r.event_id, list);
  }
  return out;
}
