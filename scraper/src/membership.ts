import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '@vigil/core/log';
import { beatScraper, type Database, joinScrapers, leaveScrapers, liveScraperCount, ownedTargetIds, rebalanceTargets } from '@vigil/db';
import type { Kysely } from 'kysely';

export interface MembershipOptions {
  /** A replica not seen for this long (seconds, by the database's clock) is dead, and its targets move (default 10). */
  timeoutSeconds: number;
  /** Seconds between membership heartbeats (default 1): how soon a change of owners is seen. */
  beatSeconds?: number;
  /** The program's version, shown beside the replica. */
  version?: string;
  /** This process's clock, ms since the epoch (tests skew it). */
  now?: () => number;
}

/** How far the local clock may be from the database's before it is said in the log (ms). */
const CLOCK_WARNING_MS = 1000;
/** Changes of the measured offset smaller than this are noise (round trips), not a clock step (ms). */
const OFFSET_NOISE_MS = 50;

/**
 * This scraper's place among the replicas sharing one database: its row in
 * `scrapers` (a heartbeat each `beatSeconds`, stamped with the database's
 * clock), the targets it owns (`targets.scraper_id`, shared out by
 * `rebalanceTargets` under an advisory lock), when it took each, and how far
 * its own clock is from the database's.
 *
 * A replica that has just reconnected after losing the database does not share
 * out for one timeout: every other replica looks dead to it until they, too,
 * have beaten again (the database was away for them as well), and it would
 * take the whole fleet. It keeps scraping what
 * it owned meanwhile. A target handed to another replica is still scraped here
 * for a grace of two heartbeats, until the new owner has surely seen it: an
 * extra scrape, never a missed one.
 */
export class Membership {
  readonly id: string;
  readonly timeoutSeconds: number;
  readonly beatSeconds: number;
  readonly #version: string;
  readonly #now: () => number;
  /** Owned targets and when (database clock, ms) this replica took each; null before the first beat. */
  #owned: Map<number, number> | null = null;
  /** Targets handed on, and until when (local ms) they are still scraped here. */
  #released = new Map<number, number>();
  /** Since when the database has answered without a break (-Infinity: since start); null while it is away. */
  #connectedSince: number | null = Number.NEGATIVE_INFINITY;
  #left = false;
  #warnedOffset = false;
  /** The database's clock minus this process's, ms. */
  offsetMs = 0;
  /** Live replicas at the last beat, this one included. */
  liveMembers = 0;
  /** Targets this replica moved when it shared out, since start. */
  moves = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: Logger,
    options: MembershipOptions,
  ) {
    this.timeoutSeconds = options.timeoutSeconds;
    this.beatSeconds = options.beatSeconds ?? 1;
    this.#version = options.version ?? '0.0.0';
    this.#now = options.now ?? Date.now;
    this.id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  }

  /** Now by the database's clock as last measured (ms since the epoch). */
  now(): number {
    return this.#now() + this.offsetMs;
  }

  /** Whether this replica has left (stopping). */
  get left(): boolean {
    return this.#left;
  }

  /** The targets this replica owns now (judges and notifies). */
  get owned(): ReadonlySet<number> {
    return new Set(this.#owned?.keys() ?? []);
  }

  /** Whether this replica scrapes the target: it owns it, or handed it on less than two heartbeats ago. */
  scrapes(targetId: number): boolean {
    if (this.#owned?.has(targetId)) return true;
    const until = this.#released.get(targetId);
    return until !== undefined && until > this.#now();
  }

  /** Whether this replica judges the target's liveness and sends its alerts: it owns it. */
  judges(targetId: number): boolean {
    return !this.#left && (this.#owned?.has(targetId) ?? false);
  }

  /** When this replica took the target (database clock, ms); its silence before that is not this replica's to judge. */
  acquiredAt(targetId: number): number {
    return this.#owned?.get(targetId) ?? this.now();
  }

  /**
   * One membership heartbeat: joins (again, when its row is gone), measures
   * the clock offset, shares the targets out when it may, and reads what it owns.
   * @returns whether the owned set changed
   * @throws the database's error; what it owned is kept
   */
  async beat(): Promise<boolean> {
    if (this.#left) return false;
    const before = this.#now();
    let dbNow = await beatScraper(this.db, this.id);
    if (dbNow === null) {
      await joinScrapers(this.db, { id: this.id, hostname: hostname(), pid: process.pid, version: this.#version });
      dbNow = await beatScraper(this.db, this.id);
      if (dbNow === null) throw new Error('could not join the scraper replicas: its row vanished as it was written');
    }
    this.#measureOffset(dbNow.getTime() - (before + this.#now()) / 2);
    this.#connectedSince ??= this.#now();
    this.liveMembers = await liveScraperCount(this.db, this.timeoutSeconds);
    if (this.#now() - this.#connectedSince >= this.timeoutSeconds * 1000) {
      const r = await rebalanceTargets(this.db, this.timeoutSeconds);
      if (r?.moves.length) {
        this.moves += r.moves.length;
        // Alone, it simply takes every target: worth saying only when there are others.
        this.log[r.members.length > 1 ? 'info' : 'debug'](
          { replicas: r.members.length, moved: r.moves.length },
          'targets shared out among the scraper replicas',
        );
      }
    }
    return this.#setOwned(await ownedTargetIds(this.db, this.id));
  }

  /** Says the database is away: the next successful beat starts a new wait before sharing out. */
  lost(): void {
    this.#connectedSince = null;
  }

  /**
   * Leaves the replicas: deletes its row (its targets lose their owner) and
   * shares them out to the others at once. It stops judging now; the caller
   * keeps scraping for `drainMs()` so the new owners take over without a gap.
   */
  async leave(): Promise<void> {
    if (this.#left) return;
    this.#left = true;
    await leaveScrapers(this.db, this.id);
    await rebalanceTargets(this.db, this.timeoutSeconds);
  }

  /** How long a leaving replica keeps scraping (ms): until the others have surely seen their new targets; 0 when it was alone. */
  drainMs(): number {
    return this.liveMembers > 1 ? 2 * this.beatSeconds * 1000 : 0;
  }

  #setOwned(ids: number[]): boolean {
    const previous = this.#owned ?? new Map<number, number>();
    const next = new Map<number, number>();
    const now = this.now();
    let changed = this.#owned === null || ids.length !== previous.size;
    for (const id of ids) {
      const took = previous.get(id);
      if (took === undefined) changed = true;
      next.set(id, took ?? now);
    }
    const grace = this.#now() + 2 * this.beatSeconds * 1000;
    for (const id of previous.keys()) if (!next.has(id)) this.#released.set(id, grace);
    for (const id of next.keys()) this.#released.delete(id);
    for (const [id, until] of this.#released) if (until <= this.#now()) this.#released.delete(id);
    this.#owned = next;
    return changed;
  }

  #measureOffset(measured: number): void {
    if (Math.abs(measured - this.offsetMs) > OFFSET_NOISE_MS) this.offsetMs = Math.round(measured);
    if (!this.#warnedOffset && Math.abs(this.offsetMs) > CLOCK_WARNING_MS) {
      this.#warnedOffset = true;
      this.log.warn(
        { offsetSeconds: this.offsetMs / 1000 },
        `this machine's clock is ${(Math.abs(this.offsetMs) / 1000).toFixed(1)} s ${this.offsetMs > 0 ? 'behind' : 'ahead of'} the database's; the scraper keeps time by the database's clock (set up NTP to fix it)`,
      );
    }
  }
}
