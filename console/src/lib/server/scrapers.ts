import { type Database, listScrapers, liveScraperCount } from '@vigil/db';
import type { Kysely } from 'kysely';
import type { ScraperView } from '$lib/api';
import { consoleConfig } from './config';

/**
 * The scraper replicas, live ones first: id, where each runs, its version,
 * when it started and was last seen (by the database's clock, as the
 * scrapers' membership heartbeats wrote it), whether it is live, and how many
 * targets it owns. From the `scrapers` table.
 */
export async function scraperViews(db: Kysely<Database>, timeoutSeconds = consoleConfig().scraperTimeoutSeconds): Promise<ScraperView[]> {
  return (await listScrapers(db, timeoutSeconds)).map((s) => ({
    id: s.id,
    hostname: s.hostname,
    pid: s.pid,
    version: s.version,
    started_at: s.started_at.toISOString(),
    last_seen: s.last_seen.toISOString(),
    live: s.live,
    owned_targets: s.owned,
  }));
}

/** How many scraper replicas are live now (seen within VIGIL_SCRAPER_MEMBER_TIMEOUT, by the database's clock). */
export async function liveScrapers(db: Kysely<Database>, timeoutSeconds = consoleConfig().scraperTimeoutSeconds): Promise<number> {
  return liveScraperCount(db, timeoutSeconds);
}
