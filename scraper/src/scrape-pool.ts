import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { figuresFromBody } from './heartbeat.js';
import { runScrapeTask, type ScrapeOutcome, type ScrapeTask } from './scrape-task.js';

interface Pending {
  resolve(r: ScrapeOutcome): void;
  started: number;
}

/** One worker thread and the scrapes it has in hand. */
class ScrapeWorker {
  worker!: Worker;
  readonly pending = new Map<number, Pending>();
  #closing = false;

  constructor(private readonly filename: string) {
    this.#spawn();
  }

  #spawn(): void {
    const w = new Worker(this.filename);
    w.on('message', (m: { id: number; result: ScrapeOutcome }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      p.resolve(m.result);
    });
    // A worker that dies takes its scrapes with it: they fail with the reason,
    // and a new worker takes the next ones.
    const lost = (why: string) => {
      for (const p of this.pending.values())
        p.resolve({ up: false, durationSeconds: (performance.now() - p.started) / 1000, error: `scrape worker ${why}` });
      this.pending.clear();
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
}

/**
 * Where scrapes run: worker threads (`dist/scrape-worker.mjs`), each making the
 * HTTP request, reading the body under its limit and deriving the figures, so
 * that the scraper's event loop (its timers, /health, the database writes) only
 * hands out tasks and takes results, and the other cores scrape. A target always
 * goes to the same thread (by its id), so its kept-alive connection is reused.
 * With `threads: 0` scrapes run on this thread (for tools and tests that want
 * no workers).
 */
export class ScrapePool {
  readonly #workers: ScrapeWorker[];
  #nextId = 0;

  /** @throws Error when the worker's built file is missing (run npm run build) */
  constructor(readonly threads: number) {
    if (threads === 0) {
      this.#workers = [];
      return;
    }
    const filename = fileURLToPath(new URL('../dist/scrape-worker.mjs', import.meta.url));
    if (!existsSync(filename)) throw new Error(`${filename} is missing: build the scraper with \`npm run build\` (npm install does it)`);
    this.#workers = Array.from({ length: threads }, () => new ScrapeWorker(filename));
  }

  /**
   * Scrapes one target; never rejects (a failure, even of the worker, is `up: false` with why).
   * @param key the target's id: the same key always goes to the same thread
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

  /** Scrapes in hand, over all threads. */
  get inFlight(): number {
    return this.#workers.reduce((n, w) => n + w.pending.size, 0);
  }

  /** Ends the worker threads (scrapes still in hand are dropped: call when none are). */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.close()));
  }
}
