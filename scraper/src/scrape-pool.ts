import { existsSync } from 'node:fs';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { figuresFromBody } from '@vigil/core/heartbeat';
import { runScrapeTask, type ScrapeOutcome, type ScrapeTask } from './scrape-task.js';

/**
 * A scrape thread's V8 limits: a young generation of 8 MiB (V8's default is
 * 48), since a scrape's garbage (its body, its samples) dies young and small;
 * measured in bench/RESULTS.md.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8 };

interface Pending {
  resolve(r: ScrapeOutcome): void;
  started: number;
}

/** One worker thread and the scrapes it has in hand. */
class ScrapeWorker {
  worker!: Worker;
  readonly pending = new Map<number, Pending>();
  #closing = false;
  /** Called when the last scrape in hand is done (set while retiring). */
  #drained: (() => void) | null = null;

  constructor(
    private readonly filename: string,
    private readonly resourceLimits?: { maxYoungGenerationSizeMb: number },
  ) {
    this.#spawn();
  }

  #spawn(): void {
    const w = new Worker(this.filename, { resourceLimits: this.resourceLimits });
    w.on('message', (m: { id: number; result: ScrapeOutcome }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      p.resolve(m.result);
      if (this.pending.size === 0) this.#drained?.();
    });
    // A worker that dies takes its scrapes with it: they fail with the reason,
    // and a new worker takes the next ones.
    const lost = (why: string) => {
      for (const p of this.pending.values())
        p.resolve({ up: false, durationSeconds: (performance.now() - p.started) / 1000, error: `scrape worker ${why}` });
      this.pending.clear();
      this.#drained?.();
      if (!this.#closing) this.#spawn();
    };
    w.on('error', (err) => lost(`crashed: ${err.message}`));
    w.on('exit', (code) => {
      if (this.worker === w && code !== 0) lost(`exited with code ${code}`);
    });
    this.worker = w;
  }

  close(): Promise<number> {
    this.#closing = true;
    return this.worker.terminate();
  }

  /** Ends the thread once the scrapes it has in hand are done (it is given no more). */
  async retire(): Promise<void> {
    if (this.pending.size > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    await this.close();
  }
}

/**
 * How many scrape threads the pool should have, from how busy each was over the
 * last period (event-loop utilization, 0–1): one more when they average over
 * 75 %, one fewer when one fewer would still average under 60 %.
 */
export function threadsWanted(utilizations: readonly number[], min: number, max: number): number {
  const n = utilizations.length;
  const busy = utilizations.reduce((a, b) => a + b, 0); // cores' worth of work
  if (n < max && busy / n > 0.75) return n + 1;
  if (n > min && busy < 0.6 * (n - 1)) return n - 1;
  return n;
}

/**
 * Where scrapes run: worker threads (`dist/scrape-worker.mjs`), each making the
 * HTTP request, reading the body under its limit and deriving the figures, so
 * that the scraper's event loop (its timers, /health, the database writes) only
 * hands out tasks and takes results. A target goes to the same thread (by its
 * id), so its kept-alive connection is reused. The pool starts with one thread
 * and grows, up to `maxThreads`, when its threads are busy (see
 * {@link threadsWanted}, checked every `checkSeconds`), and shrinks when they
 * are idle: a second thread costs memory and, at low rates, CPU (measured in
 * bench/RESULTS.md). With `maxThreads: 0` scrapes run on this thread (for
 * tools and tests that want no workers).
 */
export class ScrapePool {
  readonly #workers: ScrapeWorker[] = [];
  readonly #filename: string = '';
  readonly #timer: NodeJS.Timeout | null = null;
  #elu = new Map<ScrapeWorker, EventLoopUtilization>();
  #nextId = 0;
  #idlePeriods = 0;
  /** Times the pool grew or shrank. */
  resizes = 0;

  /** @throws Error when the worker's built file is missing (run npm run build) */
  constructor(
    readonly maxThreads: number,
    { minThreads = 1, checkSeconds = 5 }: { minThreads?: number; checkSeconds?: number } = {},
  ) {
    if (maxThreads === 0) return;
    this.#filename = fileURLToPath(new URL('../dist/scrape-worker.mjs', import.meta.url));
    if (!existsSync(this.#filename))
      throw new Error(`${this.#filename} is missing: build the scraper with \`npm run build\` (npm install does it)`);
    const min = Math.max(1, Math.min(minThreads, maxThreads));
    for (let i = 0; i < min; i++) this.#add();
    if (maxThreads > min) {
      this.#timer = setInterval(() => this.rebalance(min), checkSeconds * 1000);
      this.#timer.unref();
    }
  }

  /** Threads scraping now. */
  get threads(): number {
    return this.#workers.length;
  }

  #add(): void {
    const w = new ScrapeWorker(this.#filename, WORKER_LIMITS);
    this.#workers.push(w);
    this.#elu.set(w, w.worker.performance.eventLoopUtilization());
  }

  /**
   * Grows or shrinks the pool by one thread after how busy its threads were
   * since the last call. A thread that leaves ends once its scrapes in hand are
   * done. Called on a timer; exposed for tests.
   * @returns the number of threads now
   */
  rebalance(min = 1): number {
    const busy = this.#workers.map((w) => {
      const now = w.worker.performance.eventLoopUtilization();
      const since = w.worker.performance.eventLoopUtilization(now, this.#elu.get(w));
      this.#elu.set(w, now);
      return since.utilization;
    });
    const want = threadsWanted(busy, min, this.maxThreads);
    // Grow at once; shrink only after three periods in a row want it, so that
    // a burst (a fleet's first scrapes, a busy minute) does not make it flap.
    this.#idlePeriods = want < this.#workers.length ? this.#idlePeriods + 1 : 0;
    if (want > this.#workers.length) this.#add();
    else if (want < this.#workers.length && this.#idlePeriods >= 3) {
      this.#idlePeriods = 0;
      const w = this.#workers.pop()!;
      this.#elu.delete(w);
      void w.retire();
    }
    if (this.#workers.length !== busy.length) this.resizes++;
    return this.#workers.length;
  }

  /**
   * Scrapes one target; never rejects (a failure, even of the worker, is `up: false` with why).
   * @param key the target's id: the same key goes to the same thread while the pool keeps its size
   */
  scrape(key: number, task: ScrapeTask): Promise<ScrapeOutcome> {
    if (this.#workers.length === 0) return runScrapeTask(task, figuresFromBody);
    const w = this.#workers[key % this.#workers.length]!;
    const id = this.#nextId++;
    return new Promise((resolve) => {
      w.pending.set(id, { resolve, started: performance.now() });
      w.worker.postMessage({ id, task });
    });
  }

  /** Ends the worker threads (scrapes still in hand are dropped: call when none are). */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await Promise.all(this.#workers.map((w) => w.close()));
  }
}
