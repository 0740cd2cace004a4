import type { Logger } from '@vigil/core/log';

/**
 * Keeps a database outage to two log lines: one when the first operation
 * fails, one when an operation succeeds again, with what happened meanwhile
 * (how long, how many operations failed, by which job). Each job reports its
 * database operations here instead of logging each failure (a stack trace
 * every 2 s helps nobody).
 */
export class OutageLog {
  #since: number | null = null;
  #failures = new Map<string, number>();
  #firstError = '';

  constructor(private readonly log: Logger) {}

  /** Whether an outage is going on. */
  get ongoing(): boolean {
    return this.#since !== null;
  }

  /** A database operation of `job` failed. Logged only when it starts an outage. */
  failed(job: string, err: unknown, extra: Record<string, unknown> = {}): void {
    this.#failures.set(job, (this.#failures.get(job) ?? 0) + 1);
    if (this.#since !== null) return;
    this.#since = Date.now();
    this.#firstError = (err as Error)?.message ?? String(err);
    this.log.error(
      { job, err: this.#firstError, ...extra },
      'database unreachable: scraping goes on and heartbeats are queued; liveness and notifications wait for it',
    );
  }

  /** A database operation succeeded: ends an outage, logging its length and counts. */
  ok(extra: Record<string, unknown> = {}): void {
    if (this.#since === null) return;
    const seconds = Math.round((Date.now() - this.#since) / 100) / 10;
    this.log.info(
      { seconds, failedOperations: Object.fromEntries(this.#failures), firstError: this.#firstError, ...extra },
      'database reachable again',
    );
    this.#since = null;
    this.#failures.clear();
  }
}
