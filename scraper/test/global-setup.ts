import { ensureBuilt } from '@vigil/core/testing';

/** The scraper's tests scrape the real exporter program: build it first if its sources changed. */
export default function setup(): void {
  ensureBuilt('exporter', 'dist/vigil-exporter.mjs', ['exporter/src', 'exporter/bin', 'core/src']);
}
