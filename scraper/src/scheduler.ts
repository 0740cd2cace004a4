import { createHash } from 'node:crypto';

/** What the scheduler needs to know of a target. */
export interface ScheduledTarget {
  id: number;
  interval_seconds: number;
}

/**
 * The target's phase within its interval, in ms: a hash of its id modulo the
 * interval, as Prometheus spreads scrapes, so a fleet added at once is not
 * scraped in the same second.
 */
export function scrapeOffsetMs(id: number, intervalSeconds: number): number {
  const h = createHash('sha256').update(String(id)).digest();
  return h.readUInt32BE(0) % (intervalSeconds * 1000);
}

/** Index of the interval slot `nowMs` falls in, for a target with that phase. */
export function slotOf(nowMs: number, intervalSeconds: number, offsetMs: number): number {
  return Math.floor((nowMs - offsetMs) / (intervalSeconds * 1000));
}

/**
 * Decides which targets are due. Call `due()` on each tick (each second); a
 * target is due once per interval slot, at its phase. A target seen for the
 * first time is due at once, so new targets show up without waiting a whole
 * interval. A target still being scraped is not started again (counted as
 * skipped), as Prometheus never overlaps scrapes of one target.
 */
export class DueTracker<T extends ScheduledTarget> {
  /** Per target: its last started slot, and its phase for the interval it had then. */
  #lastSlot = new Map<number, { slot: number; interval: number; offsetMs: number }>();
  #inflight = new Set<number>();
  skipped = 0;

  /** The targets to start now; marks them in flight. */
  due(targets: readonly T[], nowMs: number): T[] {
    const out: T[] = [];
    const seen = new Set<number>();
    for (const t of targets) {
      seen.add(t.id);
      const last = this.#lastSlot.get(t.id);
      const known = last !== undefined && last.interval === t.interval_seconds;
      // The phase only changes with the interval: hash once, not every tick.
      const offsetMs = known ? last.offsetMs : scrapeOffsetMs(t.id, t.interval_seconds);
      const slot = slotOf(nowMs, t.interval_seconds, offsetMs);
      if (known && last.slot >= slot) continue;
      if (this.#inflight.has(t.id)) {
        this.skipped++;
        continue;
      }
      this.#lastSlot.set(t.id, { slot, interval: t.interval_seconds, offsetMs });
      this.#inflight.add(t.id);
      out.push(t);
    }
    for (const id of this.#lastSlot.keys()) if (!seen.has(id)) this.#lastSlot.delete(id);
    return out;
  }

  /** Marks a target's scrape finished. */
  done(id: number): void {
    this.#inflight.delete(id);
  }

  get inflight(): number {
    return this.#inflight.size;
  }
}

/** At most `limit` tasks at once; the rest wait in order. */
export class Semaphore {
  #active = 0;
  #waiting: (() => void)[] = [];
  constructor(readonly limit: number) {}

  async run<R>(task: () => Promise<R>): Promise<R> {
    if (this.#active >= this.limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#active++;
    try {
      return await task();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }

  get waiting(): number {
    return this.#waiting.length;
  }
}
