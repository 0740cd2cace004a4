/**
 * Scrape throughput: Vigil's scraper and Debian's Prometheus on the same
 * simulated fleet, one after the other in one run. The fleet is served by
 * child processes on loopback, each target at its own address (127.1.x.y), each
 * answering a node_exporter-sized body (~1,000 lines); heartbeats go to the
 * real PostgreSQL (TEST_DATABASE_URL, a throwaway database).
 *
 * For each rate: scrapes/s achieved, CPU seconds per 1,000 scrapes (user +
 * system of the whole process, threads included), RSS at the end, and Vigil's
 * p99 lateness (from vigil_scraper_scrape_lateness_seconds).
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
 *     node --import tsx bench/scrape-throughput.ts [--rates 500,2000,5000] [--seconds 30] [--record]
 */
import { type ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBuilt, packageBin } from '@vigil/core/testing';
import pg from 'pg';
import { cpuSeconds, freePort, REPO, recordSection, residentMemory, throwawayDatabase } from './lib.js';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '500,2000,5000' },
    seconds: { type: 'string', default: '30' },
    interval: { type: 'string', default: '2' },
    record: { type: 'boolean' },
    help: { type: 'boolean' },
    serve: { type: 'string' },
    vigil: { type: 'boolean' },
    'rss-targets': { type: 'string', default: '5000' },
    warmup: { type: 'string', default: '0' },
    'rss-interval': { type: 'string', default: '10' },
    'cpu-prof': { type: 'string' },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: node --import tsx bench/scrape-throughput.ts [--rates 500,2000,5000] [--seconds 30] [--interval 2] [--record]\n' +
      '  --vigil          measure Vigil only (no Prometheus, no ratio; not recorded)\n' +
      '  --warmup S       seconds Vigil runs before measuring (default: two intervals)\n' +
      '  --rss-targets N  then memory with N targets every --rss-interval s (default 5000 every 10 s; 0: skip)\n' +
      '  --cpu-prof DIR   write V8 CPU profiles of the scraper (each thread) to DIR\n',
  );
  process.exit(0);
}

/** A node_exporter-like body of about 1,000 lines (~70 KB). */
function nodeBody(): string {
  const out: string[] = [];
  const family = (name: string, type: string, help: string, series: [string, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of series) out.push(`${name}${labels} ${v}`);
  };
  const modes = ['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user'];
  family(
    'node_cpu_seconds_total',
    'counter',
    'Seconds the CPUs spent in each mode.',
    Array.from({ length: 32 * 8 }, (_, i) => [`{cpu="${i >> 3}",mode="${modes[i & 7]}"}`, 12345.67 + i]),
  );
  const mem = Array.from({ length: 50 }, (_, i) => `Field${i}`);
  for (const f of ['MemTotal', 'MemAvailable', 'MemFree', 'Buffers', 'Cached', ...mem])
    family(`node_memory_${f}_bytes`, 'gauge', `Memory information field ${f}_bytes.`, [['', 8.4e9]]);
  for (const col of ['bytes', 'packets', 'errs', 'drop', 'fifo', 'frame', 'compressed', 'multicast']) {
    for (const dir of ['receive', 'transmit']) {
      family(
        `node_network_${dir}_${col}_total`,
        'counter',
        `Network device statistic ${dir}_${col}.`,
        Array.from({ length: 12 }, (_, i) => [`{device="eth${i}"}`, 1e9 + i]),
      );
    }
  }
  const mounts = Array.from({ length: 20 }, (_, i) => (i === 0 ? '/' : `/mnt/d${i}`));
  for (const f of ['size', 'free', 'avail']) {
    family(
      `node_filesystem_${f}_bytes`,
      'gauge',
      `Filesystem ${f}.`,
      mounts.map((m, i) => [`{device="/dev/sd${i}",fstype="ext4",mountpoint="${m}"}`, 2e11 - i]),
    );
  }
  for (const f of [
    'reads_completed',
    'writes_completed',
    'read_bytes',
    'written_bytes',
    'io_time_seconds',
    'read_time_seconds',
    'write_time_seconds',
  ]) {
    family(
      `node_disk_${f}_total`,
      'counter',
      `Disk ${f}.`,
      Array.from({ length: 16 }, (_, i) => [`{device="sd${String.fromCharCode(97 + i)}"}`, 4e6 + i]),
    );
  }
  family('node_load1', 'gauge', '1m load average.', [['', 0.42]]);
  family('node_boot_time_seconds', 'gauge', 'Node boot time, in unixtime.', [['', 1.79e9]]);
  family('node_time_seconds', 'gauge', 'System time.', [['', 1.7955e9]]);
  while (out.length < 1000) family(`node_extra_${out.length}`, 'gauge', 'Padding to a real node_exporter size.', [['{a="b"}', out.length]]);
  return `${out.join('\n')}\n`;
}

