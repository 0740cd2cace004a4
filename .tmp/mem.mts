import { spawn } from 'node:child_process';
import v8 from 'node:v8';
import pg from 'pg';
import { silentLogger } from '/work/main/core/src/log.ts';
import { createDb, migrateToLatest } from '/work/main/migrations/src/index.ts';
import { Scraper } from '/work/main/scraper/src/scraper.ts';

const N = Number(process.argv[2] ?? 5000);
const port = 19990;
const addr = (i: number) => `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;
const addrs = Array.from({ length: N }, (_, i) => addr(i));
const fleet = spawn(
  process.execPath,
  ['--import', 'tsx', '/work/main/bench/scrape-throughput.ts', '--serve', JSON.stringify({ addresses: addrs, port })],
  { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
);
await new Promise((r) => fleet.once('message', r));
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
await admin.connect();
await admin.query('drop database if exists vigil_mem with (force)');
await admin.query('create database vigil_mem');
await admin.end();
const db = await createDb('postgres://postgres@127.0.0.1:5432/vigil_mem');
await migrateToLatest(db);
const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/vigil_mem' });
await c.connect();
await c.query(
  `insert into targets (name,url,interval_seconds,timeout_seconds) select 't'||i, 'http://127.1.'||(i/250)||'.'||((i%250)+1)||':${port}/metrics', 10, 10 from generate_series(0,${N - 1}) i`,
);
await c.end();
const mb = (x: number) => (x / 2 ** 20).toFixed(1);
const report = (w: string) => {
  const m = process.memoryUsage();
  console.log(
    w,
    'rss',
    mb(m.rss),
    'heapTotal',
    mb(m.heapTotal),
    'heapUsed',
    mb(m.heapUsed),
    'external',
    mb(m.external),
    'arrayBuffers',
    mb(m.arrayBuffers),
  );
};
report('before');
const s = new Scraper(
  db,
  {
    concurrency: 512,
    bodyLimitBytes: 16 << 20,
    downAfterIntervals: 3,
    retentionDays: 30,
    queueLimit: 100000,
    scrapeThreads: Number(process.env.T ?? 0),
  },
  silentLogger(),
);
await s.start();
for (let k = 0; k < 4; k++) {
  await new Promise((r) => setTimeout(r, 10000));
  report(`t+${(k + 1) * 10}s`);
}
global.gc?.();
report('after gc');
for (const sp of v8.getHeapSpaceStatistics()) console.log(' ', sp.space_name, mb(sp.space_used_size), '/', mb(sp.space_size));
if (process.env.SNAP) {
  const f = v8.writeHeapSnapshot('/tmp/scraper.heapsnapshot');
  console.log('snapshot', f);
}
await s.stop();
await db.destroy();
fleet.kill();
process.exit(0);
