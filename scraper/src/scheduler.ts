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

/** A scrape to start now, and how late it starts against its slot (ms). */
export interface DueScrape<T> {
  target: T;
  latenessMs: number;
}

interface Entry<T> {
  target: T;
  interval: number;
  offsetMs: number;
  /** When its next scrape is due (ms). */
  dueMs: number;
  inflight: boolean;
  /** A due scrape waiting for the one in flight: when it became due (ms). */
  pendingSinceMs: number | null;
}

/**
 * Paces scrapes: each target's scrapes start at its phase within each interval
 * (Prometheus' offset-by-hash, to the millisecond), so a fleet's scrapes are
 * spread evenly over the interval rather than bunched on second boundaries.
 * A new target is due at once. A scrape never overlaps the previous one of its
 * target: when its slot comes while that one runs, it starts as soon as that
 * one ends (late, and the lateness says so); a slot that passes entirely while
 * the target is still busy is skipped and counted.
 *
 * It only decides; the caller wakes it at {@link nextWakeMs} and starts what
 * {@link takeDue} returns (a min-heap of due times: O(log n) per scrape).
 */
export class PacedScheduler<T extends ScheduledTarget> {
  #entries = new Map<number, Entry<T>>();
  #heap: Entry<T>[] = [];
  /** Scrapes skipped because the target's previous scrape still ran for a whole slot. */
  skipped = 0;

  /** Sets the target list: new targets are due at `nowMs`, removed ones forgotten, a changed interval re-phased. */
  setTargets(targets: readonly T[], nowMs: number): void {
    const next = new Map<number, Entry<T>>();
    for (const t of targets) {
      const old = this.#entries.get(t.id);
      if (old && old.interval === t.interval_seconds) {
        old.target = t;
        next.set(t.id, old);
        continue;
      }
      const offsetMs = scrapeOffsetMs(t.id, t.interval_seconds);
      next.set(t.id, {
        target: t,
        interval: t.interval_seconds,
        offsetMs,
        dueMs: nowMs,
        inflight: old?.inflight ?? false,
        pendingSinceMs: null,
      });
    }
    this.#entries = next;
    this.#heap = [...next.values()];
    this.#heap.sort((a, b) => a.dueMs - b.dueMs); // a sorted array is a heap
  }

  /** When the next scrape is due (ms), or null without targets. */
  nextWakeMs(): number | null {
    return this.#heap[0]?.dueMs ?? null;
  }

  /** The scrapes to start at `nowMs`; marks them in flight. */
  takeDue(nowMs: number): DueScrape<T>[] {
    const out: DueScrape<T>[] = [];
    while (this.#heap.length > 0 && this.#heap[0]!.dueMs <= nowMs) {
      const e = this.#pop();
      const periodMs = e.interval * 1000;
      if (e.inflight) {
        if (e.pendingSinceMs !== null) this.skipped++; // a whole slot passed while it was busy
        e.pendingSinceMs = e.dueMs;
      } else {
        out.push({ target: e.target, latenessMs: nowMs - e.dueMs });
        e.inflight = true;
      }
      // The next slot at its phase, after now (slots missed while far behind are skipped and counted).
      let due = slotStartMs(slotOf(e.dueMs, e.interval, e.offsetMs) + 1, e.interval, e.offsetMs);
      while (due <= nowMs) {
        due += periodMs;
        this.skipped++;
      }
      e.dueMs = due;
      this.#push(e);
    }
    return out;
  }

  /**
   * Marks a target's scrape finished. When its next slot came while it ran,
   * returns that scrape to start now (with its lateness), else null.
   */
  done(id: number, nowMs: number): DueScrape<T> | null {
    const e = this.#entries.get(id);
    if (!e) return null;
    e.inflight = false;
    if (e.pendingSinceMs === null) return null;
    const latenessMs = nowMs - e.pendingSinceMs;
    e.pendingSinceMs = null;
    e.inflight = true;
    return { target: e.target, latenessMs };
  }

  /** Scrapes running now. */
  get inflight(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (e.inflight) n++;
    return n;
  }

  #push(e: Entry<T>): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.dueMs <= h[i]!.dueMs) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  #pop(): Entry<T> {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.dueMs < h[m]!.dueMs) m = l;
        if (r < h.length && h[r]!.dueMs < h[m]!.dueMs) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}

/** When slot `slot` of a target with that interval and phase starts (ms). */
export function slotStartMs(slot: number, intervalSeconds: number, offsetMs: number): number {
  return slot * intervalSeconds * 1000 + offsetMs;
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
