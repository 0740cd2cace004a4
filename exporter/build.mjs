#!/usr/bin/env node
// Builds the exporter into one file, dist/vigil-exporter.mjs, which
// bin/vigil-exporter.js runs. The exporter lives on every host, so its heap
// matters: a bundle with whitespace and dead code removed (zod/mini is
// tree-shaken to what the schemas use) loads into 4.5 MiB of heap instead of
// 7.7 MiB for the same code compiled by tsc into one file per module (heap in
// use after a full GC, right after importing it).
// Identifiers are kept, so stack traces stay readable; a source map sits
// beside it (node --enable-source-maps uses it).
//
//   node exporter/build.mjs [--outfile FILE]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { outfile: { type: 'string' }, help: { type: 'boolean' } } });
if (values.help) {
  process.stdout.write('usage: node exporter/build.mjs [--outfile FILE]\nBuilds the exporter from src/main.ts into one file (default dist/vigil-exporter.mjs), with its source map.\n');
  process.exit(0);
}
const outfile = path.resolve(values.outfile ?? path.join(root, 'dist/vigil-exporter.mjs'));

const started = performance.now();
await build({
  entryPoints: [path.join(root, 'src/main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  // Loaded on use, from node_modules: pino-pretty only for VIGIL_LOG_PRETTY,
  // yaml only for a services file.
  external: ['pino-pretty', 'yaml'],
  // The CommonJS dependencies (koa, prom-client, pino) call require() for
  // Node's own modules; an ES module has none, so give it one.
  banner: { js: "import { createRequire as __vigilCreateRequire } from 'node:module'; const require = __vigilCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
process.stdout.write(`built ${path.relative(process.cwd(), outfile)} in ${Math.round(performance.now() - started)} ms\n`);

