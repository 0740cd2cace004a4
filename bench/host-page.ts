/**
 * The host page's reads with 1,000 hosts and 30 days of history, against the
 * bare SQL reading the same rows: its charts over 1 h, 24 h and 30 days, the
 * per-interface and per-container series, the availability of the host and
 * its probes, the page's whole data load, and the fleet page's with its
 * sparklines. Also the bytes a heartbeat takes with every figure.
 *
 * History: 24 h of heartbeats a minute per host (every figure: rates, two
 * interfaces, five containers, three probes), rolled up by the scraper's job,
 * and 29 days before that as hourly rollups written directly.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
 *     node --import tsx bench/host-page.ts [--hosts 1000] [--rounds 30] [--record]
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { ensureBuilt, packageBin } from '@vigil/core/testing';
import { createApiKey, createDb, createUser, ensureHeartbeatPartitions, migrateToLatest, rollupHeartbeats } from '@vigil/db';
import pg from 'pg';
import { freePort, quantile, recordSection } from './lib.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '30' },
    record: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: TEST_DATABASE_URL=postgres://… node --import tsx bench/host-page.ts [--hosts 1000] [--rounds 30] [--record]\n' +
      '  Fills a throwaway database with --hosts hosts, 24 h of heartbeats a minute each with every figure and 29 days\n' +
      "  of hourly rollups before, starts the built console on it, and times the host page's reads side by side with the\n" +
      '  bare SQL reading the same rows (--rounds each, alternating). --record writes bench/RESULTS.md.\n',
  );
  process.exit(0);
}
const HOSTS = Number(values.hosts);
const ROUNDS = Number(values.rounds);
const log = (m: string) => process.stderr.write(`${m}\n`);
const server = process.env.TEST_DATABASE_URL;
if (!server) throw new Error('set TEST_DATABASE_URL to a PostgreSQL server (a throwaway database is made there)');
const name = `vigil_bench_host_${process.pid}`;
const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`create database ${name}`);
const url = new URL(server);
url.pathname = `/${name}`;
const dbUrl = url.toString();
let consoleProcess: ReturnType<typeof spawn> | null = null;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The figures of one heartbeat as SQL expressions of `t.id` and `s.time`. */
const FIGURES = `true, 0.01, 1200,
  20 + 15 * sin(extract(epoch from s.time) / 900 + t.id), 2e9 + 1e8 * cos(t.id + extract(epoch from s.time) / 3600), 8e9, 40e9, 100e9, 55e9, 0.5 + random(), 1e6,
  1e5 * random(), 2e4 * random(), 4096 * random(), 8192 * random(), 10 * random(), 20 * random(), 45 + 10 * random(),
  jsonb_build_object('eth0', jsonb_build_array(round(1e5 * random()), round(1e4 * random())), 'wlan0', jsonb_build_array(round(1e4 * random()), round(1e3 * random()))),
  (select jsonb_object_agg('app-' || c, jsonb_build_array(round((10 * random())::numeric, 2), 5e7 + c * 1e7, round(3e3 * random()), round(1e3 * random()))) from generate_series(1, 5) c),
  jsonb_build_object('https', (random() > 0.01)::int, 'dns', 1, 'smtp', (random() > 0.05)::int)`;
const COLUMNS = `target_id, time, up, duration_seconds, samples, cpu_usage_percent, memory_used_bytes, memory_total_bytes, disk_used_bytes, disk_total_bytes, disk_avail_bytes, load1, uptime_seconds,
  net_receive_bytes_per_second, net_transmit_bytes_per_second, disk_read_bytes_per_second, disk_written_bytes_per_second, disk_reads_per_second, disk_writes_per_second, temperature_celsius,
  net_interfaces, container_figures, probe_results`;

