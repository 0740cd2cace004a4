import { ensureBuilt } from '@vigil/core/testing';

/**
 * The scraper's tests scrape the real exporter program, and scrape in the
 * scraper's built worker (dist/scrape-worker.mjs): build both first if their
 * sources changed.
 */
export default function setup(): void {
  ensureBuilt('exporter', 'dist/vigil-exporter.mjs', ['exporter/src', 'exporter/bin', 'core/src']);
  ensureBuilt('scraper', 'dist/scrape-worker.mjs', ['scraper/src', 'core/src', 'db/src', 'migrations/src']);
}
