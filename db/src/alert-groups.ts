/**
 * The notification side of alerts: which alerts have news for the channels
 * (`alerts` with `alert_sends`), each channel's groups and when each is next
 * due (`alert_groups`), claimed by one scraper replica at a time.
 */
import { type Kysely, sql } from 'kysely';
import type { AlertState, Database, TargetState } from './database.js';

/** An alert a notification pass looks at: firing, or resolved with a channel still to be told. */
export interface NewsAlert {
  id: number;
  rule_name: string;
  state: AlertState;
  severity: string;
  summary: string;
  subject: string;
  labels: Record<string, string>;
  started_at: Date;
  fired_at: Date | null;
  resolved_at: Date | null;
  inhibited: boolean;
  silenced_by: number | null;
  target_id: number;
  target_name: string;
  target_state: TargetState;
  target_paused: boolean;
}

/** What one channel was told of one alert. */
export interface AlertSend {
  alert_id: number;
  channel_id: number;
  firing_sent_at: Date | null;
  resolved_sent_at: Date | null;
}

/**
 * The alerts with possible news: every firing one, and each resolved one that
 * a channel was told fired and not yet that it resolved; with what each
 * channel was told of them.
 */
export async function alertNews(db: Kysely<Database>): Promise<{ alerts: NewsAlert[]; sends: AlertSend[] }> {
  const alerts = await db
    .selectFrom('alerts as a')
    .innerJoin('alert_rules as r', 'r.id', 'a.rule_id')
    .innerJoin('targets as t', 't.id', 'a.target_id')
    .select([
      'a.id',
      'r.name as rule_name',
      'a.state',
      'a.severity',
      'a.summary',
      'a.subject',
      'a.labels',
      'a.started_at',
      'a.fired_at',
      'a.resolved_at',
      'a.inhibited',
      'a.silenced_by',
      'a.target_id',
      't.name as target_name',
      't.state as target_state',
      't.paused as target_paused',
    ])
    .where((w) =>
      w.or([
        w('a.state', '=', 'firing'),
        w.and([
          w('a.state', '=', 'resolved'),
          w.exists(
            w
              .selectFrom('alert_sends as s')
              .select('s.alert_id')
              .whereRef('s.alert_id', '=', 'a.id')
              .where('s.firing_sent_at', 'is not', null)
              .where('s.resolved_sent_at', 'is', null),
          ),
        ]),
      ]),
    )
    .orderBy('a.id')
    .limit(10_000)
    .execute();
  const ids = alerts.map((a) => a.id);
  const sends = ids.length ? await db.selectFrom('alert_sends').selectAll().where('alert_id', 'in', ids).execute() : [];
  return {
    alerts: alerts.map((a) => ({ ...a, id: Number(a.id) })),
    sends: sends.map((s) => ({ ...s, alert_id: Number(s.alert_id) })),
  };
}

/** Records which firing alerts are held back (inhibited by their host, or silenced) now, where that changed. */
export async function setAlertsHeld(
  db: Kysely<Database>,
  changes: readonly { id: number; inhibited: boolean; silencedBy: number | null }[],
): Promise<void> {
  for (const c of changes)
    await db
      .updateTable('alerts')
      .set({ inhibited: c.inhibited, silenced_by: c.silencedBy, updated_at: sql<Date>`now()` })
      .where('id', '=', c.id)
      .execute();
}

/** A channel's group as stored. */
export interface AlertGroupRow {
  channel_id: number;
  group_key: string;
  next_flush_at: Date | null;
  last_flush_at: Date | null;
}

/** Every channel's groups. */
export async function alertGroups(db: Kysely<Database>): Promise<AlertGroupRow[]> {
  return db.selectFrom('alert_groups').select(['channel_id', 'group_key', 'next_flush_at', 'last_flush_at']).execute();
}

/** Sets when a group is next due (creating it), unless it is due already. */
export async function scheduleAlertGroup(
  db: Kysely<Database>,
  g: { channelId: number; key: string; labels: Record<string, string>; at: Date },
): Promise<void> {
  await db
    .insertInto('alert_groups')
    .values({ channel_id: g.channelId, group_key: g.key, labels: JSON.stringify(g.labels), next_flush_at: g.at })
    .onConflict((oc) =>
      oc.columns(['channel_id', 'group_key']).doUpdateSet({ next_flush_at: g.at }).where('alert_groups.next_flush_at', 'is', null),
    )
    .execute();
}

/** Makes a group that came due with nothing to send no longer due (unless it was scheduled again after `now`). */
export async function idleAlertGroup(db: Kysely<Database>, channelId: number, key: string, now: Date): Promise<void> {
  await db
    .updateTable('alert_groups')
    .set({ next_flush_at: null })
    .where('channel_id', '=', channelId)
    .where('group_key', '=', key)
    .where('next_flush_at', '<=', now)
    .execute();
}

/** How long a replica's claim on a group holds while it sends, seconds. */
export const GROUP_CLAIM_SECONDS = 60;

/**
 * Claims a due group for sending, provided nobody holds it and it was not
 * sent since `lastFlushAt` (what the caller saw): of replicas that computed
 * the same message, one sends it.
 */
export async function claimAlertGroup(
  db: Kysely<Database>,
  g: { channelId: number; key: string; lastFlushAt: Date | null; claimant: string },
): Promise<boolean> {
  const r = await db
    .updateTable('alert_groups')
    .set({ claimed_by: g.claimant, claimed_until: sql<Date>`now() + make_interval(secs => ${GROUP_CLAIM_SECONDS})` })
    .where('channel_id', '=', g.channelId)
    .where('group_key', '=', g.key)
    .where((w) => w.or([w('claimed_until', 'is', null), w('claimed_until', '<', sql<Date>`now()`)]))
    .where(sql<boolean>`last_flush_at is not distinct from ${g.lastFlushAt}`)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/**
 * Ends a claimed send: when `sent`, records what the channel was told (firing
 * and resolved alerts, at `at`) and the group's flush; when not, due again at
 * `retryAt`. One transaction.
 */
export async function finishAlertGroup(
  db: Kysely<Database>,
  g: { channelId: number; key: string; at: Date; firing: readonly number[]; resolved: readonly number[] } & (
    | { sent: true }
    | { sent: false; retryAt: Date }
  ),
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    if (g.sent) {
      if (g.firing.length)
        await tx
          .insertInto('alert_sends')
          .values(g.firing.map((id) => ({ alert_id: id, channel_id: g.channelId, firing_sent_at: g.at })))
          .onConflict((oc) => oc.columns(['alert_id', 'channel_id']).doUpdateSet({ firing_sent_at: g.at }))
          .execute();
      if (g.resolved.length)
        await tx
          .updateTable('alert_sends')
          .set({ resolved_sent_at: g.at })
          .where('channel_id', '=', g.channelId)
          .where('alert_id', 'in', [...g.resolved])
          .execute();
    }
    await tx
      .updateTable('alert_groups')
      .set(
        g.sent
          ? { last_flush_at: g.at, next_flush_at: null, claimed_by: null, claimed_until: null }
          : { next_flush_at: g.retryAt, claimed_by: null, claimed_until: null },
      )
      .where('channel_id', '=', g.channelId)
      .where('group_key', '=', g.key)
      .execute();
  });
}
