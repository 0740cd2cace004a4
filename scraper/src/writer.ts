import type { Logger } from '@vigil/core/log';
import { type Database, ensureHeartbeatPartitions, insertHeartbeats, type NewHeartbeat } from '@vigil/db';
import type { Kysely } from 'kysely';
import { OutageLog } from './outage.js';

export interface WriterOptions {
  /** Rows per insert (default 500). */
  batchSize?: number;
  /** Rows kept while the database is away; past it the oldest are dropped and counted (default 100 000). */
  queueLimit?: number;
  /** First retry delay after a failed write, doubled up to `maxBackoffSeconds` (default 1 s, 30 s). */
  backoffSeconds?: number;
  maxBackoffSeconds?: number;
}

/** Counts a writer keeps, for the scraper's own /metrics. */
export interface WriterStats {
  written: number;
  dropped: number;
  failedWrites: number;
  queued: number;
}

/**
 * Writes heartbeats in batches: `push()` queues a row and returns at once;
 * `flush()` writes what is queued with one multi-row insert per batch. When the
 * database is away, rows wait in a bounded queue and the write is retried with
 * backoff; rows beyond the bound are dropped oldest first and counted, never
 * silently. A missing day partition is created and the write retried.
 */
export class HeartbeatWriter {
  #queue: NewHeartbeat[] = [];
  #flushing: Promise<void> | null = null;
  #retryAt = 0;
  #backoff: number;
  #failing = false;
  #droppedSinceWritten = 0;
  /** Where database failures are reported (one line per outage); the scraper shares its own. */
  readonly outage: OutageLog;
  readonly stats: WriterStats = { written: 0, dropped: 0, failedWrites: 0, queued: 0 };
  readonly #batchSize: number;
  readonly #queueLimit: number;
  readonly #minBackoff: number;
  readonly #maxBackoff: number;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: Logger,
    options: WriterOptions = {},
    outage?: OutageLog,
  ) {
    this.outage = outage ?? new OutageLog(log);
    this.#batchSize = options.batchSize ?? 500;
    this.#queueLimit = options.queueLimit ?? 100_000;
    this.#minBackoff = options.backoffSeconds ?? 1;
    this.#maxBackoff = options.maxBackoffSeconds ?? 30;
    this.#backoff = this.#minBackoff;
  }

  /** Queues one heartbeat. */
  push(row: NewHeartbeat): void {
    this.#queue.push(row);
    if (this.#queue.length > this.#queueLimit) {
      const over = this.#queue.length - this.#queueLimit;
      this.#queue.splice(0, over);
      this.stats.dropped += over;
      // Said once per outage; the count is in the recovery line and in vigil_scraper_heartbeats_dropped_total.
      if (this.#droppedSinceWritten === 0)
        this.log.warn({ limit: this.#queueLimit }, 'heartbeat queue full: dropping the oldest heartbeats until the database is back');
      this.#droppedSinceWritten += over;
    }
    this.stats.queued = this.#queue.length;
  }

  /** Rows waiting to be written. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Writes everything queued, batch by batch. Returns early (keeping the rows)
   * when a write fails or while a retry is not yet due; never rejects.
   * Concurrent calls share one pass.
   */
  flush(now: number = Date.now()): Promise<void> {
    if (!this.#flushing) {
      this.#flushing = this.#flush(now).finally(() => {
        this.#flushing = null;
      });
    }
    return this.#flushing;
  }

  async #flush(now: number): Promise<void> {
    if (now < this.#retryAt) return;
    while (this.#queue.length > 0) {
      const batch = this.#queue.slice(0, this.#batchSize);
      let written: number;
      try {
        written = await this.#write(batch);
      } catch (err) {
        this.stats.failedWrites++;
        this.#retryAt = Date.now() + this.#backoff * 1000;
        this.outage.failed('heartbeat writer', err, { queued: this.#queue.length });
        this.#backoff = Math.min(this.#backoff * 2, this.#maxBackoff);
        this.#failing = true;
        return;
      }
      // Rows pushed meanwhile sit behind the batch, and drops only ever cut the
      // head: what is left of the batch is a prefix of the queue. Cut that.
      const done = new Set(batch);
      let k = 0;
      while (k < this.#queue.length && done.has(this.#queue[k]!)) k++;
      this.#queue.splice(0, k);
      this.stats.written += written;
      this.stats.queued = this.#queue.length;
      if (this.#failing || this.#droppedSinceWritten) {
        this.outage.ok({ heartbeatsQueued: this.#queue.length, heartbeatsDropped: this.#droppedSinceWritten });
        this.#droppedSinceWritten = 0;
      }
      this.#failing = false;
      this.#backoff = this.#minBackoff;
      this.#retryAt = 0;
    }
  }

  /** Writes a batch; returns how many rows landed (orphans of removed targets do not). */
  async #write(batch: NewHeartbeat[]): Promise<number> {
    try {
      await insertHeartbeats(this.db, batch);
      return batch.length;
    } catch (err) {
      const e = err as Error & { code?: string };
      if (/no partition of relation "heartbeats" found/.test(e.message)) {
        const days = batch.map((r) => new Date(r.time).getTime());
        await ensureHeartbeatPartitions(
          this.db,
          new Date(Math.min(...days)),
          Math.ceil((Math.max(...days) - Math.min(...days)) / 86_400_000) + 1,
        );
        return this.#write(batch);
      }
      if (e.code === '23503' || /violates foreign key constraint/.test(e.message)) {
        // A target removed while its heartbeats were queued: they have nowhere to
        // go. Drop (and count) those, write the rest, rather than retry forever.
        const ids = [...new Set(batch.map((r) => r.target_id))];
        const existing = new Set((await this.db.selectFrom('targets').select('id').where('id', 'in', ids).execute()).map((t) => t.id));
        const orphans = batch.filter((r) => !existing.has(r.target_id));
        if (orphans.length === 0) throw err;
        this.stats.dropped += orphans.length;
        this.log.info({ dropped: orphans.length }, 'dropped heartbeats of targets removed while they were queued');
        const rest = batch.filter((r) => existing.has(r.target_id));
        if (rest.length) await insertHeartbeats(this.db, rest);
        return rest.length;
      }
      throw err;
    }
  }
}
