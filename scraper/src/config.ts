import { availableParallelism } from 'node:os';
import { scrapeAllow } from '@vigil/core/address-guard';
import {
  flag,
  integer,
  invalid,
  type ListenAddress,
  listenAddress,
  logLevel,
  parseEnv,
  readSecretFiles,
  tokenFileSchema,
  tokenSchema,
} from '@vigil/core/config';
import { targetName, targetUrl } from '@vigil/core/target-schema';
import { EXPORTER_TOKEN_FILE_DOC, LOG_LEVEL_DOC, LOG_PRETTY_DOC, type VariableDocs } from '@vigil/core/variables';
import { DATABASE_URL } from '@vigil/db';
import * as z from 'zod/mini';

/**
 * `VIGIL_TARGETS`: targets declared where the scraper is deployed (a compose
 * file's own exporter), `name=url` separated by commas; each is added, or its
 * URL updated, on every start.
 */
const staticTargets = z.pipe(
  z.optional(z.string()),
  z.transform((s, ctx) => {
    const targets: { name: string; url: string }[] = [];
    for (const entry of (s ?? '').split(',')) {
      const item = entry.trim();
      if (item === '') continue;
      const eq = item.indexOf('=');
      const name = z.safeParse(targetName, item.slice(0, Math.max(eq, 0)));
      const url = z.safeParse(targetUrl, item.slice(eq + 1));
      if (eq < 1 || !name.success)
        return invalid(ctx, `expected name=url entries separated by commas; "${item.slice(0, 80)}" has no valid target name before "="`);
      if (!url.success) return invalid(ctx, `target ${name.data}: ${url.error.issues[0]!.message}`);
      if (targets.some((t) => t.name === name.data)) return invalid(ctx, `target ${name.data} is named twice`);
      targets.push({ name: name.data, url: url.data });
    }
    return targets;
  }),
);

const schema = z.object({
  DATABASE_URL,
  VIGIL_EXPORTER_TOKEN: tokenSchema,
  VIGIL_EXPORTER_TOKEN_FILE: tokenFileSchema,
  VIGIL_SCRAPER_LISTEN: listenAddress('127.0.0.1:9111'),
  VIGIL_TARGETS: staticTargets,
  VIGIL_SCRAPE_CONCURRENCY: integer(64, { min: 1, max: 10_000 }),
  VIGIL_SCRAPE_BODY_LIMIT: integer(16 * 1024 * 1024, { min: 1024 }),
  VIGIL_DOWN_AFTER_INTERVALS: integer(3, { min: 1, max: 100 }),
  VIGIL_RETENTION_DAYS: integer(30, { min: 1, max: 3650 }),
  VIGIL_ROLLUP_RETENTION_DAYS: integer(365, { min: 1, max: 36500 }),
  VIGIL_HEARTBEAT_QUEUE_LIMIT: integer(100_000, { min: 100 }),
  VIGIL_SCRAPE_THREADS: integer(availableParallelism(), { min: 0, max: 64 }),
  VIGIL_SCRAPE_ALLOW: scrapeAllow,
  VIGIL_SCRAPER_MEMBER_TIMEOUT: integer(10, { min: 2, max: 3600 }),
  VIGIL_LOG_LEVEL: logLevel,
  VIGIL_LOG_PRETTY: flag,
});

