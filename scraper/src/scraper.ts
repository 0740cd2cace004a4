import { availableParallelism } from 'node:os';
import { type Counters, NO_FIGURES } from '@vigil/core/heartbeat';
import type { Logger } from '@vigil/core/log';
import { maskUrl } from '@vigil/core/secrets';
import {
  applyTransitions,
  type Database,
  dropExpiredHeartbeatPartitions,
  ensureHeartbeatPartitions,
  listTargets,
  pruneRollups,
  pruneScrapers,
  REBALANCE_LOCK,
  rollupHeartbeats,
  type Target,
  targetLiveness,
} from '@vigil/db';
import { type Kysely, sql } from 'kysely';
import cron, { type ScheduledTask } from 'node-cron';
import { Registry } from 'prom-client';
import pkg from '../package.json' with { type: 'json' };
import { AlertNotifier } from './alert-notify.js';
import { AlertEngine } from './alerts.js';
import { InventoryKeeper } from './inventory.js';
import { decideTransitions, mergeSeen, type Seen } from './liveness.js';
import { Membership } from './membership.js';
import { scraperMetrics } from './metrics.js';
import { Notifier } from './notify.js';
import { OutageLog } from './outage.js';
import { PacedScheduler, Semaphore } from './scheduler.js';
import { ScrapePool } from './scrape-pool.js';
import { HeartbeatWriter } from './writer.js';

export interface ScraperOptions {
  token?: string;
  concurrency: number;
  bodyLimitBytes: number;
  downAfterIntervals: number;
  retentionDays: number;
  /** Days hourly rollups are kept (default 365). */
  rollupRetentionDays?: number;
  queueLimit: number;
  /** How often the target list is re-read from the database (default 5 s). */
  targetRefreshSeconds?: number;
  /** Most worker threads making the scrapes (default: one per core; it starts with one and grows when busy); 0 scrapes on the main thread. */
  scrapeThreads?: number;
  /** First retry delay of the heartbeat writer after a failed write, doubling to 30 s (default 1 s). */
  writerBackoffSeconds?: number;
  /** Link-local and metadata addresses or CIDR ranges that may be scraped all the same (VIGIL_SCRAPE_ALLOW); others are refused. */
  scrapeAllow?: readonly string[];
  /** A replica not seen for this long is dead and its targets move to the others, seconds (default 10). */
  memberTimeoutSeconds?: number;
  /** Seconds between membership heartbeats (default 1). */
  memberBeatSeconds?: number;
  /** This process's clock, ms since the epoch (tests skew it); the scraper keeps time by the database's. */
  now?: () => number;
}

/** Key of the advisory lock under which one replica at a time maintains partitions and rollups. */
const RETENTION_LOCK = REBALANCE_LOCK + 1;

/**
 * The scraper: each target's scrapes start at its own phase within its
 * interval (a timer paced to the millisecond; bounded concurrency, per-scrape
 * timeout and body cap; lateness measured); a node-cron job re-reads the
 * target list each second when due. Each scrape becomes
 * one heartbeat, written in batches. A liveness job every 2 s moves targets
 * between unknown/up/down and writes an event per transition; a notify job
 * every 2 s sends down and recovery events to the notification channels (and
 * each minute re-sends firing alerts to Alertmanagers); an inventory job
 * writes containers and services that changed; an hourly retention job keeps
 * day partitions ahead, drops those past retention and rolls heartbeats up by hour.
 *
 * Replicas: any number of scrapers share one database. Each scrapes, judges
 * and notifies only the targets it owns (see Membership); heartbeats and
 * liveness use the database's clock, so a replica whose own clock is off
 * neither calls live targets down nor misses dead ones.
 */
