import { alertLabels, groupOf } from '@vigil/core/alerts';
import { type ChatMessage, MESSAGE_KINDS, postToChannel, sendMessage } from '@vigil/core/channels';
import type { Logger } from '@vigil/core/log';
import { maskUrl } from '@vigil/core/secrets';
import {
  claimChannel,
  claimChannelDeliveries,
  type Database,
  type DueDelivery,
  dueDeliveries,
  enqueueDeliveries,
  GROUPED_KINDS,
  listChannels,
  listTargets,
  type NotificationChannel,
  recordDeliveryAttempt,
  releaseChannel,
  releaseDeliveries,
  type Target,
} from '@vigil/db';
import type { Kysely } from 'kysely';

/** The JSON a `webhook` channel receives for one event (`version` changes only with a breaking change). */
export interface WebhookPayload {
  version: 1;
  event: { id: number; time: string; from: string | null; to: string | null; message: string };
  target: { id: number; name: string; url: string; labels: Record<string, string> };
}

/** One alert in Alertmanager's API v2 (`POST /api/v2/alerts`). */
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}

/** A generic webhook's body for a delivery. */
export function webhookPayload(d: DueDelivery): WebhookPayload {
  return {
    version: 1,
    event: { id: d.event.id, time: d.event.time.toISOString(), from: d.event.from_state, to: d.event.to_state, message: d.event.message },
    target: { id: d.target.id, name: d.target.name, url: maskUrl(d.target.url), labels: d.target.labels },
  };
}

/** A Slack-compatible incoming-webhook body (`{text}`; Mattermost and Discord's `/slack` endpoint read it too). */
export function slackPayload(d: DueDelivery): { text: string } {
  const icon = d.event.to_state === 'down' ? ':red_circle:' : ':large_green_circle:';
  const what = d.event.to_state === 'down' ? 'is down' : d.event.to_state === 'stopped' ? 'stopped cleanly' : 'is back up';
  return { text: `${icon} *${d.target.name}* ${what} (${d.event.time.toISOString()})\n${d.event.message}` };
}

/** A target's down, stopped or recovery event as a message for people (Discord, Teams, ntfy, Gotify, Pushover, Telegram, email). */
export function eventMessage(d: Pick<DueDelivery, 'event' | 'target'>): ChatMessage {
  const what = d.event.to_state === 'down' ? 'is down' : d.event.to_state === 'stopped' ? 'stopped cleanly' : 'is back up';
  return {
    title: `${d.target.name} ${what}`,
    lines: [d.event.message, `at ${d.event.time.toISOString()}`],
    status: d.event.to_state === 'down' ? 'firing' : 'resolved',
    severity: 'critical',
  };
}

const GROUPED: ReadonlySet<string> = new Set(GROUPED_KINDS);

/** A host event's group on its channel: the channel's group_by labels of the event as an alert (VigilTargetDown, its host as instance). */
function eventGroup(d: Pick<DueDelivery, 'channel' | 'target'>): { key: string; labels: Record<string, string> } {
  return groupOf(d.channel.group_by, alertLabels('VigilTargetDown', 'critical', d.target, ''));
}

/**
 * Cuts deliveries into what is sent together: for a channel that takes
 * messages for people, those of one direction (down, up, stopped) whose
 * targets share the channel's group_by labels; for a webhook or an
 * Alertmanager, each alone. Oldest event first within each.
 */
export function batchDeliveries(deliveries: readonly DueDelivery[]): DueDelivery[][] {
  const groups = new Map<string, DueDelivery[]>();
  for (const d of deliveries) {
    const key = GROUPED.has(d.channel.kind) ? `${d.channel.id}\u0000${d.event.to_state}\u0000${eventGroup(d).key}` : `delivery ${d.id}`;
    const list = groups.get(key) ?? [];
    list.push(d);
    groups.set(key, list);
  }
  return [...groups.values()].map((g) => g.sort((a, b) => a.event.time.getTime() - b.event.time.getTime() || a.id - b.id));
}

/** Several hosts' events of one direction as one message: "12 hosts in rack=a are down", a line each (at most 20, then a count). */
export function eventsMessage(batch: readonly DueDelivery[]): ChatMessage {
  const d = batch[0]!;
  const what = d.event.to_state === 'down' ? 'are down' : d.event.to_state === 'stopped' ? 'stopped cleanly' : 'are back up';
  const where = Object.entries(eventGroup(d).labels)
    .filter(([k]) => k !== 'alertname')
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const lines = batch.slice(0, EVENT_LIST_LIMIT).map((x) => `${x.target.name}: ${x.event.message}`);
  if (batch.length > EVENT_LIST_LIMIT) lines.push(`…and ${batch.length - EVENT_LIST_LIMIT} more`);
  return {
    title: `${batch.length} hosts${where ? ` in ${where}` : ''} ${what}`,
    lines,
    status: d.event.to_state === 'down' ? 'firing' : 'resolved',
    severity: 'critical',
  };
}

/** At most this many hosts are listed in one message; the rest are counted. */
export const EVENT_LIST_LIMIT = 20;

