import './compat.js';
import os from 'node:os';
import { ConfigError } from '@vigil/core/config';
import type { EnrolAnswer } from '@vigil/core/enrolment';
import { createLogger, type Logger } from '@vigil/core/log';
import { variablesHelp } from '@vigil/core/variables';
import { Credentials } from './app.js';
import { COLLECTORS } from './collectors/index.js';
import { loadServicesFile, ServicesFileError } from './collectors/services.js';
import { EXPORTER_VARIABLE_DOCS, type ExporterConfig, loadExporterConfig } from './config.js';
import { ConnectClient } from './connect.js';
import { deregisterHost, EnrolRefusedError, enrolWithRetry, hostMetadata, loadEnrolment, loadIdentity, saveEnrolment } from './enrol.js';
import { loadModulesFile, ModulesFileError } from './probe/modules.js';
import { type RunningExporter, startExporter } from './server.js';

export const HELP = `vigil-exporter — host metrics in the Prometheus exposition format

Usage: vigil-exporter [--help | --check-config | deregister]

  --check-config   read the configuration (and the services file), say what is wrong, and exit
  deregister       remove this host from the console it enrolled with (VIGIL_CONSOLE_URL), and forget the enrolment

Add a host by itself: VIGIL_CONSOLE_URL=https://vigil.example.com VIGIL_ENROL_TOKEN=vge_… vigil-exporter
(the host's key and credential are kept in VIGIL_STATE_DIR; VIGIL_CONNECT=1 for a host the scraper cannot reach).

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
  if (argv.length === 1 && argv[0] === 'deregister') return deregister();
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
  let enrolment: Awaited<ReturnType<typeof prepareEnrolment>> | undefined;
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
    await enrolment?.close();
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
    if (config.enrol) {
      enrolment = await prepareEnrolment(config, log);
      running = await startExporter(config, log, { credentials: enrolment.credentials, noListen: config.enrol.connect });
    } else running = await startExporter(config, log);
  } catch (err) {
    process.stderr.write(`vigil-exporter: ${(err as Error).message}\n`);
    process.exitCode = err instanceof ConfigError || err instanceof ServicesFileError || err instanceof ModulesFileError ? 2 : 1;
    if (requested) process.exit(process.exitCode);
    return;
  }
  if (requested) return void shutdown(requested);
  if (config.enrol && enrolment) {
    if (!config.enrol.connect)
      log.info({ url: running.url, auth: 'bearer', proc: config.paths.proc }, `exporter listening on ${running.url}/metrics`);
    const r = running;
    const done = enrolment.enrol(r, advertisedUrl(config, r.url));
    // The first enrolment must succeed; a known host serves with its kept credential meanwhile.
    if (!enrolment.saved) {
      try {
        await done;
      } catch (err) {
        process.stderr.write(`vigil-exporter: ${(err as Error).message}\n`);
        await r.close();
        process.exit(2);
      }
    } else
      void done.catch((err: unknown) =>
        log?.error({ err: (err as Error).message }, 'enrolling again was refused; serving with the kept credential'),
      );
    return;
  }
  log.info(
    { url: running.url, auth: config.token ? 'bearer' : 'none', proc: config.paths.proc },
    `exporter listening on ${running.url}/metrics`,
  );
}

/** The metrics URL to advertise: VIGIL_ADVERTISE_URL, else the bound address (the hostname when bound to all interfaces). */
export function advertisedUrl(config: ExporterConfig, boundUrl: string): string | undefined {
  if (config.enrol?.advertiseUrl) return config.enrol.advertiseUrl;
  if (config.enrol?.connect) return undefined;
  const u = new URL(boundUrl);
  if (u.hostname === '0.0.0.0' || u.hostname === '[::]') u.hostname = os.hostname();
  u.pathname = '/metrics';
  return u.toString();
}

/**
 * Before the exporter starts: its identity (made on the first start), the
 * enrolment it kept, and the credentials it accepts (its kept one at once).
 * `enrol` then enrols (again) and keeps what the console answered.
 */
async function prepareEnrolment(config: ExporterConfig, log: Logger) {
  const cfg = config.enrol!;
  const { identity, created } = await loadIdentity(cfg.stateDir);
  if (created) log.info({ stateDir: cfg.stateDir, key: identity.thumbprint }, "made this host's identity (an Ed25519 key pair)");
  const saved = loadEnrolment(cfg.stateDir, cfg.consoleUrl);
  const credentials = new Credentials(true);
  credentials.set('token', config.token);
  if (saved) credentials.set('enrolled', saved.credential);
  const metadata = hostMetadata(cfg, config.paths.rootfs);
  let credential = saved?.credential ?? '';
  let client: ConnectClient | null = null;
  return {
    saved,
    credentials,
    close: () => client?.close(),
    async enrol(running: RunningExporter, url: string | undefined): Promise<void> {
      if (saved) running.setExporterId(saved.name);
      // A known host connects at once with what it kept; enrolling again updates it meanwhile.
      const connect = () => {
        if (!cfg.connect || client) return;
        client = new ConnectClient({
          consoleUrl: cfg.consoleUrl,
          identity,
          handler: running.handler,
          credential: () => credential,
          ptyServer: running.ptyHttp,
          log,
        });
        client.start();
      };
      if (saved) connect();
      let answer: EnrolAnswer;
      try {
        answer = await enrolWithRetry({ config: cfg, identity, url, metadata }, log);
      } catch (err) {
        if (err instanceof EnrolRefusedError) throw new Error(`enrolment with ${cfg.consoleUrl} refused: ${err.message}`);
        throw err;
      }
      saveEnrolment(cfg.stateDir, {
        console_url: cfg.consoleUrl,
        target_id: answer.target_id,
        name: answer.name,
        credential: answer.credential,
        pending: answer.pending,
      });
      credentials.set('enrolled', answer.credential);
      credential = answer.credential;
      running.setExporterId(answer.name);
      connect();
      if (answer.conflict)
        log.warn(
          { asked: answer.conflict, name: answer.name },
          `another host (another key) is enrolled as ${answer.conflict}: this one is ${answer.name}; set VIGIL_HOST_NAME to choose its name`,
        );
      log.info(
        { console: cfg.consoleUrl, targetId: answer.target_id, name: answer.name, pending: answer.pending, created: answer.created },
        answer.pending ? 'enrolled; waiting for an admin to approve this host' : answer.created ? 'enrolled' : 'enrolled again',
      );
    },
  };
}

/** `vigil-exporter deregister`. */
async function deregister(): Promise<void> {
  try {
    const config = loadExporterConfig();
    if (!config.enrol)
      throw new ConfigError('invalid configuration:\n  VIGIL_CONSOLE_URL: unset; deregister needs the console this host enrolled with');
    await deregisterHost(config.enrol);
    process.stdout.write(`removed this host from ${config.enrol.consoleUrl}\n`);
  } catch (err) {
    process.stderr.write(`vigil-exporter: ${(err as Error).message}\n`);
    process.exitCode = err instanceof ConfigError ? 2 : 1;
  }
}
