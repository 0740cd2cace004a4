/**
 * Enrolment and connect-out, measured with the built programs on the real
 * PostgreSQL (TEST_DATABASE_URL, a throwaway database):
 *
 * 1. First heartbeat: from an exporter's start (with an enrolment token, a host
 *    never seen) to its first heartbeat row, direct and connecting out, each
 *    `--starts` times. The target: at most one interval (15 s, the default) + 2 s.
 * 2. 1,000 hosts that connect out, simulated on loopback (one process holding
 *    1,000 WebSockets, each answering a node_exporter-sized body), scraped by
 *    one scraper through one console; then the same 1,000 pulled directly
 *    (each at its own loopback address). Side by side: CPU seconds per 1,000
 *    scrapes (scraper, and console for the relay) and resident memory.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
 *     node --import tsx bench/enrolment.ts [--hosts 1000] [--seconds 30] [--interval 5] [--starts 5] [--record]
 */
import { type ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encodeResponse, websocketUrl } from '@vigil/core/connect';
import { ENROL_PATH, ENROL_TYPES, newHostIdentity, signHostMessage } from '@vigil/core/enrolment';
import { ensureBuilt, packageBin } from '@vigil/core/testing';
import { createDb, createEnrolmentToken, migrateToLatest } from '@vigil/db';
import pg from 'pg';
import { WebSocket } from 'ws';
import { cpuSeconds, freePort, REPO, recordSection, residentMemory, throwawayDatabase } from './lib.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '30' },
    interval: { type: 'string', default: '5' },
    starts: { type: 'string', default: '5' },
    record: { type: 'boolean' },
    help: { type: 'boolean' },
    simulate: { type: 'string' },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: TEST_DATABASE_URL=… node --import tsx bench/enrolment.ts [--hosts 1000] [--seconds 30] [--interval 5] [--starts 5] [--record]\n',
  );
  process.exit(0);
}

/** A node_exporter-sized body (~1,000 lines, ~60 KB). */
function nodeBody(): string {
  const out: string[] = [
    '# HELP node_memory_MemTotal_bytes Memory information field MemTotal_bytes.',
    '# TYPE node_memory_MemTotal_bytes gauge',
  ];
  out.push('node_memory_MemTotal_bytes 8.4e+09', 'node_memory_MemAvailable_bytes 4.2e+09', 'node_load1 0.42');
  for (let cpu = 0; out.length < 1000; cpu++)
    for (const mode of ['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user'])
      out.push(`node_cpu_seconds_total{cpu="${cpu}",mode="${mode}"} ${12345.67 + cpu}`);
  return `${out.join('\n')}\n`;
}

/** Host i's loopback address for the direct run: 127.2.x.y. */
const address = (i: number) => `127.2.${Math.floor(i / 250)}.${(i % 250) + 1}`;

/**
 * In a child: `n` hosts. Each enrols (connecting out), keeps its WebSocket and
 * answers each relayed request with the body; each also answers HTTP at its own
 * address (the direct run). Says `ready` with the target ids once all are connected.
 */
