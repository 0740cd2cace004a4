import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addTarget,
  type Database,
  ensureHeartbeatPartitions,
  figureSeries,
  fleetTrends,
  getInventory,
  insertHeartbeats,
  type NewHeartbeat,
  namedSeries,
  probeHistory,
  pruneRollups,
  removeTargetById,
  rollupHeartbeats,
  upsertInventories,
} from './index.js';
import { testDatabases } from './testing.js';

const HOUR = 3_600_000;
const MIN = 60_000;

/** min/avg/max of the non-null values, as the database computes them. */
function stats(values: (number | null)[]): [number | null, number | null, number | null] {
  const v = values.filter((x): x is number => x !== null);
  if (v.length === 0) return [null, null, null];
  return [Math.min(...v), v.reduce((a, b) => a + b, 0) / v.length, Math.max(...v)];
}

describe.each(testDatabases())('rollups, figure series and inventories on $name', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  let a: number;
  let b: number;
  // Five whole hours ago: three hours of heartbeats from there, rolled up "now" = start + 3 h 10 min.
  const start = Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR;
  const rows: NewHeartbeat[] = [];

  beforeAll(async () => {
    ({ db, drop } = await engine.open());
    await ensureHeartbeatPartitions(db, new Date(start - 86_400_000), 2);
    a = (await addTarget(db, { name: 'a', url: 'http://a/metrics' })).id;
    b = (await addTarget(db, { name: 'b', url: 'http://b/metrics' })).id;
    for (let i = 0; i < 12; i++) {
      const down = i === 5;
      rows.push({
        target_id: a,
        time: new Date(start + i * 15 * MIN),
        up: !down,
        duration_seconds: 0.01,
        error: down ? 'connection refused' : null,
        cpu_usage_percent: down ? null : 10 + ((i * 7) % 13),
        memory_used_bytes: down ? null : (1 + i) * 2 ** 28,
        memory_total_bytes: down ? null : 2 ** 32,
        disk_used_bytes: down ? null : 40e9 + i * 1e9,
        disk_total_bytes: down ? null : 100e9,
        disk_avail_bytes: down ? null : 50e9 - i * 1e9,
        load1: down ? null : i / 4,
        net_receive_bytes_per_second: down ? null : 1000 * i,
        disk_reads_per_second: down ? null : i / 2,
        temperature_celsius: down ? null : 40 + (i % 5),
        net_interfaces: down ? null : { eth0: [100 * i, 10 * i], ...(i % 2 === 0 ? { wlan0: [1, 2] } : {}) },
        container_figures: down ? null : { web: [i, 1000, 5 * i, null] },
        probe_results: down ? null : { https: i % 4 === 0 ? 0 : 1, ...(i >= 6 ? { dns: 1 as const } : {}) },
      });
    }
    rows.push({ target_id: b, time: new Date(start + 20 * MIN), up: true, duration_seconds: 0.02, error: null, cpu_usage_percent: 99 });
    await insertHeartbeats(db, rows);
  });
  afterAll(() => drop());

  const pct = (r: NewHeartbeat) => ({
    cpu: r.cpu_usage_percent ?? null,
    memory: r.memory_used_bytes != null ? (r.memory_used_bytes / r.memory_total_bytes!) * 100 : null,
    disk: r.disk_used_bytes != null ? (r.disk_used_bytes / (r.disk_used_bytes + r.disk_avail_bytes!)) * 100 : null,
    load1: r.load1 ?? null,
    net_rx: r.net_receive_bytes_per_second ?? null,
    disk_reads: r.disk_reads_per_second ?? null,
    temperature: r.temperature_celsius ?? null,
  });
  /** What one bucket of target a's heartbeats should read. */
  const expected = (from: number, to: number) => {
    const inside = rows.filter((r) => r.target_id === a && +r.time >= from && +r.time < to);
    const f = inside.map(pct);
    return {
      scrapes: inside.length,
      up: inside.filter((r) => r.up).length,
      cpu: stats(f.map((x) => x.cpu)),
      memory: stats(f.map((x) => x.memory)),
      disk: stats(f.map((x) => x.disk)),
      load1: stats(f.map((x) => x.load1)),
      net_rx: stats(f.map((x) => x.net_rx)),
      disk_reads: stats(f.map((x) => x.disk_reads)),
      temperature: stats(f.map((x) => x.temperature)),
    };
  };
  const bucket = (s: Awaited<ReturnType<typeof figureSeries>>, i: number) => ({
    scrapes: s.scrapes[i],
    up: s.up[i],
    cpu: [s.cpu.min[i], s.cpu.avg[i], s.cpu.max[i]],
    memory: [s.memory.min[i], s.memory.avg[i], s.memory.max[i]],
    disk: [s.disk.min[i], s.disk.avg[i], s.disk.max[i]],
    load1: [s.load1.min[i], s.load1.avg[i], s.load1.max[i]],
    net_rx: [s.net_rx.min[i], s.net_rx.avg[i], s.net_rx.max[i]],
    disk_reads: [s.disk_reads.min[i], s.disk_reads.avg[i], s.disk_reads.max[i]],
    temperature: [s.temperature.min[i], s.temperature.avg[i], s.temperature.max[i]],
  });
  const close = (got: unknown, want: ReturnType<typeof expected>) => {
    const g = got as ReturnType<typeof bucket>;
    expect([g.scrapes, g.up]).toEqual([want.scrapes, want.up]);
    for (const k of ['cpu', 'memory', 'disk', 'load1', 'net_rx', 'disk_reads', 'temperature'] as const)
      for (let j = 0; j < 3; j++) {
        if (want[k][j] === null) expect(g[k][j]).toBeNull();
        else expect(g[k][j]).toBeCloseTo(want[k][j]!, 9);
      }
  };

  it('buckets raw heartbeats by any step, on UTC boundaries, figures in percent', async () => {
    const s = await figureSeries(db, a, new Date(start), new Date(start + 3 * HOUR), 1800);
    expect(s.resolution).toBe('raw');
    expect(s.time).toEqual([0, 1, 2, 3, 4, 5].map((i) => (start + i * 30 * MIN) / 1000));
    for (let i = 0; i < 6; i++) close(bucket(s, i), expected(start + i * 30 * MIN, start + (i + 1) * 30 * MIN));
    // The bucket with the failed scrape counts it, and its figures come from the one up scrape.
    expect(s.scrapes[2]).toBe(2);
    expect(s.up[2]).toBe(1);
  });

  /** The average of value `k` of `name` in each heartbeat of target a in [from, to) that carried it. */
  const namedAvg = (column: 'net_interfaces' | 'container_figures', name: string, k: number, from: number, to: number) => {
    const v = rows
      .filter((r) => r.target_id === a && +r.time >= from && +r.time < to)
      .map((r) => (r[column] as Record<string, (number | null)[]> | null | undefined)?.[name]?.[k] ?? null);
    return stats(v)[1];
  };

  it('buckets per-interface and per-container figures, each name a column of values', async () => {
    const s = await namedSeries(db, 'interfaces', a, new Date(start), new Date(start + 3 * HOUR), 1800);
    expect(s.resolution).toBe('raw');
    expect(s.time).toEqual([0, 1, 2, 3, 4, 5].map((i) => (start + i * 30 * MIN) / 1000));
    expect(Object.keys(s.series)).toEqual(['eth0', 'wlan0']);
    for (let i = 0; i < 6; i++) {
      const from = start + i * 30 * MIN;
      expect(s.series.eth0![0]![i]).toBeCloseTo(namedAvg('net_interfaces', 'eth0', 0, from, from + 30 * MIN)!, 9);
      expect(s.series.eth0![1]![i]).toBeCloseTo(namedAvg('net_interfaces', 'eth0', 1, from, from + 30 * MIN)!, 9);
    }
    const c = await namedSeries(db, 'containers', a, new Date(start), new Date(start + 3 * HOUR), 1800);
    expect(Object.keys(c.series)).toEqual(['web']);
    expect(c.series.web).toHaveLength(4);
    expect(c.series.web![3]!.every((v) => v === null)).toBe(true); // tx never known
    expect(c.series.web![1]![0]).toBe(1000);
    // A range with nothing: no buckets, no names.
    const none = await namedSeries(db, 'containers', a, new Date(start - 2 * HOUR), new Date(start), 600);
    expect(none).toEqual({ resolution: 'raw', stepSeconds: 600, time: [], series: {} });
  });

  /** What probeHistory should say at `now`, counted here from the rows written. */
  const expectedProbes = (now: number) => {
    const out = new Map<string, { last24h: { ok: number; total: number }; days: Map<string, { ok: number; total: number }> }>();
    for (const r of rows) {
      if (r.target_id !== a || !r.probe_results || +r.time >= now) continue;
      for (const [name, v] of Object.entries(r.probe_results)) {
        let p = out.get(name);
        if (!p) out.set(name, (p = { last24h: { ok: 0, total: 0 }, days: new Map() }));
        const day = new Date(r.time).toISOString().slice(0, 10);
        const d = p.days.get(day) ?? { ok: 0, total: 0 };
        d.ok += v;
        d.total += 1;
        p.days.set(day, d);
        p.last24h.ok += v;
        p.last24h.total += 1;
      }
    }
    return [...out.entries()]
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([name, p]) => ({ name, last24h: p.last24h, days: [...p.days.entries()].sort().map(([day, c]) => ({ day, ...c })) }));
  };

  it("counts each probe's results per day and over the last 24 hours, from heartbeats", async () => {
    const h = await probeHistory(db, a, new Date(start + 3 * HOUR));
    expect(h.map((p) => p.name)).toEqual(['dns', 'https']);
    expect(h).toEqual(expectedProbes(start + 3 * HOUR));
    // https failed at i = 0, 4, 8 of the 11 results (i = 5 was a failed scrape: no result either way).
    expect(h[1]!.last24h).toEqual({ ok: 8, total: 11 });
    expect(await probeHistory(db, b, new Date(start + 3 * HOUR))).toEqual([]);
  });

  it('rolls up completed hours, and serves whole-hour steps from them', async () => {
    const r = await rollupHeartbeats(db, new Date(start + 3 * HOUR + 10 * MIN));
    expect(r.rows).toBe(4); // a: three hours; b: one
    const rolled = await db.selectFrom('heartbeats_hourly').selectAll().where('target_id', '=', a).orderBy('hour').execute();
    expect(rolled.map((h) => h.hour.getTime())).toEqual([start, start + HOUR, start + 2 * HOUR]);
    const s = await figureSeries(db, a, new Date(start), new Date(start + 3 * HOUR), 3600);
    expect(s.resolution).toBe('hourly');
    for (let i = 0; i < 3; i++) close(bucket(s, i), expected(start + i * HOUR, start + (i + 1) * HOUR));
    // Two-hour buckets (on even UTC hours): min of mins, max of maxes, averages weighted by up scrapes.
    const two = await figureSeries(db, a, new Date(start), new Date(start + 3 * HOUR), 7200);
    const first = Math.floor(start / (2 * HOUR)) * 2 * HOUR;
    expect(two.time).toEqual([first / 1000, first / 1000 + 7200]);
    close(bucket(two, 0), expected(first, first + 2 * HOUR));
    close(bucket(two, 1), expected(first + 2 * HOUR, first + 4 * HOUR));
    // Per-name hourly averages, rounded as the rollup stores them (bytes whole, cpu to two decimals).
    const hourly = await namedSeries(db, 'interfaces', a, new Date(start), new Date(start + 3 * HOUR), 3600);
    expect(hourly.resolution).toBe('hourly');
    expect(hourly.time).toEqual([0, 1, 2].map((i) => (start + i * HOUR) / 1000));
    for (let i = 0; i < 3; i++)
      expect(hourly.series.eth0![0]![i]).toBe(Math.round(namedAvg('net_interfaces', 'eth0', 0, start + i * HOUR, start + (i + 1) * HOUR)!));
    const c = await namedSeries(db, 'containers', a, new Date(start), new Date(start + 3 * HOUR), 3600);
    for (let i = 0; i < 3; i++)
      expect(c.series.web![0]![i]).toBeCloseTo(
        Math.round(100 * namedAvg('container_figures', 'web', 0, start + i * HOUR, start + (i + 1) * HOUR)!) / 100,
        9,
      );
    expect(c.series.web![3]).toEqual([null, null, null]);
    // Probe counts read from the rollups give what the heartbeats gave.
    expect(await probeHistory(db, a, new Date(start + 3 * HOUR))).toEqual(expectedProbes(start + 3 * HOUR));
    const rolledProbes = await db
      .selectFrom('heartbeats_hourly')
      .select('probe_results')
      .where('target_id', '=', a)
      .orderBy('hour')
      .execute();
    expect(rolledProbes[0]!.probe_results).toEqual({ https: [3, 4] });
  });

  it('reaches now: the hours not rolled yet come from heartbeats in the same query', async () => {
    const late: NewHeartbeat = {
      target_id: a,
      time: new Date(start + 3 * HOUR + 5 * MIN),
      up: true,
      duration_seconds: 0.01,
      error: null,
      cpu_usage_percent: 77,
      load1: 3,
    };
    rows.push(late);
    await insertHeartbeats(db, [late]);
    const s = await figureSeries(db, a, new Date(start), new Date(start + 4 * HOUR), 3600);
    expect(s.time.at(-1)).toBe((start + 3 * HOUR) / 1000);
    close(bucket(s, 3), expected(start + 3 * HOUR, start + 4 * HOUR));
    // The per-name figures reach now too: the late heartbeat carried none, so the last hour has no names.
    const lateNamed: NewHeartbeat = { ...late, time: new Date(start + 3 * HOUR + 6 * MIN), net_interfaces: { eth0: [7, 8] } };
    rows.push(lateNamed);
    await insertHeartbeats(db, [lateNamed]);
    const n = await namedSeries(db, 'interfaces', a, new Date(start), new Date(start + 4 * HOUR), 3600);
    expect(n.time.at(-1)).toBe((start + 3 * HOUR) / 1000);
    expect(n.series.eth0!.map((col) => col.at(-1))).toEqual([7, 8]);
    expect(n.series.wlan0!.map((col) => col.at(-1))).toEqual([null, null]);
  });

  it('counts heartbeats written late into an hour already rolled, when it rolls again', async () => {
    const late: NewHeartbeat = {
      target_id: a,
      time: new Date(start + 2 * HOUR + 59 * MIN),
      up: true,
      duration_seconds: 0.01,
      error: null,
      cpu_usage_percent: 1,
    };
    rows.push(late);
    await insertHeartbeats(db, [late]);
    await rollupHeartbeats(db, new Date(start + 4 * HOUR + 10 * MIN));
    const s = await figureSeries(db, a, new Date(start + 2 * HOUR), new Date(start + 4 * HOUR), 3600);
    close(bucket(s, 0), expected(start + 2 * HOUR, start + 3 * HOUR));
    close(bucket(s, 1), expected(start + 3 * HOUR, start + 4 * HOUR));
    expect(await db.selectFrom('heartbeats_hourly').select('hour').where('target_id', '=', a).execute()).toHaveLength(4);
  });

  it("gives each target's cpu and memory trend in one query, a bucket per slice of the window", async () => {
    // Target a's heartbeats every 15 min from start: over 3 h in 12 buckets of 15 min, one heartbeat each but the failed one.
    const trends = await fleetTrends(db, new Date(start + 3 * HOUR), 12, 900);
    const t = trends.get(a)!;
    const inWindow = rows.filter((r) => r.target_id === a && +r.time >= start && +r.time < start + 3 * HOUR);
    for (let i = 0; i < 12; i++) {
      const r = inWindow.filter((h) => +h.time >= start + i * 15 * MIN && +h.time < start + (i + 1) * 15 * MIN && h.up);
      const want = stats(r.map((h) => pct(h).cpu))[1];
      expect(t.cpu[i]).toBe(want === null ? null : Math.round(want * 10) / 10);
    }
    expect(t.cpu[5]).toBeNull(); // the failed scrape
    expect(t.memory[0]).toBeCloseTo((2 ** 28 / 2 ** 32) * 100, 1);
    expect(trends.get(b)!.cpu.filter((v) => v !== null)).toEqual([99]);
    expect((await fleetTrends(db, new Date(start - HOUR))).size).toBe(0);
  });

  it('prunes rollups past their retention', async () => {
    const now = new Date(start + 2 * HOUR + 86_400_000);
    expect(await pruneRollups(db, 1, now)).toBe(3); // a's first two hours and b's
    const left = await db.selectFrom('heartbeats_hourly').select('hour').orderBy('hour').execute();
    expect(left.map((h) => h.hour.getTime())).toEqual([start + 2 * HOUR, start + 3 * HOUR]);
  });

  it('nothing to roll on an empty table: no error, nothing written', async () => {
    const { db: empty, drop: dropEmpty } = await engine.open();
    try {
      expect(await rollupHeartbeats(empty)).toEqual({ hours: 0, rows: 0 });
    } finally {
      await dropEmpty();
    }
  });

  it('stores the latest inventory per target, replaced on write, skipping removed targets', async () => {
    const container = {
      name: 'web',
      image: 'nginx',
      state: 'running',
      health: 'healthy',
      restarts: 0,
      cpuSecondsTotal: 12,
      cpuPercent: 3,
      memoryBytes: 1e6,
      memoryLimitBytes: null,
      startedAt: 1,
    };
    const service = { name: 'site', success: true, durationSeconds: 0.1, statusCode: 200, certExpiry: null };
    const at = new Date();
    await upsertInventories(db, [{ targetId: a, containers: [container], services: [service], scrapedAt: at, changedAt: at }]);
    expect(await getInventory(db, a)).toMatchObject({ containers: [container], services: [service] });
    const gone = (await addTarget(db, { name: 'gone', url: 'http://gone/metrics' })).id;
    await removeTargetById(db, gone);
    const later = new Date(at.getTime() + 1000);
    await upsertInventories(db, [
      { targetId: a, containers: [], services: [service], scrapedAt: later, changedAt: later },
      { targetId: gone, containers: [container], services: [], scrapedAt: later, changedAt: later },
    ]);
    const inv = await getInventory(db, a);
    expect(inv?.containers).toEqual([]);
    expect(inv?.changed_at.getTime()).toBe(later.getTime());
    expect(await getInventory(db, gone)).toBeNull();
    expect(await getInventory(db, b)).toBeNull();
  });
});
