import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addTarget,
  applyTransitions,
  createDb,
  type Database,
  DatabaseUrlError,
  DEFAULT_PGLITE_DIR,
  dropExpiredHeartbeatPartitions,
  EmbeddedInUseError,
  ensureHeartbeatPartitions,
  getTarget,
  heartbeatPartitionName,
  insertHeartbeats,
  latestHeartbeats,
  listEvents,
  listHeartbeatPartitions,
  listTargets,
  migrateToLatest,
  parseDatabaseUrl,
  parseHeartbeatPartitionName,
  recentHeartbeats,
  removeTarget,
  resolveDatabaseUrl,
  runningEmbeddedUrl,
  startEmbeddedPostgres,
  TargetExistsError,
  targetLiveness,
  upsertTarget,
} from './index.js';
import { testDatabases } from './testing.js';

describe('parseDatabaseUrl', () => {
  it.each([
    [undefined, { kind: 'pglite', dataDir: DEFAULT_PGLITE_DIR }],
    ['', { kind: 'pglite', dataDir: DEFAULT_PGLITE_DIR }],
    ['pglite://memory', { kind: 'pglite', dataDir: 'memory' }],
    ['pglite:///var/lib/vigil', { kind: 'pglite', dataDir: '/var/lib/vigil' }],
    ['postgres://u@h:5432/d', { kind: 'postgres', url: 'postgres://u@h:5432/d' }],
    ['postgresql://u@h/d', { kind: 'postgres', url: 'postgresql://u@h/d' }],
  ])('%s', (url, expected) => {
    expect(parseDatabaseUrl(url)).toEqual(expected);
  });

  it.each(['mysql://root@localhost/db', 'pglite://', '/var/lib/db'])('rejects %s with what it accepts', (url) => {
    expect(() => parseDatabaseUrl(url)).toThrow(DatabaseUrlError);
    expect(() => parseDatabaseUrl(url)).toThrow(/DATABASE_URL/);
  });
});

describe('partition names', () => {
  it('round-trips a UTC day', () => {
    const t = new Date('2026-03-07T23:59:59.999Z');
    expect(heartbeatPartitionName(t)).toBe('heartbeats_p20260307');
    expect(parseHeartbeatPartitionName('heartbeats_p20260307')?.toISOString()).toBe('2026-03-07T00:00:00.000Z');
  });
  it.each(['heartbeats', 'heartbeats_p2026', 'heartbeats_p20261399', 'other_p20260307'])('%s is not one of ours', (n) => {
    expect(parseHeartbeatPartitionName(n)).toBeNull();
  });
});