async function simulate(spec: { consoleUrl: string; token: string; n: number; port: number }): Promise<void> {
  const bytes = Buffer.from(nodeBody());
  const ids: number[] = [];
  const credentials: string[] = [];
  let open = 0;
  for (let i = 0; i < spec.n; i++) {
    const id = await newHostIdentity();
    const claims = { name: `sim-${i}`, connect: true, metadata: {} };
    const r = await fetch(spec.consoleUrl + ENROL_PATH, {
      method: 'POST',
      headers: { authorization: `Bearer ${await signHostMessage(id, ENROL_TYPES.enrol, claims)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ enrolment_token: spec.token }),
    });
    if (!r.ok) throw new Error(`enrolment ${i}: ${r.status} ${await r.text()}`);
    const a = (await r.json()) as { target_id: number; credential: string };
    ids.push(a.target_id);
    credentials.push(a.credential);
    const ws = new WebSocket(websocketUrl(spec.consoleUrl, '/api/v1/connect'), {
      headers: { authorization: `Bearer ${await signHostMessage(id, ENROL_TYPES.connect, {})}` },
      perMessageDeflate: false,
    });
    ws.on('message', (d: Buffer) => {
      const f = JSON.parse(d.toString()) as { type: string; id: number };
      if (f.type === 'request')
        ws.send(encodeResponse({ id: f.id, status: 200, headers: { 'content-type': 'text/plain; version=0.0.4' } }, bytes));
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    open++;
    const s = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(bytes);
    });
    s.keepAliveTimeout = 120_000;
    await new Promise<void>((resolve) => s.listen(spec.port, address(i), resolve));
  }
  process.send?.({ ids, credentials, open });
}

/** Starts a program and resolves once it prints a line matching `ready`. */
function startProgram(bin: string, env: NodeJS.ProcessEnv, ready: RegExp, args: string[] = []): Promise<ChildProcess> {
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let said = '';
  return new Promise((resolve, reject) => {
    const on = (d: Buffer) => {
      said += d;
      if (ready.test(said)) resolve(child);
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', (c) => reject(new Error(`${bin} exited with ${c}: ${said.slice(-2000)}`)));
  });
}

const sumOf = (text: string, name: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith(name) && (l[name.length] === ' ' || l[name.length] === '{'))
    .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  ensureBuilt('console', 'dist/server.mjs', ['console/src', 'core/src', 'db/src', 'migrations/src']);
  ensureBuilt('exporter', 'dist/vigil-exporter.mjs', ['exporter/src', 'exporter/bin', 'core/src']);
  ensureBuilt('scraper', 'dist/vigil-scraper.mjs', ['scraper/src', 'core/src', 'db/src', 'migrations/src']);
  const n = Number(values.hosts);
  const seconds = Number(values.seconds);
  const interval = Number(values.interval);
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-enrol-'));
  const database = await throwawayDatabase('vigil_bench_enrol');
  const db = await createDb(database.url, { max: 2 });
  const children: ChildProcess[] = [];
  try {
    await migrateToLatest(db);
    const consolePort = await freePort();
    const consoleUrl = `http://127.0.0.1:${consolePort}`;
    const base = { PATH: process.env.PATH, DATABASE_URL: database.url, VIGIL_LOG_LEVEL: 'warn' };
    const consoleProcess = await startProgram(
      packageBin('@vigil/console', 'vigil-console', import.meta.url),
      { ...base, VIGIL_CONSOLE_LISTEN: `127.0.0.1:${consolePort}` },
      /console listening/,
    );
    children.push(consoleProcess);
    const scraperPort = await freePort();
    const startScraper = async () => {
      const s = spawn(packageBin('@vigil/scraper', 'vigil-scraper', import.meta.url), [], {
        env: { ...base, VIGIL_SCRAPER_LISTEN: `127.0.0.1:${scraperPort}`, VIGIL_SCRAPE_CONCURRENCY: '256' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(s);
      for (let i = 0; ; i++) {
        try {
          await (await fetch(`http://127.0.0.1:${scraperPort}/metrics`)).text();
          return s;
        } catch {
          if (i > 100) throw new Error('the scraper did not start');
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    let scraper = await startScraper();

    // 1. First heartbeat, direct and connecting out.
    const first: Record<'direct' | 'connect', number[]> = { direct: [], connect: [] };
    const { token } = await createEnrolmentToken(db, { name: 'bench', createdBy: 'bench' });
    for (let i = 0; i < Number(values.starts); i++) {
      for (const mode of ['direct', 'connect'] as const) {
        const name = `first-${mode}-${i}`;
        const t0 = performance.now();
        const exporter = spawn(path.join(REPO, 'exporter/bin/vigil-exporter.js'), [], {
          env: {
            PATH: process.env.PATH,
            VIGIL_CONSOLE_URL: consoleUrl,
            VIGIL_ENROL_TOKEN: token,
            VIGIL_HOST_NAME: name,
            VIGIL_STATE_DIR: path.join(dir, name),
            VIGIL_EXPORTER_LISTEN: `127.0.0.1:${await freePort()}`,
            VIGIL_DISABLED_COLLECTORS: 'containers',
            VIGIL_EXPORTER_STOP_GRACE: '0',
            ...(mode === 'connect' ? { VIGIL_CONNECT: '1' } : {}),
          },
          stdio: 'ignore',
        });
        for (;;) {
          const row = await db
            .selectFrom('heartbeats')
            .innerJoin('targets', 'targets.id', 'heartbeats.target_id')
            .select('heartbeats.up')
            .where('targets.name', '=', name)
            .where('heartbeats.up', '=', true)
            .executeTakeFirst();
          if (row) break;
          if (performance.now() - t0 > 60_000) throw new Error(`${name}: no heartbeat within 60 s`);
          await new Promise((r) => setTimeout(r, 50));
        }
        first[mode].push((performance.now() - t0) / 1000);
        exporter.kill('SIGKILL');
        await db.deleteFrom('targets').where('name', '=', name).execute();
      }
    }
    process.stderr.write(
      `first heartbeat: direct ${first.direct.map((s) => s.toFixed(1)).join(', ')} s; connect ${first.connect.map((s) => s.toFixed(1)).join(', ')} s\n`,
    );

    // 2. n simulated hosts connecting out, then the same pulled directly.
    scraper.kill('SIGKILL');
    const simPort = await freePort();
    process.stderr.write(`enrolling and connecting ${n} simulated hosts…\n`);
    const sim = fork(new URL(import.meta.url).pathname, ['--simulate', JSON.stringify({ consoleUrl, token, n, port: simPort })], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    children.push(sim);
    const fleet = await new Promise<{ ids: number[]; open: number }>((resolve, reject) => {
      sim.once('message', (m) => resolve(m as { ids: number[]; open: number }));
      sim.once('exit', (c) => reject(new Error(`the simulator exited with ${c}`)));
    });
    await db.updateTable('targets').set({ interval_seconds: interval, timeout_seconds: interval }).where('id', 'in', fleet.ids).execute();
    const consoleIdle = residentMemory(consoleProcess.pid!).rss;
    const measure = async (label: string) => {
      scraper = await startScraper();
      const metrics = async () => (await fetch(`http://127.0.0.1:${scraperPort}/metrics`)).text();
      await new Promise((r) => setTimeout(r, 2 * interval * 1000 + 5000));
      const m0 = await metrics();
      const c0 = { scraper: cpuSeconds(scraper.pid!), console: cpuSeconds(consoleProcess.pid!) };
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const m1 = await metrics();
      const c1 = { scraper: cpuSeconds(scraper.pid!), console: cpuSeconds(consoleProcess.pid!) };
      const scrapes = sumOf(m1, 'vigil_scraper_scrapes_total') - sumOf(m0, 'vigil_scraper_scrapes_total');
      const up = sumOf(m1, 'vigil_scraper_scrapes_total{result="up"}') - sumOf(m0, 'vigil_scraper_scrapes_total{result="up"}');
      const r = {
        label,
        scrapes,
        upShare: up / scrapes,
        perSecond: scrapes / seconds,
        scraperCpu: ((c1.scraper - c0.scraper) / scrapes) * 1000,
        consoleCpu: ((c1.console - c0.console) / scrapes) * 1000,
        scraperRss: residentMemory(scraper.pid!).rss / 2 ** 20,
        consoleRss: residentMemory(consoleProcess.pid!).rss / 2 ** 20,
      };
      scraper.kill('SIGKILL');
      await new Promise((res) => scraper.once('exit', res));
      process.stderr.write(`${JSON.stringify(r)}\n`);
      return r;
    };
    const connect = await measure(`${n} hosts connecting out, through the console`);
    // Direct: the same hosts at their own addresses.
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query(
      `update targets set connects_out = false, url = 'http://127.2.' || ((rn - 1) / 250) || '.' || (((rn - 1) % 250) + 1) || ':${simPort}/metrics'
       from (select id, row_number() over (order by id) as rn from targets where id = any($1::int[])) o where targets.id = o.id`,
      [fleet.ids],
    );
    await client.end();
    const direct = await measure(`the same ${n} hosts pulled directly`);
    const ratio = (connect.scraperCpu + connect.consoleCpu) / (direct.scraperCpu + direct.consoleCpu);

    const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
    const f = (x: number, d = 1) => x.toFixed(d);
    const body = [
      `Command: \`TEST_DATABASE_URL=… node --import tsx bench/enrolment.ts --hosts ${n} --seconds ${seconds} --interval ${interval} --starts ${values.starts} --record\`; ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${cpuModel}, Linux ${os.release()}, Node ${process.version}; the built console, scraper and exporter on the real PostgreSQL.`,
      '',
      '**From an exporter’s start to its first heartbeat** (a new host with an enrolment token; the default 15 s interval; target ≤ 17 s):',
      '',
      '| mode | median s | max s |',
      '|---|---:|---:|',
      `| listens, scraped directly | ${f(median(first.direct))} | ${f(Math.max(...first.direct))} |`,
      `| connects out, scraped through the console | ${f(median(first.connect))} | ${f(Math.max(...first.connect))} |`,
      '',
      `**${n} simulated hosts, one scraper, one console**, each scraped every ${interval} s for ${seconds} s after two intervals of warm-up (simulated hosts in their own process):`,
      '',
      '| run | scrapes/s | up | scraper CPU s / 1,000 scrapes | console CPU s / 1,000 scrapes | scraper RSS MiB | console RSS MiB |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...[connect, direct].map(
        (r) =>
          `| ${r.label} | ${f(r.perSecond)} | ${f(r.upShare * 100)} % | ${f(r.scraperCpu, 2)} | ${f(r.consoleCpu, 2)} | ${f(r.scraperRss)} | ${f(r.consoleRss)} |`,
      ),
      '',
      `- CPU per 1,000 scrapes, scraper + console, connecting out / direct: **${ratio.toFixed(2)}×**`,
      `- The console holding ${fleet.open} sockets: ${f(consoleIdle / 2 ** 20)} MiB resident before scraping began.`,
    ].join('\n');
    process.stdout.write(`${body}\n`);
    if (values.record) recordSection('Enrolment: first heartbeat, and 1,000 hosts connecting out', body);
    writeFileSync(path.join(dir, 'done'), '');
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await db.destroy();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
    spawnSync('true');
  }
}

if (values.simulate) {
  await simulate(JSON.parse(values.simulate));
} else {
  await main();
}
