// The console's own server: adapter-node's handler for the pages, and (later)
// the WebSocket upgrades for terminals, which the handler cannot take.
// Built by scripts/bundle.mjs into dist/server.mjs, which bin/vigil-console.js runs.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { ConfigError } from '@vigil/core/config';
import { CONSOLE_HELP, type ConsoleConfig, loadConsoleConfig } from './lib/server/config.js';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(CONSOLE_HELP);
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
// The client's address (sign-in throttling, the audit log): behind N proxies,
// the Nth address from the right of X-Forwarded-For, as adapter-node reads it.
if (config.proxyHops > 0) {
  process.env.ADDRESS_HEADER = 'x-forwarded-for';
  process.env.XFF_DEPTH = String(config.proxyHops);
}
// Every request body, forms included, is read up to 1 MiB (the API's JSON limit); past it, 413.
process.env.BODY_SIZE_LIMIT = '1M';
const { handler } = (await import(new URL('../build/handler.js', import.meta.url).href)) as { handler: http.RequestListener };
const server = http.createServer(handler);
// Terminals (wss://…/ws/terminal/<host>): the handler the app's hooks registered (hooks.server.ts).
type Upgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>;
server.on('upgrade', (req, socket, head) => {
  // Hosts that connect out (/api/v1/connect…), else terminals.
  const connect = (req.url ?? '').startsWith('/api/v1/connect');
  const upgrade = (globalThis as Record<symbol, unknown>)[
    Symbol.for(connect ? 'vigil.console.connect-upgrade' : 'vigil.console.terminal-upgrade')
  ] as Upgrade | undefined;
  if (!upgrade) return void socket.destroy();
  upgrade(req, socket, head).catch((err: unknown) => {
    process.stderr.write(`vigil-console: ${connect ? 'connect' : 'terminal'} upgrade failed: ${(err as Error).message}\n`);
    socket.destroy();
  });
});
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
    // Open terminals end first, each with its terminal_sessions row written (5 s at most).
    const closeTerminals = (globalThis as Record<symbol, unknown>)[Symbol.for('vigil.console.terminal-close')] as
      | (() => Promise<void>)
      | undefined;
    void Promise.race([closeTerminals?.(), new Promise((r) => setTimeout(r, 5000).unref())])
      .catch((err: unknown) => process.stderr.write(`vigil-console: ending terminals: ${(err as Error).message}\n`))
      .finally(() => {
        server.close(() => process.exit(0));
        server.closeAllConnections();
      });
  });
}
