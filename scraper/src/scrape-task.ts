import type { BodyFigures, Counters } from '@vigil/core/heartbeat';
import { type ScrapeResult, scrapeTarget } from '@vigil/core/scrape';

/** One scrape as the scraper hands it to a worker: plain data, cloned across threads. */
export interface ScrapeTask {
  url: string;
  token?: string;
  timeoutSeconds: number;
  bodyLimitBytes: number;
  intervalSeconds: number;
  /** Guarded addresses that may be scraped all the same (VIGIL_SCRAPE_ALLOW). */
  allowAddresses?: readonly string[];
  /** The target's counters from its last scrape that started a window, for cpu % and the rates. */
  previous: Counters | undefined;
  /** When the scrape counts as started, Unix seconds. */
  scrapeTime: number;
}

/** What a scrape gave: its heartbeat figures and counters, or why it failed. */
export type ScrapeOutcome = ScrapeResult<BodyFigures>;

/** Runs a task with `derive` turning the body into figures (on whichever thread calls it). */
export function runScrapeTask(
  task: ScrapeTask,
  derive: (body: Uint8Array, previous: Counters | undefined, scrapeTime: number) => BodyFigures | { error: string },
): Promise<ScrapeOutcome> {
  return scrapeTarget(
    task.url,
    {
      token: task.token,
      timeoutSeconds: task.timeoutSeconds,
      bodyLimitBytes: task.bodyLimitBytes,
      intervalSeconds: task.intervalSeconds,
      allowAddresses: task.allowAddresses,
    },
    async (body) => derive(body, task.previous, task.scrapeTime),
  );
}
