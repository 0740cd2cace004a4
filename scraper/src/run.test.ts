import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '@vigil/core/log';
import { closedPort } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { loadScraperConfig } from './config.js';
import { runScraper } from './run.js';

describe('runScraper', () => {
  it('migrates, serves its endpoints, and stops', async () => {
    const port = await closedPort();
    const running = await runScraper(
      loadScraperConfig({ DATABASE_URL: 'pglite://memory', VIGIL_SCRAPER_LISTEN: `127.0.0.1:${port}` }),
      silentLogger(),
    );
    try {
      expect(running.url).toBe(`http://127.0.0.1:${port}`);
      expect(await (await fetch(`${running.url}/health`)).json()).toMatchObject({ status: 'ok', targets: 0 });
    } finally {
      await running.stop();
    }
  });

  it('adds the targets of VIGIL_TARGETS at start, and updates their URL at the next one', async () => {
    const start = (targets: string) =>
      runScraper(loadScraperConfig({ DATABASE_URL: dir, VIGIL_SCRAPER_LISTEN: '127.0.0.1:0', VIGIL_TARGETS: targets }), silentLogger());
    const dir = `pglite://${mkdtempSync(path.join(tmpdir(), 'vigil-static-'))}`;
    let running = await start('web-1=http://host.docker.internal:9110, db-1=http://10.0.0.5:9110/metrics');
    try {
      expect(await (await fetch(`${running.url}/health`)).json()).toMatchObject({ targets: 2 });
      const sd = (await (await fetch(`${running.url}/sd`)).json()) as { targets: string[]; labels: Record<string, string> }[];
      expect(sd.map((g) => [g.labels.vigil_target, g.targets[0]])).toEqual([
        ['db-1', '10.0.0.5:9110'],
        ['web-1', 'host.docker.internal:9110'],
      ]);
    } finally {
      await running.stop();
    }
    running = await start('web-1=http://web-1.lan:9110/metrics');
    try {
      const sd = (await (await fetch(`${running.url}/sd`)).json()) as { targets: string[]; labels: Record<string, string> }[];
      expect(sd.map((g) => [g.labels.vigil_target, g.targets[0]])).toEqual([
        ['db-1', '10.0.0.5:9110'], // kept: removing one is the CLI's or the console's to do
        ['web-1', 'web-1.lan:9110'],
      ]);
    } finally {
      await running.stop();
    }
  });

  it('says which address is taken', async () => {
    const first = await runScraper(
      loadScraperConfig({ DATABASE_URL: 'pglite://memory', VIGIL_SCRAPER_LISTEN: '127.0.0.1:0' }),
      silentLogger(),
    );
    const port = Number(new URL(first.url).port);
    try {
      await expect(
        runScraper(loadScraperConfig({ DATABASE_URL: 'pglite://memory', VIGIL_SCRAPER_LISTEN: `127.0.0.1:${port}` }), silentLogger()),
      ).rejects.toThrow(new RegExp(`cannot listen on 127.0.0.1:${port}: EADDRINUSE; set VIGIL_SCRAPER_LISTEN`));
    } finally {
      await first.stop();
    }
  });
});
