import { groupOf, type Matcher, matches, parseMatchers, severityAtLeast } from '@vigil/core/alerts';
import { type ChatMessage, MESSAGE_KINDS, postToChannel, sendMessage } from '@vigil/core/channels';
import type { Logger } from '@vigil/core/log';
import {
  type AlertGroupRow,
  type AlertSend,
  activeSilences,
  alertGroups,
  alertNews,
  claimAlertGroup,
  type Database,
  finishAlertGroup,
  idleAlertGroup,
  listChannels,
  type NewsAlert,
  type NotificationChannel,
  type Silence,
  scheduleAlertGroup,
  setAlertsHeld,
} from '@vigil/db';
import type { Kysely } from 'kysely';
import { ALERT_TTL_SECONDS, type AlertmanagerAlert } from './notify.js';

/** Whether a firing alert is held back now: by its host (down, stopped, paused) or by a silence. */
export interface Held {
  inhibited: boolean;
  silencedBy: number | null;
}

/** Why a firing alert is held back now, if it is: its host is down, stopped or paused (inhibited), or a silence matches its labels. */
export function heldBy(a: NewsAlert, silences: readonly { id: number; matchers: Matcher[] }[]): Held {
  const inhibited = a.target_paused || a.target_state === 'down' || a.target_state === 'stopped';
  const silence = silences.find((s) => matches(s.matchers, a.labels));
  return { inhibited, silencedBy: silence?.id ?? null };
}

/** One message due for one channel: the group's firing alerts (new and still firing) and those newly resolved. */
export interface DueGroup {
  channel: NotificationChannel;
  key: string;
  labels: Record<string, string>;
  firing: NewsAlert[];
  resolved: NewsAlert[];
  /** When the group was last sent (what the claim checks), or null. */
  lastFlushAt: Date | null;
}

/** What a notification pass does: alerts whose hold changed, groups to schedule, and groups due to be sent now. */
export interface AlertPlan {
  held: { id: number; inhibited: boolean; silencedBy: number | null }[];
  schedule: { channelId: number; key: string; labels: Record<string, string>; at: Date }[];
  due: DueGroup[];
  /** Groups that came due with nothing left to send (their alerts held back or gone): no longer due, so that later news waits its group_wait. */
  idle: { channelId: number; key: string }[];
}

const later = (d: Date, seconds: number) => new Date(d.getTime() + seconds * 1000);

/**
 * Plans one notification pass, Alertmanager's way, for every enabled channel:
 * - an alert reaches a channel when its labels match the channel's matchers
 *   and its severity is at least the channel's least;
 * - alerts that share the values of the channel's `group_by` labels form a
 *   group, sent as one message;
 * - a group with news (an alert firing that the channel was not told of, or
 *   one resolved that it was told fired) is sent `group_wait` after its first
 *   news, or `group_interval` after its last message when later; a group
 *   whose alerts keep firing is sent again each `repeat_interval`;
 * - a firing alert whose host is down, stopped or paused is inhibited, and one
 *   that a silence matches is silenced: recorded, never sent; once that ends
 *   and it still fires, it is news;
 * - an Alertmanager channel gets every change at once (Alertmanager groups
 *   itself), and no repeats (the refresh job keeps its alerts firing).
 * Pure: the caller reads and writes (see AlertNotifier).
 */