export class Scraper {
  readonly registry = new Registry();
  readonly writer: HeartbeatWriter;
  readonly notifier: Notifier;
  /** The alert rules, evaluated on each successful scrape of a target this replica owns. */
  readonly alerts: AlertEngine;
  /** Alerts to the channels, grouped. */
  readonly alertNotifier: AlertNotifier;
  /** Where scrapes run (request, body, parse, figures): worker threads, off the event loop. */
  readonly pool: ScrapePool;
  /** Database outages, logged once when they start and once when they end. */
  readonly outage: OutageLog;
  /** Each target's latest containers and services, written when they change. */
  readonly inventory = new InventoryKeeper();
  /** This replica's membership: its id, what it owns, the database's clock. */
  readonly membership: Membership;
  /** Every unpaused target, as last read; `#targets` is the part this replica scrapes. */
  #all: Target[] = [];
  #targets: Target[] = [];
  #targetsLoadedAt = 0;
  #scheduler = new PacedScheduler<Target>();
  #timer: NodeJS.Timeout | null = null;
  #pacing = false;
  #semaphore: Semaphore;
  /** Each target's CPU totals from its last scrape that started a window, and when (ms). */
  #previous = new Map<number, Counters>();
  #tasks: ScheduledTask[] = [];
  #running = new Set<Promise<void>>();
  #startedAt = Date.now();
  #liveness: Promise<void> | null = null;
  /**
   * What this process saw of each target's scrapes, whether or not the
   * heartbeats have reached the database yet: liveness is judged on this
   * merged with the database (which knows what happened before this process).
   */
  #seen = new Map<number, Seen>();
  readonly #m;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: ScraperOptions,
    private readonly log: Logger,
  ) {
    this.outage = new OutageLog(log);
    this.membership = new Membership(db, log, {
      timeoutSeconds: options.memberTimeoutSeconds ?? 10,
      beatSeconds: options.memberBeatSeconds,
      version: pkg.version,
      now: options.now,
    });
    this.pool = new ScrapePool(options.scrapeThreads ?? availableParallelism());
    this.writer = new HeartbeatWriter(
      db,
      log,
      {
        queueLimit: options.queueLimit,
        backoffSeconds: options.writerBackoffSeconds,
        maxBackoffSeconds: Math.max(30, options.writerBackoffSeconds ?? 0),
      },
      this.outage,
    );
    this.notifier = new Notifier(db, log, { claimant: this.membership.id, judges: (id) => this.membership.judges(id) });
    this.alerts = new AlertEngine(db);
    this.alertNotifier = new AlertNotifier(db, log, { claimant: this.membership.id });
    this.#semaphore = new Semaphore(options.concurrency);
    this.#m = scraperMetrics(this.registry, {
      writer: this.writer,
      notifier: this.notifier,
      pool: this.pool,
      targets: () => this.#targets.length,
      skipped: () => this.#scheduler.skipped,
      membership: this.membership,
      alerts: this.alerts,
      alertNotifier: this.alertNotifier,
    });
  }

  /** The targets this replica scrapes, as last read from the database. */
  get targets(): readonly Target[] {
    return this.#targets;
  }

  /**
   * A membership heartbeat (see Membership.beat), then the target list read
   * again now (paused ones left out) and cut to what this replica scrapes.
   */
  async refreshTargets(): Promise<void> {
    await this.#beat();
    await this.#readTargets();
  }

  async #readTargets(): Promise<void> {
    this.#all = (await listTargets(this.db)).filter((t) => !t.paused);
    this.#targetsLoadedAt = Date.now();
    this.#applyOwnership();
  }

  async #beat(): Promise<boolean> {
    try {
      return await this.membership.beat();
    } catch (err) {
      this.membership.lost();
      throw err;
    }
  }

  /** The membership job: a heartbeat, and the scraped set changed when the owners did (the list read again when it names a target not known here). */
  async beatMembership(): Promise<void> {
    let changed: boolean;
    try {
      changed = await this.#beat();
    } catch (err) {
      this.outage.failed('scraper membership', err, { scraping: this.#targets.length });
      return;
    }
    const known = new Set(this.#all.map((t) => t.id));
    if ([...this.membership.owned].some((id) => !known.has(id))) await this.#readTargets();
    else if (changed || this.#targets.some((t) => !this.membership.scrapes(t.id))) this.#applyOwnership();
  }

  /** Cuts the list to the targets this replica scrapes; forgets what it kept of the others (their up series, cpu sample). */
  #applyOwnership(): void {
    const next = this.#all.filter((t) => this.membership.scrapes(t.id));
    const ids = new Set(next.map((t) => t.id));
    for (const t of this.#targets) {
      if (ids.has(t.id)) continue;
      this.#previous.delete(t.id);
      this.#seen.delete(t.id);
      this.inventory.forget(t.id);
      this.alerts.forget(t.id);
      this.#m.targetUp.remove({ target: t.name });
    }
    this.#targets = next;
    this.#scheduler.setTargets(next, Date.now());
    this.#wake();
  }

  /** Re-reads the target list when it is due (every `targetRefreshSeconds`); keeps the last list when the database is away. */
  async refreshIfDue(nowMs: number = Date.now()): Promise<void> {
    if (nowMs - this.#targetsLoadedAt < (this.options.targetRefreshSeconds ?? 5) * 1000) return;
    try {
      await this.#readTargets();
    } catch (err) {
      this.outage.failed('target list', err, { scraping: this.#targets.length });
      this.#targetsLoadedAt = nowMs;
    }
  }

  /** Refreshes the target list when due and starts the scrapes due at `nowMs`. */
  async tick(nowMs: number = Date.now()): Promise<void> {
    await this.refreshIfDue(nowMs);
    this.#startDue(nowMs);
  }

  #startDue(nowMs: number): void {
    for (const { target, latenessMs } of this.#scheduler.takeDue(nowMs)) this.#start(target, nowMs - latenessMs);
  }

  /** Runs one scrape (when the concurrency allows); its lateness is measured when it really starts. */
  #start(t: Target, dueMs: number): void {
    const p = this.#semaphore
      .run(() => {
        this.#m.lateness.observe(Math.max(0, Date.now() - dueMs) / 1000);
        return this.scrapeOnce(t);
      })
      .catch((err) => this.log.error({ err, target: t.name }, 'scrape crashed'))
      .finally(() => {
        this.#running.delete(p);
        // Its next slot came while it ran: start that one now, late.
        const now = Date.now();
        const again = this.#scheduler.done(t.id, now);
        if (again && this.#pacing) this.#start(again.target, now - again.latenessMs);
      });
    this.#running.add(p);
  }

  /** Sets the timer for the next due scrape (sub-second: each target at its own phase). */
  #wake(): void {
    if (!this.#pacing) return;
    if (this.#timer) clearTimeout(this.#timer);
    const next = this.#scheduler.nextWakeMs();
    if (next === null) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.#startDue(Date.now());
        this.#wake();
      },
      Math.max(0, next - Date.now()),
    );
  }

  /** Scrapes one target now and queues its heartbeat; `time` is when the scrape counts as started (now by default). */
  async scrapeOnce(t: Target, time: Date = new Date(this.membership.now())): Promise<void> {
    // A rate needs a window of at least half the interval: the first scrape of
    // a new target and the scheduled one a moment later would otherwise give
    // the CPU busy % of a fraction of a second (100 % seen).
    const previous = this.#previous.get(t.id);
    const at = previous ? previous.time * 1000 : 0;
    const wide = previous !== undefined && time.getTime() - at >= (t.interval_seconds * 1000) / 2;
    const result = await this.pool.scrape(t.id, {
      url: t.url,
      token: t.token ?? this.options.token,
      timeoutSeconds: t.timeout_seconds,
      bodyLimitBytes: this.options.bodyLimitBytes,
      intervalSeconds: t.interval_seconds,
      allowAddresses: this.options.scrapeAllow,
      previous: wide ? previous : undefined,
      scrapeTime: time.getTime() / 1000,
    });
    this.#m.scrapes.inc({ result: result.up ? 'up' : 'down' });
    this.#m.duration.observe(result.durationSeconds);
    this.#m.targetUp.set({ target: t.name }, result.up ? 1 : 0);
    const base = { target_id: t.id, time, up: result.up, duration_seconds: result.durationSeconds };
    const seen = this.#seen.get(t.id) ?? { lastSuccessMs: null, lastError: null, goodbyeMs: null };
    this.#seen.set(
      t.id,
      result.up
        ? { lastSuccessMs: time.getTime(), lastError: null, goodbyeMs: null }
        : { ...seen, lastError: result.error, goodbyeMs: result.stopping ? time.getTime() : seen.goodbyeMs },
    );
    if (result.up) {
      const { figures, counters, inventory } = result.parsed;
      this.inventory.observe(t.id, time, inventory);
      this.alerts.observe(t, time, figures, inventory);
      if (wide || previous === undefined || time.getTime() - at >= t.interval_seconds * 1000) this.#previous.set(t.id, counters);
      this.writer.push({ ...base, error: null, ...figures });
    } else {
      this.log.debug({ target: t.name, url: maskUrl(t.url), err: result.error }, 'scrape failed');
      this.writer.push({ ...base, error: result.error, ...NO_FIGURES });
    }
  }

  /**
   * One liveness pass: decides and writes transitions (a call while a pass runs
   * waits for it, then makes its own). Judged on every scrape this process made, written yet or not: a
   * database outage, or a writer still catching up after one, never makes a
   * target that kept answering look silent.
   */
  async checkLiveness(nowMs?: number): Promise<void> {
    // A call while a pass runs waits for it, then makes its own.
    while (this.#liveness) await this.#liveness;
    this.#liveness = this.#livenessPass(nowMs ?? this.membership.now()).finally(() => {
      this.#liveness = null;
    });
    return this.#liveness;
  }

  async #livenessPass(nowMs: number): Promise<void> {
    try {
      // Only the targets this replica owns, each judged from when it took it:
      // a target handed over a moment ago is not silent for the time before.
      const targets = (await targetLiveness(this.db))
        .filter((t) => this.membership.judges(t.id))
        .map((t) => mergeSeen(t, this.#seen.get(t.id)));
      const since = (id: number) => Math.max(this.#startedAt, this.membership.acquiredAt(id));
      const applied = await applyTransitions(this.db, decideTransitions(targets, nowMs, since, this.options.downAfterIntervals));
      this.outage.ok({ heartbeatsQueued: this.writer.queued });
      for (const t of applied) {
        this.#m.transitions.inc({ state: t.to });
        this.log[t.to === 'down' ? 'warn' : 'info']({ targetId: t.targetId, from: t.from, to: t.to }, t.message);
      }
    } catch (err) {
      this.outage.failed('liveness', err);
    }
  }

  /**
   * The retention job: creates the coming days' partitions, drops those past
   * retention, rolls the completed hours' heartbeats up into hourly rows (a day
   * at a time, logged, when catching up) and deletes rollups past theirs.
   */
  async maintainPartitions(now: Date = new Date(this.membership.now())): Promise<void> {
    try {
      // One replica at a time (the others skip): two creating the same partition at once would collide.
      await this.db.transaction().execute(async (tx) => {
        const lock = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${RETENTION_LOCK}) as ok`.execute(tx);
        if (!lock.rows[0]?.ok) return this.log.debug('another scraper replica is maintaining the partitions');
        const created = await ensureHeartbeatPartitions(tx, now, 2);
        const dropped = await dropExpiredHeartbeatPartitions(tx, this.options.retentionDays, now);
        if (created.length || dropped.length) this.log.info({ created, dropped }, 'heartbeat partitions maintained');
        const rolled = await rollupHeartbeats(tx, now, (p) => {
          if (p.to.getTime() - p.from.getTime() >= 86_400_000)
            this.log.info({ from: p.from, to: p.to, rows: p.rows }, 'rolling heartbeats up');
        });
        const pruned = await pruneRollups(tx, this.options.rollupRetentionDays ?? 365, now);
        const replicas = await pruneScrapers(tx, 86_400);
        this.log.debug({ ...rolled, pruned, replicas }, 'hourly rollups maintained');
      });
    } catch (err) {
      this.outage.failed('retention', err);
    }
  }

  /** Writes the containers and services that changed; kept for the next try when the database is away. */
  async flushInventory(): Promise<void> {
    try {
      await this.inventory.flush(this.db);
    } catch (err) {
      this.outage.failed('inventory', err, { pending: this.inventory.pending });
    }
  }

  /**
   * The alerts job: writes what the heartbeats since the last pass changed of
   * the alerts, then sends the groups of alerts that are due.
   */
  async checkAlerts(): Promise<void> {
    try {
      await this.alerts.pass();
      await this.alertNotifier.pass();
    } catch (err) {
      this.outage.failed('alerts', err, { pending: this.alerts.pending });
    }
  }

  /** Starts the cron jobs. */
  async start(): Promise<void> {
    this.#startedAt = Date.now();
    // node-cron's own messages through this logger: a job still running when its
    // next turn comes (liveness or notify waiting on a slow database) is normal
    // under load, said at debug level, not printed to the console on every tick.
    cron.setLogger({
      info: (m: string) => this.log.debug({ source: 'node-cron' }, m),
      warn: (m: string) => this.log.debug({ source: 'node-cron' }, m),
      debug: (m: string) => this.log.debug({ source: 'node-cron' }, m),
      error: (m: string, err?: unknown) => this.log.error({ source: 'node-cron', err: (err as Error)?.message }, m),
    });
    await this.maintainPartitions();
    await this.refreshTargets();
    await this.alerts.loadRules().catch((err) => this.outage.failed('alert rules', err));
    const job = (expr: string, name: string, fn: () => Promise<void>) =>
      this.#tasks.push(cron.schedule(expr, () => fn().catch((err) => this.outage.failed(name, err)), { name, noOverlap: true }));
    this.#pacing = true;
    this.#wake();
    job(`*/${this.membership.beatSeconds} * * * * *`, 'membership', () => this.beatMembership());
    job('* * * * * *', 'targets', () => this.refreshIfDue());
    job('* * * * * *', 'flush', () => this.writer.flush());
    job('*/2 * * * * *', 'inventory', () => this.flushInventory());
    job('*/2 * * * * *', 'liveness', () => this.checkLiveness());
    job('*/2 * * * * *', 'notify', () => this.notifier.deliverDue());
    job('*/2 * * * * *', 'alerts', () => this.checkAlerts());
    job('30 * * * * *', 'alertmanager', () => this.notifier.refreshAlertmanagers((c) => this.alertNotifier.firingForAlertmanager(c)));
    job('0 7 * * * *', 'retention', () => this.maintainPartitions());
    this.log.info({ targets: this.#targets.length, replica: this.membership.id, replicas: this.membership.liveMembers }, 'scraper started');
  }

  /** Resolves when the scrapes running now have finished and queued their heartbeats. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#running]);
  }

  /**
   * Stops: leaves the replicas (its targets go to the others at once) and
   * keeps scraping them until the others have taken over, then stops the jobs,
   * waits for running scrapes and writes what is queued.
   */
  async stop(): Promise<void> {
    try {
      await this.membership.leave();
      const drain = this.membership.drainMs();
      if (drain > 0) {
        this.log.info({ drainSeconds: drain / 1000 }, 'left the scraper replicas; scraping until the others take over');
        await new Promise((r) => setTimeout(r, drain));
      }
    } catch (err) {
      this.outage.failed('scraper membership', err);
    }
    this.#pacing = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const t of this.#tasks) await t.destroy();
    this.#tasks = [];
    await this.settle();
    await this.writer.flush();
    await this.flushInventory();
    await this.pool.close();
  }
}