try {
  const db = await createDb(dbUrl, { max: 2 });
  await migrateToLatest(db);
  const now = Date.now();
  await ensureHeartbeatPartitions(db, new Date(now - DAY), 2);
  const bare = new pg.Client({ connectionString: dbUrl });
  await bare.connect();
  const t0 = performance.now();
  await bare.query(
    `insert into targets (name, url, labels, state, created_at) select 'host-' || lpad(i::text, 4, '0'), 'http://10.0.' || (i / 250) || '.' || (i % 250) || ':9110/metrics', jsonb_build_object('rack', 'r' || (i % 10)), 'up', now() - interval '31 days' from generate_series(1, $1) i`,
    [HOSTS],
  );
  log(`filling ${HOSTS} hosts × 1,440 heartbeats with every figure…`);
  for (let h = 0; h < 24; h++) {
    await bare.query(
      `insert into heartbeats (${COLUMNS}) select t.id, s.time, ${FIGURES}
       from targets t cross join generate_series(to_timestamp($1::float8 / 1000), to_timestamp($2::float8 / 1000) - interval '1 millisecond', interval '1 minute') s(time)`,
      [now - (24 - h) * HOUR, now - (23 - h) * HOUR],
    );
    if ((h + 1) % 6 === 0) log(`  hour ${h + 1}/24`);
  }
  await rollupHeartbeats(db, new Date(now));
  // The 29 days before: hourly rollups as the job writes them (figures, per-name averages, probe counts).
  const firstRaw = Math.floor((now - DAY) / HOUR) * HOUR;
  log('writing 29 days of hourly rollups…');
  for (let d = 0; d < 29; d++) {
    await bare.query(
      `insert into heartbeats_hourly
       select t.id, s.hour, 60, 60,
         10, 25, 40, 20, 30, 40, 40, 41, 42, 0.2, 0.6, 1.5,
         1e4, 5e4, 1e5, 1e3, 1e4, 2e4, 0, 2048, 4096, 0, 4096, 8192, 0, 5, 10, 0, 10, 20, 44, 50, 55,
         jsonb_build_object('eth0', jsonb_build_array(round(5e4 * random()), round(5e3 * random())), 'wlan0', jsonb_build_array(round(5e3 * random()), 500)),
         (select jsonb_object_agg('app-' || c, jsonb_build_array(round((5 * random())::numeric, 2), 5e7 + c * 1e7, 1500, 500)) from generate_series(1, 5) c),
         jsonb_build_object('https', jsonb_build_array(59 + (random() > 0.5)::int, 60), 'dns', jsonb_build_array(60, 60), 'smtp', jsonb_build_array(57, 60))
       from targets t cross join generate_series(to_timestamp($1::float8 / 1000), to_timestamp($2::float8 / 1000) - interval '1 hour', interval '1 hour') s(hour)`,
      [firstRaw - (29 - d) * DAY, firstRaw - (28 - d) * DAY],
    );
  }
  await bare.query('analyze');
  const { rows: counts } = await bare.query(
    `select (select count(*) from heartbeats)::int as raw, (select count(*) from heartbeats_hourly)::int as hourly,
       (select sum(pg_total_relation_size(relid)) from pg_partition_tree('heartbeats'))::float8 as raw_bytes,
       pg_total_relation_size('heartbeats_hourly')::float8 as hourly_bytes`,
  );
  const c = counts[0];
  log(`filled: ${c.raw} heartbeats, ${c.hourly} hourly rows in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const user = await createUser(db, { name: 'bench', role: 'admin', password: 'bench-password-123' });
  const { key } = await createApiKey(db, user.id, 'bench');
  await db.destroy();

  ensureBuilt('console', 'dist/server.mjs', ['console/src', 'console/vite.config.ts', 'core/src', 'db/src', 'migrations/src']);
  const port = await freePort();
  consoleProcess = spawn(packageBin('@vigil/console', 'vigil-console', import.meta.url), [], {
    env: { ...process.env, DATABASE_URL: dbUrl, VIGIL_CONSOLE_LISTEN: `127.0.0.1:${port}`, VIGIL_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    consoleProcess!.stdout!.on('data', (d) => String(d).includes('console listening') && resolve());
    consoleProcess!.once('exit', (code) => reject(new Error(`console exited with ${code}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const headers = { authorization: `Bearer ${key}` };
  const api = async (path: string) => {
    const t = performance.now();
    const r = await fetch(`${base}${path}`, { headers });
    const body = await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status}: ${Buffer.from(body).toString().slice(0, 300)}`);
    return { ms: performance.now() - t, bytes: body.byteLength };
  };
  const sql = async (...queries: [string, unknown[]][]) => {
    const t = performance.now();
    let rows = 0;
    for (const [text, params] of queries) rows += (await bare.query(text, params)).rowCount ?? 0;
    return { ms: performance.now() - t, rows };
  };

  const host = Math.ceil(HOSTS / 2);
  const iso = (ms: number) => new Date(ms).toISOString();
  const range = (ms: number) => `from=${iso(now - ms)}&to=${iso(now)}`;
  const raw = (ms: number, cols = '*') =>
    [`select ${cols} from heartbeats where target_id = $1 and time >= $2 and time < $3`, [host, iso(now - ms), iso(now)]] as [
      string,
      unknown[],
    ];
  const hourly = (cols = '*') =>
    [`select ${cols} from heartbeats_hourly where target_id = $1 and hour >= $2 and hour < $3`, [host, iso(now - 30 * DAY), iso(now)]] as [
      string,
      unknown[],
    ];
  const events = ['select * from events where target_id = $1 and time >= $2 order by time', [host, iso(now - 90 * DAY)]] as [
    string,
    unknown[],
  ];
  const cases = [
    {
      name: 'charts 1 h: `GET /targets/:id/heartbeats?step=15`',
      api: () => api(`/api/v1/targets/${host}/heartbeats?${range(HOUR)}&step=15`),
      sql: () => sql(raw(HOUR)),
    },
    {
      name: 'charts 24 h: `…/heartbeats?step=300`',
      api: () => api(`/api/v1/targets/${host}/heartbeats?${range(DAY)}&step=300`),
      sql: () => sql(raw(DAY)),
    },
    {
      name: 'charts 30 days: `…/heartbeats?step=10800` (hourly rollups)',
      api: () => api(`/api/v1/targets/${host}/heartbeats?${range(30 * DAY)}&step=10800`),
      sql: () => sql(hourly()),
    },
    {
      name: 'interfaces 24 h: `…/interfaces?step=300`',
      api: () => api(`/api/v1/targets/${host}/interfaces?${range(DAY)}&step=300`),
      sql: () => sql(raw(DAY, 'time, net_interfaces')),
    },
    {
      name: 'containers 30 days: `…/containers?step=10800`',
      api: () => api(`/api/v1/targets/${host}/containers?${range(30 * DAY)}&step=10800`),
      sql: () => sql(hourly('hour, container_figures')),
    },
    {
      name: 'availability: `…/uptime` (the host over 90 days from its events; its 3 probes from their results)',
      api: () => api(`/api/v1/targets/${host}/uptime`),
      sql: () => sql(events, hourly('hour, probe_results'), raw(DAY, 'time, probe_results')),
    },
    {
      name: 'the host page, 24 h: its whole data load (`/hosts/:id/__data.json?range=24h`)',
      api: () => api(`/hosts/${host}/__data.json?range=24h&x-sveltekit-invalidated=01`),
      sql: () =>
        sql(raw(DAY), raw(DAY, 'time, net_interfaces'), raw(DAY, 'time, container_figures'), events, hourly('hour, probe_results')),
    },
    {
      name: 'the fleet page: its data load with a sparkline per host (`/__data.json`)',
      api: () => api('/__data.json?x-sveltekit-invalidated=01'),
      sql: () =>
        sql(
          [
            `select t.*, h.time, h.up, h.error, f.* from targets t
             left join lateral (select time, up, error from heartbeats where target_id = t.id and time > $1 order by time desc limit 1) h on true
             left join lateral (select * from heartbeats where target_id = t.id and time > $1 and up order by time desc limit 1) f on true order by t.name`,
            [iso(now - 2 * DAY)],
          ],
          [
            'select target_id, time, cpu_usage_percent, memory_used_bytes, memory_total_bytes from heartbeats where time >= $1 and up',
            [iso(Date.now() - HOUR)],
          ],
        ),
    },
  ];
  const results: { name: string; api: number; sql: number; bytes: number; rows: number }[] = [];
  for (const k of cases) {
    for (let i = 0; i < 3; i++) {
      await k.api();
      await k.sql();
    }
    const a: number[] = [];
    const s: number[] = [];
    let bytes = 0;
    let rows = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const x = await k.api();
      const y = await k.sql();
      a.push(x.ms);
      s.push(y.ms);
      bytes = x.bytes;
      rows = y.rows;
    }
    results.push({ name: k.name, api: quantile(a, 0.5), sql: quantile(s, 0.5), bytes, rows });
    log(`${k.name}: API ${quantile(a, 0.5).toFixed(1)} ms, SQL ${quantile(s, 0.5).toFixed(1)} ms`);
  }
  await bare.end();

  const body = [
    `Command: \`TEST_DATABASE_URL=… node --import tsx bench/host-page.ts --hosts ${HOSTS} --rounds ${ROUNDS} --record\`; ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Node ${process.version}, PostgreSQL (TEST_DATABASE_URL).`,
    '',
    `${HOSTS} hosts, each with 24 h of heartbeats a minute carrying every figure (network and disk rates, temperature, 2 interfaces, 5 containers, 3 probes; ${c.raw} rows) rolled up by the scraper's job, and 29 days of hourly rollups before (${c.hourly} rows in all). Each call goes through the built console over HTTP with an API key; the bare SQL reads the same rows over one pg connection (for a page, every query its data needs, one after the other). Medians of ${ROUNDS} rounds, alternating.`,
    '',
    '| request | API median ms | bare SQL median ms | API / SQL | API bytes | SQL rows |',
    '|---|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) => `| ${r.name} | ${r.api.toFixed(1)} | ${r.sql.toFixed(1)} | **${(r.api / r.sql).toFixed(2)}** | ${r.bytes} | ${r.rows} |`,
    ),
    '',
    `Storage with every figure: **${Math.round(c.raw_bytes / c.raw)} bytes per heartbeat** with its indexes (${(c.raw_bytes / 2 ** 20).toFixed(0)} MiB for ${c.raw} heartbeats), **${Math.round(c.hourly_bytes / c.hourly)} bytes per hourly rollup row** (${(c.hourly_bytes / 2 ** 20).toFixed(0)} MiB for ${c.hourly}).`,
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (values.record) recordSection('Host page: 1,000 hosts × 30 days, against bare SQL', body);
} finally {
  consoleProcess?.kill();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
