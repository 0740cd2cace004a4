/**
 * The console's API against the bare SQL that reads the same rows, with a
 * fleet of 1,000 targets and 24 h of heartbeats at 15 s (5.76 million rows) in
 * the real PostgreSQL (TEST_DATABASE_URL, a throwaway database); and what the
 * live fleet costs the database: reads per update with 1 page open, then 50.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
 *     node --import tsx bench/console-api.ts [--targets 1000] [--rounds 40] [--record]
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { ensureBuilt, packageBin } from '@vigil/core/testing';
import { createApiKey, createDb, createUser, ensureHeartbeatPartitions, migrateToLatest, rollupHeartbeats } from '@vigil/db';
import pg from 'pg';
import { countingProxy, freePort, quantile, recordSection } from './lib.js';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '40' },
    pages: { type: 'string', default: '50' },
    record: { type: 'boolean' },
    keep: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: TEST_DATABASE_URL=postgres://… node --import tsx bench/console-api.ts [--targets 1000] [--rounds 40] [--pages 50] [--record] [--keep]\n' +
      '  Fills a throwaway database with --targets targets and 24 h of heartbeats at 15 s, starts the built console on it,\n' +
      '  and times its API side by side with the bare SQL reading the same rows (--rounds each, alternating);\n' +
      '  then counts the database reads of the live fleet feed with 1 page open and with --pages open.\n' +
      '  --keep leaves the database in place (its name is printed) for a closer look.\n',
  );
  process.exit(0);
}
const TARGETS = Number(values.targets);
const ROUNDS = Number(values.rounds);
const PAGES = Number(values.pages);
const log = (m: string) => process.stderr.write(`${m}\n`);

const server = process.env.TEST_DATABASE_URL;
if (!server) throw new Error('set TEST_DATABASE_URL to a PostgreSQL server (a throwaway database is made there)');
const name = `vigil_bench_api_${process.pid}`;
const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`create database ${name}`);
const url = new URL(server);
url.pathname = `/${name}`;
const dbUrl = url.toString();
const consoles: ReturnType<typeof spawn>[] = [];

try {
  // The fleet: TARGETS targets, each with a heartbeat every 15 s for 24 h, figures varying.
  const db = await createDb(dbUrl, { max: 2 });
  await migrateToLatest(db);
  const now = Date.now();
  await ensureHeartbeatPartitions(db, new Date(now - 86_400_000), 2);
  const bare = new pg.Client({ connectionString: dbUrl });
  await bare.connect();
  log(`filling ${TARGETS} targets × 5,760 heartbeats…`);
  const t0 = performance.now();
  await bare.query(
    `insert into targets (name, url, labels, state) select 'host-' || lpad(i::text, 4, '0'), 'http://10.0.' || (i / 250) || '.' || (i % 250) || ':9110/metrics', jsonb_build_object('rack', 'r' || (i % 10)), 'up' from generate_series(1, $1) i`,
    [TARGETS],
  );
  for (let h = 0; h < 24; h++) {
    await bare.query(
      `insert into heartbeats (target_id, time, up, duration_seconds, samples, cpu_usage_percent, memory_used_bytes, memory_total_bytes, disk_used_bytes, disk_total_bytes, disk_avail_bytes, load1, uptime_seconds)
       select t.id, s.time, true, 0.01, 1200, 20 + 15 * sin(extract(epoch from s.time) / 900 + t.id), 2e9 + 1e8 * cos(t.id + extract(epoch from s.time) / 3600), 8e9, 40e9, 100e9, 55e9, 0.5 + random(), 1e6
       from targets t cross join generate_series(to_timestamp($1::float8 / 1000), to_timestamp($2::float8 / 1000) - interval '1 millisecond', interval '15 seconds') s(time)`,
      [now - (24 - h) * 3_600_000, now - (23 - h) * 3_600_000],
    );
    log(`  hour ${h + 1}/24`);
  }
  await bare.query('analyze');
  await rollupHeartbeats(db, new Date(now));
  const { rows: count } = await bare.query('select count(*)::int as n from heartbeats');
  log(`filled: ${count[0].n} heartbeats in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const user = await createUser(db, { name: 'bench', role: 'admin', password: 'bench-password-123' });
  const { key } = await createApiKey(db, user.id, 'bench');
  await db.destroy();

  // The built console on that database; a second one connects through the
  // counting proxy, for the live fleet (the API is timed without the extra hop).
  ensureBuilt('console', 'dist/server.mjs', ['console/src', 'console/vite.config.ts', 'core/src', 'db/src', 'migrations/src']);
  const proxy = await countingProxy(url);
  const viaProxy = new URL(dbUrl);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  const startConsole = async (databaseUrl: string) => {
    const port = await freePort();
    const child = spawn(packageBin('@vigil/console', 'vigil-console', import.meta.url), [], {
      env: { ...process.env, DATABASE_URL: databaseUrl, VIGIL_CONSOLE_LISTEN: `127.0.0.1:${port}`, VIGIL_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    consoles.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d) => String(d).includes('console listening') && resolve());
      child.once('exit', (c) => reject(new Error(`console exited with ${c}`)));
    });
    return `http://127.0.0.1:${port}`;
  };
  const base = await startConsole(dbUrl);
  const counted = await startConsole(viaProxy.toString());
  const headers = { authorization: `Bearer ${key}` };
  const api = async (path: string) => {
    const t = performance.now();
    const r = await fetch(`${base}${path}`, { headers });
    const body = await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status}: ${Buffer.from(body).toString()}`);
    return { ms: performance.now() - t, bytes: body.byteLength };
  };
  const sql = async (text: string, params: unknown[]) => {
    const t = performance.now();
    const r = await bare.query(text, params);
    return { ms: performance.now() - t, rows: r.rowCount ?? 0 };
  };

  const since = () => new Date(Date.now() - 172_800_000);
  const from = new Date(now - 86_400_000).toISOString();
  const to = new Date(now).toISOString();
  const host = Math.ceil(TARGETS / 2);
  const cases = [
    {
      name: 'fleet: `GET /fleet` (every host with its newest heartbeat and newest figures, as the fleet page shows them)',
      api: () => api('/api/v1/fleet'),
      sql: () =>
        sql(
          `select t.*, h.time, h.up, h.error, f.* from targets t
           left join lateral (select time, up, error from heartbeats where target_id = t.id and time > $1 order by time desc limit 1) h on true
           left join lateral (select * from heartbeats where target_id = t.id and time > $1 and up order by time desc limit 1) f on true
           order by t.name`,
          [since()],
        ),
    },
    {
      name: 'targets: `GET /targets?per_page=500` (a page of targets, each with its newest heartbeat, and the total)',
      api: () => api('/api/v1/targets?per_page=500'),
      sql: () =>
        sql(
          `select t.*, h.* from (select * from targets order by name limit 500) t
           left join lateral (select * from heartbeats where target_id = t.id and time > $1 order by time desc limit 1) h on true order by t.name`,
          [since()],
        ),
    },
    {
      name: 'host chart: `GET /targets/:id/heartbeats?step=300` over 24 h (288 buckets of min/avg/max)',
      api: () => api(`/api/v1/targets/${host}/heartbeats?from=${from}&to=${to}&step=300`),
      sql: () => sql('select * from heartbeats where target_id = $1 and time >= $2 and time < $3', [host, from, to]),
    },
    {
      name: 'host raw: `GET /targets/:id/heartbeats` over 24 h (5,760 heartbeats)',
      api: () => api(`/api/v1/targets/${host}/heartbeats?from=${from}&to=${to}`),
      sql: () =>
        sql('select * from heartbeats where target_id = $1 and time >= $2 and time <= $3 order by time limit 20000', [host, from, to]),
    },
    {
      name: 'host 30 days: `GET /targets/:id/heartbeats?step=10800` (hourly rollups)',
      api: () => api(`/api/v1/targets/${host}/heartbeats?from=${new Date(now - 30 * 86_400_000).toISOString()}&to=${to}&step=10800`),
      sql: () => sql('select * from heartbeats_hourly where target_id = $1 and hour >= $2', [host, new Date(now - 30 * 86_400_000)]),
    },
  ];
  const results: { name: string; api: number; sql: number; bytes: number; rows: number }[] = [];
  for (const c of cases) {
    for (let i = 0; i < 5; i++) {
      await c.api();
      await c.sql();
    }
    const a: number[] = [];
    const s: number[] = [];
    let bytes = 0;
    let rows = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const x = await c.api();
      const y = await c.sql();
      a.push(x.ms);
      s.push(y.ms);
      bytes = x.bytes;
      rows = y.rows;
    }
    results.push({ name: c.name, api: quantile(a, 0.5), sql: quantile(s, 0.5), bytes, rows });
    log(`${c.name}: API ${quantile(a, 0.5).toFixed(1)} ms, SQL ${quantile(s, 0.5).toFixed(1)} ms`);
  }

  // The live fleet: the console's statements while pages listen, counted by the proxy.
  const writer = new pg.Client({ connectionString: dbUrl });
  await writer.connect();
  const feed = async (pages: number, seconds: number) => {
    const controllers: AbortController[] = [];
    const updates: number[] = Array(pages).fill(0);
    await Promise.all(
      Array.from({ length: pages }, async (_, i) => {
        const ac = new AbortController();
        controllers.push(ac);
        const r = await fetch(`${counted}/api/v1/fleet/stream`, { headers, signal: ac.signal });
        const reader = r.body!.getReader();
        const decoder = new TextDecoder();
        let snapshot = false;
        void (async () => {
          try {
            for (;;) {
              const { value, done } = await reader.read();
              if (done) return;
              const text = decoder.decode(value);
              updates[i] = (updates[i] ?? 0) + text.split('event: update').length - 1;
              if (text.includes('event: snapshot')) snapshot = true;
            }
          } catch {}
        })();
        while (!snapshot) await new Promise((r) => setTimeout(r, 20));
      }),
    );
    updates.fill(0);
    const before = proxy.statements();
    const t = performance.now();
    for (let s = 0; s < seconds; s++) {
      // One scrape round of a tenth of the fleet per second (written past the proxy): news for the feed.
      await writer.query(
        `insert into heartbeats (target_id, time, up, duration_seconds, cpu_usage_percent) select id, now(), true, 0.01, random() * 100 from targets where id % 10 = $1`,
        [s % 10],
      );
      await new Promise((r) => setTimeout(r, 1000));
    }
    const statements = proxy.statements() - before;
    const elapsed = (performance.now() - t) / 1000;
    for (const c of controllers) c.abort();
    const perPage = updates.reduce((a, b) => a + b, 0) / pages;
    return {
      pages,
      statements,
      perTick: statements / (elapsed / 2),
      updatesPerPage: perPage,
      perUpdate: statements / Math.max(1, perPage),
    };
  };
  log('live fleet: 1 page…');
  const one = await feed(1, 20);
  await new Promise((r) => setTimeout(r, 3000));
  log(`live fleet: ${PAGES} pages…`);
  const many = await feed(PAGES, 20);
  log(`statements per 2 s: ${one.perTick.toFixed(2)} with 1 page, ${many.perTick.toFixed(2)} with ${PAGES}`);
  await writer.end();
  proxy.close();
  await bare.end();

  const table = results.map(
    (r) => `| ${r.name} | ${r.api.toFixed(1)} | ${r.sql.toFixed(1)} | **${(r.api / r.sql).toFixed(2)}** | ${r.bytes} | ${r.rows} |`,
  );
  const body = [
    `Command: \`TEST_DATABASE_URL=… node --import tsx bench/console-api.ts --targets ${TARGETS} --rounds ${ROUNDS} --pages ${PAGES} --record\`; ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Node ${process.version}, PostgreSQL (TEST_DATABASE_URL).`,
    '',
    `${TARGETS} targets with 24 h of heartbeats at 15 s (${count[0].n} rows) and their hourly rollups. Each API call goes through the built console over HTTP with an API key (authentication, JSON); the bare SQL is the query reading the same rows over one pg connection. Medians of ${ROUNDS} rounds, alternating.`,
    '',
    '| request | API median ms | bare SQL median ms | API / SQL | API bytes | SQL rows |',
    '|---|---:|---:|---:|---:|---:|',
    ...table,
    '',
    'Live fleet (`/api/v1/fleet/stream`): the statements a console sent PostgreSQL over 20 s (counted by a proxy between them; a second console, so the API above is timed without that hop), while one scrape round per second, written past the proxy, gave it news.',
    '',
    '| pages open | console statements | per 2 s tick | updates pushed to each page | statements per pushed update |',
    '|---:|---:|---:|---:|---:|',
    `| 1 | ${one.statements} | ${one.perTick.toFixed(2)} | ${one.updatesPerPage.toFixed(1)} | ${one.perUpdate.toFixed(2)} |`,
    `| ${PAGES} | ${many.statements} | ${many.perTick.toFixed(2)} | ${many.updatesPerPage.toFixed(1)} | ${many.perUpdate.toFixed(2)} |`,
    '',
    `- ${PAGES} pages cost the database ${(many.statements / Math.max(1, one.statements)).toFixed(2)}× the statements of one page: one read per update, shared, not one per page.`,
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (values.record) recordSection('Console API vs bare SQL, and the live fleet', body);
} finally {
  for (const c of consoles) c.kill();
  if (values.keep) log(`kept the database ${name}`);
  else await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
