import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { packageBin } from '@vigil/core/testing';

/** A real scraper, run as its own process. */
export interface ScraperProcess {
  /** `http://127.0.0.1:<port>`: its /metrics, /sd and /health. */
  url: string;
  child: ChildProcess;
  /** Its JSON log lines so far, parsed. */
  log: Record<string, unknown>[];
  /** SIGTERM (a clean stop: it hands its targets over), and wait for it to exit. */
  close(): Promise<void>;
  /** SIGKILL (a crash: its row in `scrapers` goes stale), and wait for it to exit. */
  kill(): Promise<void>;
}

/**
 * Starts the scraper program (built, as npm links it) with `env` added to this
 * environment, listening on 127.0.0.1:0, and resolves once it says where it listens.
 * @param wrapper a command that runs it (e.g. `faketime -f +60s`, a clock a minute fast)
 * @throws when it exits before listening, with what it printed
 */
export function startScraperProcess(env: Record<string, string>, wrapper: readonly string[] = []): Promise<ScraperProcess> {
  const bin = packageBin('@vigil/scraper', 'vigil-scraper', import.meta.url);
  const [cmd, ...args] = [...wrapper, bin];
  const child = spawn(cmd!, args, {
    env: { ...process.env, VIGIL_SCRAPER_LISTEN: '127.0.0.1:0', VIGIL_LOG_LEVEL: 'info', VIGIL_LOG_PRETTY: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: Record<string, unknown>[] = [];
  const printed: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => printed.push(l));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = (signal: NodeJS.Signals) => async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      printed.push(line);
      try {
        log.push(JSON.parse(line));
      } catch {
        // not JSON: kept in `printed` for the error below
      }
      const m = /scraper listening on (http:\/\/[^\s"]+) /.exec(line);
      if (m) resolve({ url: m[1]!, child, log, close: stop('SIGTERM'), kill: stop('SIGKILL') });
    });
    child.once('exit', (code) => reject(new Error(`the scraper exited with ${code} before listening:\n${printed.join('\n')}`)));
  });
}
