import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addTarget,
  type Database,
  heartbeatsBetween,
  insertHeartbeats,
  latestHeartbeats,
  queryEvents,
  queryTargets,
  removeTargetById,
  setPaused,
  updateTarget,
} from './index.js';
import { testDatabases } from './testing.js';

describe.each(testDatabases())('target and event queries on $name', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  const ids: Record<string, number> = {};
  beforeAll(async () => {
    ({ db, drop } = await engine.open());
    for (const [name, labels] of [
      ['pi-1', { rack: 'a', role: 'db' }],
      ['pi-2', { rack: 'a' }],
      ['vps_1', { rack: 'b' }],
      ['vps%2', {}],
    ] as const)
      ids[name] = (await addTarget(db, { name: name.replace('%', '-'), url: `http://${name.replace(/[%_]/, '-')}/metrics`, labels })).id;
    await db.updateTable('targets').set({ state: 'up' }).where('id', '=', ids['pi-1']!).execute();
    await setPaused(db, ids['pi-2']!, true, 'ada');
  });
  afterAll(() => drop());

  const names = async (q: Parameters<typeof queryTargets>[1]) => (await queryTargets(db, q)).items.map((t) => t.name);

  it('filters by state (paused ones apart), labels and name, and pages with the total', async () => {
    expect(await names({})).toEqual(['pi-1', 'pi-2', 'vps-2', 'vps_1']);
    expect(await names({ state: 'up' })).toEqual(['pi-1']);
    expect(await names({ state: 'paused' })).toEqual(['pi-2']);
    expect(await names({ state: 'unknown' })).toEqual(['vps-2', 'vps_1']);
    expect(await names({ labels: { rack: 'a' } })).toEqual(['pi-1', 'pi-2']);
    expect(await names({ labels: { rack: 'a', role: 'db' } })).toEqual(['pi-1']);
    expect(await names({ q: 'PI' })).toEqual(['pi-1', 'pi-2']);
    // LIKE's wildcards are searched for literally.
    expect(await names({ q: '_' })).toEqual(['vps_1']);
    expect(await names({ q: '%' })).toEqual([]);
    expect(await queryTargets(db, { page: 2, perPage: 3 })).toMatchObject({ total: 4, items: [{ name: 'vps_1' }] });
  });

  it('updates what may change, with before and after; removes by id', async () => {
    const r = await updateTarget(db, ids.vps_1!, { interval_seconds: 30, labels: { rack: 'c' }, url: 'http://vps-1:9110/metrics' });
    expect(r?.before).toMatchObject({ interval_seconds: 15, labels: { rack: 'b' } });
    expect(r?.after).toMatchObject({ interval_seconds: 30, labels: { rack: 'c' }, url: 'http://vps-1:9110/metrics' });
    expect((await updateTarget(db, ids.vps_1!, {}))?.after.interval_seconds).toBe(30);
    await expect(updateTarget(db, ids.vps_1!, { timeout_seconds: 60 })).rejects.toThrow(/timeout_within_interval/);
    expect(await updateTarget(db, 999_999, { interval_seconds: 5 })).toBeNull();
    const t = await addTarget(db, { name: 'gone', url: 'http://gone/metrics' });
    expect((await removeTargetById(db, t.id))?.name).toBe('gone');
    expect(await removeTargetById(db, t.id)).toBeNull();
  });

  it('pages events newest first, by target and type', async () => {
    await setPaused(db, ids['pi-2']!, false, 'ada');
    await setPaused(db, ids['pi-1']!, true, 'bob');
    const all = await queryEvents(db, { perPage: 2 });
    expect(all.total).toBe(3);
    expect(all.items.map((e) => [e.target_name, e.type])).toEqual([
      ['pi-1', 'paused'],
      ['pi-2', 'resumed'],
    ]);
    expect((await queryEvents(db, { perPage: 2, page: 2 })).items.map((e) => e.type)).toEqual(['paused']);
    expect((await queryEvents(db, { targetId: ids['pi-2']! })).items.map((e) => e.type)).toEqual(['resumed', 'paused']);
    expect((await queryEvents(db, { type: 'resumed' })).total).toBe(1);
    expect(await setPaused(db, ids['pi-1']!, true, 'bob')).toMatchObject({ before: { paused: true }, after: { paused: true } });
    expect((await queryEvents(db)).total).toBe(3); // pausing a paused target changes nothing
  });

  it('reads heartbeats in a range, and the latest of chosen targets only', async () => {
    const now = Date.now();
    const hb = (target_id: number, ago: number) => ({
      target_id,
      time: new Date(now - ago * 1000),
      up: true,
      duration_seconds: 0.01,
      error: null,
    });
    await insertHeartbeats(db, [hb(ids['pi-1']!, 30), hb(ids['pi-1']!, 20), hb(ids['pi-1']!, 10), hb(ids.vps_1!, 5)]);
    const range = await heartbeatsBetween(db, ids['pi-1']!, new Date(now - 25_000), new Date(now));
    expect(range.map((h) => h.time.getTime())).toEqual([now - 20_000, now - 10_000]);
    expect((await heartbeatsBetween(db, ids['pi-1']!, new Date(now - 60_000), new Date(now), 1)).length).toBe(1);
    expect((await latestHeartbeats(db, undefined, { targetIds: [ids.vps_1!] })).map((h) => h.target_id)).toEqual([ids.vps_1]);
    expect(await latestHeartbeats(db, undefined, { targetIds: [] })).toEqual([]);
    expect((await latestHeartbeats(db)).length).toBe(2);
    // The same newest heartbeat, read with the page of targets in one query.
    const page = await queryTargets(db, { q: 'pi-1' });
    expect(page.total).toBe(1);
    expect(page.items[0]!.heartbeat?.time).toEqual(new Date(now - 10_000));
    expect(page.items[0]!.heartbeat).toMatchObject({ target_id: ids['pi-1'], up: true, duration_seconds: 0.01 });
    expect((await queryTargets(db, { q: 'vps' })).items.map((t) => [t.name, t.heartbeat === null])).toEqual([
      ['vps-2', true],
      ['vps_1', false],
    ]);
  });
});
