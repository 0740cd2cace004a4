/**
 * A public status page under many readers: the built console on a throwaway
 * PostgreSQL database (TEST_DATABASE_URL) with `--hosts` hosts, each with a
 * month of state changes, and one status page showing them all; `--readers`
 * concurrent readers fetch it, signed out, for `--seconds`. Figures: requests
 * per second, latency p50 / p99, and the database statements per request
 * (counted by a proxy between the console and PostgreSQL).
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
 *     node --import tsx bench/status-page.ts [--hosts 100] [--readers 200] [--seconds 15] [--record]
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { ensureBuilt, packageBin } from '@vigil/core/testing';
import { addStatusPage, addTarget, applyTransitions, createDb, migrateToLatest } from '@vigil/db';
import pg from 'pg';
import { countingProxy, freePort, quantile, recordSection } from './lib.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '100' },
    readers: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '15' },
    record: { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  process.stdout.write('usage: node --import tsx bench/status-page.ts [--hosts 100] [--readers 200] [--seconds 15] [--record]\n');
  process.exit(0);
}
const HOSTS = Number(values.hosts);
const READERS = Number(values.readers);
const SECONDS = Number(values.seconds);
const server = process.env.TEST_DATABASE_URL;
if (!server) {
  process.stderr.write('bench/status-page.ts: set TEST_DATABASE_URL to a PostgreSQL server\n');
  process.exit(2);
}

ensureBuilt('console', 'dist/server.mjs', ['console/src', 'core/src', 'db/src', 'migrations/src']);
const name = `vigil_bench_status_${process.pid}`;
const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`create database ${name}`);
const url = Object.assign(new URL(server), { pathname: `/${name}` }).toString();
const db = await createDb(url);
const proxy = await countingProxy(new URL(url));
let child: ReturnType<typeof spawn> | null = null;
try {
  await migrateToLatest(db);
  const now = Date.now();
  for (let i = 0; i < HOSTS; i++) {
    const t = await addTarget(db, {
      name: `host-${i}`,
      url: `http://10.0.${Math.floor(i / 250)}.${i % 250}:9110/metrics`,
      labels: { rack: `r${i % 4}` },
    });
    // A month of history: up, then a down of a few minutes every few days.
    await applyTransitions(db, [{ targetId: t.id, from: 'unknown', to: 'up', at: new Date(now - 30 * 86_400_000), message: 'up' }]);
    for (let d = 29; d > 0; d -= 3 + (i % 3)) {
      const at = now - d * 86_400_000;
      await applyTransitions(db, [{ targetId: t.id, from: 'up', to: 'down', at: new Date(at), message: 'down' }]);
      await applyTransitions(db, [{ targetId: t.id, from: 'down', to: 'up', at: new Date(at + (i % 7) * 60_000), message: 'up' }]);
    }
  }
  await addStatusPage(db, {
    slug: 'all',
    title: 'All hosts',
    groups: [0, 1, 2, 3].map((r) => ({ name: `Rack ${r}`, selector: { rack: `r${r}` } })),
    note: null,
  });
  const port = await freePort();
  const viaProxy = Object.assign(new URL(url), { hostname: '127.0.0.1', port: String(proxy.port) }).toString();
  child = spawn(packageBin('@vigil/console', 'vigil-console', import.meta.url), [], {
    env: {
      ...process.env,
      DATABASE_URL: viaProxy,
      VIGIL_CONSOLE_LISTEN: `127.0.0.1:${port}`,
      VIGIL_CONSOLE_PROXY_HOPS: '1',
      VIGIL_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child!.stdout!.on('data', (d) => String(d).includes('console listening') && resolve());
    child!.once('exit', (c) => reject(new Error(`console exited with ${c}`)));
  });
  const page = `http://127.0.0.1:${port}/status/all`;
  // Each reader its own client address, as behind a proxy (the console trusts one hop here), so
  // the limit of 120 reads a minute per address applies to each reader, not to all of them at once.
  const first = await fetch(page);
  if (first.status !== 200) throw new Error(`status page: HTTP ${first.status}`);
  const bytes = (await first.arrayBuffer()).byteLength;
  const before = proxy.statements();
  const latencies: number[] = [];
  let ok = 0;
  let limited = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: READERS }, async (_, reader) => {
      const headers = { 'x-forwarded-for': `10.1.${Math.floor(reader / 250)}.${(reader % 250) + 1}` };
      while (performance.now() < end) {
        const t = performance.now();
        const r = await fetch(page, { headers });
        await r.arrayBuffer();
        latencies.push(performance.now() - t);
        if (r.status === 200) ok++;
        else if (r.status === 429) limited++;
        else throw new Error(`status page: HTTP ${r.status}`);
      }
    }),
  );
  const statements = proxy.statements() - before;
  const requests = latencies.length;
  const f = (x: number, d = 1) => x.toFixed(d);
  const lines = [
    `Command: \`TEST_DATABASE_URL=… node --import tsx bench/status-page.ts --hosts ${HOSTS} --readers ${READERS} --seconds ${SECONDS} --record\`; ${new Date().toISOString().slice(0, 10)}, ${os.availableParallelism()} cores, Node ${process.version}, PostgreSQL (TEST_DATABASE_URL).`,
    '',
    `One public status page of ${HOSTS} hosts in 4 groups, each host with a month of state changes (a short down every few days); ${READERS} concurrent readers, signed out, each its own client address (X-Forwarded-For through one trusted hop), for ${SECONDS} s, against the built console. Statements are those the console sent PostgreSQL (counted by a proxy between them). The page is ${Math.round(bytes / 1024)} KiB of HTML.`,
    '',
    '| requests | per second | answered 200 | refused 429 (120 a minute per address) | p50 ms | p90 ms | p99 ms | DB statements | per request |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${requests} | ${f(requests / SECONDS, 0)} | ${ok} | ${limited} | ${f(quantile(latencies, 0.5))} | ${f(quantile(latencies, 0.9))} | ${f(quantile(latencies, 0.99))} | ${statements} | ${f(statements / requests, 3)} |`,
    '',
    `The p99 is not the page's: a few dozen of the ${READERS} readers' requests wait about the whole run (the p90 is the page's cost under this load); where they wait — connection set-up with ${READERS} clients opening at once on one machine, or the console — is not yet found. A reader past 120 reads a minute is refused (429) at no database cost. Built pages are reused for 30 s: ${statements} statements in ${SECONDS} s, against ${HOSTS * 2 + 2} for one build (the page, the fleet, and two per host for its state history).`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (values.record) recordSection('Public status page under 200 readers', lines.join('\n'));
} finally {
  child?.kill('SIGKILL');
  proxy.close();
  await db.destroy();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