/** The scraper's variables, each described once: its --help and the README's table are made from this. */
export const SCRAPER_VARIABLE_DOCS: VariableDocs<typeof schema> = {
  DATABASE_URL: {
    meaning:
      'postgres://user@host:5432/db, pglite://<dir>, or unset for the embedded database a running `vigil start` serves (.vigil/pgdata)',
  },
  VIGIL_EXPORTER_TOKEN: { meaning: 'bearer token sent to exporters (16+ characters); a target may have its own' },
  VIGIL_EXPORTER_TOKEN_FILE: EXPORTER_TOKEN_FILE_DOC,
  VIGIL_SCRAPER_LISTEN: { default: '127.0.0.1:9111', meaning: 'address of /metrics, /sd and /health' },
  VIGIL_TARGETS: {
    meaning:
      "targets added (or their URL updated) at every start, name=url separated by commas, e.g. the compose host's own exporter: web-1=http://host.docker.internal:9110/metrics",
  },
  VIGIL_SCRAPE_CONCURRENCY: { default: '64', meaning: 'scrapes at once' },
  VIGIL_SCRAPE_BODY_LIMIT: { default: '16777216', meaning: 'largest exposition accepted, bytes' },
  VIGIL_DOWN_AFTER_INTERVALS: { default: '3', meaning: 'intervals without a successful scrape before a target is down' },
  VIGIL_RETENTION_DAYS: { default: '30', meaning: 'days of heartbeats kept' },
  VIGIL_ROLLUP_RETENTION_DAYS: { default: '365', meaning: 'days of hourly rollups kept, for the long charts' },
  VIGIL_HEARTBEAT_QUEUE_LIMIT: { default: '100000', meaning: 'heartbeats held while the database is away' },
  VIGIL_SCRAPE_THREADS: {
    defaultText: 'the number of cores',
    meaning: 'most worker threads making the scrapes (it starts with one and adds one while they are busy); 0 scrapes on the main thread',
  },
  VIGIL_SCRAPE_ALLOW: {
    meaning:
      'link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254) that may be scraped all the same, comma-separated addresses or CIDR ranges; unset: none is',
  },
  VIGIL_SCRAPER_MEMBER_TIMEOUT: {
    default: '10',
    meaning: 'seconds a scraper replica may go unseen before its targets move to the others (by the database clock)',
  },
  VIGIL_LOG_LEVEL: LOG_LEVEL_DOC,
  VIGIL_LOG_PRETTY: LOG_PRETTY_DOC,
};

/** The scraper's configuration schema (for checking its descriptions). */
export const SCRAPER_SCHEMA = schema;

/** The scraper's configuration, parsed once from the environment and frozen. */
export interface ScraperConfig {
  databaseUrl: string | undefined;
  token: string | undefined;
  listen: ListenAddress;
  /** Targets declared in VIGIL_TARGETS, added or updated at start. */
  staticTargets: readonly { name: string; url: string }[];
  concurrency: number;
  bodyLimitBytes: number;
  downAfterIntervals: number;
  retentionDays: number;
  /** Days the hourly rollups are kept. */
  rollupRetentionDays: number;
  queueLimit: number;
  /** Most worker threads making the scrapes (it starts with one); 0 scrapes on the main thread. */
  scrapeThreads: number;
  /** Guarded (link-local, metadata) addresses and ranges that may be scraped all the same. */
  scrapeAllow: readonly string[];
  /** Seconds a replica may go unseen before its targets move to the others. */
  memberTimeoutSeconds: number;
  logLevel: string;
  logPretty: boolean;
}

/**
 * Reads the scraper's environment.
 * @throws ConfigError naming each bad variable and what it expects
 */
export function loadScraperConfig(env: Record<string, string | undefined> = process.env): ScraperConfig {
  const e = parseEnv(schema, readSecretFiles(env, ['VIGIL_EXPORTER_TOKEN']));
  return Object.freeze({
    databaseUrl: e.DATABASE_URL,
    token: e.VIGIL_EXPORTER_TOKEN,
    listen: e.VIGIL_SCRAPER_LISTEN,
    staticTargets: Object.freeze(e.VIGIL_TARGETS),
    concurrency: e.VIGIL_SCRAPE_CONCURRENCY,
    bodyLimitBytes: e.VIGIL_SCRAPE_BODY_LIMIT,
    downAfterIntervals: e.VIGIL_DOWN_AFTER_INTERVALS,
    retentionDays: e.VIGIL_RETENTION_DAYS,
    rollupRetentionDays: e.VIGIL_ROLLUP_RETENTION_DAYS,
    queueLimit: e.VIGIL_HEARTBEAT_QUEUE_LIMIT,
    scrapeThreads: e.VIGIL_SCRAPE_THREADS,
    scrapeAllow: e.VIGIL_SCRAPE_ALLOW,
    memberTimeoutSeconds: e.VIGIL_SCRAPER_MEMBER_TIMEOUT,
    logLevel: e.VIGIL_LOG_LEVEL,
    logPretty: e.VIGIL_LOG_PRETTY,
  });
}