export function planAlerts(
  channels: readonly NotificationChannel[],
  alerts: readonly NewsAlert[],
  sends: readonly AlertSend[],
  silences: readonly Silence[],
  groups: readonly AlertGroupRow[],
  now: Date,
  onBadMatchers: (channel: NotificationChannel, error: string) => void = () => {},
): AlertPlan {
  const plan: AlertPlan = { held: [], schedule: [], due: [], idle: [] };
  const busy = new Set<string>();
  const silenceMatchers = silences.map((s) => ({ id: s.id, matchers: parseMatchers(s.matchers) }));
  const held = new Map<number, Held>();
  for (const a of alerts) {
    if (a.state !== 'firing') continue;
    const h = heldBy(a, silenceMatchers);
    held.set(a.id, h);
    if (h.inhibited !== a.inhibited || h.silencedBy !== a.silenced_by) plan.held.push({ id: a.id, ...h });
  }
  const sent = new Map(sends.map((s) => [`${s.alert_id}/${s.channel_id}`, s]));
  const rows = new Map(groups.map((g) => [`${g.channel_id}/${g.group_key}`, g]));
  for (const c of channels) {
    if (!c.enabled) continue;
    let route: Matcher[];
    try {
      route = parseMatchers(c.matchers);
    } catch (err) {
      onBadMatchers(c, (err as Error).message);
      continue;
    }
    const am = c.kind === 'alertmanager';
    const byKey = new Map<string, { labels: Record<string, string>; fresh: NewsAlert[]; still: NewsAlert[]; resolved: NewsAlert[] }>();
    for (const a of alerts) {
      if (!severityAtLeast(a.severity, c.min_severity) || !matches(route, a.labels)) continue;
      const s = sent.get(`${a.id}/${c.id}`);
      const h = held.get(a.id);
      const bucket = a.state === 'firing' ? (h?.inhibited || h?.silencedBy ? null : s?.firing_sent_at ? 'still' : 'fresh') : null;
      const resolved = a.state === 'resolved' && s?.firing_sent_at && !s.resolved_sent_at;
      if (!bucket && !resolved) continue;
      const { key, labels } = groupOf(c.group_by, a.labels);
      let g = byKey.get(key);
      if (!g) byKey.set(key, (g = { labels, fresh: [], still: [], resolved: [] }));
      if (bucket) g[bucket].push(a);
      else g.resolved.push(a);
    }
    for (const [key, g] of byKey) {
      busy.add(`${c.id}/${key}`);
      const row = rows.get(`${c.id}/${key}`);
      const last = row?.last_flush_at ?? null;
      let at: Date | null = row?.next_flush_at ?? null;
      if (!at && (g.fresh.length || g.resolved.length)) {
        const first = Math.min(
          ...g.fresh.map((a) => (a.fired_at ?? a.started_at).getTime()),
          ...g.resolved.map((a) => (a.resolved_at ?? now).getTime()),
        );
        const wait = am ? 0 : c.group_wait_seconds;
        const interval = am ? 0 : c.group_interval_seconds;
        at = later(new Date(first), wait);
        if (last && later(last, interval) > at) at = later(last, interval);
        plan.schedule.push({ channelId: c.id, key, labels: g.labels, at });
      } else if (!at && !am && g.still.length && last && later(last, c.repeat_interval_seconds) <= now) {
        at = now;
        plan.schedule.push({ channelId: c.id, key, labels: g.labels, at });
      }
      if (at && at <= now && (g.fresh.length || g.still.length || g.resolved.length))
        plan.due.push({ channel: c, key, labels: g.labels, firing: [...g.fresh, ...g.still], resolved: g.resolved, lastFlushAt: last });
    }
  }
  for (const g of groups)
    if (g.next_flush_at && g.next_flush_at <= now && !busy.has(`${g.channel_id}/${g.group_key}`))
      plan.idle.push({ channelId: g.channel_id, key: g.group_key });
  return plan;
}

/** The JSON a `webhook` channel receives for a group of alerts (`type: "alerts"`; a target's down and up events keep their own payload). */
export interface AlertsWebhookPayload {
  version: 1;
  type: 'alerts';
  status: 'firing' | 'resolved';
  /** One line saying what the message is about. */
  title: string;
  group: Record<string, string>;
  alerts: {
    id: number;
    status: 'firing' | 'resolved';
    rule: string;
    severity: string;
    summary: string;
    target: { id: number; name: string };
    subject: string;
    labels: Record<string, string>;
    started_at: string;
    fired_at: string | null;
    resolved_at: string | null;
  }[];
}

const groupText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/** A group's one-line title: "3 firing, 1 resolved: ProbeFailing (rack=a)". */
export function groupTitle(g: Pick<DueGroup, 'firing' | 'resolved' | 'labels'>): string {
  const parts = [g.firing.length ? `${g.firing.length} firing` : '', g.resolved.length ? `${g.resolved.length} resolved` : ''].filter(
    Boolean,
  );
  const rules = [...new Set([...g.firing, ...g.resolved].map((a) => a.rule_name))];
  const what = rules.length <= 3 ? rules.join(', ') : `${rules.slice(0, 3).join(', ')} and ${rules.length - 3} more rules`;
  const where = groupText(Object.fromEntries(Object.entries(g.labels).filter(([k]) => k !== 'alertname')));
  return `${parts.join(', ')}: ${what}${where ? ` (${where})` : ''}`;
}

