import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addTarget,
  beatScraper,
  type Database,
  joinScrapers,
  leaveScrapers,
  listScrapers,
  liveScraperCount,
  type Move,
  ownedTargetIds,
  planRebalance,
  pruneScrapers,
  rebalanceTargets,
  setPaused,
} from './index.js';
import { testDatabases } from './testing.js';

const owned = (entries: Record<string, number[]>) => new Map(Object.entries(entries));
const counts = (start: Record<string, number[]>, moves: Move[], orphans: number[] = []) => {
  const after = new Map(Object.entries(start).map(([m, ids]) => [m, new Set(ids)]));
  for (const m of moves) {
    for (const ids of after.values()) ids.delete(m.targetId);
    after.get(m.to)!.add(m.targetId);
  }
  const all = [...after.values()].flatMap((s) => [...s]);
  expect(new Set(all).size).toBe(all.length); // nobody twice
  expect(all.length).toBe(Object.values(start).flat().length + orphans.length); // nobody lost
  return Object.fromEntries([...after].map(([m, ids]) => [m, ids.size]));
};
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('planRebalance', () => {
  it('shares orphans out evenly, within one of each other', () => {
    const orphans = range(1, 200);
    const moves = planRebalance(owned({ a: [], b: [], c: [] }), orphans);
    expect(counts({ a: [], b: [], c: [] }, moves, orphans)).toEqual({ a: 67, b: 67, c: 66 });
  });

  it('moves only a joining replica’s share, taken from the others’ surplus', () => {
    const start = { a: range(1, 100), b: range(101, 100) };
    const moves = planRebalance(owned({ ...start, c: [] }), []);
    expect(moves.every((m) => m.to === 'c')).toBe(true);
    expect(moves).toHaveLength(66);
    expect(counts({ ...start, c: [] }, moves)).toEqual({ a: 67, b: 67, c: 66 });
  });

  it('moves only a dead replica’s targets, to the live ones', () => {
    const orphans = range(141, 60); // c's, c is gone
    const start = { a: range(1, 70), b: range(71, 70) };
    const moves = planRebalance(owned(start), orphans);
    expect(moves.map((m) => m.targetId).sort((x, y) => x - y)).toEqual(orphans);
    expect(counts(start, moves, orphans)).toEqual({ a: 100, b: 100 });
  });

  it('moves nothing when the share is already even, and the same input gives the same plan', () => {
    expect(planRebalance(owned({ a: [1, 2], b: [3], c: [4, 5] }), [])).toEqual([]);
    const input = owned({ b: [1, 2, 3, 4, 5, 6], a: [] });
    expect(planRebalance(input, [9])).toEqual(planRebalance(owned({ a: [], b: [1, 2, 3, 4, 5, 6] }), [9]));
    expect(planRebalance(new Map(), [1, 2])).toEqual([]);
  });
});

describe.each(testDatabases())('scraper replicas on $name', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await engine.open());
  });
  afterAll(() => drop());

  const member = (id: string) => ({ id, hostname: 'h', pid: 1, version: '0.0.0' });

  it('keeps membership by the database clock, shares targets out, and hands a leaver’s on', async () => {
    const ids = [];
    for (let i = 0; i < 30; i++) ids.push((await addTarget(db, { name: `r-${i}`, url: `http://r-${i}/metrics` })).id);
    await joinScrapers(db, member('a'));
    await joinScrapers(db, member('a')); // a second join of the same id is a heartbeat
    const first = await rebalanceTargets(db, 10);
    expect(first?.members).toEqual(['a']);
    expect(await ownedTargetIds(db, 'a')).toEqual(ids);

    await joinScrapers(db, member('b'));
    await joinScrapers(db, member('c'));
    const second = await rebalanceTargets(db, 10);
    expect(second?.moves).toHaveLength(20);
    expect((await ownedTargetIds(db, 'b')).length).toBe(10);
    expect((await ownedTargetIds(db, 'c')).length).toBe(10);
    expect(await liveScraperCount(db, 10)).toBe(3);

    // b stops seeing the database: past the timeout it is dead, and its targets move.
    await db
      .updateTable('scrapers')
      .set({ last_seen: new Date(Date.now() - 60_000) })
      .where('id', '=', 'b')
      .execute();
    expect(await liveScraperCount(db, 10)).toBe(2);
    const b = await ownedTargetIds(db, 'b');
    const third = await rebalanceTargets(db, 10);
    expect(third?.moves.map((m) => m.targetId).sort((x, y) => x - y)).toEqual(b);
    expect((await ownedTargetIds(db, 'a')).length + (await ownedTargetIds(db, 'c')).length).toBe(30);
    const status = await listScrapers(db, 10);
    expect(status.map((s) => [s.id, s.live, s.owned])).toEqual([
      ['a', true, 15],
      ['c', true, 15],
      ['b', false, 0],
    ]);

    // Its heartbeat brings it back, with the database's clock.
    const now = await beatScraper(db, 'b');
    expect(Math.abs(now!.getTime() - Date.now())).toBeLessThan(60_000);
    expect(await liveScraperCount(db, 10)).toBe(3);
    expect(await beatScraper(db, 'nobody')).toBeNull();

    // c leaves cleanly: its row goes, its targets have no owner until the next share-out.
    await leaveScrapers(db, 'c');
    expect(await ownedTargetIds(db, 'c')).toEqual([]);
    await rebalanceTargets(db, 10);
    expect([(await ownedTargetIds(db, 'a')).length, (await ownedTargetIds(db, 'b')).length]).toEqual([15, 15]);

    // Paused targets are nobody's concern.
    await setPaused(db, ids[0]!, true, 'test');
    expect((await ownedTargetIds(db, 'a')).includes(ids[0]!)).toBe(false);

    await db
      .updateTable('scrapers')
      .set({ last_seen: new Date(Date.now() - 7200_000) })
      .where('id', '=', 'b')
      .execute();
    expect(await pruneScrapers(db, 3600)).toBe(1);
    expect((await listScrapers(db, 10)).map((s) => s.id)).toEqual(['a']);
  });

  it('lets one replica share out at a time', async () => {
    await joinScrapers(db, member('x'));
    const results = await Promise.all([rebalanceTargets(db, 10), rebalanceTargets(db, 10), rebalanceTargets(db, 10)]);
    // On a server the others find the lock taken; PGlite runs them one after another.
    expect(results.filter((r) => r !== null).length).toBeGreaterThanOrEqual(1);
    const all = (await ownedTargetIds(db, 'a')).length + (await ownedTargetIds(db, 'x')).length;
    expect(all).toBe(29);
  });
});
