import { addTarget, applyTransitions, ensureHeartbeatPartitions, insertHeartbeats, type NewHeartbeat, setPaused } from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import { describe, expect, it } from 'vitest';
import { probeUptime, targetUptime } from './uptime';

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

  it("gives each probe's availability from its results: windows by whole days, a bar a day, failed scrapes left out", async () => {
    const { db, drop } = await engine.open();
    try {
      const DAY = 86_400_000;
      const now = Math.floor(Date.now() / DAY) * DAY + 12 * 3_600_000; // noon today, UTC
      const t = await addTarget(db, { name: 'probed', url: 'http://probed/metrics' });
      await ensureHeartbeatPartitions(db, new Date(now - 10 * DAY), 11);
      const rows: NewHeartbeat[] = [];
      const beat = (at: number, probes: Record<string, 0 | 1> | null, up = true) =>
        rows.push({ target_id: t.id, time: new Date(at), up, duration_seconds: 0.01, error: up ? null : 'refused', probe_results: probes });
      // Ten days ago: 4 results, 3 good. Two days ago: 2 of 2. Today, 2 h ago: 1 of 2, and a failed scrape (no result).
      for (let i = 0; i < 4; i++) beat(now - 10 * DAY + i * 60_000, { api: i === 0 ? 0 : 1 });
      beat(now - 2 * DAY, { api: 1, dns: 1 });
      beat(now - 2 * DAY + 60_000, { api: 1, dns: 0 });
      beat(now - 2 * 3_600_000, { api: 1 });
      beat(now - 2 * 3_600_000 + 60_000, { api: 0 });
      beat(now - 3_600_000, null, false);
      await insertHeartbeats(db, rows);

      const [api, dns] = await probeUptime(db, t.id, now);
      expect(api!.name).toBe('api');
      expect(api!.windows['24h']).toEqual({ ok: 1, total: 2, availability: 0.5 });
      expect(api!.windows['7d']).toEqual({ ok: 3, total: 4, availability: 0.75 });
      expect(api!.windows['90d']).toEqual({ ok: 6, total: 8, availability: 0.75 });
      expect(api!.days).toHaveLength(90);
      expect(api!.days.at(-1)).toEqual({ day: new Date(now).toISOString().slice(0, 10), ok: 1, total: 2, availability: 0.5 });
      expect(api!.days.at(-11)).toMatchObject({ ok: 3, total: 4 });
      expect(api!.days.filter((d) => d.availability === null)).toHaveLength(87);
      expect(dns!.windows['24h']).toEqual({ ok: 0, total: 0, availability: null });
      expect(dns!.windows['7d'].availability).toBe(0.5);
    } finally {
      await drop();
    }
  });
});