/** In a child: serve the body on each given address until killed. */
if (values.serve) {
  const http = await import('node:http');
  const body = nodeBody();
  const { addresses, port } = JSON.parse(values.serve) as { addresses: string[]; port: number };
  let ready = 0;
  for (const a of addresses) {
    const s = http.createServer((_, res) => {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(body);
    });
    s.keepAliveTimeout = 120_000;
    s.listen(port, a, () => {
      if (++ready === addresses.length) process.send?.('ready');
    });
  }
} else {
  await main();
}

/** Target i's own loopback address: 127.1.x.y with y in 1..250. */
function address(i: number): string {
  return `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

/** Child processes serving `n` targets, two processes sharing them. */
async function serveFleet(n: number, port: number): Promise<ChildProcess[]> {
  const halves = [0, 1].map((k) =>
    Array.from({ length: n }, (_, i) => i)
      .filter((i) => i % 2 === k)
      .map(address),
  );
  return Promise.all(
    halves.map(
      (addresses) =>
        new Promise<ChildProcess>((resolve, reject) => {
          const child = fork(new URL(import.meta.url).pathname, ['--serve', JSON.stringify({ addresses, port })], {
            execArgv: ['--import', 'tsx'],
            stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
          });
          child.once('message', () => resolve(child));
          child.once('exit', (c) => reject(new Error(`fleet server exited with ${c}`)));
        }),
    ),
  );
}

/** Sums every sample of a series in an exposition (counters, histogram counts). */
function sumOf(text: string, name: string, where = ''): number {
  let s = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{') && line.includes(where))
      s += Number(line.slice(line.lastIndexOf(' ') + 1));
  return s;
}

/** A histogram's buckets in an exposition: upper bound → cumulative count. */
function buckets(text: string, name: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(line)![1]!;
    out.set(le === '+Inf' ? Infinity : Number(le), Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

/** The p99 of a histogram over the window between two expositions (the upper bound of the bucket holding it). */
function p99(before: string, after: string, name: string): number {
  const b0 = buckets(before, name);
  const delta = [...buckets(after, name)].map(([le, c]) => [le, c - (b0.get(le) ?? 0)] as const).sort((x, y) => x[0] - y[0]);
  const total = delta.at(-1)?.[1] ?? 0;
  return delta.find(([, c]) => c >= total * 0.99)?.[0] ?? Number.NaN;
}

/** A reader of a process's /metrics on loopback, once it answers (within 20 s). */
async function metricsOf(port: number, what: string): Promise<() => Promise<string>> {
  const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  for (let i = 0; ; i++) {
    try {
      await metrics();
      return metrics;
    } catch {
      if (i > 100) throw new Error(`${what} did not start`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

interface Figures {
  /** CPU cores the simulated fleet used meanwhile (it shares the machine). */
  fleetCores: number;
  scrapesPerSecond: number;
  cpuPer1000: number;
  rssMiB: number;
  p99LatenessSeconds: number | null;
  /** Vigil's scrape threads at the end. */
  threads?: number;
}

/** Lets the machine settle (the previous process's exit, its files written back) before a measurement. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 10_000));
}

async function measureVigil(n: number, port: number, interval: number, seconds: number, fleet: ChildProcess[]): Promise<Figures> {
  await settle();
  const db = await throwawayDatabase('vigil_bench');
  const cli = packageBin('@vigil/cli', 'vigil', import.meta.url);
  const env = { ...process.env, DATABASE_URL: db.url, VIGIL_LOG_LEVEL: 'warn' };
  spawnWait(cli, ['migrate'], env);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  for (let i = 0; i < n; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, n - i) }, (_, k) => i + k);
    await client.query(
      `insert into targets (name, url, interval_seconds, timeout_seconds, source) select * from unnest($1::text[], $2::text[], $3::int[], $4::float8[], $5::text[])`,
      [
        rows.map((k) => `t${k}`),
        rows.map((k) => `http://${address(k)}:${port}/metrics`),
        rows.map(() => interval),
        rows.map(() => interval),
        rows.map(() => 'bench'),
      ],
    );
  }
  await client.end();
  const listen = await freePort();
  const bin = path.join(REPO, 'scraper/bin/vigil-scraper.js');
  const prof = values['cpu-prof'];
  const scraper = spawn(prof ? process.execPath : bin, prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`, bin] : [], {
    env: {
      ...env,
      VIGIL_SCRAPER_LISTEN: `127.0.0.1:${listen}`,
      VIGIL_SCRAPE_CONCURRENCY: '512',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const metrics = await metricsOf(listen, 'the scraper');
    // Warm: every target scraped twice (connections made, code compiled), or longer when asked.
    await new Promise((r) => setTimeout(r, Math.max(2 * interval, Number(values.warmup)) * 1000));
    const w = await measureWindow(scraper.pid!, metrics, 'vigil_scraper_scrapes_total', fleet, seconds);
    return {
      ...w.figures,
      p99LatenessSeconds: p99(w.m0, w.m1, 'vigil_scraper_scrape_lateness_seconds'),
      threads: sumOf(w.m1, 'vigil_scraper_scrape_threads'),
    };
  } finally {
    scraper.kill('SIGTERM');
    await new Promise((r) => scraper.once('exit', r));
    await db.drop();
  }
}

async function measurePrometheus(n: number, port: number, interval: number, seconds: number, fleet: ChildProcess[]): Promise<Figures> {
  await settle();
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-prom-'));
  writeFileSync(
    path.join(dir, 'targets.json'),
    JSON.stringify([{ targets: Array.from({ length: n }, (_, i) => `${address(i)}:${port}`), labels: {} }]),
  );
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global: { scrape_interval: ${interval}s, scrape_timeout: ${interval}s }\nscrape_configs:\n  - job_name: fleet\n    file_sd_configs: [{ files: ['${dir}/targets.json'] }]\n`,
  );
  const listen = await freePort();
  const prom = spawn(
    'prometheus',
    [`--config.file=${dir}/prometheus.yml`, `--storage.tsdb.path=${dir}/data`, `--web.listen-address=127.0.0.1:${listen}`],
    {
      stdio: ['ignore', 'ignore', 'ignore'],
    },
  );
  try {
    const metrics = await metricsOf(listen, 'Prometheus');
    await new Promise((r) => setTimeout(r, 2 * interval * 1000 + 5000)); // file_sd read, every target scraped twice
    const w = await measureWindow(prom.pid!, metrics, 'prometheus_target_interval_length_seconds_count', fleet, seconds);
    return { ...w.figures, p99LatenessSeconds: null };
  } finally {
    prom.kill('SIGTERM');
    await new Promise((r) => prom.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One measurement window of `seconds`: the scraper's metrics before and after,
 * and its scrapes (the counter `scrapes`), CPU and RSS, and the fleet's CPU, over it.
 */
async function measureWindow(
  pid: number,
  metrics: () => Promise<string>,
  scrapesCounter: string,
  fleet: ChildProcess[],
  seconds: number,
): Promise<{ m0: string; m1: string; figures: Omit<Figures, 'p99LatenessSeconds'> }> {
  const m0 = await metrics();
  const cpu0 = cpuSeconds(pid);
  const f0 = fleetCpu(fleet);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const m1 = await metrics();
  const cpu1 = cpuSeconds(pid);
  const f1 = fleetCpu(fleet);
  const elapsed = (performance.now() - t0) / 1000;
  const scrapes = sumOf(m1, scrapesCounter) - sumOf(m0, scrapesCounter);
  return {
    m0,
    m1,
    figures: {
      fleetCores: (f1 - f0) / elapsed,
      scrapesPerSecond: scrapes / elapsed,
      cpuPer1000: ((cpu1 - cpu0) / scrapes) * 1000,
      rssMiB: residentMemory(pid).rss / 2 ** 20,
    },
  };
}

/** CPU seconds the fleet's processes have used. */
function fleetCpu(fleet: ChildProcess[]): number {
  return fleet.reduce((sum, c) => sum + cpuSeconds(c.pid!), 0);
}

function spawnWait(cmd: string, args: string[], env: NodeJS.ProcessEnv): void {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

async function main(): Promise<void> {
  ensureBuilt('scraper', 'dist/vigil-scraper.mjs', ['scraper/src', 'core/src', 'db/src', 'migrations/src']);
  ensureBuilt('cli', 'dist/vigil.mjs', ['cli/src', 'core/src', 'db/src', 'migrations/src']);
  const interval = Number(values.interval);
  const seconds = Number(values.seconds);
  const f = (x: number, d = 1) => x.toFixed(d);
  const rows: string[] = [];
  for (const rate of values.rates.split(',').map(Number)) {
    if (!rate) continue; // --rates 0: the memory measurement only
    const n = rate * interval;
    const port = await freePort();
    process.stderr.write(`${rate}/s: ${n} targets every ${interval} s…\n`);
    const fleet = await serveFleet(n, port);
    try {
      const v = await measureVigil(n, port, interval, seconds, fleet);
      if (values.vigil) {
        process.stdout.write(
          `${rate}/s: Vigil ${f(v.scrapesPerSecond, 0)} scrapes/s, ${f(v.cpuPer1000, 2)} CPU s / 1,000, RSS ${f(v.rssMiB)} MiB, p99 lateness ${v.p99LatenessSeconds} s, ${v.threads} scrape threads; fleet ${f(v.fleetCores, 2)} cores\n`,
        );
        continue;
      }
      const p = await measurePrometheus(n, port, interval, seconds, fleet);
      const row = `| ${rate} | ${f(v.scrapesPerSecond, 0)} | ${f(p.scrapesPerSecond, 0)} | ${f(v.cpuPer1000, 2)} | ${f(p.cpuPer1000, 2)} | ${f(v.cpuPer1000 / p.cpuPer1000, 2)} | ${f(v.rssMiB)} | ${f(p.rssMiB)} | ${v.p99LatenessSeconds} | ${f(v.fleetCores, 2)} / ${f(p.fleetCores, 2)} |`;
      process.stdout.write(`${row}\n`);
      rows.push(row);
    } finally {
      for (const c of fleet) c.kill();
    }
  }
  const memory: string[] = [];
  const rssTargets = Number(values['rss-targets']);
  if (rssTargets > 0) {
    const rssInterval = Number(values['rss-interval']);
    const port = await freePort();
    process.stderr.write(`memory: ${rssTargets} targets every ${rssInterval} s…\n`);
    const fleet = await serveFleet(rssTargets, port);
    try {
      const v = await measureVigil(rssTargets, port, rssInterval, seconds, fleet);
      const p = values.vigil ? null : await measurePrometheus(rssTargets, port, rssInterval, seconds, fleet);
      const line = `- ${rssTargets.toLocaleString('en')} targets every ${rssInterval} s (${f(v.scrapesPerSecond, 0)} scrapes/s): Vigil RSS **${f(v.rssMiB)} MiB** (${f(v.cpuPer1000, 2)} CPU s / 1,000)${p ? `, Prometheus ${f(p.rssMiB)} MiB (${f(p.cpuPer1000, 2)} CPU s / 1,000)` : ''}`;
      process.stdout.write(`${line}\n`);
      memory.push(line);
    } finally {
      for (const c of fleet) c.kill();
    }
  }
  if (values.vigil) return;
  const body = [
    `Command: \`TEST_DATABASE_URL=… node --import tsx bench/scrape-throughput.ts --rates ${values.rates} --seconds ${seconds} --interval ${interval} --warmup ${values.warmup} --rss-targets ${values['rss-targets']} --rss-interval ${values['rss-interval']} --record\`; ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, Node ${process.version}, PostgreSQL (TEST_DATABASE_URL), Debian's Prometheus.`,
    '',
    `Each rate: rate × ${interval} targets, each its own loopback address serving a ~1,000-line node_exporter body; Vigil (heartbeats into PostgreSQL) then Prometheus (storing every series), each after 10 s of quiet, measured for ${seconds} s after warming up. CPU is user + system of the whole process, threads included. The simulated fleet runs on the same cores: its use is in the last column (while Vigil / while Prometheus scraped).`,
    '',
    '| target rate /s | Vigil scrapes/s | Prometheus scrapes/s | Vigil CPU s / 1,000 | Prometheus CPU s / 1,000 | ratio | Vigil RSS MiB | Prometheus RSS MiB | Vigil p99 lateness s | fleet cores |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...memory,
  ].join('\n');
  if (values.record) recordSection('Scrape throughput: Vigil vs Prometheus', body);
  process.stdout.write(`${body}\n`);
}
