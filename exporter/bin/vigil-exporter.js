#!/usr/bin/env -S node --single-threaded --max-semi-space-size=1 --optimize-for-size --expose-gc --no-opt --no-sparkplug
// The exporter runs on every host, so it is built to be small: the one-file
// bundle (dist/vigil-exporter.mjs, from `npm run build`) when it is newer than
// the sources, else the TypeScript sources through tsx. The V8 flags above keep
// it small: no V8 worker threads, a 1 MiB young generation, gc() for
// src/heap.ts to run a full GC between scrapes, and bytecode only: without
// worker threads V8's compilers would run on the main thread, and for this
// I/O-bound work they cost more CPU and memory than they save (measured side
// by side in bench/RESULTS.md).
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.join(root, 'dist/vigil-exporter.mjs');

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function bundleIsFresh() {
  try {
    return statSync(dist).mtimeMs >= newestSource(path.join(root, 'src'));
  } catch {
    return false; // not built (a checkout without `npm run build`)
  }
}

let main;
if (bundleIsFresh()) {
  ({ main } = await import(dist));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/main.ts'));
}
await main(process.argv.slice(2));
