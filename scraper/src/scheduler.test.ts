import { describe, expect, it } from 'vitest';
import { PacedScheduler, Semaphore, scrapeOffsetMs, slotOf } from './scheduler.js';

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

describe('PacedScheduler', () => {
  const t = (id: number, interval = 10) => ({ id, interval_seconds: interval });
  /** Runs the scheduler on a simulated clock up to `untilMs`, each scrape taking `takesMs`; returns the starts. */
  function simulate(s: PacedScheduler<ReturnType<typeof t>>, untilMs: number, takesMs = 10) {
    const starts: { id: number; atMs: number; latenessMs: number }[] = [];
    const ends: { id: number; atMs: number }[] = [];
    for (;;) {
      const wake = Math.min(s.nextWakeMs() ?? Infinity, ...ends.map((e) => e.atMs));
      if (wake > untilMs) return starts;
      for (const e of ends.filter((x) => x.atMs === wake)) {
        ends.splice(ends.indexOf(e), 1);
        const again = s.done(e.id, wake);
        if (again) {
          starts.push({ id: e.id, atMs: wake, latenessMs: again.latenessMs });
          ends.push({ id: e.id, atMs: wake + takesMs });
        }
      }
      for (const d of s.takeDue(wake)) {
        starts.push({ id: d.target.id, atMs: wake, latenessMs: d.latenessMs });
        ends.push({ id: d.target.id, atMs: wake + takesMs });
      }
    }
  }

  it('starts a new target at once, then once per interval at its phase, to the millisecond', () => {
    const s = new PacedScheduler();
    const t0 = 1_000_000_000_000;
    s.setTargets([t(1)], t0);
    const starts = simulate(s, t0 + 35_000);
    const offset = scrapeOffsetMs(1, 10);
    expect(starts[0]).toEqual({ id: 1, atMs: t0, latenessMs: 0 });
    expect(starts.slice(1).map((x) => x.atMs % 10_000)).toEqual([offset, offset, offset]);
    expect(starts.slice(1).map((x) => x.latenessMs)).toEqual([0, 0, 0]);
  });

  it('spreads a fleet over the interval rather than bunching it on second boundaries', () => {
    const s = new PacedScheduler();
    const fleet = Array.from({ length: 300 }, (_, i) => t(i + 1, 15));
    s.setTargets(fleet, 0);
    const starts = simulate(s, 30_000).filter((x) => x.atMs > 0); // after the first, immediate round
    expect(new Set(starts.map((x) => x.atMs % 1000)).size).toBeGreaterThan(200); // distinct milliseconds
    const perSecond = new Map<number, number>();
    for (const x of starts) perSecond.set(Math.floor(x.atMs / 1000), (perSecond.get(Math.floor(x.atMs / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThan(3 * (300 / 15)); // no second gets a herd
  });

  it('never overlaps a target’s scrapes: a slot that comes during one starts when it ends, late, and on phase after', () => {
    const s = new PacedScheduler();
    s.setTargets([t(2, 1)], 0);
    // Each scrape takes the whole interval and a little more (timeout = interval).
    const starts = simulate(s, 10_000, 1_050);
    expect(starts.length).toBeGreaterThanOrEqual(8);
    // Back to back, each as soon as the previous one ends: no drift to a tick later each time.
    for (let i = 1; i < starts.length; i++) expect(starts[i]!.atMs - starts[i - 1]!.atMs).toBe(1_050);
    expect(s.skipped).toBe(0); // late, never lost: no whole slot passed in 10 s
  });

  it('counts a slot skipped only when a whole one passes while the target is busy', () => {
    const s = new PacedScheduler();
    s.setTargets([t(3, 1)], 0);
    expect(s.takeDue(0)).toHaveLength(1);
    const slot = s.nextWakeMs()!;
    expect(s.takeDue(slot)).toEqual([]); // still in flight: waits, not skipped
    expect(s.skipped).toBe(0);
    expect(s.takeDue(slot + 1000)).toEqual([]); // a whole slot passed: that one is skipped
    expect(s.skipped).toBe(1);
    expect(s.done(3, slot + 1200)).toEqual({ target: t(3, 1), latenessMs: 200 });
    expect(s.inflight).toBe(1);
  });

  it('forgets removed targets and re-phases a changed interval at once', () => {
    const s = new PacedScheduler();
    s.setTargets([t(4, 60)], 0);
    expect(s.takeDue(0)).toHaveLength(1);
    s.done(4, 10);
    expect(s.takeDue(1000)).toEqual([]);
    s.setTargets([t(4, 5)], 2000); // interval changed: due now
    expect(s.takeDue(2000)).toHaveLength(1);
    s.setTargets([], 3000);
    expect(s.nextWakeMs()).toBeNull();
    expect(s.done(4, 3000)).toBeNull();
  });

  it('skips forward, counting, when it wakes far behind', () => {
    const s = new PacedScheduler();
    s.setTargets([t(5, 1)], 0);
    s.takeDue(0);
    s.done(5, 5);
    expect(s.takeDue(10_500)).toHaveLength(1); // one scrape now, not ten in a row
    const offset = scrapeOffsetMs(5, 1);
    expect(s.skipped).toBe(Math.floor((10_500 - offset) / 1000)); // every later slot that passed meanwhile
    expect(s.nextWakeMs()! % 1000).toBe(offset); // and back on its phase
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
