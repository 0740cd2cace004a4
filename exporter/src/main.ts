import { ConfigError } from '@vigil/core/config';
import { createLogger, type Logger } from '@vigil/core/log';
import { COLLECTORS } from './collectors/index.js';
import { loadServicesFile, ServicesFileError } from './collectors/services.js';
import { type ExporterConfig, loadExporterConfig } from './config.js';
import { loadModulesFile, ModulesFileError } from './probe/modules.js';
import { type RunningExporter, startExporter } from './server.js';

const HELP = `vigil-exporter — host metrics in the Prometheus exposition format

Usage: vigil-exporter [--help | --check-config]

  --check-config   read the configuration (and the services file), say what is wrong, and exit

Endpoints: /metrics (Prometheus text or OpenMetrics), /health (no auth).

Environment:
  VIGIL_EXPORTER_LISTEN       address to listen on (default 127.0.0.1:9110; :9110 = all interfaces)
  VIGIL_EXPORTER_TOKEN        when set, every endpoint but /health needs "Authorization: Bearer <token>"
                              (16+ characters; make one with: openssl rand -hex 32). Required when
                              listening beyond loopback, unless VIGIL_EXPORTER_INSECURE=1
  VIGIL_EXPORTER_INSECURE     1 to listen beyond loopback without a token, on purpose
  VIGIL_HOST_ROOT             prefix of the host's /proc, /sys and / (e.g. /host in a container)
  VIGIL_PROC, VIGIL_SYS, VIGIL_ROOTFS   override each host path
  VIGIL_COLLECTOR_TIMEOUT     deadline per collector per scrape (default 5s)
  VIGIL_EXPORTER_STOP_GRACE   on SIGTERM/SIGINT, how long at most to answer "stopping" so the Vigil
                              scrapers record this host stopped, not down (default 20s; 0 = exit at
                              once; a second signal cuts it short)
  VIGIL_DISABLED_COLLECTORS   comma-separated collectors to switch off (${Object.keys(COLLECTORS).join(', ')})
  VIGIL_FILESYSTEM_EXCLUDE_FSTYPES, VIGIL_FILESYSTEM_EXCLUDE_MOUNTPOINTS, VIGIL_DISK_EXCLUDE
                              regular expressions of what to leave out (defaults: node_exporter's)
  VIGIL_VMSTAT_FIELDS         regular expression of the /proc/vmstat fields exported (default
                              node_exporter's: ^(oom_kill|pgpg|pswp|pg.*fault).*)
  VIGIL_NETSTAT_FIELDS        regular expression of the /proc/net/{netstat,snmp,snmp6} fields exported,
                              as Proto_Name (default node_exporter's: TCP retransmits, listen drops, …)
  VIGIL_TEXTFILE_DIR          directory of *.prom files (cron jobs' metrics) merged into /metrics,
                              as node_exporter's --collector.textfile.directory
  VIGIL_PROBE_MODULES_FILE    blackbox_exporter configuration (modules: http and tcp probers) for
                              GET /probe?target=…&module=… (default: http_2xx, http_post_2xx, tcp_connect)
  VIGIL_PROBE_ALLOW           what /probe may reach, comma-separated: host names, *.domains, addresses,
                              CIDR ranges (e.g. *.lan,10.0.0.0/8); unset: /probe refuses every target
  VIGIL_SERVICES_FILE         YAML or JSON file of HTTP/TCP probes:
                                services:
                                  - { name: web, http: https://nas.lan/, timeout: 3s, expectStatus: [200] }
                                  - { name: db, tcp: 127.0.0.1:5432 }
  DOCKER_HOST                 Docker Engine API (default unix:///var/run/docker.sock, used when it exists)
  VIGIL_CONTAINER_LABEL       only containers with this label: key or key=value
  VIGIL_CONTAINER_LABELS      comma-separated Docker label keys exported as container_label_<key>
  VIGIL_TLS_CERT, VIGIL_TLS_KEY   PEM files: serve HTTPS instead of HTTP

Terminals (the PTY socket /pty, a WebSocket the console opens; off unless the key is set):
  VIGIL_CONSOLE_PUBLIC_KEY    the console's Ed25519 public key (PEM text, or a file holding it; from
                              \`vigil keys\`): /pty accepts only tickets it signed
  VIGIL_EXPORTER_ID           the audience tickets must name: the target's name in the console
                              (default this host's name)
  VIGIL_PTY_LISTEN            serve /pty on its own address (e.g. 10.0.0.5:9120) instead of beside /metrics
  VIGIL_PTY_USER              run shells as this user (the exporter must run as root to switch);
                              default the exporter's own user
  VIGIL_PTY_ALLOW_ROOT        1 to allow shells as root (refused otherwise)
  VIGIL_PTY_SHELL             the shell (default the user's login shell, else /bin/bash or /bin/sh)
  VIGIL_PTY_CWD               its working directory (default the user's home)
  VIGIL_PTY_ENV               NAME=value,… added to the shell's clean environment
  VIGIL_PTY_CONTAINER_SHELL   the shell started in a container (default /bin/sh)
  VIGIL_PTY_MAX_SESSIONS      open sessions at most (default 8)
  VIGIL_PTY_IDLE_TIMEOUT      a session without input ends after this long (default 30m)
  VIGIL_PTY_MAX_DURATION      a session ends after this long (default 8h)
  VIGIL_LOG_LEVEL             fatal|error|warn|info|debug|trace|silent (default info)
  VIGIL_LOG_PRETTY            1 for human-readable logs instead of JSON lines
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
