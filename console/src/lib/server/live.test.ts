import { addTarget, insertHeartbeats, removeTargetById } from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import { describe, expect, it } from 'vitest';
import type { FleetEvent } from '$lib/api';
import { loadFleet } from './fleet';
import { FleetFeed } from './live';

describe.each(testDatabases())('the fleet feed on $name', (engine) => {
  it('reads once per update for any number of pages, and sends each only what changed', async () => {
    const { db, drop } = await engine.open();
    let scrapers = 1;
    const feed = new FleetFeed(async () => ({ rows: await loadFleet(db), scrapers }), 3_600_000); // refreshed by hand below
    try {
      const a = await addTarget(db, { name: 'a', url: 'http://a/metrics' });
      await addTarget(db, { name: 'b', url: 'http://b/metrics' });
      const pages: FleetEvent[][] = Array.from({ length: 50 }, () => []);
      const leave = await Promise.all(pages.map((events) => feed.subscribe((e) => events.push(e))));
      expect(feed.reads).toBe(1); // fifty pages joining at once: one read
      expect(feed.listeners).toBe(50);
      for (const events of pages) expect(events.map((e) => [e.type, e.rows.map((r) => r.name)])).toEqual([['snapshot', ['a', 'b']]]);

      await insertHeartbeats(db, [{ target_id: a.id, time: new Date(), up: true, duration_seconds: 0.01, error: null, load1: 2 }]);
      const c = await addTarget(db, { name: 'c', url: 'http://c/metrics' });
      await feed.refresh();
      expect(feed.reads).toBe(2); // one pushed update to fifty pages: one read
      for (const events of pages) {
        const update = events[1]!;
        expect(update.type).toBe('update');
        expect(update.rows.map((r) => [r.name, r.figures?.load1 ?? null])).toEqual([
          ['a', 2],
          ['c', null],
        ]);
      }
      await feed.refresh(); // nothing changed: nothing sent
      expect(pages[0]).toHaveLength(2);
      // The last scraper stopped: every page is told, though no host changed.
      scrapers = 0;
      await feed.refresh();
      expect(pages[3]![2]).toMatchObject({ type: 'update', rows: [], removed: [], scrapers: 0 });
      scrapers = 1;
      await feed.refresh();
      for (const events of pages) events.splice(2, 2);
      await removeTargetById(db, c.id);
      await feed.refresh();
      expect(pages[7]![2]).toMatchObject({ type: 'update', rows: [], removed: [c.id] });

      for (const l of leave) l();
      expect(feed.listeners).toBe(0);
      // Back after everyone left: read afresh, not the idle feed's stale copy.
      const again: FleetEvent[] = [];
      const off = await feed.subscribe((e) => again.push(e));
      expect(feed.reads).toBe(7);
      expect(again[0]).toMatchObject({ type: 'snapshot', scrapers: 1 });
      expect(again[0]!.rows.map((r) => r.name)).toEqual(['a', 'b']);
      off();
      off(); // twice is harmless
    } finally {
      await drop();
    }
  });

  it('refuses a first page when the database cannot be read, and keeps going when it fails later', async () => {
    let fail = true;
    const feed = new FleetFeed(async () => {
      if (fail) throw new Error('connect ECONNREFUSED');
      return { rows: [], scrapers: 1 };
    }, 3_600_000);
    await expect(feed.subscribe(() => {})).rejects.toThrow(/ECONNREFUSED/);
    expect(feed.listeners).toBe(0);
    fail = false;
    const events: FleetEvent[] = [];
    const off = await feed.subscribe((e) => events.push(e));
    fail = true;
    await feed.refresh(); // logged, not thrown; the page keeps what it has
    expect(events).toHaveLength(1);
    off();
  });
});

describe('ending streams', () => {
  it("ends a user's open streams, and only theirs", async () => {
    const { registerStream, endStreamsOf } = await import('./live');
    const ended: string[] = [];
    const forgetA1 = registerStream(101, () => ended.push('a1'));
    registerStream(101, () => ended.push('a2'));
    registerStream(202, () => ended.push('b'));
    forgetA1();
    expect(endStreamsOf(101)).toBe(1);
    expect(ended).toEqual(['a2']);
    expect(endStreamsOf(303)).toBe(0);
    expect(endStreamsOf(202)).toBe(1);
    expect(ended).toEqual(['a2', 'b']);
  });
});
