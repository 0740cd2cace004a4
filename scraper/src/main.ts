import { ConfigError } from '@vigil/core/config';
import { createLogger, type Logger } from '@vigil/core/log';
import { variablesHelp } from '@vigil/core/variables';
import { loadScraperConfig, SCRAPER_VARIABLE_DOCS } from './config.js';
import { runScraper } from './run.js';

export const HELP = `vigil-scraper — scrape the targets, record heartbeats, judge liveness, notify

Usage: vigil-scraper [--help | --check-config]

  --check-config   read the configuration, say what is wrong, and exit

Targets come from the database (add them with: npx vigil targets add NAME URL).
Endpoints: /metrics (the scraper's own), /sd (Prometheus HTTP service discovery), /health.

Environment:
${variablesHelp(SCRAPER_VARIABLE_DOCS)}`;

/**
 * Entry point of the `vigil-scraper` program: parses its environment once,
 * migrates the database, runs until SIGINT or SIGTERM (a repeated signal while
 * stopping is ignored; the exit code stays 0).
 */
export async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return;
  }
  if (argv.length === 1 && argv[0] === '--check-config') {
    try {
      loadScraperConfig();
    } catch (err) {
      process.stderr.write(`vigil-scraper: ${(err as Error).message}\n`);
      process.exitCode = err instanceof ConfigError ? 2 : 1;
    }
    return;
  }
  if (argv.length > 0) {
    process.stderr.write(`vigil-scraper: unknown argument ${argv[0]}; it is configured by environment variables, see --help\n`);
    process.exitCode = 2;
    return;
  }
  // Signals are taken before it starts: one that arrives while it starts (or
  // just as it says it listens) stops it cleanly once it is up, rather than
  // killing it with Node's default action. A second signal changes nothing.
  let running: Awaited<ReturnType<typeof runScraper>> | undefined;
  let log: Logger | undefined;
  let requested: string | null = null;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping || !running) return;
    stopping = true;
    log?.info({ signal }, 'stopping');
    running.stop().then(
      () => process.exit(0),
      (err: Error) => {
        process.stderr.write(`vigil-scraper: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  try {
    const config = loadScraperConfig();
    log = createLogger('scraper', config.logLevel, config.logPretty);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (running) stop(signal);
        else requested ??= signal;
      });
    }
    running = await runScraper(config, log);
  } catch (err) {
    process.stderr.write(`vigil-scraper: ${(err as Error).message}\n`);
    process.exitCode = err instanceof ConfigError ? 2 : 1;
    if (requested) process.exit(process.exitCode);
    return;
  }
  if (requested) stop(requested);
}
