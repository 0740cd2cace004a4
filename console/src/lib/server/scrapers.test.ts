import { joinScrapers } from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import { describe, expect, it } from 'vitest';
import { liveScrapers, scraperViews } from './scrapers';

describe.each(testDatabases())('the scraper replicas as the console shows them on $name', (engine) => {
  it('lists every replica, live first, with ISO times by the database clock, and counts the live ones', async () => {
    const { db, drop } = await engine.open();
    try {
      expect(await liveScrapers(db, 10)).toBe(0);
      await joinScrapers(db, { id: 'old', hostname: 'a', pid: 1, version: '0.1.0' });
      await db
        .updateTable('scrapers')
        .set({ last_seen: new Date(Date.now() - 60_000) })
        .execute();
      await joinScrapers(db, { id: 'new', hostname: 'b', pid: 2, version: '0.2.0' });
      expect(await liveScrapers(db, 10)).toBe(1);
      const views = await scraperViews(db, 10);
      expect(views.map((v) => [v.id, v.hostname, v.pid, v.version, v.live, v.owned_targets])).toEqual([
        ['new', 'b', 2, '0.2.0', true, 0],
        ['old', 'a', 1, '0.1.0', false, 0],
      ]);
      expect(Date.parse(views[1]!.last_seen)).toBeLessThan(Date.parse(views[0]!.last_seen) - 50_000);
      expect(views[0]!.started_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    } finally {
      await drop();
    }
  });
});
