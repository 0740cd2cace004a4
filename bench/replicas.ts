/**
 * Scraper replicas: one replica, then two, on the same targets and the same
 * real PostgreSQL (TEST_DATABASE_URL, a throwaway database), one after the
 * other in one run; then a `kill -9` of one of the two. The fleet is served by
 * child processes on loopback, each target at its own address (127.1.x.y)
 * with a ~1,000-line node_exporter body (bench/scrape-throughput.ts's).
 *
 * Figures: scrapes/s, CPU seconds per 1,000 scrapes (all replicas together,
 * threads included), database statements per heartbeat (each simple query and
 * each execute the replicas send, counted by a proxy between them and
 * PostgreSQL: membership heartbeats, share-outs, batches, liveness,
 * notifications) and transactions per heartbeat (pg_stat_database's
 * xact_commit), and the handover after a kill -9: the
 * longest wait, by the database's clock, from the kill to the first heartbeat
 * of each of the dead replica's targets from another.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
 *     node --import tsx bench/replicas.ts [--targets 2000] [--interval 2] [--seconds 30] [--timeout 10] [--record]
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ensureBuilt } from '@vigil/core/testing';
import { addTarget, createDb, migrateToLatest } from '@vigil/db';
import pg from 'pg';
import { countingProxy, cpuSeconds, freePort, REPO, recordSection } from './lib.js';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: '2000' },
    interval: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '30' },
    timeout: { type: 'string', default: '10' },
    record: { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: node --import tsx bench/replicas.ts [--targets 2000] [--interval 2] [--seconds 30] [--timeout 10] [--record]\n' +
      '  needs TEST_DATABASE_URL (a PostgreSQL server; a throwaway database is made on it)\n',
  );
  process.exit(0);
}
const N = Number(values.targets);
const INTERVAL = Number(values.interval);
const SECONDS = Number(values.seconds);
const TIMEOUT = Number(values.timeout);
const server = process.env.TEST_DATABASE_URL;
if (!server) {
  process.stderr.write('bench/replicas.ts: set TEST_DATABASE_URL to a PostgreSQL server (e.g. postgres://postgres@127.0.0.1:5432/test)\n');
  process.exit(2);
}

const address = (i: number) => `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;

/** The simulated fleet: two child processes (bench/scrape-throughput.ts --serve) sharing the targets' addresses. */
async function serveFleet(n: number, port: number): Promise<ChildProcess[]> {
  const script = path.join(REPO, 'bench/scrape-throughput.ts');
  return Promise.all(
    [0, 1].map(
      (k) =>
        new Promise<ChildProcess>((resolve, reject) => {
          const addresses = Array.from({ length: n }, (_, i) => i)
            .filter((i) => i % 2 === k)
            .map(address);
          const child = fork(script, ['--serve', JSON.stringify({ addresses, port })], {
            execArgv: ['--import', 'tsx'],
            stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
          });
          child.once('message', () => resolve(child));
          child.once('exit', (c) => reject(new Error(`fleet server exited with ${c}`)));
        }),
    ),
  );
}

interface Replica {
  child: ChildProcess;
  url: string;
  id: string;
}

async function startReplica(databaseUrl: string): Promise<Replica> {
  const port = await freePort();
  const child = spawn(path.join(REPO, 'scraper/bin/vigil-scraper.js'), [], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      VIGIL_SCRAPER_LISTEN: `127.0.0.1:${port}`,
      VIGIL_SCRAPE_CONCURRENCY: '512',
      VIGIL_SCRAPER_MEMBER_TIMEOUT: String(TIMEOUT),
      VIGIL_LOG_LEVEL: 'info',
      VIGIL_LOG_PRETTY: '0',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.includes('"scraper started"')) return;
      resolve({ child, url: `http://127.0.0.1:${port}`, id: JSON.parse(line).replica });
    });
    child.once('exit', (c) => reject(new Error(`a scraper exited with ${c} before it started`)));
  });
}

const stop = (r: Replica, signal: NodeJS.Signals) =>
  new Promise<void>((resolve) => {
    if (r.child.exitCode !== null || r.child.signalCode !== null) return resolve();
    r.child.once('exit', () => resolve());
    r.child.kill(signal);
  });

async function scrapes(r: Replica): Promise<number> {
  const text = await (await fetch(`${r.url}/metrics`)).text();
  let s = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('vigil_scraper_scrapes_total{')) s += Number(line.slice(line.lastIndexOf(' ') + 1));
  return s;
}

const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

