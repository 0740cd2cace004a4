#!/usr/bin/env node
// Runs the built console: dist/server.mjs (its Node server) and build/ (the
// SvelteKit app), both from `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const server = fileURLToPath(new URL('../dist/server.mjs', import.meta.url));
const app = fileURLToPath(new URL('../build/handler.js', import.meta.url));
for (const f of [server, app]) {
  if (!existsSync(f)) {
    process.stderr.write(`vigil-console: ${f} is missing: build it with \`npm run build\` (npm install does it)\n`);
    process.exit(1);
  }
}
await import(server);