describe.each(testDatabases())('schema on $name', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await engine.open());
  });
  afterAll(() => drop());

  it('adds, lists, upserts and removes targets', async () => {
    const a = await addTarget(db, { name: 'pi-1', url: 'http://10.0.0.1:9110/metrics', labels: { rack: 'a' } });
    expect(a).toMatchObject({ name: 'pi-1', interval_seconds: 15, timeout_seconds: 10, state: 'unknown', labels: { rack: 'a' } });
    await expect(addTarget(db, { name: 'pi-1', url: 'http://x/metrics' })).rejects.toBeInstanceOf(TargetExistsError);
    const fast = await addTarget(db, { name: 'fast', url: 'http://f/metrics', interval_seconds: 5 });
    expect(fast.timeout_seconds).toBe(5); // timeout defaults to no more than the interval
    const b = await upsertTarget(db, { name: 'pi-1', url: 'http://10.0.0.2:9110/metrics' });
    expect(b.id).toBe(a.id);
    expect(b.url).toBe('http://10.0.0.2:9110/metrics');
    expect((await listTargets(db)).map((t) => t.name)).toEqual(['fast', 'pi-1']);
    expect(await removeTarget(db, 'fast')).toBe(true);
    expect(await removeTarget(db, 'fast')).toBe(false);
    expect((await getTarget(db, a.id))?.name).toBe('pi-1');
  });

  it('refuses a timeout longer than the interval', async () => {
    await expect(addTarget(db, { name: 'bad', url: 'http://b/metrics', interval_seconds: 5, timeout_seconds: 30 })).rejects.toThrow(
      /targets_timeout_within_interval/,
    );
  });

  it('writes heartbeats in one batch and reads the latest per target', async () => {
    const t1 = await addTarget(db, { name: 'hb-1', url: 'http://h1/metrics' });
    const t2 = await addTarget(db, { name: 'hb-2', url: 'http://h2/metrics' });
    const now = Date.now();
    const row = (target_id: number, ago: number, up: boolean) => ({
      target_id,
      time: new Date(now - ago * 1000),
      up,
      duration_seconds: 0.01,
      error: up ? null : 'connection refused',
      samples: up ? 100 : null,
      cpu_usage_percent: up ? 12.5 : null,
      memory_used_bytes: up ? 2 ** 33 : null,
      memory_total_bytes: up ? 2 ** 34 : null,
      disk_used_bytes: null,
      disk_total_bytes: null,
      load1: up ? 0.5 : null,
      uptime_seconds: up ? 3600 : null,
    });
    await insertHeartbeats(db, [row(t1.id, 30, true), row(t1.id, 15, true), row(t1.id, 0, false), row(t2.id, 5, true)]);
    await insertHeartbeats(db, [row(t2.id, 5, true)]); // a retried batch: no error, no duplicate
    const latest = await latestHeartbeats(db);
    const byTarget = new Map(latest.map((h) => [h.target_id, h]));
    expect(byTarget.get(t1.id)).toMatchObject({ up: false, error: 'connection refused' });
    expect(byTarget.get(t2.id)).toMatchObject({ up: true, memory_used_bytes: 2 ** 33, cpu_usage_percent: 12.5 });
    expect(await recentHeartbeats(db, t1.id, 2)).toHaveLength(2);
    expect(await recentHeartbeats(db, t2.id)).toHaveLength(1);

    const liveness = new Map((await targetLiveness(db)).map((l) => [l.id, l]));
    expect(liveness.get(t1.id)?.last_success?.getTime()).toBe(now - 15_000);
    expect(liveness.get(t2.id)?.last_success).toBeInstanceOf(Date);
    expect(liveness.get(t1.id)?.last_error).toBe('connection refused');
    expect(liveness.get(t2.id)?.last_error).toBeNull();
  });

  it('applies a transition once, with its event', async () => {
    const t = await addTarget(db, { name: 'tr', url: 'http://tr/metrics' });
    const at = new Date();
    const tr = { targetId: t.id, from: 'unknown' as const, to: 'up' as const, at, message: 'tr is up' };
    expect(await applyTransitions(db, [tr])).toHaveLength(1);
    expect(await applyTransitions(db, [tr])).toHaveLength(0); // no longer unknown
    expect((await getTarget(db, t.id))?.state).toBe('up');
    const events = await listEvents(db, { targetId: t.id });
    expect(events).toMatchObject([{ from_state: 'unknown', to_state: 'up', message: 'tr is up', target_name: 'tr' }]);
    expect((await listEvents(db)).length).toBeGreaterThanOrEqual(1);
    expect(await applyTransitions(db, [])).toEqual([]);
  });

  it('creates partitions ahead and drops them past retention', async () => {
    const now = new Date('2031-01-10T12:00:00Z');
    expect(await ensureHeartbeatPartitions(db, now, 2)).toEqual(['heartbeats_p20310110', 'heartbeats_p20310111', 'heartbeats_p20310112']);
    expect(await ensureHeartbeatPartitions(db, now, 2)).toEqual([]);
    // 2031-01-10 ends 2031-01-11T00:00; with 1 day retention at 2031-01-12T00:00 it goes, the 11th stays.
    const dropped = await dropExpiredHeartbeatPartitions(db, 1, new Date('2031-01-12T00:00:00Z'));
    expect(dropped).toContain('heartbeats_p20310110');
    expect(dropped).toContain(heartbeatPartitionName(new Date())); // today is long past, seen from 2031
    expect(dropped).not.toContain('heartbeats_p20310111');
    const left = await listHeartbeatPartitions(db);
    expect(left).toContain('heartbeats_p20310111');
    expect(left).not.toContain('heartbeats_p20310110');
    // Rows for a day without a partition are refused, not silently kept elsewhere.
    const t = await addTarget(db, { name: 'part', url: 'http://p/metrics' });
    await expect(
      insertHeartbeats(db, [
        {
          target_id: t.id,
          time: new Date('2031-01-10T01:00:00Z'),
          up: true,
          duration_seconds: 0,
          error: null,
          samples: null,
          cpu_usage_percent: null,
          memory_used_bytes: null,
          memory_total_bytes: null,
          disk_used_bytes: null,
          disk_total_bytes: null,
          load1: null,
          uptime_seconds: null,
        },
      ]),
    ).rejects.toThrow(/partition/);
  });
});

describe('embedded PostgreSQL over the wire', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-embedded-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves several pg clients, keeps transactions apart, and keeps data across restarts', async () => {
    let server = await startEmbeddedPostgres(dir);
    expect(server.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    // Other processes find it instead of opening the directory a second time.
    expect(runningEmbeddedUrl(dir)).toBe(server.url);
    expect(resolveDatabaseUrl(`pglite://${dir}`)).toBe(server.url);
    expect(resolveDatabaseUrl('postgres://u@h/d')).toBe('postgres://u@h/d');
    await expect(startEmbeddedPostgres(dir)).rejects.toBeInstanceOf(EmbeddedInUseError);
    const a = await createDb(server.url, { max: 2 });
    const b = await createDb(server.url, { max: 2 });
    await migrateToLatest(a);
    await addTarget(a, { name: 'one', url: 'http://one/metrics' });
    // While a transaction on one client is open, another client's read waits for it
    // and never sees its uncommitted, later rolled-back row.
    let inserted!: () => void;
    const insertedP = new Promise<void>((r) => (inserted = r));
    const tx = a.transaction().execute(async (t) => {
      await t.insertInto('targets').values({ name: 'ghost', url: 'http://g/metrics' }).execute();
      inserted();
      await new Promise((r) => setTimeout(r, 200));
      throw new Error('roll back');
    });
    await insertedP;
    const [seenByB, txResult] = await Promise.allSettled([listTargets(b), tx]);
    expect(txResult).toMatchObject({ status: 'rejected', reason: { message: 'roll back' } });
    expect(seenByB).toMatchObject({ status: 'fulfilled', value: [{ name: 'one' }] });
    expect((await listTargets(a)).map((t) => t.name)).toEqual(['one']);
    await a.destroy();
    await b.destroy();
    await server.stop();
    expect(runningEmbeddedUrl(dir)).toBeNull();
    expect(resolveDatabaseUrl(`pglite://${dir}`)).toBe(`pglite://${dir}`);

    server = await startEmbeddedPostgres(dir);
    const c = new pg.Client({ connectionString: server.url });
    await c.connect();
    const { rows } = await c.query('select name from targets');
    expect(rows).toEqual([{ name: 'one' }]);
    await c.end();
    await server.stop();
  });
});
