import { type BodyFigures, figuresFromBody } from '@vigil/core/heartbeat';
import { scrapeTarget } from '@vigil/core/scrape';
import { maskUrl } from '@vigil/core/secrets';
import type { ScrapeTestView } from '$lib/api';

/** The largest body a test scrape reads, bytes (the scraper's default limit). */
const BODY_LIMIT = 16 * 1024 * 1024;

/**
 * Scrapes `url` once, as the scraper would (same request, limits, parser and
 * figures), and returns what it would record, writing nothing. CPU % is null:
 * it needs two scrapes. Never throws; a failed scrape says why.
 * @param timeoutSeconds at most this long (default 10 s)
 */
export async function testScrape(
  url: string,
  { token, timeoutSeconds = 10 }: { token?: string; timeoutSeconds?: number },
): Promise<ScrapeTestView> {
  const started = Date.now();
  const r = await scrapeTarget<BodyFigures>(url, { token, timeoutSeconds, bodyLimitBytes: BODY_LIMIT }, async (body) =>
    figuresFromBody(body, undefined, started / 1000),
  );
  const base = { url: maskUrl(url), time: new Date(started).toISOString(), up: r.up, duration_seconds: r.durationSeconds };
  if (!r.up) return { ...base, error: r.error, figures: null, inventory: null };
  const { figures, inventory } = r.parsed;
  return { ...base, error: null, figures, inventory };
}
