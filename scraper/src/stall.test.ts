import { monitorEventLoopDelay } from 'node:perf_hooks';
import { silentLogger } from '@vigil/core/log';
import { httpServer } from '@vigil/core/testing';
import { addTarget, recentHeartbeats } from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import { describe, expect, it } from 'vitest';
import { createScraperApp } from './app.js';
import { Scraper } from './scraper.js';

// One target serving the worst body the limit allows must not stall the
// scraper: scrapes (and so parsing) run in worker threads, so the event loop
// (its /health, its timers, the other scrapes) keeps turning.
const LIMIT = 16 * 1024 * 1024;

describe('a target serving the largest body the limit allows', () => {
  it('never holds the event loop: /health keeps answering, and the scrape completes with its figures', async () => {
    const { db, drop } = await testDatabases()[0]!.open();
    // A valid exposition just under the limit: some 300,000 series, then the figures.
    const line = (i: number) => `node_network_receive_bytes_total{device="veth${i}",namespace="lab-${i % 97}"} ${i * 1.5}e3\n`;
    const lines: string[] = [];
    let size = 0;
    for (let i = 0; size < LIMIT - 1000; i++) {
      const l = line(i);
      lines.push(l);
      size += l.length;
    }
    // Encoded once: the target server shares this thread, and encoding 16 MB per
    // request (tens of ms) would be its hold on the loop, not the scraper's.
    const body = Buffer.from(`${lines.join('')}node_load1 0.5\n`);
    lines.length = 0;
    const target = await httpServer((_, res) => res.end(body));
    const scraper = new Scraper(
      db,
      { concurrency: 4, bodyLimitBytes: LIMIT, downAfterIntervals: 3, retentionDays: 30, queueLimit: 100, scrapeThreads: 1 },
      silentLogger(),
    );
    const server = createScraperApp(scraper, silentLogger()).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const health = `http://127.0.0.1:${(server.address() as { port: number }).port}/health`;
    try {
      const t = await addTarget(db, { name: 'huge', url: target.url, timeout_seconds: 10 });
      await fetch(health); // warm
      await scraper.scrapeOnce(t); // warm the worker and the connection
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      let done = false;
      const scrape = scraper.scrapeOnce(t).finally(() => {
        done = true;
      });
      let answered = 0;
      while (!done) {
        const r = await fetch(health);
        if (r.status === 200) answered++;
        await r.arrayBuffer();
      }
      await scrape;
      loop.disable();
      await scraper.writer.flush();
      const [hb] = await recentHeartbeats(db, t.id, 1);
      expect(hb).toMatchObject({ up: true, load1: 0.5 });
      expect(answered).toBeGreaterThan(0);
      // The longest the event loop was held during the scrape, in ms.
      expect(loop.max / 1e6).toBeLessThan(100);
    } finally {
      server.close();
      await scraper.pool.close();
      await target.close();
      await drop();
    }
  }, 60_000);
});
