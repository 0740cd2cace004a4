import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { type BodyFigures, type CpuTotals, figuresFromBody } from './heartbeat.js';
import type { ParseTask } from './parse-worker.js';

/**
 * Where scraped bodies become heartbeat figures: a pool of worker threads
 * (piscina) running the built `dist/parse-worker.mjs`, so that parsing — the
 * CPU-heavy part of a scrape — never holds the scraper's event loop (its
 * /health, its timers, the other targets' scrapes) and uses the other cores.
 * Each body is transferred, not copied. With `threads: 0`, parsing happens on
 * this thread (for tools and tests that want no workers).
 */
export class ParsePool {
  readonly #pool: Piscina<ParseTask, BodyFigures | { error: string }> | null;

  /** @throws Error when the worker's built file is missing (run npm run build) */
  constructor(readonly threads: number) {
    if (threads === 0) {
      this.#pool = null;
      return;
    }
    const filename = fileURLToPath(new URL('../dist/parse-worker.mjs', import.meta.url));
    if (!existsSync(filename)) throw new Error(`${filename} is missing: build the scraper with \`npm run build\` (npm install does it)`);
    this.#pool = new Piscina({ filename, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
  }

  /**
   * A body's heartbeat figures, or `{error}` for a malformed exposition.
   * @param body a buffer of its own (it is transferred to the worker and unusable after)
   */
  figures(body: Buffer, previousCpu: CpuTotals | undefined, scrapeTime: number): Promise<BodyFigures | { error: string }> {
    if (!this.#pool) return Promise.resolve(figuresFromBody(body, previousCpu, scrapeTime));
    const transferable = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
    const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    return this.#pool.run({ body: bytes, previousCpu, scrapeTime }, transferable ? { transferList: [body.buffer as ArrayBuffer] } : {});
  }

  /** Ends the worker threads. */
  async close(): Promise<void> {
    await this.#pool?.destroy();
  }
}
