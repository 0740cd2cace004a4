import { ensureBuilt } from '@vigil/core/testing';

/**
 * The scraper's tests scrape the real exporter program, and parse in the
 * scraper's built worker (dist/parse-worker.mjs): build both first if their
 * sources changed.
 */
export default function setup(): void {
  ensureBuilt('exporter', 'dist/vigil-exporter.mjs', ['exporter/src', 'exporter/bin', 'core/src']);
  ensureBuilt('scraper', 'dist/parse-worker.mjs', ['scraper/src', 'core/src', 'migrations/src']);
}
