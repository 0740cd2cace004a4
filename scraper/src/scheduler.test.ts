import { describe, expect, it } from 'vitest';
import { DueTracker, Semaphore, scrapeOffsetMs, slotOf } from './scheduler.js';

describe('scrapeOffsetMs', () => {
  it('is stable per target and spreads targets over the interval', () => {
    expect(scrapeOffsetMs(7, 15)).toBe(scrapeOffsetMs(7, 15));
    const offsets = Array.from({ length: 300 }, (_, i) => scrapeOffsetMs(i + 1, 15));
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...offsets)).toBeLessThan(15_000);
    // Each of the 15 one-second buckets gets some targets: no thundering herd.
    const buckets = new Set(offsets.map((o) => Math.floor(o / 1000)));
    expect(buckets.size).toBe(15);
  });
});

describe('DueTracker', () => {
  const t = (id: number, interval = 10) => ({ id, interval_seconds: interval });

  it('starts a new target at once, then once per interval at its phase', () => {
    const tracker = new DueTracker();
    const target = t(1);
    const offset = scrapeOffsetMs(1, 10);
    const base = 1_000_000_000_000 - (1_000_000_000_000 % 10_000) + offset; // a slot boundary for this target
    expect(tracker.due([target], base + 500)).toEqual([target]);
    tracker.done(1);
    const starts: number[] = [];
    for (let now = base + 1000; now < base + 30_000; now += 1000) {
      if (tracker.due([target], now).length) {
        starts.push(now - base);
        tracker.done(1);
      }
    }
    expect(starts).toEqual([10_000, 20_000]);
  });

  it('never overlaps scrapes of one target, and counts what it skipped', () => {
    const tracker = new DueTracker();
    const target = t(2, 1);
    expect(tracker.due([target], 5_000_000)).toHaveLength(1);
    expect(tracker.due([target], 5_001_000)).toHaveLength(0); // still in flight
    expect(tracker.skipped).toBe(1);
    expect(tracker.inflight).toBe(1);
    tracker.done(2);
    expect(tracker.due([target], 5_002_000)).toHaveLength(1);
  });

  it('forgets removed targets and takes a new interval at once', () => {
    const tracker = new DueTracker();
    tracker.due([t(3, 60)], 0);
    tracker.done(3);
    expect(tracker.due([t(3, 60)], 1000)).toHaveLength(0);
    expect(tracker.due([t(3, 5)], 2000)).toHaveLength(1); // interval changed
    tracker.done(3);
    tracker.due([], 3000);
    expect(tracker.due([t(3, 5)], 3000)).toHaveLength(1); // seen anew
  });

  it('slotOf counts whole intervals from the phase', () => {
    expect(slotOf(25_000, 10, 5_000)).toBe(2);
    expect(slotOf(24_999, 10, 5_000)).toBe(1);
  });
});

describe('Semaphore', () => {
  it('runs at most `limit` tasks at once, in order', async () => {
    const s = new Semaphore(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      [1, 2, 3, 4, 5].map((i) =>
        s.run(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, 10));
          order.push(i);
          active--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([1, 2, 3, 4, 5]);
    expect(s.waiting).toBe(0);
  });

  it('frees the slot when a task throws', async () => {
    const s = new Semaphore(1);
    await expect(s.run(async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(await s.run(async () => 42)).toBe(42);
  });
});
