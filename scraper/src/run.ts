import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@vigil/core/log';
import { maskUrl } from '@vigil/core/secrets';
import { createDb, migrateToLatest, resolveDatabaseUrl, upsertTarget } from '@vigil/db';
import { createScraperApp } from './app.js';
import type { ScraperConfig } from './config.js';
import { Scraper } from './scraper.js';

/** A running scraper service. */
export interface RunningScraper {
  scraper: Scraper;
  url: string;
  stop(): Promise<void>;
}

/**
 * Connects to the database, migrates it, starts the scraper's jobs and its HTTP
 * endpoints on `config.listen`.
 * @throws when the database cannot be reached or migrated, or the address is taken
 */
export async function runScraper(
  config: ScraperConfig,
  log = createLogger('scraper', config.logLevel, config.logPretty),
): Promise<RunningScraper> {
  const db = await createDb(resolveDatabaseUrl(config.databaseUrl), { applicationName: 'vigil-scraper' });
  try {
    const applied = await migrateToLatest(db);
    if (applied.length) log.info({ applied }, 'database migrated');
    for (const t of config.staticTargets) {
      const target = await upsertTarget(db, { name: t.name, url: t.url, source: 'env' });
      log.info({ target: target.name, url: maskUrl(target.url) }, 'target from VIGIL_TARGETS');
    }
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const scraper = new Scraper(db, config, log);
  await scraper.start();
  const server = http.createServer(createScraperApp(scraper, log).callback());
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new Error(
            `cannot listen on ${config.listen.host}:${config.listen.port}: ${err.code}; set VIGIL_SCRAPER_LISTEN to a free address`,
          ),
        ),
      );
      server.listen(config.listen.port, config.listen.host, resolve);
    });
  } catch (err) {
    await scraper.stop();
    await db.destroy();
    throw err;
  }
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.address}:${addr.port}`;
  log.info({ url }, `scraper listening on ${url} (/metrics, /sd, /health)`);
  return {
    scraper,
    url,
    async stop() {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await scraper.stop();
      await db.destroy();
    },
  };
}
