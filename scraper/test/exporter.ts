import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { packageBin } from '@vigil/core/testing';

/** A real exporter, run as its own process. */
export interface ExporterProcess {
  /** `http://127.0.0.1:<port>`, the port it bound. */
  url: string;
  child: ChildProcess;
  /** SIGTERM (a clean shutdown: it says goodbye to the scrapers it knows), and wait for it to exit. */
  close(): Promise<void>;
  /** SIGKILL (a crash, a power cut: no goodbye), and wait for it to exit. */
  kill(): Promise<void>;
  /** Every line it printed so far (its JSON log). */
  printed: string[];
}

/** The exporter's launcher, found through its package as npm links it (`bin.vigil-exporter`). */
export function exporterBin(): string {
  return packageBin('@vigil/exporter', 'vigil-exporter', import.meta.url);
}

/**
 * Starts the exporter program (built, with its own flags) with `env` added to
 * this environment, and resolves once it logs the address it listens on.
 * Listens on 127.0.0.1:0 unless `VIGIL_EXPORTER_LISTEN` is given; exits at once on
 * SIGTERM unless `VIGIL_EXPORTER_STOP_GRACE` is given.
 * @throws when it exits before listening, with what it printed
 */
export function startExporterProcess(env: Record<string, string> = {}): Promise<ExporterProcess> {
  // Run as an executable, as a service manager does: its shebang gives the V8
  // flags, so there is one process (a signal, even SIGKILL, reaches the exporter itself).
  const child = spawn(exporterBin(), [], {
    // No goodbye wait unless a test asks for one: a test's scraper is often gone before its exporter.
    env: {
      ...process.env,
      VIGIL_EXPORTER_LISTEN: '127.0.0.1:0',
      VIGIL_EXPORTER_STOP_GRACE: '0',
      VIGIL_LOG_LEVEL: 'info',
      VIGIL_LOG_PRETTY: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
      const m = /listening on (http:\/\/[^\s"]+)\/metrics/.exec(line);
      if (m) resolve({ url: m[1]!, child, close: stop('SIGTERM'), kill: stop('SIGKILL'), printed });
    });
    child.once('exit', (code) => reject(new Error(`the exporter exited with ${code} before listening:\n${printed.join('\n')}`)));
  });
}
