import { httpServer } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { ScrapePool, threadsWanted } from './scrape-pool.js';
import type { ScrapeTask } from './scrape-task.js';

describe('threadsWanted', () => {
  it.each([
    [[0.9], 1, 4, 2, 'one thread over 75 % busy: add one'],
    [[0.9, 0.8], 1, 2, 2, 'at the most: stay'],
    [[0.5], 1, 4, 1, 'half busy: stay'],
    [[0.3, 0.2], 1, 4, 1, 'two threads with half a core of work: let one go'],
    [[0.35, 0.3], 1, 4, 2, 'two threads with 0.65 cores of work: stay (hysteresis)'],
    [[0.05], 1, 4, 1, 'never below the least'],
    [[0.9, 0.9, 0.8], 1, 8, 4, 'three busy threads: a fourth'],
  ])('%j within [%i, %i] → %i (%s)', (busy, min, max, want) => {
    expect(threadsWanted(busy, min, max)).toBe(want);
  });
});

describe('ScrapePool', () => {
  it('adds a thread while its threads are busy, lets it go when they idle, and scrapes throughout', async () => {
    // A valid body that takes a worker some tens of milliseconds to read and parse.
    const body = Array.from({ length: 60_000 }, (_, i) => `node_network_receive_bytes_total{device="veth${i}"} ${i}\n`).join('');
    const target = await httpServer((_, res) => res.end(`${body}node_load1 0.25\n`));
    const pool = new ScrapePool(2, { checkSeconds: 3600 }); // rebalanced by hand here
    const task: ScrapeTask = {
      url: target.url,
      timeoutSeconds: 30,
      bodyLimitBytes: 64 << 20,
      intervalSeconds: 15,
      previous: undefined,
      scrapeTime: Date.now() / 1000,
    };
    try {
      expect(pool.threads).toBe(1);
      const first = await pool.scrape(1, task);
      expect(first).toMatchObject({ up: true, parsed: { figures: { load1: 0.25 } } });
      pool.rebalance(); // the period starts now
      // Keep the one thread busy: scrapes back to back, several at a time.
      for (let round = 0; round < 4; round++) await Promise.all([1, 2, 3, 4].map((k) => pool.scrape(k * 2, task)));
      expect(pool.rebalance()).toBe(2);
      expect(pool.resizes).toBe(1);
      // Both threads scrape (keys 1 and 2 go to different ones).
      const [a, b] = await Promise.all([pool.scrape(1, task), pool.scrape(2, task)]);
      expect(a.up && b.up).toBe(true);
      // Mostly idle for the rest of the period (the two scrapes are a small part
      // of it), and for two more: one goes, the other keeps scraping.
      await new Promise((r) => setTimeout(r, 2000));
      expect(pool.rebalance()).toBe(2); // not on one idle period
      await new Promise((r) => setTimeout(r, 200));
      expect(pool.rebalance()).toBe(2);
      await new Promise((r) => setTimeout(r, 200));
      expect(pool.rebalance()).toBe(1);
      expect((await pool.scrape(3, task)).up).toBe(true);
    } finally {
      await pool.close();
      await target.close();
    }
  }, 60_000);

  it('scrapes on this thread when it has none', async () => {
    const target = await httpServer((_, res) => res.end('node_load1 1.5\n'));
    const pool = new ScrapePool(0);
    try {
      expect(pool.threads).toBe(0);
      const r = await pool.scrape(7, {
        url: target.url,
        timeoutSeconds: 5,
        bodyLimitBytes: 1 << 20,
        intervalSeconds: 15,
        previous: undefined,
        scrapeTime: Date.now() / 1000,
      });
      expect(r).toMatchObject({ up: true, parsed: { figures: { load1: 1.5 } } });
    } finally {
      await pool.close();
      await target.close();
    }
  });
});
