import { silentLogger } from '@vigil/core/log';
import { addTarget } from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import { describe, expect, it } from 'vitest';
import { createScraperApp } from './app.js';
import { Scraper } from './scraper.js';

describe('scraper HTTP endpoints', () => {
  it('serves /health, its own /metrics and Prometheus HTTP SD', async () => {
    const { db, drop } = await testDatabases()[0]!.open();
    try {
      await addTarget(db, { name: 'pi-1', url: 'http://pi-1.lan:9110/metrics', labels: { rack: 'a' } });
      // Labels stored before the rules held: /sd serves only those that follow them.
      await db
        .updateTable('targets')
        .set({ labels: JSON.stringify({ rack: 'a', instance: 'x', __name__: 'y', ['n'.repeat(10_000)]: '1' }) })
        .where('name', '=', 'pi-1')
        .execute();
      const scraper = new Scraper(
        db,
        { concurrency: 1, bodyLimitBytes: 1024, downAfterIntervals: 3, retentionDays: 30, queueLimit: 100 },
        silentLogger(),
      );
      await scraper.refreshTargets();
      const server = createScraperApp(scraper, silentLogger()).listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      try {
        expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok', targets: 1, heartbeatsQueued: 0 });
        expect(await (await fetch(`${base}/sd`)).json()).toEqual([
          {
            targets: ['pi-1.lan:9110'],
            labels: {
              rack: 'a',
              __scheme__: 'http',
              __metrics_path__: '/metrics',
              __meta_vigil_connects_out: 'false',
              vigil_target: 'pi-1',
            },
          },
        ]);
        // A host that connects out: listed at the console's relay, marked so Prometheus scrapes it with an API key.
        await db
          .updateTable('targets')
          .set({ connects_out: true, url: 'http://console.lan:3000/api/v1/connect/7/metrics' })
          .where('name', '=', 'pi-1')
          .execute();
        await scraper.refreshTargets();
        expect(await (await fetch(`${base}/sd`)).json()).toEqual([
          {
            targets: ['console.lan:3000'],
            labels: {
              rack: 'a',
              __scheme__: 'http',
              __metrics_path__: '/api/v1/connect/7/metrics',
              __meta_vigil_connects_out: 'true',
              vigil_target: 'pi-1',
            },
          },
        ]);
        const metrics = await (await fetch(`${base}/metrics`)).text();
        expect(metrics).toMatch(/^vigil_scraper_targets 1$/m);
        expect(metrics).toMatch(/^vigil_scraper_heartbeats_dropped_total 0$/m);
        expect(metrics).toMatch(/^process_resident_memory_bytes \d+/m);
        // A removed target's up series goes with it.
        await scraper.scrapeOnce(scraper.targets[0]!);
        expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^vigil_target_up\{target="pi-1"\} 0$/m);
        await db.deleteFrom('targets').execute();
        await scraper.refreshTargets();
        expect(await (await fetch(`${base}/metrics`)).text()).not.toMatch(/vigil_target_up\{target="pi-1"\}/);
      } finally {
        server.close();
      }
    } finally {
      await drop();
    }
  });
});