/** A generic webhook's body for a group. */
export function alertsWebhookPayload(g: Pick<DueGroup, 'firing' | 'resolved' | 'labels'>): AlertsWebhookPayload {
  const one = (a: NewsAlert, status: 'firing' | 'resolved') => ({
    id: a.id,
    status,
    rule: a.rule_name,
    severity: a.severity,
    summary: a.summary,
    target: { id: a.target_id, name: a.target_name },
    subject: a.subject,
    labels: a.labels,
    started_at: a.started_at.toISOString(),
    fired_at: a.fired_at?.toISOString() ?? null,
    resolved_at: a.resolved_at?.toISOString() ?? null,
  });
  return {
    version: 1,
    type: 'alerts',
    status: g.firing.length ? 'firing' : 'resolved',
    title: groupTitle(g),
    group: g.labels,
    alerts: [...g.firing.map((a) => one(a, 'firing')), ...g.resolved.map((a) => one(a, 'resolved'))],
  };
}

/** At most this many alerts are listed in a chat message; the rest are counted. */
export const MESSAGE_LIST_LIMIT = 20;

/** A Slack-compatible body for a group: a title and one line per alert (at most MESSAGE_LIST_LIMIT, then a count). */
export function alertsSlackPayload(g: Pick<DueGroup, 'firing' | 'resolved' | 'labels'>): { text: string } {
  const lines = [`${g.firing.length ? ':red_circle:' : ':large_green_circle:'} *${groupTitle(g)}*`];
  const all = [...g.firing.map((a) => ['firing', a] as const), ...g.resolved.map((a) => ['resolved', a] as const)];
  for (const [status, a] of all.slice(0, MESSAGE_LIST_LIMIT))
    lines.push(`• ${status === 'resolved' ? 'resolved: ' : ''}*${a.target_name}* ${a.rule_name}: ${a.summary}`);
  if (all.length > MESSAGE_LIST_LIMIT) lines.push(`…and ${all.length - MESSAGE_LIST_LIMIT} more`);
  return { text: lines.join('\n') };
}

const worst = (alerts: readonly NewsAlert[]) =>
  alerts.some((a) => a.severity === 'critical') ? 'critical' : alerts.some((a) => a.severity === 'warning') ? 'warning' : 'info';

/** A group as a message for people (Discord, Teams, ntfy, Gotify, Pushover, Telegram, email): its title, a line per alert (at most MESSAGE_LIST_LIMIT, then a count). */
export function groupMessage(g: Pick<DueGroup, 'firing' | 'resolved' | 'labels'>): ChatMessage {
  const all = [...g.firing.map((a) => ['firing', a] as const), ...g.resolved.map((a) => ['resolved', a] as const)];
  const lines = all
    .slice(0, MESSAGE_LIST_LIMIT)
    .map(([status, a]) => `${status === 'resolved' ? 'resolved: ' : ''}${a.target_name} · ${a.rule_name} (${a.severity}): ${a.summary}`);
  if (all.length > MESSAGE_LIST_LIMIT) lines.push(`…and ${all.length - MESSAGE_LIST_LIMIT} more`);
  return {
    title: groupTitle(g),
    lines,
    status: g.firing.length ? 'firing' : 'resolved',
    severity: worst(g.firing.length ? g.firing : g.resolved),
  };
}

/** An alert as Alertmanager's API v2 takes it: firing (TTL ALERT_TTL_SECONDS) or resolved at its time. */
export function ruleAlertForAlertmanager(a: NewsAlert, now: Date): AlertmanagerAlert {
  const endsAt = a.state === 'resolved' && a.resolved_at ? a.resolved_at : later(now, ALERT_TTL_SECONDS);
  return {
    labels: { ...a.labels, vigil_target: a.target_name },
    annotations: { summary: a.summary, description: `${a.target_name}: ${a.summary}` },
    startsAt: (a.fired_at ?? a.started_at).toISOString(),
    endsAt: endsAt.toISOString(),
  };
}

export interface AlertNotifierOptions {
  timeoutSeconds?: number;
  /** Wait before a failed group is tried again, seconds (default 30). */
  retrySeconds?: number;
  now?: () => Date;
  claimant?: string;
}

/** Counts since start, for the scraper's /metrics. */
export interface AlertNotifierStats {
  sent: number;
  failed: number;
}

