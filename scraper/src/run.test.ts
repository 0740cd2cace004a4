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
