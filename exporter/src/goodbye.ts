import { EXPORTER_STATE_HEADER, EXPORTER_STOPPING, SCRAPE_INTERVAL_HEADER } from '@vigil/core/protocol';
import type { Middleware } from 'koa';

/** A Vigil scraper as this exporter knows it: when it last scraped, how often it does. */
interface KnownScraper {
  lastMs: number;
  intervalSeconds: number;
  /** It has been answered with the goodbye. */
  told: boolean;
}

/**
 * A clean shutdown that the Vigil scrapers hear about. While running, it notes
 * each scraper that scrapes `/metrics` with the interval header (by client
 * address and user agent). Once stopping, every request is answered `503`
 * `{"status":"stopping"}` with the `x-vigil-exporter-state: stopping` header,
 * and {@link Goodbye.stop} resolves when each scraper seen within its last two
 * intervals has been told, when its next scrape is overdue by half an interval
 * plus a second, or at the grace period, whichever comes first.
 */
export class Goodbye {
  #scrapers = new Map<string, KnownScraper>();
  #stoppingSince: number | null = null;
  #wake: (() => void) | null = null;
  #cut = false;

  /** @param graceSeconds the longest a stop waits for scrapers (0: it does not wait) */
  constructor(private readonly graceSeconds: number) {}

  /** Whether a stop has begun. */
  get stopping(): boolean {
    return this.#stoppingSince !== null;
  }

  /** Koa middleware: notes scrapers while running, answers goodbye once stopping. Goes after authentication. */
  middleware(): Middleware {
    return async (ctx, next) => {
      const interval = Number(ctx.get(SCRAPE_INTERVAL_HEADER));
      const key = interval > 0 && ctx.path === '/metrics' ? `${ctx.ip} ${ctx.get('user-agent')}` : null;
      if (this.#stoppingSince === null) {
        if (key) this.#note(key, interval, Date.now());
        return next();
      }
      ctx.status = 503;
      ctx.set(EXPORTER_STATE_HEADER, EXPORTER_STOPPING);
      ctx.set('Connection', 'close');
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { status: EXPORTER_STOPPING };
      const s = key ? this.#scrapers.get(key) : undefined;
      // Told once the answer has left: closing the server earlier would reset it.
      if (s)
        ctx.res.once('finish', () => {
          s.told = true;
          this.#wake?.();
        });
    };
  }

  #note(key: string, intervalSeconds: number, nowMs: number): void {
    const s = this.#scrapers.get(key);
    if (s) {
      s.lastMs = nowMs;
      s.intervalSeconds = intervalSeconds;
      return;
    }
    // Forget scrapers that went quiet, so the map stays as small as the set of live ones.
    if (this.#scrapers.size >= 64) {
      for (const [k, v] of this.#scrapers) if (nowMs - v.lastMs > 2 * v.intervalSeconds * 1000) this.#scrapers.delete(k);
    }
    if (this.#scrapers.size < 1024) this.#scrapers.set(key, { lastMs: nowMs, intervalSeconds, told: false });
  }

  /**
   * Starts answering goodbye and waits as described on the class.
   * @returns how many scrapers were waited for and how many heard the goodbye
   */
  async stop(nowMs = Date.now()): Promise<{ expected: number; told: number }> {
    if (this.#stoppingSince !== null) return { expected: 0, told: 0 };
    this.#stoppingSince = nowMs;
    const expected = [...this.#scrapers.values()].filter((s) => nowMs - s.lastMs <= 2 * s.intervalSeconds * 1000);
    const deadline = Math.min(
      nowMs + this.graceSeconds * 1000,
      Math.max(nowMs, ...expected.map((s) => s.lastMs + s.intervalSeconds * 1500 + 1000)),
    );
    const told = () => expected.filter((s) => s.told).length;
    while (!this.#cut && told() < expected.length) {
      const wait = deadline - Date.now();
      if (wait <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
    }
    return { expected: expected.length, told: told() };
  }

  /** Ends a wait in progress now (a second signal). */
  cut(): void {
    this.#cut = true;
    this.#wake?.();
  }
}