/** A message for people in a Slack-compatible body. */
export function slackText(msg: ChatMessage): { text: string } {
  const icon = msg.status === 'firing' ? ':red_circle:' : ':large_green_circle:';
  return { text: [`${icon} *${msg.title}*`, ...msg.lines.map((l) => `• ${l}`)].join('\n') };
}

/** How long a firing alert stays firing in Alertmanager without being sent again; the refresh job re-sends every minute. */
export const ALERT_TTL_SECONDS = 300;

/**
 * The alert for one target, firing (`endsAt` = now + ALERT_TTL_SECONDS) or,
 * with `resolvedAt`, resolved then. Labels: `alertname="VigilTargetDown"`,
 * `vigil_target` and `instance` = the target's name, `severity="critical"`, and
 * the target's own labels whose names Alertmanager accepts.
 */
export function alertmanagerAlert(
  target: Pick<Target, 'name' | 'labels'>,
  message: string,
  startsAt: Date,
  opts: { now: Date; resolvedAt?: Date },
): AlertmanagerAlert {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(target.labels)) if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) labels[k] = v;
  Object.assign(labels, { alertname: 'VigilTargetDown', vigil_target: target.name, instance: target.name, severity: 'critical' });
  const endsAt = opts.resolvedAt ?? new Date(opts.now.getTime() + ALERT_TTL_SECONDS * 1000);
  return {
    labels,
    annotations: { summary: `${target.name} is down`, description: message },
    startsAt: (startsAt > endsAt ? endsAt : startsAt).toISOString(),
    endsAt: endsAt.toISOString(),
  };
}

/**
 * `VigilWatchdog{severity="none"}`: always firing while the scraper runs
 * (re-sent each minute, ALERT_TTL_SECONDS to live). Route it to a dead man's
 * switch; its silence means the scraper, or its path to Alertmanager, is gone.
 */
export function watchdogAlert(now: Date): AlertmanagerAlert {
  return {
    labels: { alertname: 'VigilWatchdog', severity: 'none' },
    annotations: {
      summary: 'The Vigil scraper is running',
      description: "Always firing while the Vigil scraper runs; route it to a dead man's switch so that its absence alerts.",
    },
    startsAt: now.toISOString(),
    endsAt: new Date(now.getTime() + ALERT_TTL_SECONDS * 1000).toISOString(),
  };
}

/** The wait before retry number `attempt` (1-based): 5 s, doubling, at most 10 minutes. */
export function retryDelaySeconds(attempt: number): number {
  return Math.min(5 * 2 ** (attempt - 1), 600);
}

export interface NotifierOptions {
  /** Per-request timeout (default 10 s). */
  timeoutSeconds?: number;
  /** Attempts before a delivery is given up as failed (default 10, about 45 minutes of retries). */
  maxAttempts?: number;
  /** The clock (tests move it forward to skip backoff waits). */
  now?: () => Date;
  /** Who claims the deliveries it sends (this scraper replica's id). */
  claimant?: string;
  /** Whether this replica speaks for a target (owns it): only those of its down targets are re-sent to Alertmanager. */
  judges?: (targetId: number) => boolean;
}

/** Counts since start, for the scraper's /metrics. */
export interface NotifierStats {
  sent: number;
  retried: number;
  failed: number;
}

/**
 * Sends target down and recovery events to the notification channels: queues
 * a delivery per channel and event in the database (a channel that takes
 * messages for people waits its group_wait first, and then gets the events of
 * one direction whose hosts share its group_by labels as one message: "12
 * hosts in rack=a are down"; a webhook or an Alertmanager gets each event at
 * once), sends what is due, and
 * retries failures with backoff (5 s doubling to 10 min) until sent or given up
 * after `maxAttempts`. Each delivery is claimed in the database before it is
 * sent, so of several replicas only one sends it. Delivery is at least once: a
 * receiver may see an event twice if the scraper dies between sending and
 * recording (another replica sends it again when the claim lapses).
 *
 * Alertmanager channels get alerts (`POST <url>/api/v2/alerts`), resolved on
 * recovery; `refreshAlertmanagers` re-sends every down target's alert so it
 * stays firing (Alertmanager resolves an alert it has not heard of for a while).
 */
