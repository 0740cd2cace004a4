import {
  addChannel,
  addTarget,
  applyTransitions,
  enqueueDeliveries,
  insertHeartbeats,
  recordDeliveryAttempt,
  updateTarget,
} from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import { describe, expect, it } from 'vitest';
import { loadEvents, loadFleet, loadHost } from './fleet';

describe.each(testDatabases())('fleet queries on $name', (engine) => {
  it('lists events newest first, each with how its notifications fared', async () => {
    const { db, drop } = await engine.open();
    try {
      await addChannel(db, { name: 'ops', kind: 'webhook', url: 'http://hooks.lan/x' });
      await addChannel(db, { name: 'chat', kind: 'slack', url: 'http://chat.lan/x' });
      const t = await addTarget(db, { name: 'pi', url: 'http://pi/metrics' });
      const at = Date.now() + 5;
      await applyTransitions(db, [{ targetId: t.id, from: 'unknown', to: 'up', at: new Date(at), message: 'pi is up' }]);
      await applyTransitions(db, [{ targetId: t.id, from: 'up', to: 'down', at: new Date(at + 1), message: 'pi is down' }]);
      expect(await enqueueDeliveries(db)).toBe(2);
      const pending = await db
        .selectFrom('notification_deliveries as d')
        .innerJoin('notification_channels as c', 'c.id', 'd.channel_id')
        .select(['d.id', 'c.name'])
        .execute();
      await recordDeliveryAttempt(db, pending.find((p) => p.name === 'ops')!.id, { sent: true, at: new Date() });
      await recordDeliveryAttempt(db, pending.find((p) => p.name === 'chat')!.id, { sent: false, error: 'HTTP 404', retryAt: null });
      const { events, total } = await loadEvents(db);
      expect(total).toBe(2);
      expect(
        events.map((e) => [e.message, e.target_name, e.deliveries.map((d) => `${d.channel}:${d.status}:${d.last_error ?? ''}`)]),
      ).toEqual([
        ['pi is down', 'pi', ['chat:failed:HTTP 404', 'ops:sent:']],
        ['pi is up', 'pi', []],
      ]);
    } finally {
      await drop();
    }
  });

  it('pairs each target with its newest heartbeat and counts states', async () => {
    const { db, drop } = await engine.open();
    try {
      const a = await addTarget(db, { name: 'a', url: 'http://a/metrics' });
      const b = await addTarget(db, { name: 'b', url: 'http://b/metrics' });
      const c = await addTarget(db, { name: 'c', url: 'http://c/metrics' });
      const now = Date.now();
      const hb = (target_id: number, ago: number, up: boolean, mem: number | null) => ({
        target_id,
        time: new Date(now - ago * 1000),
        up,
        duration_seconds: 0.01,
        error: up ? null : 'HTTP 500',
        samples: null,
        cpu_usage_percent: null,
        memory_used_bytes: mem,
        memory_total_bytes: mem === null ? null : 100,
        disk_used_bytes: null,
        disk_total_bytes: null,
        load1: null,
        uptime_seconds: null,
      });
      await insertHeartbeats(db, [
        hb(a.id, 20, true, 10),
        hb(a.id, 5, true, 20),
        hb(a.id, 10, false, null),
        hb(c.id, 30, true, 30),
        hb(c.id, 2, false, null),
      ]);
      await applyTransitions(db, [
        { targetId: a.id, from: 'unknown', to: 'up', at: new Date(), message: 'a is up' },
        { targetId: c.id, from: 'unknown', to: 'stopped', at: new Date(), message: 'c stopped: its exporter shut down cleanly' },
      ]);

      const fleet = await loadFleet(db);
      expect(fleet.map((r) => [r.name, r.state])).toEqual([
        ['a', 'up'],
        ['b', 'unknown'],
        ['c', 'stopped'],
      ]);
      // The newest heartbeat, and the figures of the newest successful one.
      expect(fleet.map((r) => [r.name, r.heartbeat?.up ?? null, r.heartbeat?.time ?? null, r.figures?.memory_used_bytes ?? null])).toEqual([
        ['a', true, new Date(now - 5_000).toISOString(), 20],
        ['b', null, null, null],
        ['c', false, new Date(now - 2_000).toISOString(), 30],
      ]);
      expect(fleet[2]!.figures!.time).toBe(new Date(now - 30_000).toISOString());
      expect(fleet[2]!.heartbeat!.error).toBe('HTTP 500');

      const host = await loadHost(db, a.id);
      expect(host?.target.name).toBe('a');
      expect(host?.heartbeats.map((h) => h.up)).toEqual([true, false, true]); // newest first
      expect(host?.events.map((e) => e.message)).toEqual(['a is up']);
      expect(await loadHost(db, b.id + 1000)).toBeNull();
    } finally {
      await drop();
    }
  });

  it('never hands a page the password of a target URL', async () => {
    const { db, drop } = await engine.open();
    try {
      const t = await addTarget(db, { name: 'basic', url: 'http://scrape:hunter2@pi.lan:9110/metrics' });
      await updateTarget(db, t.id, { token: 'a-per-target-token-0123456789' });
      const fleet = await loadFleet(db);
      const host = await loadHost(db, t.id);
      expect(fleet[0]?.url).toBe('http://scrape:***@pi.lan:9110/metrics');
      expect(JSON.stringify([fleet, host])).not.toContain('hunter2');
      // Nor its token: only that it has one.
      expect(JSON.stringify([fleet, host])).not.toContain('a-per-target-token');
      expect(host?.target.has_token).toBe(true);
    } finally {
      await drop();
    }
  });
});
