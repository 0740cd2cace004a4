import { loadExporterConfig } from './config.js';
import { COLLECTORS } from './collectors/index.js';
import { ConfigError } from './env.js';
import { ServicesFileError } from './collectors/services.js';
import { createLogger } from './log.js';
import { startExporter } from './server.js';

const HELP = `vigil-exporter — host metrics in the Prometheus exposition format

Usage: vigil-exporter [--help]

Endpoints: /metrics (Prometheus text or OpenMetrics), /health (no auth).

Environment:
  VIGIL_EXPORTER_LISTEN       address to listen on (default 127.0.0.1:9110; :9110 = all interfaces)
  VIGIL_EXPORTER_TOKEN        when set, every endpoint but /health needs "Authorization: Bearer <token>"
  VIGIL_HOST_ROOT             prefix of the host's /proc, /sys and / (e.g. /host in a container)
  VIGIL_PROC, VIGIL_SYS, VIGIL_ROOTFS   override each host path
  VIGIL_COLLECTOR_TIMEOUT     deadline per collector per scrape (default 5s)
  VIGIL_DISABLED_COLLECTORS   comma-separated collectors to switch off (${Object.keys(COLLECTORS).join(', ')})
  VIGIL_FILESYSTEM_EXCLUDE_FSTYPES, VIGIL_FILESYSTEM_EXCLUDE_MOUNTPOINTS, VIGIL_DISK_EXCLUDE
                              regular expressions of what to leave out (defaults: node_exporter's)
  VIGIL_SERVICES_FILE         YAML or JSON file of HTTP/TCP probes:
                                services:
                                  - { name: web, http: https://nas.lan/, timeout: 3s, expectStatus: [200] }
                                  - { name: db, tcp: 127.0.0.1:5432 }
  DOCKER_HOST                 Docker Engine API (default unix:///var/run/docker.sock, used when it exists)
  VIGIL_CONTAINER_LABEL       only containers with this label: key or key=value
  VIGIL_CONTAINER_LABELS      comma-separated Docker label keys exported as container_label_<key>
  VIGIL_TLS_CERT, VIGIL_TLS_KEY   PEM files: serve HTTPS instead of HTTP
  VIGIL_LOG_LEVEL             fatal|error|warn|info|debug|trace|silent (default info)
  VIGIL_LOG_PRETTY            1 for human-readable logs instead of JSON lines
`;

/** Entry point of the `vigil-exporter` command. */
export async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return;
  }
  if (argv.length > 0) {
    process.stderr.write(`vigil-exporter: unknown argument ${argv[0]}; it is configured by environment variables, see --help\n`);
    process.exitCode = 2;
    return;
  }
  let config;
  let running;
  let log;
  try {
    config = loadExporterConfig();
    log = createLogger('exporter', config.logLevel, config.logPretty);
    running = await startExporter(config, log);
  } catch (err) {
    process.stderr.write(`vigil-exporter: ${(err as Error).message}\n`);
    process.exitCode = err instanceof ConfigError || err instanceof ServicesFileError ? 2 : 1;
    return;
  }
  log.info({ url: running.url, auth: config.token ? 'bearer' : 'none', proc: config.paths.proc }, `exporter listening on ${running.url}/metrics`);
  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    await running.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
