import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { captureLog, httpServer, until } from '@vigil/core/testing';
import {
  addTarget,
  createDb,
  type Database,
  type EmbeddedPostgres,
  ensureHeartbeatPartitions,
  listEvents,
  listTargets,
  migrateToLatest,
  startEmbeddedPostgres,
} from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import type { Kysely } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { type CuttableProxy, cuttableProxy } from '../test/proxy.js';
import { Scraper } from './scraper.js';

/** A database the test can take away and bring back, reached at `url`. */
interface Outageable {
  url: string;
  /** Direct access for the test's own reads (never cut). */
  check(): Promise<Kysely<Database>>;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The databases to cut: embedded PGlite, stopped and started again on the same
 * port (what `vigil start`'s database does when it restarts), and, when
 * TEST_DATABASE_URL is set, the real server behind a proxy that resets every
 * connection and refuses new ones (what clients see of a server going away).
 */
function servers(): { name: string; open(): Promise<Outageable> }[] {
  const list = [
    {
      name: 'embedded, stopped and restarted',
      async open(): Promise<Outageable> {
        const dir = path.join(mkdtempSync(path.join(tmpdir(), 'vigil-outage-')), 'pgdata');
        let embedded: EmbeddedPostgres | null = await startEmbeddedPostgres(dir);
        const url = embedded.url;
        const port = Number(new URL(url).port);
        const setup = await createDb(url, { max: 1 });
        await migrateToLatest(setup);
        await ensureHeartbeatPartitions(setup, new Date(), 2);
        await setup.destroy();
        const checks: Kysely<Database>[] = [];
        return {
          url,
          // The test reads through its own short-lived connections, so that it
          // works across the restart.
          check: async () => {
            const db = await createDb(url, { max: 1 });
            checks.push(db);
            return db;
          },
          cut: async () => {
            await embedded?.stop();
            embedded = null;
          },
          restore: async () => {
            embedded = await startEmbeddedPostgres(dir, port);
          },
          close: async () => {
            for (const c of checks) await c.destroy().catch(() => {});
            await embedded?.stop();
            rmSync(path.dirname(dir), { recursive: true, force: true });
          },
        };
      },
    },
  ];
  const real = testDatabases().find((e) => e.name === 'postgres');
  if (real)
    list.push({
      name: 'postgres, behind a proxy that is cut',
      async open(): Promise<Outageable> {
        const fresh = await real.open();
        const direct = new URL(fresh.url);
        const proxy: CuttableProxy = await cuttableProxy(direct.hostname, Number(direct.port));
        const viaProxy = new URL(fresh.url);
        viaProxy.port = String(proxy.port);
        return {
          url: viaProxy.toString(),
          check: async () => fresh.db,
          cut: proxy.cut,
          restore: proxy.restore,
          close: async () => {
            await proxy.close();
            await fresh.drop();
          },
        };
      },
    });
  return list;
}

describe.each(servers())('a database outage ($name)', (server) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('sends no down for targets that kept answering, and reports the one that died during it once the database is back, dated when it died', async () => {
    const database = await server.open();
    cleanup.push(database.close);
    const db: Kysely<Database> = await createDb(database.url, { max: 4 });
    cleanup.push(() => db.destroy());
    let check = await database.check();

    const exposition = (_: unknown, res: { end(s: string): void }) => res.end('up 1\n');
    const alive = await httpServer(exposition);
    const dying = await httpServer(exposition);
    cleanup.push(alive.close);
    const a = await addTarget(check, { name: 'alive', url: alive.url, interval_seconds: 1, timeout_seconds: 0.5 });
    const d = await addTarget(check, { name: 'dies', url: dying.url, interval_seconds: 1, timeout_seconds: 0.5 });
    const { log, lines } = captureLog('info');
    const scraper = new Scraper(
      db,
      {
        concurrency: 4,
        bodyLimitBytes: 1 << 20,
        downAfterIntervals: 3,
        retentionDays: 30,
        queueLimit: 1000,
        targetRefreshSeconds: 1,
        // After the first failed write, the writer's own job retries only in an
        // hour: the queue is written when the test flushes it, never by a retry
        // that happens to fall between the database's return and the liveness
        // pass the test makes on the still-queued heartbeats.
        writerBackoffSeconds: 3600,
      },
      log,
    );
    await scraper.start();
    cleanup.push(() => scraper.stop());
    const states = async () => Object.fromEntries((await listTargets(check)).map((t) => [t.name, t.state]));
    await until('both up', 15, async () => {
      const s = await states();
      return s.alive === 'up' && s.dies === 'up';
    });

    // The outage: the database goes away, and one target dies during it.
    const linesBefore = lines.length;
    await database.cut();
    await dying.close();
    // Long enough for the dead target to pass 3 intervals of silence, judged by
    // the heartbeats the scraper holds while it cannot write them.
    await until('eight heartbeats queued while the database is away', 20, async () => scraper.writer.queued >= 8);
    await until('the dead one silent for over 3 intervals', 20, async () => scraper.writer.queued >= 10);
    const restoredAt = Date.now();
    await database.restore();
    check = await database.check();

    // A liveness pass on the recovered database, its heartbeats still queued:
    await scraper.checkLiveness();
    expect(scraper.writer.queued).toBeGreaterThan(0);
    expect(await states()).toEqual({ alive: 'up', dies: 'down' });
    // ... and once they are written.
    await scraper.writer.flush(Date.now() + 3_600_000);
    expect(scraper.writer.queued).toBe(0);
    await scraper.checkLiveness();
    expect(await states()).toEqual({ alive: 'up', dies: 'down' });
    const aliveEvents = await listEvents(check, { targetId: a.id });
    expect(aliveEvents.map((e) => `${e.from_state}→${e.to_state}`)).toEqual(['unknown→up']);
    const [down] = await listEvents(check, { targetId: d.id });
    expect(down).toMatchObject({ from_state: 'up', to_state: 'down' });
    // Dated when it became down (during the outage), not when the database came back.
    expect(down!.time.getTime()).toBeLessThan(restoredAt);

    // Quiet: the outage took one line to start and one to end.
    const during = lines.slice(linesBefore).map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(during.filter((l) => l.msg.startsWith('database unreachable'))).toHaveLength(1);
    expect(during.filter((l) => l.msg === 'database reachable again')).toHaveLength(1);
    expect(during.filter((l) => l.level >= 40 && !l.msg.startsWith('database unreachable') && !/is down/.test(l.msg))).toEqual([]);
  }, 120_000);
});
