import { spawnSync } from 'node:child_process';
import { httpServer, until } from '@vigil/core/testing';
import { addChannel, addTarget, type Database, listScrapers } from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScraperProcess, startScraperProcess } from './scraper-process.js';

// Three real scraper processes share 200 targets on one real PostgreSQL (the
// processes cannot share an in-memory PGlite): the split, a kill -9, a target
// dying during the handover, and a rolling restart. Times are read from the
// heartbeats the database holds, not from this test's clock.
const server = testDatabases().find((e) => e.name === 'postgres');
const TARGETS = 200;
const INTERVAL = 2;
const TIMEOUT = 3; // VIGIL_SCRAPER_MEMBER_TIMEOUT
const DOWN_AFTER = 3;

/** Debian's libfaketime (package faketime): its path, or the test skipped (a failure in CI, which installs it). */
function faketimeLibrary(skip: (note: string) => void): string {
  const files = spawnSync('dpkg', ['-L', 'libfaketime'], { encoding: 'utf8' }).stdout ?? '';
  const lib = files.split('\n').find((f) => f.endsWith('/libfaketime.so.1'));
  if (lib) return lib;
  if (process.env.CI) throw new Error("libfaketime is missing: .ci/run must install Debian's faketime package");
  skip('libfaketime is not installed (apt-get install faketime)');
  return '';
}

/** Waits for `probe` to give a value (checked every 100 ms), at most `ms`. */
const waitFor = <T>(probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string, ms = 20_000) =>
  until(what, ms / 1000, async () => probe());

