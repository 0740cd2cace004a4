#!/usr/bin/env -S node --single-threaded --max-semi-space-size=1 --optimize-for-size --expose-gc --no-opt --no-sparkplug
// Runs the built exporter (dist/vigil-exporter.mjs, from `npm run build`) with
// the V8 flags of node-flags.js. Started as an executable, the shebang gives
// them; started as `node exporter/bin/vigil-exporter.js` without them, it runs
// itself again with them (one extra, idle node process, rather than silently
// running without the flags).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from './node-flags.js';

const dist = fileURLToPath(new URL('../dist/vigil-exporter.mjs', import.meta.url));
const argv = process.argv.slice(2);
if (!existsSync(dist)) {
  process.stderr.write(`vigil-exporter: ${dist} is missing: build it with \`npm run build\` (npm install does it)\n`);
  process.exit(1);
}
const missing = NODE_FLAGS.filter((f) => !process.execArgv.includes(f));
if (missing.length === 0) {
  const { main } = await import(dist);
  await main(argv);
} else {
  const child = spawn(process.execPath, [...process.execArgv, ...missing, fileURLToPath(import.meta.url), ...argv], {
    stdio: 'inherit',
    detached: true,
  });
  // The child has its own process group, so a terminal's Ctrl-C reaches it once, through here.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1) : 1)));
}
