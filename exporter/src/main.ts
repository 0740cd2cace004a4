import './compat.js';
import { ConfigError } from '@vigil/core/config';
import { createLogger, type Logger } from '@vigil/core/log';
import { variablesHelp } from '@vigil/core/variables';
import { COLLECTORS } from './collectors/index.js';
import { loadServicesFile, ServicesFileError } from './collectors/services.js';
import { EXPORTER_VARIABLE_DOCS, type ExporterConfig, loadExporterConfig } from './config.js';
import { loadModulesFile, ModulesFileError } from './probe/modules.js';
import { type RunningExporter, startExporter } from './server.js';

export const HELP = `vigil-exporter — host metrics in the Prometheus exposition format

Usage: vigil-exporter [--help | --check-config]

  --check-config   read the configuration (and the services file), say what is wrong, and exit

Endpoints: /metrics (Prometheus text or OpenMetrics), /health (no auth).

Environment:
${variablesHelp(EXPORTER_VARIABLE_DOCS)}
Collectors (for VIGIL_DISABLED_COLLECTORS): ${Object.keys(COLLECTORS).join(', ')}

The services file (VIGIL_SERVICES_FILE):
  services:
    - { name: web, http: https://nas.lan/, timeout: 3s, expectStatus: [200] }
    - { name: db, tcp: 127.0.0.1:5432 }
`;

/** Entry point of the `vigil-exporter` command. */
export async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return;
  }
  const checkOnly = argv.length === 1 && argv[0] === '--check-config';
  if (argv.length > 0 && !checkOnly) {
    process.stderr.write(`vigil-exporter: unknown argument ${argv[0]}; it is configured by environment variables, see --help\n`);
    process.exitCode = 2;
    return;
  }
  if (checkOnly) {
    try {
      const config = loadExporterConfig();
      if (config.servicesFile) await loadServicesFile(config.servicesFile);
      if (config.probeModulesFile) await loadModulesFile(config.probeModulesFile);
    } catch (err) {
      process.stderr.write(`vigil-exporter: ${(err as Error).message}\n`);
      process.exitCode = err instanceof ConfigError || err instanceof ServicesFileError || err instanceof ModulesFileError ? 2 : 1;
    }
    return;
  }
  // Signals are taken from the start: one that arrives while the exporter starts
  // (or just as it says it listens) stops it cleanly once it is up, rather than
  // killing it with Node's default action. A second signal while stopping cuts
  // the goodbye short; the exit is still clean (0).
  let running: RunningExporter | undefined;
  let log: Logger | undefined;
  let requested: string | null = null;
  let stopping = false;
  let config: ExporterConfig | undefined;
  const shutdown = async (signal: string) => {
    if (!running) return;
    if (stopping) {
      running.cutDrain();
      return;
    }
    stopping = true;
    log?.info({ signal, graceSeconds: config?.stopGraceSeconds }, 'shutting down: answering "stopping" until the scrapers have heard it');
    const { expected, told } = await running.drain();
    log?.info({ scrapers: expected, told }, expected === told ? 'goodbye said; exiting' : 'grace period over; exiting');
    await running.close();
    process.exit(0);
  };
  try {
    config = loadExporterConfig();
    log = createLogger('exporter', config.logLevel, config.logPretty);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (running) void shutdown(signal);
        else requested ??= signal; // still starting: stopped as soon as it is up
      });
    }
    running = await startExporter(config, log);
  } catch (err) {
    process.stderr.write(`vigil-exporter: ${(err as Error).message}\n`);
    process.exitCode = err instanceof ConfigError || err instanceof ServicesFileError || err instanceof ModulesFileError ? 2 : 1;
    if (requested) process.exit(process.exitCode);
    return;
  }
  if (requested) return void shutdown(requested);
  log.info(
    { url: running.url, auth: config.token ? 'bearer' : 'none', proc: config.paths.proc },
    `exporter listening on ${running.url}/metrics`,
  );
}