describe.skipIf(!server)('scraper replicas (three processes, 200 targets; needs TEST_DATABASE_URL, which CI sets)', () => {
  let db: Kysely<Database>;
  let url: string;
  let drop: () => Promise<void>;
  const replicas: ScraperProcess[] = [];
  /** Targets whose exporter answers 503 (dead). */
  const dead = new Set<number>();
  /** What the webhook received: event id and to-state of each message. */
  const received: { event: number; target: string; to: string }[] = [];
  const ids: number[] = [];
  const cleanup: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    ({ db, url, drop } = await server!.open());
    const exporters = await httpServer((req, res) => {
      const n = Number(req.url?.split('/')[2]);
      if (dead.has(n)) {
        res.statusCode = 503;
        return res.end('gone');
      }
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(`# TYPE node_load1 gauge\nnode_load1 ${n / 100}\n`);
    });
    cleanup.push(() => exporters.close());
    const hook = await httpServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const p = JSON.parse(body);
        received.push({ event: p.event.id, target: p.target.name, to: p.event.to });
        res.end();
      });
    });
    cleanup.push(() => hook.close());
    await addChannel(db, { name: 'hook', kind: 'webhook', url: hook.url.replace(/\/metrics$/, '/hook') });
    for (let i = 0; i < TARGETS; i++)
      ids.push(
        (
          await addTarget(db, {
            name: `t-${i}`,
            url: `${exporters.url.replace(/\/metrics$/, '')}/t/${i}/metrics`,
            interval_seconds: INTERVAL,
            timeout_seconds: 1,
          })
        ).id,
      );
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.kill()));
    for (const c of cleanup.reverse()) await c();
    await drop();
  });

  const start = async (env: Record<string, string> = {}) => {
    const r = await startScraperProcess({
      DATABASE_URL: url,
      VIGIL_SCRAPER_MEMBER_TIMEOUT: String(TIMEOUT),
      VIGIL_DOWN_AFTER_INTERVALS: String(DOWN_AFTER),
      VIGIL_SCRAPE_THREADS: '1',
      ...env,
    });
    replicas.push(r);
    return r;
  };
  const replicaId = (r: ScraperProcess) => String(r.log.find((l) => l.msg === 'scraper started')?.replica);
  const owners = async () =>
    Object.fromEntries((await listScrapers(db, TIMEOUT)).filter((s) => s.live).map((s) => [s.id, s.owned] as const));
  /** The database's now, ms. */
  const dbNow = async () => (await sql<{ now: Date }>`select now()`.execute(db)).rows[0]!.now.getTime();
  /** Each target's longest wait between two scrapes (or from `from` to its first), seconds, over [from, to] (database clock, ms). */
  const longestGaps = async (from: number, to: number) => {
    const rows = await sql<{ target_id: number; gap: number }>`
      select target_id, max(gap) as gap from (
        select target_id, extract(epoch from time - coalesce(lag(time) over (partition by target_id order by time), ${new Date(from)}::timestamptz)) as gap
        from heartbeats where time >= ${new Date(from)} and time <= ${new Date(to)}
      ) g group by target_id`.execute(db);
    return new Map(rows.rows.map((r) => [r.target_id, Number(r.gap)]));
  };

  it('shares the targets evenly: each replica within ±10 % of a third, every target scraped and up; one whose clock is a minute fast keeps the database’s time', async (ctx) => {
    const libfaketime = faketimeLibrary((note) => ctx.skip(note));
    // The third replica's machine clock is a minute ahead (libfaketime, preloaded; timers keep real time).
    const minuteAhead = { LD_PRELOAD: libfaketime, FAKETIME: '+60s', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
    const [, , fast] = await Promise.all([start(), start(), start(minuteAhead)]);
    const third = TARGETS / 3;
    const split = await waitFor(async () => {
      const o = await owners();
      const counts = Object.values(o);
      return counts.length === 3 && counts.reduce((a, b) => a + b, 0) === TARGETS ? counts : undefined;
    }, 'three replicas owning all the targets');
    for (const n of split) expect(Math.abs(n - third)).toBeLessThanOrEqual(third * 0.1);
    await waitFor(
      async () => {
        const r = await db.selectFrom('targets').select('state').where('state', '!=', 'up').execute();
        return r.length === 0;
      },
      'every target up',
      30_000,
    );
    // The fast one said so, and stamped its heartbeats with the database's time, not a minute ahead.
    expect(fast!.log.some((l) => /clock is 60\.\d s ahead of the database's/.test(String(l.msg)))).toBe(true);
    const fastTargets = (await db.selectFrom('targets').select('id').where('scraper_id', '=', replicaId(fast!)).execute()).map((t) => t.id);
    expect(fastTargets.length).toBeGreaterThan(50);
    const ahead = await sql<{ n: string }>`select count(*) as n from heartbeats where time > now() + interval '5 seconds'`.execute(db);
    expect(Number(ahead.rows[0]!.n)).toBe(0);
    const recent = await sql<{
      n: string;
    }>`select count(distinct target_id) as n from heartbeats where target_id = any(${fastTargets}) and time > now() - interval '5 seconds'`.execute(
      db,
    );
    expect(Number(recent.rows[0]!.n)).toBe(fastTargets.length);
    // Each replica's /metrics names what it owns and the live replicas.
    for (const r of replicas) {
      const text = await (await fetch(`${r.url}/metrics`)).text();
      expect(text).toMatch(/^vigil_scraper_live_replicas 3$/m);
      const owned = Number(/^vigil_scraper_owned_targets (\d+)$/m.exec(text)?.[1]);
      expect((await owners())[replicaId(r)]).toBe(owned);
    }
  });

  it('after a kill -9, the others scrape its targets within one interval plus the timeout; a target dying meanwhile is told once, and no live one is called down', async () => {
    const victim = replicas[0]!;
    const theirs = (await db.selectFrom('targets').select('id').where('scraper_id', '=', replicaId(victim)).execute()).map((t) => t.id);
    expect(theirs.length).toBeGreaterThan(50);
    const dying = theirs[0]!;
    const killedAt = await dbNow();
    await victim.kill();
    dead.add(Number((await db.selectFrom('targets').select('name').where('id', '=', dying).executeTakeFirstOrThrow()).name.slice(2)));
    // Every one of its targets (but the dying one) has a heartbeat from another replica.
    await waitFor(async () => {
      const r = await db
        .selectFrom('heartbeats')
        .select((eb) => eb.fn.count<string>('target_id').distinct().as('n'))
        .where('target_id', 'in', theirs)
        .where('time', '>', new Date(killedAt))
        .where('up', '=', true)
        .executeTakeFirstOrThrow();
      return Number(r.n) === theirs.length - 1;
    }, 'the killed replica’s targets scraped again');
    const firstAfter = await sql<{ target_id: number; first: Date }>`
      select target_id, min(time) as first from heartbeats where time > ${new Date(killedAt)} and target_id = any(${theirs}) group by target_id`.execute(
      db,
    );
    const handover = Math.max(...firstAfter.rows.map((r) => r.first.getTime() - killedAt)) / 1000;
    // The bound: the timeout, a heartbeat to see it and share out, a heartbeat for the new owner to read it, then its slot.
    expect(handover).toBeLessThanOrEqual(TIMEOUT + 2 + INTERVAL + 1);
    await waitFor(
      async () => (await owners())[replicaId(victim)] === undefined && Object.keys(await owners()).length === 2,
      'two live replicas',
    );

    const down = await waitFor(
      async () => {
        const e = await db.selectFrom('events').selectAll().where('to_state', '=', 'down').execute();
        return e.length > 0 ? e : undefined;
      },
      'the dying target down',
      30_000,
    );
    expect(down.map((e) => e.target_id)).toEqual([dying]);
    await waitFor(() => received.some((m) => m.to === 'down'), 'its notification');
    // Exactly one message, whoever owned it when it died.
    expect(received.filter((m) => m.to === 'down')).toHaveLength(1);
    dead.clear();
    await waitFor(() => received.some((m) => m.to === 'up'), 'its recovery told', 30_000);
    expect(received.map((m) => m.to).sort()).toEqual(['down', 'up']);
    expect((await db.selectFrom('events').select('to_state').where('to_state', '=', 'down').execute()).length).toBe(1);
  });

  it('restarted one at a time (rolling), leaves no target unscraped for more than one interval, and sends nothing', async () => {
    const from = await dbNow();
    for (const old of replicas.slice(1, 3)) {
      const fresh = await start();
      await waitFor(async () => ((await owners())[replicaId(fresh)] ?? 0) > 0, 'the new replica owning its share');
      await old.close();
      expect(old.child.exitCode).toBe(0);
      await waitFor(async () => Object.keys(await owners()).length === 2, 'the old replica gone');
    }
    // Two more intervals, so the last handover's slots are in the window.
    const settled = (await dbNow()) + 2 * INTERVAL * 1000;
    await waitFor(async () => (await dbNow()) > settled, 'two more intervals');
    const gaps = await longestGaps(from, settled);
    expect(gaps.size).toBe(TARGETS);
    const worst = Math.max(...gaps.values());
    // One missed slot would show as two intervals; a little over one is lateness.
    expect(worst).toBeLessThan(INTERVAL * 1.5);
    expect(received.map((m) => m.to).sort()).toEqual(['down', 'up']);
    expect(await db.selectFrom('events').select('id').where('to_state', '=', 'down').execute()).toHaveLength(1);
    const o = await owners();
    expect(Object.values(o).reduce((a, b) => a + b, 0)).toBe(TARGETS);
    for (const n of Object.values(o)) expect(Math.abs(n - TARGETS / 2)).toBeLessThanOrEqual(1);
  });
});