export class Notifier {
  readonly stats: NotifierStats = { sent: 0, retried: 0, failed: 0 };
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #now: () => Date;
  readonly #claimant: string;
  readonly #judges: (targetId: number) => boolean;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: Logger,
    opts: NotifierOptions = {},
  ) {
    this.#timeoutMs = (opts.timeoutSeconds ?? 10) * 1000;
    this.#maxAttempts = opts.maxAttempts ?? 10;
    this.#now = opts.now ?? (() => new Date());
    this.#claimant = opts.claimant ?? 'scraper';
    this.#judges = opts.judges ?? (() => true);
  }

  /**
   * Queues new events and sends every delivery that is due, one request at a
   * time. After a channel fails once in a pass, its other deliveries wait for
   * the next pass untried, so a receiver that hangs until the timeout delays
   * the others by one timeout, not one per queued event.
   */
  async deliverDue(): Promise<void> {
    await enqueueDeliveries(this.db);
    const start = this.#now();
    const due = await dueDeliveries(this.db, start, 100, this.#claimant);
    // A channel that groups is sent by one replica at a time, which takes all its pending deliveries:
    // a group that is due goes out whole, its members still waiting for the group wait with it.
    const grouping = [...new Set(due.filter((d) => GROUPED.has(d.channel.kind)).map((d) => d.channel.id))];
    const held: number[] = [];
    const deliveries = due.filter((d) => !GROUPED.has(d.channel.kind));
    const unsent: number[] = [];
    for (const id of grouping) {
      if (await claimChannel(this.db, id, this.#claimant)) {
        held.push(id);
        deliveries.push(...(await claimChannelDeliveries(this.db, id, this.#claimant)));
      } else unsent.push(...due.filter((d) => d.channel.id === id).map((d) => d.id));
    }
    const failing = new Set<number>();
    for (const batch of batchDeliveries(deliveries)) {
      const first = batch[0]!;
      if (!batch.some((d) => d.next_attempt_at <= start)) {
        unsent.push(...batch.map((d) => d.id));
        continue;
      }
      if (failing.has(first.channel.id)) continue;
      const now = this.#now();
      try {
        await this.#deliver(batch, now);
        for (const d of batch) await recordDeliveryAttempt(this.db, d.id, { sent: true, at: now });
        this.stats.sent += batch.length;
        this.log.info(
          batch.length === 1
            ? { channel: first.channel.name, target: first.target.name, to: first.event.to_state }
            : { channel: first.channel.name, targets: batch.length, to: first.event.to_state },
          batch.length === 1 ? 'notification sent' : 'notifications sent as one message',
        );
      } catch (err) {
        failing.add(first.channel.id);
        const error = (err as Error).message;
        for (const d of batch) {
          const attempt = d.attempts + 1;
          const retryAt = attempt >= this.#maxAttempts ? null : new Date(now.getTime() + retryDelaySeconds(attempt) * 1000);
          await recordDeliveryAttempt(this.db, d.id, { sent: false, error, retryAt });
          if (retryAt) this.stats.retried++;
          else this.stats.failed++;
          this.log.warn(
            { channel: d.channel.name, target: d.target.name, attempt, error, retryAt },
            retryAt ? 'notification failed; will retry' : `notification given up after ${attempt} attempts`,
          );
        }
      }
    }
    await releaseDeliveries(this.db, unsent);
    for (const id of held) await releaseChannel(this.db, id, this.#claimant);
  }

  /** Sends one delivery in its channel's own form, or a group of them as one message for people. */
  async #deliver(batch: DueDelivery[], now: Date): Promise<void> {
    const d = batch[0]!;
    const opts = { timeoutMs: this.#timeoutMs, userAgent: 'vigil-scraper' };
    if (batch.length > 1) {
      const msg = eventsMessage(batch);
      if (d.channel.kind === 'slack') return this.#send(d.channel, slackText(msg));
      return sendMessage(d.channel, msg, opts);
    }
    if (MESSAGE_KINDS.has(d.channel.kind) && d.channel.kind !== 'slack') return sendMessage(d.channel, eventMessage(d), opts);
    return this.#send(d.channel, this.#body(d, now));
  }

  /**
   * Re-sends the alert of every down target to every enabled Alertmanager
   * channel, with `VigilWatchdog`: an alert that fires as long as the scraper
   * runs, for a dead man's switch to notice its absence (down targets' alerts
   * would otherwise simply resolve if the scraper died); and, from `extra`,
   * each channel's firing rule alerts.
   */
  async refreshAlertmanagers(extra?: (channel: NotificationChannel) => Promise<AlertmanagerAlert[]>): Promise<void> {
    const channels = (await listChannels(this.db)).filter((c) => c.kind === 'alertmanager' && c.enabled);
    if (channels.length === 0) return;
    const now = this.#now();
    const alerts = (await listTargets(this.db))
      .filter((t) => t.state === 'down' && !t.paused && this.#judges(t.id))
      .map((t) => alertmanagerAlert(t, `${t.name} is down`, t.state_changed_at, { now }));
    alerts.push(watchdogAlert(now));
    for (const c of channels) {
      try {
        await this.#send(c, extra ? [...alerts, ...(await extra(c))] : alerts);
      } catch (err) {
        this.log.warn(
          { channel: c.name, error: (err as Error).message },
          'could not refresh the alerts in Alertmanager; will try again in a minute',
        );
      }
    }
  }

  #body(d: DueDelivery, now: Date): unknown {
    switch (d.channel.kind) {
      case 'slack':
        return slackPayload(d);
      case 'alertmanager':
        return [
          alertmanagerAlert(d.target, d.event.message, d.event.time, {
            now,
            resolvedAt: d.event.to_state === 'down' ? undefined : d.event.time,
          }),
        ];
      default:
        return webhookPayload(d);
    }
  }

  #send(channel: { kind: string; url: string }, body: unknown): Promise<void> {
    return postToChannel(channel, body, { timeoutMs: this.#timeoutMs, userAgent: 'vigil-scraper' });
  }
}
