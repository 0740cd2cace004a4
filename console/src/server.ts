// The console's own server: adapter-node's handler for the pages, and (later)
// the WebSocket upgrades for terminals, which the handler cannot take.
// Built by scripts/bundle.mjs into dist/server.mjs, which bin/vigil-console.js runs.
import http from 'node:http';
import { ConfigError } from '@vigil/core/config';
import { type ConsoleConfig, loadConsoleConfig } from './lib/server/config.js';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(`vigil-console — the web console

Usage: vigil-console [--help | --check-config]

Environment:
  VIGIL_CONSOLE_LISTEN   address to listen on (default 127.0.0.1:3000)
  VIGIL_CONSOLE_ORIGIN   the URL browsers use (default http://localhost:<port>); requests
                         naming another host are refused (DNS rebinding)
  DATABASE_URL           postgres://…, or unset for the embedded database a running \`vigil start\` serves
`);
  process.exit(0);
}
let config: ConsoleConfig;
try {
  config = loadConsoleConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`vigil-console: ${err.message}\n`);
  process.exit(2);
}
if (argv[0] === '--check-config') process.exit(0);
if (argv.length > 0) {
  process.stderr.write(`vigil-console: unknown argument ${argv[0]}; it is configured by environment variables, see --help\n`);
  process.exit(2);
}
// adapter-node reads ORIGIN when its handler loads: the URL it builds for each
// request (and SvelteKit's cross-site form check) uses the configured origin.
process.env.ORIGIN = config.origin.origin;
const { handler } = (await import(new URL('../build/handler.js', import.meta.url).href)) as { handler: http.RequestListener };
const server = http.createServer(handler);
server.on('error', (err: NodeJS.ErrnoException) => {
  process.stderr.write(
    `vigil-console: cannot listen on ${config.listen.host}:${config.listen.port}: ${err.code}; set VIGIL_CONSOLE_LISTEN to a free address\n`,
  );
  process.exit(1);
});
server.listen(config.listen.port, config.listen.host, () => {
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  process.stdout.write(`console listening on http://${host}:${config.listen.port} (origin ${config.origin.origin})\n`);
});
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
