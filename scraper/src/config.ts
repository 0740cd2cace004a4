import { availableParallelism } from 'node:os';
import { flag, integer, type ListenAddress, listenAddress, logLevel, parseEnv, tokenSchema } from '@vigil/core/config';
import { DATABASE_URL } from '@vigil/db';
import * as z from 'zod/mini';

const schema = z.object({
  DATABASE_URL,
  VIGIL_EXPORTER_TOKEN: tokenSchema,
  VIGIL_SCRAPER_LISTEN: listenAddress('127.0.0.1:9111'),
  VIGIL_SCRAPE_CONCURRENCY: integer(64, { min: 1, max: 10_000 }),
  VIGIL_SCRAPE_BODY_LIMIT: integer(16 * 1024 * 1024, { min: 1024 }),
  VIGIL_DOWN_AFTER_INTERVALS: integer(3, { min: 1, max: 100 }),
  VIGIL_RETENTION_DAYS: integer(30, { min: 1, max: 3650 }),
  VIGIL_ROLLUP_RETENTION_DAYS: integer(365, { min: 1, max: 36500 }),
  VIGIL_HEARTBEAT_QUEUE_LIMIT: integer(100_000, { min: 100 }),
  VIGIL_SCRAPE_THREADS: integer(availableParallelism(), { min: 0, max: 64 }),
  VIGIL_LOG_LEVEL: logLevel,
  VIGIL_LOG_PRETTY: flag,
});

/** Every environment variable the program reads (its --help must name each). */
export const SCRAPER_VARIABLES: readonly string[] = Object.keys(schema.shape);

/** The scraper's configuration, parsed once from the environment and frozen. */
export interface ScraperConfig {
  databaseUrl: string | undefined;
  token: string | undefined;
  listen: ListenAddress;
  concurrency: number;
  bodyLimitBytes: number;
  downAfterIntervals: number;
  retentionDays: number;
  /** Days the hourly rollups are kept. */
  rollupRetentionDays: number;
  queueLimit: number;
  /** Most worker threads making the scrapes (it starts with one); 0 scrapes on the main thread. */
  scrapeThreads: number;
  logLevel: string;
  logPretty: boolean;
}

/**
 * Reads the scraper's environment.
 * @throws ConfigError naming each bad variable and what it expects
 */
export function loadScraperConfig(env: Record<string, string | undefined> = process.env): ScraperConfig {
  const e = parseEnv(schema, env);
  return Object.freeze({
    databaseUrl: e.DATABASE_URL,
    token: e.VIGIL_EXPORTER_TOKEN,
    listen: e.VIGIL_SCRAPER_LISTEN,
    concurrency: e.VIGIL_SCRAPE_CONCURRENCY,
    bodyLimitBytes: e.VIGIL_SCRAPE_BODY_LIMIT,
    downAfterIntervals: e.VIGIL_DOWN_AFTER_INTERVALS,
    retentionDays: e.VIGIL_RETENTION_DAYS,
    rollupRetentionDays: e.VIGIL_ROLLUP_RETENTION_DAYS,
    queueLimit: e.VIGIL_HEARTBEAT_QUEUE_LIMIT,
    scrapeThreads: e.VIGIL_SCRAPE_THREADS,
    logLevel: e.VIGIL_LOG_LEVEL,
    logPretty: e.VIGIL_LOG_PRETTY,
  });
}
