#!/usr/bin/env -S node --max-semi-space-size=2
// Runs the built scraper (dist/vigil-scraper.mjs, from `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/vigil-scraper.mjs', import.meta.url));
if (!existsSync(dist)) {
  process.stderr.write(`vigil-scraper: ${dist} is missing: build it with \`npm run build\` (npm install does it)\n`);
  process.exit(1);
}
const { main } = await import(dist);
await main(process.argv.slice(2));
