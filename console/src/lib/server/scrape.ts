import { type BodyFigures, figuresFromBody } from '@vigil/core/heartbeat';
import { scrapeTarget } from '@vigil/core/scrape';
import { maskUrl } from '@vigil/core/secrets';
import type { ScrapeTestView } from '$lib/api';
import { consoleConfig } from './config';

/** The largest body a test scrape reads, bytes (the scraper's default limit). */
const BODY_LIMIT = 16 * 1024 * 1024;

/**
 * Scrapes `url` once, as the scraper would (same request, limits, parser and
 * figures), and returns what it would record, writing nothing. CPU % is null:
 * it needs two scrapes. Never throws; a failed scrape says why.
 * @param token the target's own token; without one, the scraper's (VIGIL_EXPORTER_TOKEN in the console's environment)
 * @param timeoutSeconds at most this long (default 10 s)
 */
export async function testScrape(
  url: string,
  { token, timeoutSeconds = 10 }: { token?: string | null; timeoutSeconds?: number },
): Promise<ScrapeTestView> {
  const started = Date.now();
  const r = await scrapeTarget<BodyFigures>(
    url,
    {
      token: token ?? consoleConfig().exporterToken,
      timeoutSeconds,
      bodyLimitBytes: BODY_LIMIT,
      allowAddresses: consoleConfig().scrapeAllow,
    },
    async (body) => figuresFromBody(body, undefined, started / 1000),
  );
  const base = { url: maskUrl(url), time: new Date(started).toISOString(), up: r.up, duration_seconds: r.durationSeconds };
  if (!r.up) return { ...base, error: r.error, figures: null, inventory: null };
  const { figures, inventory } = r.parsed;
  return { ...base, error: null, figures, inventory };
}
