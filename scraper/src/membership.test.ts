import { captureLog } from '@vigil/core/testing';
import { addTarget, type Database, listScrapers, ownedTargetIds } from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Membership } from './membership.js';

describe.each(testDatabases())('scraper membership on $name', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  let ids: number[];
  beforeAll(async () => {
    ({ db, drop } = await engine.open());
    ids = [];
    for (let i = 0; i < 9; i++) ids.push((await addTarget(db, { name: `m-${i}`, url: `http://m-${i}/metrics` })).id);
  });
  afterAll(() => drop());

  it('keeps time by the database’s clock, and says once that this machine’s is off', async () => {
    const { log, lines } = captureLog();
    const ahead = new Membership(db, log, { timeoutSeconds: 5, now: () => Date.now() + 60_000 });
    expect(await ahead.beat()).toBe(true);
    // The database's clock is the real one here: the replica's is a minute fast.
    expect(ahead.offsetMs).toBeGreaterThan(-61_000);
    expect(ahead.offsetMs).toBeLessThan(-59_000);
    expect(Math.abs(ahead.now() - Date.now())).toBeLessThan(1000);
    await ahead.beat();
    expect(lines.filter((l) => /clock is 60\.\d s ahead of the database's/.test(l))).toHaveLength(1);
    // Alone, it owns every target, each taken at the database's now.
    expect([...ahead.owned].sort((a, b) => a - b)).toEqual(ids);
    expect(Math.abs(ahead.acquiredAt(ids[0]!) - Date.now())).toBeLessThan(2000);
    await ahead.leave();
    expect(ahead.judges(ids[0]!)).toBe(false);
    expect(await ahead.beat()).toBe(false); // left: no more heartbeats
  });

  it('shares with a joining replica, keeps scraping what it handed on for two heartbeats, and judges only its own', async () => {
    let now = Date.now();
    const clock = () => now;
    const a = new Membership(db, captureLog().log, { timeoutSeconds: 5, beatSeconds: 1, now: clock });
    const b = new Membership(db, captureLog().log, { timeoutSeconds: 5, beatSeconds: 1, now: clock });
    await a.beat();
    expect(a.owned.size).toBe(9);
    expect(a.drainMs()).toBe(0); // alone: nobody to wait for
    await b.beat();
    expect(b.owned.size).toBe(4);
    await a.beat();
    expect(a.owned.size).toBe(5);
    expect(a.liveMembers).toBe(2);
    expect(a.drainMs()).toBe(2000);
    const moved = [...b.owned];
    // Handed on: still scraped by a for two heartbeats, no longer judged by it.
    expect(moved.every((id) => a.scrapes(id) && !a.judges(id) && b.judges(id))).toBe(true);
    now += 2001;
    expect(moved.some((id) => a.scrapes(id))).toBe(false);
    expect((await listScrapers(db, 5)).map((s) => s.owned).sort()).toEqual([4, 5]);

    // a loses the database: when it is back, it waits one timeout before it shares out again.
    a.lost();
    await db
      .updateTable('scrapers')
      .set({ last_seen: new Date(Date.now() - 60_000) })
      .where('id', '=', b.id)
      .execute();
    await a.beat();
    expect(a.owned.size).toBe(5); // b looks dead, but a does not take its targets yet
    now += 5001;
    await a.beat();
    expect(a.owned.size).toBe(9);
    // b's row was removed by hand: its next heartbeat joins again.
    await db.deleteFrom('scrapers').where('id', '=', b.id).execute();
    await b.beat();
    expect((await listScrapers(db, 5)).some((s) => s.id === b.id && s.live)).toBe(true);
    await a.leave();
    await b.beat();
    expect(await ownedTargetIds(db, b.id)).toEqual(ids);
    await b.leave();
  });
});
