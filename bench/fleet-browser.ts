/**
 * The fleet page in a real browser (Debian's Chromium) with many hosts, live:
 * while a tenth of the fleet reports each second, how long the page's main
 * thread is busy applying each pushed update (from the event's arrival to
 * the next frame), its long tasks, and its frame times. Run side by side with
 * a fleet a tenth the size, for a ratio.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
 *     node --import tsx bench/fleet-browser.ts [--hosts 1000] [--seconds 20] [--record]
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { ensureBuilt, packageBin } from '@vigil/core/testing';
import { createDb, createSession, createUser, ensureHeartbeatPartitions, migrateToLatest } from '@vigil/db';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { freePort, quantile, recordSection } from './lib.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
    record: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: TEST_DATABASE_URL=postgres://… node --import tsx bench/fleet-browser.ts [--hosts 1000] [--seconds 20] [--record]\n' +
      '  Opens the fleet page in /usr/bin/chromium with --hosts hosts (and, for the ratio, a tenth of that), a tenth of\n' +
      '  them reporting each second, and measures how long each pushed update holds the page, long tasks and frame times.\n',
  );
  process.exit(0);
}
const HOSTS = Number(values.hosts);
const SECONDS = Number(values.seconds);
const log = (m: string) => process.stderr.write(`${m}\n`);
const server = process.env.TEST_DATABASE_URL;
if (!server) throw new Error('set TEST_DATABASE_URL to a PostgreSQL server (a throwaway database is made there)');
ensureBuilt('console', 'dist/server.mjs', ['console/src', 'console/vite.config.ts', 'core/src', 'db/src', 'migrations/src']);

/** What the page measured, in milliseconds. */
interface PageFigures {
  updates: number[];
  longTasks: number[];
  frames: number[];
}

/** Runs in the page before its own scripts (through DevTools, so the page's CSP does not apply). */
const INSTRUMENT = `
  globalThis.__bench = { updates: [], longTasks: [], frames: [] };
  new PerformanceObserver((l) => { for (const e of l.getEntries()) __bench.longTasks.push(e.duration); })
    .observe({ type: 'longtask', buffered: true });
  let last = performance.now();
  const frame = (t) => { __bench.frames.push(t - last); last = t; requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  const Original = globalThis.EventSource;
  globalThis.EventSource = class extends Original {
    addEventListener(type, listener, options) {
      if (type !== 'update') return super.addEventListener(type, listener, options);
      return super.addEventListener(type, (e) => {
        const t0 = performance.now();
        listener(e);
        requestAnimationFrame(() => __bench.updates.push(performance.now() - t0));
      }, options);
    }
  };
`;

async function run(hosts: number): Promise<PageFigures & { hosts: number }> {
  const name = `vigil_bench_fleet_${process.pid}_${hosts}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(server!);
  url.pathname = `/${name}`;
  let child: ReturnType<typeof spawn> | null = null;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const db = await createDb(url.toString(), { max: 2 });
    await migrateToLatest(db);
    await ensureHeartbeatPartitions(db, new Date(), 1);
    const user = await createUser(db, { name: 'bench', role: 'viewer', password: 'bench-password-123' });
    const { token } = await createSession(db, user.id);
    await db.destroy();
    const writer = new pg.Client({ connectionString: url.toString() });
    await writer.connect();
    await writer.query(
      `insert into targets (name, url, labels, state) select 'host-' || lpad(i::text, 4, '0'), 'http://10.0.0.1:9110/metrics', jsonb_build_object('rack', 'r' || (i % 10)), 'up' from generate_series(1, $1) i`,
      [hosts],
    );
    const report = (part: number) =>
      writer.query(
        `insert into heartbeats (target_id, time, up, duration_seconds, cpu_usage_percent, memory_used_bytes, memory_total_bytes, disk_used_bytes, disk_total_bytes, disk_avail_bytes, load1, uptime_seconds)
         select id, now(), true, 0.01, random() * 100, 2e9 + random() * 1e9, 8e9, 40e9, 100e9, 55e9, random() * 4, 1e6 from targets where id % 10 = $1`,
        [part],
      );
    for (let p = 0; p < 10; p++) await report(p);
    const port = await freePort();
    child = spawn(packageBin('@vigil/console', 'vigil-console', import.meta.url), [], {
      env: { ...process.env, DATABASE_URL: url.toString(), VIGIL_CONSOLE_LISTEN: `127.0.0.1:${port}`, VIGIL_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.on('data', (d) => String(d).includes('console listening') && resolve());
      child!.once('exit', (c) => reject(new Error(`console exited with ${c}`)));
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addCookies([{ name: 'vigil_session', value: token, url: `http://localhost:${port}` }]);
    const page = await context.newPage();
    // Measuring in the page: each pushed update from its arrival to the next frame, long tasks, frame times.
    await page.addInitScript(INSTRUMENT);
    await page.goto(`http://localhost:${port}/`);
    await page.locator('[data-live="live"]').waitFor({ timeout: 30_000 });
    await page.evaluate('for (const k of ["updates", "longTasks", "frames"]) globalThis.__bench[k].length = 0');
    log(`${hosts} hosts: ${SECONDS} s of updates…`);
    for (let s = 0; s < SECONDS; s++) {
      await report(s % 10);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const figures = (await page.evaluate('globalThis.__bench')) as PageFigures;
    const rows = await page.locator('tbody tr[data-target]').count();
    if (rows !== hosts) throw new Error(`the page shows ${rows} hosts, not ${hosts}`);
    await writer.end();
    return { hosts, ...figures };
  } finally {
    await browser.close();
    child?.kill();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

const small = await run(Math.max(1, Math.round(HOSTS / 10)));
const big = await run(HOSTS);
const row = (r: typeof big) => {
  const dropped = r.frames.filter((f) => f > 1000 / 30).length;
  return `| ${r.hosts} | ${r.updates.length} | ${quantile(r.updates, 0.5).toFixed(1)} | ${Math.max(...r.updates).toFixed(1)} | ${r.longTasks.length} | ${(r.longTasks.length ? Math.max(...r.longTasks) : 0).toFixed(0)} | ${quantile(r.frames, 0.99).toFixed(1)} | ${((100 * dropped) / r.frames.length).toFixed(1)} |`;
};
const body = [
  `Command: \`TEST_DATABASE_URL=… node --import tsx bench/fleet-browser.ts --hosts ${HOSTS} --seconds ${SECONDS} --record\`; ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Node ${process.version}, Debian's Chromium (headless, no GPU).`,
  '',
  `The fleet page, signed in, live; each second a tenth of the fleet reports (a new heartbeat each), so each pushed update carries about a tenth of the hosts. "Update" is from the event's arrival to the next frame (parsing, applying, filtering, sorting, rendering). ${SECONDS} s per fleet size, the smaller first.`,
  '',
  '| hosts | updates | update median ms | update max ms | long tasks | longest ms | frame p99 ms | frames over 33 ms % |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|',
  row(small),
  row(big),
  '',
  `- median update ${HOSTS} / ${small.hosts} hosts: **${(quantile(big.updates, 0.5) / quantile(small.updates, 0.5)).toFixed(1)}×** for ${(HOSTS / small.hosts).toFixed(0)}× the hosts`,
].join('\n');
process.stdout.write(`${body}\n`);
if (values.record) recordSection('Fleet page in a browser: live updates with many hosts', body);
