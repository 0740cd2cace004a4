import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '@vigil/core/log';
import { closedPort, fixtureTree, httpServer, until } from '@vigil/core/testing';
import {
  addChannel,
  addTarget,
  type Database,
  enqueueDeliveries,
  figureSeries,
  getInventory,
  getTarget,
  listEvents,
  listTargets,
  recentHeartbeats,
  setPaused,
} from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ExporterProcess, startExporterProcess } from '../test/exporter.js';
import { Scraper } from './scraper.js';

const FIXTURE_PROC = path.join(fixtureTree('this-host'), 'proc');

/** A /proc/meminfo field of the fixture in bytes (kB × 1024), read plainly. */
function meminfoBytes(field: string): number {
  const line = readFileSync(path.join(FIXTURE_PROC, 'meminfo'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}
const silent = silentLogger();
const options = { concurrency: 4, bodyLimitBytes: 1 << 20, downAfterIntervals: 3, retentionDays: 30, queueLimit: 1000 };

function exporterOn(port = 0, env: Record<string, string> = {}): Promise<ExporterProcess> {
  return startExporterProcess({ VIGIL_EXPORTER_LISTEN: `127.0.0.1:${port}`, VIGIL_PROC: FIXTURE_PROC, ...env });
}

describe.each(testDatabases())('scraper on $name', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  const cleanup: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    ({ db, drop } = await engine.open());
  });
  afterEach(async () => {
    await Promise.all(cleanup.splice(0).map((c) => c()));
    await db.deleteFrom('targets').execute();
    // A test's scraper that was never stopped would stay a live replica for its timeout, owning a share of the next test's targets.
    await db.deleteFrom('scrapers').execute();
  });
  afterAll(() => drop());

  it('turns each scrape into a heartbeat: figures for the good, readable errors for the bad, and carries on', async () => {
    const exporter = await exporterOn();
    const hang = await httpServer(() => {});
    const fail = await httpServer((_, res) => {
      res.statusCode = 500;
      res.end();
    });
    const garbage = await httpServer((_, res) => res.end('{"json": "is not an exposition"}'));
    cleanup.push(exporter.close, hang.close, fail.close, garbage.close);
    const good = await addTarget(db, { name: 'good', url: `${exporter.url}/metrics` });
    const targets = {
      refused: await addTarget(db, { name: 'refused', url: `http://127.0.0.1:${await closedPort()}/metrics` }),
      hang: await addTarget(db, { name: 'hang', url: hang.url, timeout_seconds: 0.5 }),
      fail: await addTarget(db, { name: 'fail', url: fail.url }),
      garbage: await addTarget(db, { name: 'garbage', url: garbage.url }),
    };
    const scraper = new Scraper(db, options, silent);
    await scraper.refreshTargets();
    await scraper.tick();
    await scraper.settle();
    await scraper.writer.flush();

    const [hb] = await recentHeartbeats(db, good.id);
    expect(hb).toMatchObject({
      up: true,
      error: null,
      memory_total_bytes: meminfoBytes('MemTotal'),
      memory_used_bytes: meminfoBytes('MemTotal') - meminfoBytes('MemAvailable'),
      cpu_usage_percent: null, // first scrape
    });
    expect(hb!.disk_total_bytes).toBeGreaterThan(0);
    expect(hb!.samples).toBeGreaterThan(50);
    const errors = Object.fromEntries(
      await Promise.all(Object.entries(targets).map(async ([k, t]) => [k, (await recentHeartbeats(db, t.id))[0]] as const)),
    );
    expect(errors.refused).toMatchObject({ up: false, error: expect.stringMatching(/connection refused/) });
    expect(errors.hang).toMatchObject({ up: false, error: 'timed out after 0.5 s' });
    expect(errors.fail).toMatchObject({ up: false, error: 'HTTP 500' });
    expect(errors.garbage).toMatchObject({ up: false, error: expect.stringMatching(/malformed exposition at line 1/) });
    expect(scraper.writer.stats.written).toBe(5);

    // Liveness: the good one is up at once; the others only after 3 intervals (45 s).
    const now = Date.now();
    await scraper.checkLiveness(now);
    expect((await listTargets(db)).map((t) => [t.name, t.state])).toEqual([
      ['fail', 'unknown'],
      ['garbage', 'unknown'],
      ['good', 'up'],
      ['hang', 'unknown'],
      ['refused', 'unknown'],
    ]);
    await scraper.checkLiveness(now + 44_000);
    expect((await listTargets(db)).filter((t) => t.state === 'down')).toEqual([]);
    await scraper.checkLiveness(now + 46_000); // no scrape since: all past 3 intervals, the good one too
    expect((await listTargets(db)).filter((t) => t.state === 'down').map((t) => t.name)).toEqual([
      'fail',
      'garbage',
      'good',
      'hang',
      'refused',
    ]);
    const [refusedDown] = await listEvents(db, { targetId: targets.refused.id });
    expect(refusedDown?.message).toMatch(/^refused is down: no successful scrape for 3 intervals \(45 s\); last error: connection refused/);

    // The second scrape of the good target gives a cpu figure.
    await scraper.scrapeOnce(good);
    await scraper.writer.flush();
    const [second] = await recentHeartbeats(db, good.id, 1);
    expect(second?.cpu_usage_percent).toBeNull(); // the fixture's counters do not move: Δtotal = 0
  });

  it("rates between scrapes from a real exporter: the host's network and disk traffic, per interface too", async () => {
    // The exporter reads a copy of the fixture's /proc, whose counters this test moves by known amounts.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-rates-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    cpSync(FIXTURE_PROC, dir, { recursive: true });
    const netDev = readFileSync(path.join(dir, 'net/dev'), 'utf8');
    const diskstats = readFileSync(path.join(dir, 'diskstats'), 'utf8');
    const exporter = await exporterOn(0, { VIGIL_PROC: dir });
    cleanup.push(exporter.close);
    const t = await addTarget(db, { name: 'moving', url: `${exporter.url}/metrics` });
    const scraper = new Scraper(db, options, silent);
    const start = Date.now();
    await scraper.scrapeOnce(t, new Date(start));
    // 15 s later: eth0 received 1.5 MB and sent 30 kB; lo moved too, and is not the host's traffic.
    writeFileSync(
      path.join(dir, 'net/dev'),
      netDev
        .replace('eth0: 503745680   16094', `eth0: ${503745680 + 1_500_000}   16094`)
        .replace('  1057070    9485', `  ${1057070 + 30_000}    9485`)
        .replace('lo:  166205', `lo:  ${166205 + 9_999_999}`),
    );
    // vda: 300 more reads of 6000 sectors (3 MB), 150 more writes of 3000 sectors.
    writeFileSync(
      path.join(dir, 'diskstats'),
      diskstats.replace(
        'vda 124858 16648 4594266 30763 44850 53503 5846872',
        `vda ${124858 + 300} 16648 ${4594266 + 6000} 30763 ${44850 + 150} 53503 ${5846872 + 3000}`,
      ),
    );
    await scraper.scrapeOnce(t, new Date(start + 15_000));
    await scraper.writer.flush();
    const [first, second] = (await recentHeartbeats(db, t.id, 2)).reverse();
    expect(first?.net_receive_bytes_per_second).toBeNull(); // a rate needs two scrapes
    expect(second).toMatchObject({
      net_receive_bytes_per_second: 100_000,
      net_transmit_bytes_per_second: 2_000,
      net_interfaces: { eth0: [100_000, 2_000] },
      disk_read_bytes_per_second: Math.round((6000 * 512) / 15),
      disk_written_bytes_per_second: Math.round((3000 * 512) / 15),
      disk_reads_per_second: 20,
      disk_writes_per_second: 10,
    });
  });

  it('on its own schedule: down within 3 intervals of the exporter dying, up again when it returns, an event each', async () => {
    let exporter = await exporterOn();
    const port = Number(new URL(exporter.url).port);
    const t = await addTarget(db, { name: 'flappy', url: `${exporter.url}/metrics`, interval_seconds: 1, timeout_seconds: 0.5 });
    const scraper = new Scraper(db, { ...options, targetRefreshSeconds: 1 }, silent);
    await scraper.start();
    cleanup.push(() => scraper.stop());
    const state = async () => (await listTargets(db)).find((x) => x.id === t.id)?.state;

    await until('up', 10, async () => (await state()) === 'up');
    await exporter.kill();
    await until('down', 10, async () => (await state()) === 'down');
    // Judged on the heartbeats, not on this test's clock (a scrape in flight when
    // the exporter stopped may still have succeeded): down no sooner than 3
    // intervals after the last successful scrape.
    const beats = await recentHeartbeats(db, t.id, 1000);
    const lastUp = beats.find((h) => h.up)!;
    const [down] = await listEvents(db, { targetId: t.id });
    expect(down).toMatchObject({ from_state: 'up', to_state: 'down' });
    expect(down!.time.getTime() - lastUp.time.getTime()).toBeGreaterThanOrEqual(3 * 1000);
    expect(beats.filter((h) => h.time > lastUp.time).every((h) => !h.up)).toBe(true);

    exporter = await exporterOn(port);
    cleanup.push(() => exporter.close());
    await until('up again', 10, async () => (await state()) === 'up');
    const events = await listEvents(db, { targetId: t.id });
    expect(events.map((e) => `${e.from_state}→${e.to_state}`)).toEqual(['down→up', 'up→down', 'unknown→up']);
    expect(events[1]?.message).toMatch(/flappy is down: .*last error: connection refused/);
  }, 40_000);

  it('a clean exporter shutdown: stopped, not down, an event each way and no notification', async () => {
    let exporter = await exporterOn(0, { VIGIL_EXPORTER_STOP_GRACE: '20s' });
    const port = Number(new URL(exporter.url).port);
    const t = await addTarget(db, { name: 'tidy', url: `${exporter.url}/metrics`, interval_seconds: 1, timeout_seconds: 0.5 });
    await addChannel(db, { name: 'ops', kind: 'webhook', url: 'http://127.0.0.1:9/hook' });
    const scraper = new Scraper(db, { ...options, targetRefreshSeconds: 1 }, silent);
    await scraper.start();
    cleanup.push(() => scraper.stop());
    const state = async () => (await listTargets(db)).find((x) => x.id === t.id)?.state;
    await until('up', 10, async () => (await state()) === 'up');

    // SIGTERM: the exporter answers goodbye until this scraper has heard it, then exits.
    await exporter.close();
    expect(exporter.child.exitCode).toBe(0);
    const said = exporter.printed.map((l) => JSON.parse(l)).find((l) => l.msg === 'goodbye said; exiting');
    expect(said).toMatchObject({ scrapers: 1, told: 1 });
    await until('stopped', 10, async () => (await state()) === 'stopped');
    const goodbye = (await recentHeartbeats(db, t.id, 1000)).find((h) => h.error?.startsWith('exporter stopping'));
    expect(goodbye?.up).toBe(false);

    // Silent for more than 3 intervals after the goodbye (refused connections): still stopped, never down.
    await scraper.writer.flush();
    const after = goodbye!.time;
    await until('5 refused scrapes after the goodbye', 15, async () => {
      await scraper.writer.flush();
      const beats = await recentHeartbeats(db, t.id, 1000);
      return beats.filter((h) => h.time > after && h.error?.startsWith('connection refused')).length >= 5;
    });
    await scraper.checkLiveness();
    expect(await state()).toBe('stopped');

    exporter = await exporterOn(port);
    cleanup.push(() => exporter.close());
    await until('up again', 10, async () => (await state()) === 'up');
    const events = await listEvents(db, { targetId: t.id });
    expect(events.map((e) => `${e.from_state}→${e.to_state}`)).toEqual(['stopped→up', 'up→stopped', 'unknown→up']);
    expect(events[1]!.time).toEqual(goodbye!.time);
    expect(events[1]!.message).toBe('tidy stopped: its exporter shut down cleanly');
    expect(await enqueueDeliveries(db)).toBe(0);
  }, 40_000);

  it('a paused target is neither scraped nor judged; resumed, it starts afresh as unknown, an event each way', async () => {
    const t = await addTarget(db, { name: 'napping', url: `http://127.0.0.1:${await closedPort()}/metrics`, interval_seconds: 1 });
    await db.updateTable('targets').set({ state: 'up' }).where('id', '=', t.id).execute();
    expect((await setPaused(db, t.id, true, 'ada'))?.after.paused).toBe(true);
    const scraper = new Scraper(db, options, silent);
    await scraper.refreshTargets();
    expect(scraper.targets.map((x) => x.name)).not.toContain('napping');
    await scraper.tick();
    await scraper.settle();
    await scraper.writer.flush();
    expect(await recentHeartbeats(db, t.id)).toEqual([]);
    // Long silent, but paused: no transition, no event.
    await scraper.checkLiveness(Date.now() + 3600_000);
    expect((await getTarget(db, t.id))?.state).toBe('up');
    const resumed = await setPaused(db, t.id, false, 'ada');
    expect(resumed?.after).toMatchObject({ paused: false, state: 'unknown' });
    await scraper.refreshTargets();
    expect(scraper.targets.map((x) => x.name)).toContain('napping');
    expect((await listEvents(db, { targetId: t.id })).map((e) => [e.type, e.message])).toEqual([
      ['resumed', 'napping resumed by ada'],
      ['paused', 'napping paused by ada'],
    ]);
    expect(await setPaused(db, 999_999, true, 'ada')).toBeNull();
  });

  it('records no CPU figure from a window shorter than half the interval, and one from the full window after', async () => {
    // Each scrape serves counters that moved: 10 s more user time, 5 s more idle.
    let n = 0;
    const node = await httpServer((_, res) => {
      n++;
      res.end(`node_cpu_seconds_total{cpu="0",mode="user"} ${10 * n}\nnode_cpu_seconds_total{cpu="0",mode="idle"} ${5 * n}\n`);
    });
    cleanup.push(node.close);
    const t = await addTarget(db, { name: 'window', url: node.url, interval_seconds: 15 });
    const scraper = new Scraper(db, options, silent);
    const t0 = Date.now() - 60_000;
    await scraper.scrapeOnce(t, new Date(t0)); // the first: nothing to compare with
    await scraper.scrapeOnce(t, new Date(t0 + 1_200)); // 1.2 s later (the scheduled one after the immediate first)
    await scraper.scrapeOnce(t, new Date(t0 + 15_000)); // a whole interval after the first
    await scraper.writer.flush();
    const cpu = (await recentHeartbeats(db, t.id)).reverse().map((h) => h.cpu_usage_percent);
    // From the first: Δuser 20, Δidle 10 → busy 66.67 %, measured over the full window; the 1.2 s one was not.
    expect(cpu).toEqual([null, null, 66.67]);
  });

  it('stores containers and services from the scrapes, with container cpu %, written when they change', async () => {
    // A cAdvisor-like body: a container's cpu counter moves 2 s per scrape; a probe's result flips on demand.
    let n = 0;
    let state = 'running';
    let probe = 1;
    const host = await httpServer((_, res) => {
      n++;
      res.end(
        [
          `vigil_container_state{name="web",image="nginx",state="${state}"} 1`,
          `container_cpu_usage_seconds_total{cpu="total",name="web",image="nginx"} ${2 * n}`,
          `container_memory_working_set_bytes{name="web",image="nginx"} ${1000 * n}`,
          `probe_success{service="site"} ${probe}`,
          `probe_duration_seconds{service="site"} 0.${n}`,
          '',
        ].join('\n'),
      );
    });
    const plain = await httpServer((_, res) => res.end('node_load1 1\n'));
    cleanup.push(host.close, plain.close);
    const t = await addTarget(db, { name: 'docker-host', url: host.url });
    const p = await addTarget(db, { name: 'plain', url: plain.url });
    const scraper = new Scraper(db, options, silent);
    const t0 = Date.now() - 120_000;
    await scraper.scrapeOnce(t, new Date(t0));
    await scraper.scrapeOnce(p, new Date(t0));
    await scraper.flushInventory();
    const first = await getInventory(db, t.id);
    expect(first?.containers).toMatchObject([
      { name: 'web', image: 'nginx', state: 'running', cpuSecondsTotal: 2, cpuPercent: null, memoryBytes: 1000 },
    ]);
    expect(first?.services).toEqual([{ name: 'site', success: true, durationSeconds: 0.1, statusCode: null, certExpiry: null }]);
    expect(await getInventory(db, p.id)).toBeNull(); // nothing to show, nothing stored

    // 10 s later, nothing but figures moved: not written (refreshed at most once a minute).
    await scraper.scrapeOnce(t, new Date(t0 + 10_000));
    expect(scraper.inventory.pending).toBe(0);
    // The container stopped: written at once, cpu % from the last two scrapes (2 s of cpu in 10 s).
    state = 'exited';
    await scraper.scrapeOnce(t, new Date(t0 + 20_000));
    await scraper.flushInventory();
    const stopped = await getInventory(db, t.id);
    expect(stopped?.containers[0]).toMatchObject({ state: 'exited', cpuPercent: 20 });
    expect(stopped?.changed_at.getTime()).toBe(t0 + 20_000);
    // A minute on, unchanged: the figures are refreshed, changed_at stays.
    await scraper.scrapeOnce(t, new Date(t0 + 80_000));
    await scraper.flushInventory();
    const refreshed = await getInventory(db, t.id);
    expect(refreshed?.scraped_at.getTime()).toBe(t0 + 80_000);
    expect(refreshed?.changed_at.getTime()).toBe(t0 + 20_000);
    expect(refreshed?.containers[0]?.memoryBytes).toBe(4000);
    // A probe failing is news.
    probe = 0;
    await scraper.scrapeOnce(t, new Date(t0 + 85_000));
    await scraper.flushInventory();
    expect((await getInventory(db, t.id))?.services[0]?.success).toBe(false);
    // A scraper started afresh writes its first inventory as new; the stored one, the same news, keeps its time.
    const restarted = new Scraper(db, options, silent);
    await restarted.scrapeOnce(t, new Date(t0 + 90_000));
    await restarted.flushInventory();
    const again = await getInventory(db, t.id);
    expect(again?.scraped_at.getTime()).toBe(t0 + 90_000);
    expect(again?.changed_at.getTime()).toBe(t0 + 85_000);
    await restarted.pool.close();
  });

  it("its retention job rolls completed hours up, and a chart's hourly series reads them", async () => {
    const t = await addTarget(db, { name: 'rolled', url: 'http://127.0.0.1:1/metrics' });
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
    await db
      .insertInto('heartbeats')
      .values([0, 1, 2].map((i) => ({ target_id: t.id, time: new Date(hour + i * 60_000), up: true, duration_seconds: 0.01, load1: i })))
      .execute();
    const scraper = new Scraper(db, { ...options, rollupRetentionDays: 365 }, silent);
    await scraper.maintainPartitions();
    const s = await figureSeries(db, t.id, new Date(hour), new Date(hour + 3_600_000), 3600);
    expect(s).toMatchObject({ resolution: 'hourly', time: [hour / 1000], scrapes: [3], load1: { min: [0], avg: [1], max: [2] } });
    const rolled = await db.selectFrom('heartbeats_hourly').selectAll().where('target_id', '=', t.id).execute();
    expect(rolled).toHaveLength(1);
  });
});
