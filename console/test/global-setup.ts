import { ensureBuilt } from '@vigil/core/testing';

/** `vigil start` runs the built programs: build those whose sources changed. */
export default function setup(): void {
  ensureBuilt('exporter', 'dist/vigil-exporter.mjs', ['exporter/src', 'exporter/bin', 'core/src']);
  ensureBuilt('scraper', 'dist/vigil-scraper.mjs', ['scraper/src', 'core/src', 'db/src', 'migrations/src']);
  ensureBuilt('console', 'dist/server.mjs', [
    'console/src',
    'console/vite.config.ts',
    'console/svelte.config.js',
    'core/src',
    'db/src',
    'migrations/src',
  ]);
  ensureBuilt('cli', 'dist/vigil.mjs', ['cli/src', 'core/src', 'db/src', 'migrations/src']);
}