/**
 * Sends alerts to the notification channels, grouped (see planAlerts). Each
 * pass reads the alerts with news, the channels, the live silences and the
 * groups; records which alerts are held back; schedules groups; and sends
 * each group that is due, claimed in the database first so that of several
 * replicas one sends it. Group times and what each channel was told are in
 * the database: a scraper restarted within a group's wait sends it once, on
 * time. A failed send is tried again after `retrySeconds`.
 */
export class AlertNotifier {
  readonly stats: AlertNotifierStats = { sent: 0, failed: 0 };
  readonly #now: () => Date;
  readonly #claimant: string;
  readonly #timeoutMs: number;
  readonly #retrySeconds: number;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: Logger,
    opts: AlertNotifierOptions = {},
  ) {
    this.#now = opts.now ?? (() => new Date());
    this.#claimant = opts.claimant ?? 'scraper';
    this.#timeoutMs = (opts.timeoutSeconds ?? 10) * 1000;
    this.#retrySeconds = opts.retrySeconds ?? 30;
  }

  /** One pass. @returns the groups it sent */
  async pass(): Promise<DueGroup[]> {
    const now = this.#now();
    const { alerts, sends } = await alertNews(this.db);
    const [channels, silences, groups] = await Promise.all([listChannels(this.db), activeSilences(this.db, now), alertGroups(this.db)]);
    const plan = planAlerts(channels, alerts, sends, silences, groups, now, (c, error) =>
      this.log.warn({ channel: c.name, error }, 'the channel matchers cannot be read: it receives no alerts until they are fixed'),
    );
    if (plan.held.length) await setAlertsHeld(this.db, plan.held);
    for (const s of plan.schedule) await scheduleAlertGroup(this.db, s);
    for (const g of plan.idle) await idleAlertGroup(this.db, g.channelId, g.key, now);
    const sent: DueGroup[] = [];
    for (const g of plan.due) {
      if (!(await claimAlertGroup(this.db, { channelId: g.channel.id, key: g.key, lastFlushAt: g.lastFlushAt, claimant: this.#claimant })))
        continue;
      const at = this.#now();
      const ids = { firing: g.firing.map((a) => a.id), resolved: g.resolved.map((a) => a.id) };
      try {
        const opts = { timeoutMs: this.#timeoutMs, userAgent: 'vigil-scraper' };
        if (MESSAGE_KINDS.has(g.channel.kind) && g.channel.kind !== 'slack') await sendMessage(g.channel, groupMessage(g), opts);
        else await postToChannel(g.channel, this.#body(g, at), opts);
        await finishAlertGroup(this.db, { channelId: g.channel.id, key: g.key, at, ...ids, sent: true });
        this.stats.sent++;
        sent.push(g);
        this.log.info({ channel: g.channel.name, group: g.key, firing: ids.firing.length, resolved: ids.resolved.length }, 'alerts sent');
      } catch (err) {
        const retryAt = later(at, this.#retrySeconds);
        await finishAlertGroup(this.db, { channelId: g.channel.id, key: g.key, at, ...ids, sent: false, retryAt });
        this.stats.failed++;
        this.log.warn({ channel: g.channel.name, group: g.key, error: (err as Error).message, retryAt }, 'alerts not sent; will retry');
      }
    }
    return sent;
  }

  /** The firing alerts an Alertmanager channel should hold now (not held back, routed to it), for the refresh job. */
  async firingForAlertmanager(channel: NotificationChannel): Promise<AlertmanagerAlert[]> {
    const now = this.#now();
    const { alerts } = await alertNews(this.db);
    const route = parseMatchers(channel.matchers);
    return alerts
      .filter(
        (a) =>
          a.state === 'firing' &&
          !a.inhibited &&
          a.silenced_by === null &&
          severityAtLeast(a.severity, channel.min_severity) &&
          matches(route, a.labels),
      )
      .map((a) => ruleAlertForAlertmanager(a, now));
  }

  #body(g: DueGroup, now: Date): unknown {
    switch (g.channel.kind) {
      case 'slack':
        return alertsSlackPayload(g);
      case 'alertmanager':
        return [...g.firing, ...g.resolved].map((a) => ruleAlertForAlertmanager(a, now));
      default:
        return alertsWebhookPayload(g);
    }
  }
}
