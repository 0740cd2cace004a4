import { addTarget, applyTransitions, setPaused } from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import { describe, expect, it } from 'vitest';
import { targetUptime } from './uptime';

describe.each(testDatabases())('a target’s availability from its events on $name', (engine) => {
  it('counts up over up and down from the transitions, leaves a pause out, and gives 90 days of bars', async () => {
    const { db, drop } = await engine.open();
    try {
      const now = Date.now();
      const t = await addTarget(db, { name: 'avail', url: 'http://avail/metrics' });
      // Pretend it was added 10 hours ago: up after a minute, down for an hour, paused for an hour.
      const created = new Date(now - 10 * 3_600_000);
      await db
        .updateTable('targets')
        .set({ created_at: created } as never)
        .where('id', '=', t.id)
        .execute();
      const h = (hours: number) => new Date(now - hours * 3_600_000);
      await applyTransitions(db, [{ targetId: t.id, from: 'unknown', to: 'up', at: new Date(created.getTime() + 60_000), message: 'up' }]);
      await applyTransitions(db, [{ targetId: t.id, from: 'up', to: 'down', at: h(6), message: 'down' }]);
      await applyTransitions(db, [{ targetId: t.id, from: 'down', to: 'up', at: h(5), message: 'up' }]);
      await setPaused(db, t.id, true, 'test');
      await db
        .updateTable('events')
        .set({ time: h(2) } as never)
        .where('type', '=', 'paused')
        .execute();
      await setPaused(db, t.id, false, 'test');
      await db
        .updateTable('events')
        .set({ time: h(1) } as never)
        .where('type', '=', 'resumed')
        .execute();
      await applyTransitions(db, [{ targetId: t.id, from: 'unknown', to: 'up', at: h(0.5), message: 'up' }]);

      const u = await targetUptime(db, { id: t.id, created_at: created }, now);
      const day = u.windows['24h'];
      expect(day.seconds.down).toBeCloseTo(3600, 0);
      expect(day.seconds.paused).toBeCloseTo(3600, 0);
      expect(day.seconds.unknown).toBeCloseTo(60 + 1800, 0);
      expect(day.seconds.up).toBeCloseTo(10 * 3600 - 3600 - 3600 - 60 - 1800, 0);
      expect(day.availability).toBeCloseTo(day.seconds.up / (day.seconds.up + 3600), 6);
      // Older windows hold no more: the host is 10 hours old.
      expect(u.windows['90d'].availability).toBeCloseTo(day.availability!, 6);
      expect(u.days).toHaveLength(90);
      expect(u.days.at(-1)!.day).toBe(new Date(now).toISOString().slice(0, 10));
      expect(u.days.slice(0, 80).every((d) => d.availability === null)).toBe(true);
    } finally {
      await drop();
    }
  });
});
