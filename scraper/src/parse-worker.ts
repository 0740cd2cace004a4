// A worker thread's task: a scraped body in, a heartbeat's figures out. Parsing
// is the CPU-heavy part of a scrape; run here, no body (however large or
// hostile) holds the scraper's event loop, and both cores work.

import type { CpuTotals } from './heartbeat.js';
import { type BodyFigures, figuresFromBody } from './heartbeat.js';

/** What the scraper sends: the body's bytes (transferred), the target's previous CPU totals, the scrape's start (Unix seconds). */
export interface ParseTask {
  body: Uint8Array;
  previousCpu: CpuTotals | undefined;
  scrapeTime: number;
}

/** piscina runs the default export for each task. */
export default function parse(task: ParseTask): BodyFigures | { error: string } {
  return figuresFromBody(task.body, task.previousCpu, task.scrapeTime);
}