async function main(): Promise<void> {
  ensureBuilt('scraper', 'dist/vigil-scraper.mjs', ['scraper/src', 'core/src', 'db/src', 'migrations/src']);
  const name = `vigil_bench_replicas_${process.pid}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = Object.assign(new URL(server!), { pathname: `/${name}` }).toString();
  const db = await createDb(url);
  // The replicas reach the database through a proxy that counts their statements (the bench's own go direct).
  const counter = await countingProxy(new URL(url));
  const viaProxy = Object.assign(new URL(url), { hostname: '127.0.0.1', port: String(counter.port) }).toString();
  const port = await freePort();
  const fleet = await serveFleet(N, port);
  const replicas: Replica[] = [];
  try {
    await migrateToLatest(db);
    for (let i = 0; i < N; i++)
      await addTarget(db, { name: `t-${i}`, url: `http://${address(i)}:${port}/metrics`, interval_seconds: INTERVAL });
    const xactCommits = async () =>
      Number((await admin.query<{ x: string }>('select xact_commit as x from pg_stat_database where datname = $1', [name])).rows[0]!.x);

    /** Runs `count` replicas, warms up, measures for SECONDS. */
    const phase = async (count: number) => {
      for (let i = 0; i < count; i++) replicas.push(await startReplica(viaProxy));
      const running = replicas.slice(-count);
      await sleep(3 * INTERVAL + 5);
      const hb = async () =>
        Number(
          (
            await db
              .selectFrom('heartbeats')
              .select((eb) => eb.fn.countAll<string>().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const x0 = await xactCommits();
      const q0 = counter.statements();
      const h0 = await hb();
      const s0 = (await Promise.all(running.map(scrapes))).reduce((a, b) => a + b, 0);
      const c0 = running.map((r) => cpuSeconds(r.child.pid!)).reduce((a, b) => a + b, 0);
      const t0 = performance.now();
      await sleep(SECONDS);
      const c1 = running.map((r) => cpuSeconds(r.child.pid!)).reduce((a, b) => a + b, 0);
      const s1 = (await Promise.all(running.map(scrapes))).reduce((a, b) => a + b, 0);
      const elapsed = (performance.now() - t0) / 1000;
      await sleep(1.5); // pg_stat_database is flushed about once a second
      const h1 = await hb();
      const x1 = await xactCommits();
      const q1 = counter.statements();
      return {
        count,
        rate: (s1 - s0) / elapsed,
        cpuPer1000: ((c1 - c0) / (s1 - s0)) * 1000,
        xactPerHeartbeat: (x1 - x0) / (h1 - h0),
        statementsPerHeartbeat: (q1 - q0) / (h1 - h0),
        owned: (
          await db
            .selectFrom('targets')
            .select(['scraper_id'])
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .groupBy('scraper_id')
            .execute()
        ).map((r) => Number(r.n)),
      };
    };
    const one = await phase(1);
    await stop(replicas.pop()!, 'SIGTERM');
    const two = await phase(2);
    process.stdout.write(`${JSON.stringify({ one, two })}\n`);

    // kill -9 of one of the two: how long until each of its targets is scraped by the other.
    const victim = replicas[replicas.length - 2]!;
    const theirs = (await db.selectFrom('targets').select('id').where('scraper_id', '=', victim.id).execute()).map((t) => t.id);
    const killedAt = (await admin.query<{ now: Date }>('select now()')).rows[0]!.now;
    await stop(victim, 'SIGKILL');
    const deadline = Date.now() + (TIMEOUT + 4 * INTERVAL + 30) * 1000;
    let handover = Number.NaN;
    while (Date.now() < deadline) {
      const r = await db
        .selectFrom('heartbeats')
        .select('target_id')
        .select((eb) => eb.fn.min('time').as('first'))
        .where('target_id', 'in', theirs)
        .where('time', '>', killedAt)
        .groupBy('target_id')
        .execute();
      if (r.length === theirs.length) {
        handover = Math.max(...r.map((x) => new Date(x.first as Date).getTime() - killedAt.getTime())) / 1000;
        break;
      }
      await sleep(0.5);
    }
    const f = (x: number, d = 2) => x.toFixed(d);
    const lines = [
      `Command: \`TEST_DATABASE_URL=… node --import tsx bench/replicas.ts --targets ${N} --interval ${INTERVAL} --seconds ${SECONDS} --timeout ${TIMEOUT} --record\`; ${new Date().toISOString().slice(0, 10)}, ${os.availableParallelism()} cores, Node ${process.version}, PostgreSQL (TEST_DATABASE_URL).`,
      '',
      `${N} targets every ${INTERVAL} s (${N / INTERVAL} scrapes/s), each its own loopback address serving a ~1,000-line node_exporter body; one replica, then two, on the same targets and database, each measured for ${SECONDS} s after ${3 * INTERVAL + 5} s of warm-up. CPU is user + system of all replicas together, threads included; statements are every simple query and execute the replicas sent (counted by a proxy between them and PostgreSQL), transactions the database's commits (pg_stat_database.xact_commit), each per heartbeat written. The simulated fleet shares the machine's cores.`,
      '',
      '| replicas | targets each | scrapes/s | CPU s / 1,000 scrapes | DB statements / heartbeat | DB transactions / heartbeat |',
      '|---|---|---|---|---|---|',
      `| 1 | ${one.owned.join(', ')} | ${f(one.rate, 0)} | ${f(one.cpuPer1000)} | ${f(one.statementsPerHeartbeat, 3)} | ${f(one.xactPerHeartbeat, 3)} |`,
      `| 2 | ${two.owned.join(', ')} | ${f(two.rate, 0)} | ${f(two.cpuPer1000)} | ${f(two.statementsPerHeartbeat, 3)} | ${f(two.xactPerHeartbeat, 3)} |`,
      '',
      `- ratio, two replicas to one: CPU per 1,000 scrapes **${f(two.cpuPer1000 / one.cpuPer1000)}**, statements per heartbeat **${f(two.statementsPerHeartbeat / one.statementsPerHeartbeat)}**, transactions per heartbeat **${f(two.xactPerHeartbeat / one.xactPerHeartbeat)}**`,
      `- handover after \`kill -9\` of one of the two (${theirs.length} targets; VIGIL_SCRAPER_MEMBER_TIMEOUT=${TIMEOUT}, interval ${INTERVAL} s): every one of its targets scraped by the other within **${f(handover, 1)} s** of the kill (bound: timeout + one interval + two membership heartbeats = ${TIMEOUT + INTERVAL + 2} s)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (values.record) recordSection('Scraper replicas: one vs two, and a kill -9', lines.join('\n'));
  } finally {
    await Promise.all(replicas.map((r) => stop(r, 'SIGKILL')));
    for (const c of fleet) c.kill();
    counter.close();
    await db.destroy();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

await main();
