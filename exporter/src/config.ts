import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ConfigError,
  flag,
  integer,
  invalid,
  type ListenAddress,
  listenAddress,
  logLevel,
  parseEnv,
  readSecretFiles,
  seconds,
  tokenFileSchema,
  tokenSchema,
} from '@vigil/core/config';
import { parseLabelList } from '@vigil/core/enrolment';
import { labelsProblem, targetName, targetUrl } from '@vigil/core/target-schema';
import { EXPORTER_TOKEN_FILE_DOC, LOG_LEVEL_DOC, LOG_PRETTY_DOC, type VariableDocs } from '@vigil/core/variables';
import * as z from 'zod/mini';
import type { HostPaths } from './collector.js';
import { DEFAULT_DISK_EXCLUDE } from './collectors/diskstats.js';
import { DEFAULT_FILESYSTEM_FILTER, type FilesystemFilter } from './collectors/filesystem.js';
import { COLLECTORS } from './collectors/index.js';
import { DEFAULT_NETSTAT_FIELDS } from './collectors/netstat.js';
import { DEFAULT_VMSTAT_FIELDS } from './collectors/vmstat.js';
import { parseDockerHost } from './docker/client.js';
import { lookupUser, type PasswdEntry } from './passwd.js';
import { ProbeAllowList } from './probe/allow.js';
import type { PtyOptions } from './pty.js';

const schema = z.object({
  VIGIL_EXPORTER_LISTEN: listenAddress('127.0.0.1:9110'),
  VIGIL_EXPORTER_TOKEN: tokenSchema,
  VIGIL_EXPORTER_TOKEN_FILE: tokenFileSchema,
  VIGIL_EXPORTER_INSECURE: flag,
  VIGIL_HOST_ROOT: z.optional(z.string()),
  VIGIL_PROC: z.optional(z.string()),
  VIGIL_SYS: z.optional(z.string()),
  VIGIL_ROOTFS: z.optional(z.string()),
  VIGIL_COLLECTOR_TIMEOUT: seconds(5, { min: 0.05, max: 120 }),
  VIGIL_EXPORTER_STOP_GRACE: seconds(20, { min: 0, max: 600 }),
  VIGIL_DISABLED_COLLECTORS: z.pipe(
    z.optional(z.string()),
    z.transform((s, ctx) => {
      const names = (s ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      const unknown = names.filter((n) => !(n in COLLECTORS));
      if (unknown.length) return invalid(ctx, `unknown collector ${unknown.join(', ')}; known: ${Object.keys(COLLECTORS).join(', ')}`);
      return names;
    }),
  ),
  VIGIL_FILESYSTEM_EXCLUDE_FSTYPES: regex(DEFAULT_FILESYSTEM_FILTER.excludeFsTypes),
  VIGIL_FILESYSTEM_EXCLUDE_MOUNTPOINTS: regex(DEFAULT_FILESYSTEM_FILTER.excludeMountPoints),
  VIGIL_DISK_EXCLUDE: regex(DEFAULT_DISK_EXCLUDE),
  VIGIL_VMSTAT_FIELDS: regex(DEFAULT_VMSTAT_FIELDS),
  VIGIL_NETSTAT_FIELDS: regex(DEFAULT_NETSTAT_FIELDS),
  VIGIL_SERVICES_FILE: z.optional(z.string()),
  VIGIL_TEXTFILE_DIR: z.optional(z.string()),
  VIGIL_PROBE_MODULES_FILE: z.optional(z.string()),
  VIGIL_PROBE_ALLOW: z.pipe(
    z.optional(z.string()),
    z.transform((s, ctx) => {
      if (s === undefined || s.trim() === '') return null;
      try {
        return new ProbeAllowList(s);
      } catch (e) {
        return invalid(ctx, `${(e as Error).message}`);
      }
    }),
  ),
  VIGIL_TLS_CERT: z.optional(z.string()),
  VIGIL_TLS_KEY: z.optional(z.string()),
  DOCKER_HOST: z.optional(z.string()).check(
    z.superRefine((v, ctx) => {
      try {
        parseDockerHost(v);
      } catch (e) {
        ctx.addIssue({
          code: 'custom',
          message: (e as Error).message.replace(/^DOCKER_HOST "[^"]*" is /, 'expected ').replace(/not unix/, 'unix'),
        });
      }
    }),
  ),
  VIGIL_CONTAINER_LABEL: z.optional(z.string().check(z.regex(/^[^=\s]+(=.*)?$/, 'expected key or key=value, e.g. com.example.stack=web'))),
  VIGIL_CONTAINER_LABELS: z.pipe(
    z.optional(z.string()),
    z.transform((s) =>
      (s ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  ),
  VIGIL_LOG_LEVEL: logLevel,
  VIGIL_LOG_PRETTY: flag,
  VIGIL_CONSOLE_PUBLIC_KEY: z.optional(z.string()),
  VIGIL_EXPORTER_ID: z.optional(
    z
      .string()
      .check(
        z.regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "expected a name of letters, digits and . _ : - (the target's name in the console)"),
      ),
  ),
  VIGIL_PTY_LISTEN: z.optional(z.string()),
  VIGIL_PTY_SHELL: z.optional(z.string().check(z.regex(/^\//, 'expected an absolute path, e.g. /bin/bash'))),
  VIGIL_PTY_USER: z.optional(z.string().check(z.minLength(1))),
  VIGIL_PTY_CWD: z.optional(z.string().check(z.regex(/^\//, 'expected an absolute path'))),
  VIGIL_PTY_ENV: z.optional(z.string()),
  VIGIL_PTY_ALLOW_ROOT: flag,
  VIGIL_PTY_HOST_NAMESPACES: flag,
  VIGIL_PTY_NAMESPACES_OF: integer(1, { min: 1, max: 4_194_304 }),
  VIGIL_PTY_MAX_SESSIONS: integer(8, { min: 1, max: 1000 }),
  VIGIL_PTY_IDLE_TIMEOUT: seconds(30 * 60, { min: 0, max: 7 * 86_400 }),
  VIGIL_PTY_MAX_DURATION: seconds(8 * 3600, { min: 1, max: 30 * 86_400 }),
  VIGIL_PTY_CONTAINER_SHELL: z._default(z.string().check(z.regex(/^\//, 'expected an absolute path, e.g. /bin/sh')), '/bin/sh'),
  VIGIL_CONSOLE_URL: z.optional(z.url({ protocol: /^https?$/, error: 'expected the console URL, e.g. https://vigil.example.com' })),
  VIGIL_ENROL_TOKEN: z.optional(z.string().check(z.minLength(8), z.maxLength(200))),
  VIGIL_ENROL_TOKEN_FILE: z.optional(z.string()),
  VIGIL_HOST_NAME: z.optional(targetName),
  VIGIL_HOST_LABELS: z.pipe(
    z.optional(z.string()),
    z.transform((s, ctx) => {
      try {
        const labels = parseLabelList(s ?? '');
        const problem = labelsProblem(labels);
        return problem ? invalid(ctx, problem) : labels;
      } catch (e) {
        return invalid(ctx, (e as Error).message);
      }
    }),
  ),
  VIGIL_HOST_PROVIDER: z.optional(z.string().check(z.maxLength(100))),
  VIGIL_HOST_REGION: z.optional(z.string().check(z.maxLength(100))),
  VIGIL_ADVERTISE_URL: z.optional(targetUrl),
  VIGIL_CONNECT: flag,
  VIGIL_STATE_DIR: z._default(z.string().check(z.regex(/^\//, 'expected an absolute path')), '/var/lib/vigil-exporter'),
});

/** The exporter's variables, each described once: its --help and the README's table are made from this. */
export const EXPORTER_VARIABLE_DOCS: VariableDocs<typeof schema> = {
  VIGIL_EXPORTER_LISTEN: { default: '127.0.0.1:9110', meaning: 'address to listen on; :9110 listens on all interfaces' },
  VIGIL_EXPORTER_TOKEN: {
    meaning:
      'when set, every endpoint but /health needs "Authorization: Bearer <token>" (16+ characters; make one with: openssl rand -hex 32); required when listening beyond loopback, unless VIGIL_EXPORTER_INSECURE=1',
  },
  VIGIL_EXPORTER_TOKEN_FILE: EXPORTER_TOKEN_FILE_DOC,
  VIGIL_EXPORTER_INSECURE: { meaning: '1 to listen beyond loopback without a token, on purpose' },
  VIGIL_HOST_ROOT: { defaultText: '/', meaning: "prefix of the host's /proc, /sys and / (/host in a container with -v /:/host:ro)" },
  VIGIL_PROC: { defaultText: '<root>/proc', meaning: "the host's /proc" },
  VIGIL_SYS: { defaultText: '<root>/sys', meaning: "the host's /sys" },
  VIGIL_ROOTFS: { defaultText: '<root>', meaning: "the host's root filesystem" },
  VIGIL_COLLECTOR_TIMEOUT: { default: '5s', meaning: 'deadline per collector per scrape' },
  VIGIL_EXPORTER_STOP_GRACE: {
    default: '20s',
    meaning:
      'on SIGTERM or SIGINT, how long at most to answer "stopping" so the Vigil scrapers record this host stopped, not down (0: exit at once; a second signal cuts it short)',
  },
  VIGIL_DISABLED_COLLECTORS: { meaning: 'comma-separated collectors to switch off' },
  VIGIL_FILESYSTEM_EXCLUDE_FSTYPES: { defaultText: "node_exporter's", meaning: 'regular expression of the filesystem types left out' },
  VIGIL_FILESYSTEM_EXCLUDE_MOUNTPOINTS: { defaultText: "node_exporter's", meaning: 'regular expression of the mount points left out' },
  VIGIL_DISK_EXCLUDE: {
    defaultText: "node_exporter's, and mmcblk partitions",
    meaning: 'regular expression of the block devices left out',
  },
  VIGIL_VMSTAT_FIELDS: {
    defaultText: "node_exporter's: ^(oom_kill|pgpg|pswp|pg.*fault).*",
    meaning: 'regular expression of the /proc/vmstat fields exported',
  },
  VIGIL_NETSTAT_FIELDS: {
    defaultText: "node_exporter's: TCP retransmits, listen drops, …",
    meaning: 'regular expression of the /proc/net/{netstat,snmp,snmp6} fields exported, as Proto_Name',
  },
  VIGIL_SERVICES_FILE: { meaning: 'YAML or JSON file of HTTP and TCP probes (see below)' },
  VIGIL_TEXTFILE_DIR: {
    meaning: "directory of *.prom files (cron jobs' metrics) merged into /metrics, as node_exporter's --collector.textfile.directory",
  },
  VIGIL_PROBE_MODULES_FILE: {
    defaultText: 'http_2xx, http_post_2xx, tcp_connect',
    meaning: 'blackbox_exporter configuration (modules: http and tcp probers) for GET /probe?target=…&module=…',
  },
  VIGIL_PROBE_ALLOW: {
    meaning:
      'what /probe may reach, comma-separated: host names, *.domains, addresses, CIDR ranges (e.g. *.lan,10.0.0.0/8); unset: /probe refuses every target',
  },
  VIGIL_TLS_CERT: { meaning: 'PEM certificate file: serve HTTPS instead of HTTP (with VIGIL_TLS_KEY)' },
  VIGIL_TLS_KEY: { meaning: "PEM key file of VIGIL_TLS_CERT's certificate" },
  DOCKER_HOST: { defaultText: 'unix:///var/run/docker.sock, used when it exists', meaning: 'the Docker Engine API' },
  VIGIL_CONTAINER_LABEL: { meaning: 'only containers with this label: key or key=value' },
  VIGIL_CONTAINER_LABELS: { meaning: 'comma-separated Docker label keys exported as container_label_<key>' },
  VIGIL_LOG_LEVEL: LOG_LEVEL_DOC,
  VIGIL_LOG_PRETTY: LOG_PRETTY_DOC,
  VIGIL_CONSOLE_PUBLIC_KEY: {
    meaning:
      "terminals: the console's Ed25519 public key (PEM text, or a file holding it; from `vigil keys`); /pty accepts only tickets it signed, and is off without it",
  },
  VIGIL_EXPORTER_ID: {
    defaultText: "this host's name",
    meaning: "the audience terminal tickets must name: the target's name in the console",
  },
  VIGIL_PTY_LISTEN: { meaning: 'serve /pty on its own address (e.g. 10.0.0.5:9120) instead of beside /metrics' },
  VIGIL_PTY_SHELL: { defaultText: "the user's login shell, else /bin/bash or /bin/sh", meaning: 'the shell of a terminal on the host' },
  VIGIL_PTY_USER: {
    defaultText: "the exporter's own user",
    meaning: 'run shells as this user (the exporter must run as root to switch)',
  },
  VIGIL_PTY_CWD: { defaultText: "the user's home", meaning: "the shell's working directory" },
  VIGIL_PTY_ENV: { meaning: "NAME=value,… added to the shell's clean environment" },
  VIGIL_PTY_ALLOW_ROOT: { meaning: '1 to allow shells as root (refused otherwise)' },
  VIGIL_PTY_HOST_NAMESPACES: {
    meaning:
      "1 in a container (pid: host): host shells enter the host's namespaces through nsenter, as the host's user (from <root>/etc/passwd); needs root with CAP_SYS_ADMIN, CAP_SYS_CHROOT, CAP_SYS_PTRACE, CAP_SETUID, CAP_SETGID (deploy/compose/terminals.yml)",
  },
  VIGIL_PTY_NAMESPACES_OF: {
    default: '1',
    meaning: "with VIGIL_PTY_HOST_NAMESPACES: the process whose namespaces shells enter (1: the host's init, with pid: host)",
  },
  VIGIL_PTY_MAX_SESSIONS: { default: '8', meaning: 'open terminal sessions at most' },
  VIGIL_PTY_IDLE_TIMEOUT: { default: '30m', meaning: 'a session without input ends after this long' },
  VIGIL_PTY_MAX_DURATION: { default: '8h', meaning: 'a session ends after this long' },
  VIGIL_PTY_CONTAINER_SHELL: { default: '/bin/sh', meaning: 'the shell started in a container' },
  VIGIL_CONSOLE_URL: {
    meaning:
      'enrol with this console at start (https://vigil.example.com): the exporter registers its host, gets its own scrape credential, and keeps its identity in VIGIL_STATE_DIR',
  },
  VIGIL_ENROL_TOKEN: {
    meaning: 'the enrolment token an admin made (vigil enrol-tokens add); needed the first time only, never written anywhere',
  },
  VIGIL_ENROL_TOKEN_FILE: { meaning: 'a file holding VIGIL_ENROL_TOKEN' },
  VIGIL_HOST_NAME: { defaultText: 'the hostname', meaning: 'the name to enrol under (another host has it: enrolled as <name>-2)' },
  VIGIL_HOST_LABELS: { meaning: 'labels of this host, e.g. rack=a,role=db' },
  VIGIL_HOST_PROVIDER: { meaning: 'where it runs, e.g. hetzner, aws, home (the fleet filters by it)' },
  VIGIL_HOST_REGION: { meaning: 'its region, e.g. eu-central (the fleet filters by it)' },
  VIGIL_ADVERTISE_URL: {
    defaultText: 'http://<listen address or hostname>:<port>/metrics',
    meaning: 'the metrics URL the scraper reaches this exporter at',
  },
  VIGIL_CONNECT: {
    meaning:
      '1: listen on no port; keep one outbound WebSocket to the console, which scrapes (and opens terminals) over it: for hosts behind NAT',
  },
  VIGIL_STATE_DIR: { default: '/var/lib/vigil-exporter', meaning: "where the host's key and enrolment are kept (mode 0700)" },
};

/** The exporter's configuration schema (for checking its descriptions). */
export const EXPORTER_SCHEMA = schema;

/** Whether a listen host is reachable from this machine only: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.') || host === '::ffff:127.0.0.1';
}

/** A regular expression given as a string, anchored by the user as they wish; the default when unset. */
function regex(defaultValue: RegExp) {
  return z.pipe(
    z.optional(z.string()),
    z.transform((s, ctx): RegExp => {
      if (s === undefined) return defaultValue;
      try {
        return new RegExp(s);
      } catch (e) {
        return invalid(ctx, `expected a regular expression: ${(e as Error).message}`);
      }
    }),
  );
}

/** The exporter's configuration, parsed once from the environment and frozen. */
export interface ExporterConfig {
  listen: ListenAddress;
  token: string | undefined;
  paths: HostPaths;
  collectorTimeoutSeconds: number;
  /** Longest a clean shutdown waits for the Vigil scrapers to hear its goodbye, seconds (0: none). */
  stopGraceSeconds: number;
  disabledCollectors: readonly string[];
  filesystemFilter: FilesystemFilter;
  diskExclude: RegExp;
  /** The /proc/vmstat fields exported as node_vmstat_<field>. */
  vmstatFields: RegExp;
  /** The /proc/net/{netstat,snmp,snmp6} fields exported as node_netstat_<Proto>_<Name>. */
  netstatFields: RegExp;
  /** node_exporter's --collector.textfile.directory: `*.prom` files merged into /metrics. */
  textfileDir: string | undefined;
  /** A blackbox_exporter configuration (`modules:`) for /probe; read at start-up. Without it, http_2xx, http_post_2xx and tcp_connect. */
  probeModulesFile: string | undefined;
  /** What /probe may reach; null: nothing. */
  probeAllow: ProbeAllowList | null;
  /** A YAML or JSON file of HTTP/TCP probes; read at start-up. */
  servicesFile: string | undefined;
  /** DOCKER_HOST when set; else the default socket is used if it exists. */
  dockerHost: string | undefined;
  /** Only containers with this label (`key` or `key=value`). */
  containerLabel: string | undefined;
  /** Docker label keys exported as `container_label_<key>`. */
  containerLabels: readonly string[];
  /** PEM files for HTTPS; both or neither. */
  tls: { certFile: string; keyFile: string } | null;
  logLevel: string;
  logPretty: boolean;
  /** The PTY socket (`/pty`); null unless VIGIL_CONSOLE_PUBLIC_KEY is set. */
  pty: PtyConfig | null;
  /** Enrolment with a console (VIGIL_CONSOLE_URL); null: the host is added by hand. */
  enrol: EnrolConfig | null;
}

/** How this exporter enrols itself with a console, and whether it connects out. */
export interface EnrolConfig {
  /** The console's URL, without a trailing slash. */
  consoleUrl: string;
  /** The enrolment token (VIGIL_ENROL_TOKEN); needed the first time only; never written anywhere. */
  token: string | undefined;
  /** The name it asks for (VIGIL_HOST_NAME, default the hostname). */
  name: string;
  labels: Record<string, string>;
  provider: string | undefined;
  region: string | undefined;
  /** The metrics URL the scraper reaches it at (VIGIL_ADVERTISE_URL); undefined: made from the listen address once bound. */
  advertiseUrl: string | undefined;
  /** Connect out to the console and listen on no port (VIGIL_CONNECT=1). */
  connect: boolean;
  /** Where its key and enrolment are kept (VIGIL_STATE_DIR). */
  stateDir: string;
  /** The console's public key (VIGIL_CONSOLE_PUBLIC_KEY) its answers must be signed with; null: trust TLS alone. */
  consolePublicKeyPem: string | null;
}

/** The PTY socket's configuration. */
export interface PtyConfig {
  /** The console's Ed25519 public key (SPKI PEM) that tickets must verify with. */
  publicKeyPem: string;
  /** This exporter's id: the audience its tickets must name (VIGIL_EXPORTER_ID, default the host name). */
  exporterId: string;
  /** Its own listener (VIGIL_PTY_LISTEN), or null: /pty on the main one. */
  listen: ListenAddress | null;
  options: PtyOptions;
}

/**
 * Reads the exporter's environment. Host paths: `VIGIL_HOST_ROOT` prefixes
 * /proc, /sys and / (e.g. `/host` with `-v /:/host:ro`); `VIGIL_PROC`,
 * `VIGIL_SYS`, `VIGIL_ROOTFS` override each one.
 * @throws ConfigError naming each bad variable and what it expects
 */
export function loadExporterConfig(env: Record<string, string | undefined> = process.env): ExporterConfig {
  const e = parseEnv(schema, readSecretFiles(env, ['VIGIL_EXPORTER_TOKEN', 'VIGIL_ENROL_TOKEN']));
  const enrolling = e.VIGIL_CONSOLE_URL !== undefined;
  if (!enrolling && (e.VIGIL_ENROL_TOKEN || e.VIGIL_CONNECT))
    throw new ConfigError(
      `invalid configuration:\n  VIGIL_CONSOLE_URL: unset, while ${e.VIGIL_CONNECT ? 'VIGIL_CONNECT' : 'VIGIL_ENROL_TOKEN'} is set; give the console's URL to enrol with, e.g. https://vigil.example.com`,
    );
  if ((e.VIGIL_TLS_CERT === undefined) !== (e.VIGIL_TLS_KEY === undefined)) {
    throw new ConfigError(
      'invalid configuration:\n  VIGIL_TLS_CERT and VIGIL_TLS_KEY: set both (PEM certificate and key files) or neither',
    );
  }
  // An enrolled exporter requires its own credential; one that connects out listens on nothing.
  if (!e.VIGIL_EXPORTER_TOKEN && !enrolling && !e.VIGIL_EXPORTER_INSECURE && !isLoopback(e.VIGIL_EXPORTER_LISTEN.host)) {
    throw new ConfigError(
      `invalid configuration:\n  VIGIL_EXPORTER_TOKEN: unset, while VIGIL_EXPORTER_LISTEN listens beyond loopback (${e.VIGIL_EXPORTER_LISTEN.host || 'all interfaces'}), ` +
        'so anyone who reaches the port would read this host; set a token (16+ characters, e.g. from `openssl rand -hex 32`), ' +
        'or set VIGIL_EXPORTER_INSECURE=1 to serve without one on purpose',
    );
  }
  const root = e.VIGIL_HOST_ROOT ?? '/';
  return Object.freeze({
    listen: e.VIGIL_EXPORTER_LISTEN,
    token: e.VIGIL_EXPORTER_TOKEN,
    paths: Object.freeze({
      proc: e.VIGIL_PROC ?? path.join(root, 'proc'),
      sys: e.VIGIL_SYS ?? path.join(root, 'sys'),
      rootfs: e.VIGIL_ROOTFS ?? root,
    }),
    collectorTimeoutSeconds: e.VIGIL_COLLECTOR_TIMEOUT,
    stopGraceSeconds: e.VIGIL_EXPORTER_STOP_GRACE,
    disabledCollectors: Object.freeze(e.VIGIL_DISABLED_COLLECTORS),
    filesystemFilter: Object.freeze({
      excludeFsTypes: e.VIGIL_FILESYSTEM_EXCLUDE_FSTYPES,
      excludeMountPoints: e.VIGIL_FILESYSTEM_EXCLUDE_MOUNTPOINTS,
    }),
    diskExclude: e.VIGIL_DISK_EXCLUDE,
    vmstatFields: e.VIGIL_VMSTAT_FIELDS,
    netstatFields: e.VIGIL_NETSTAT_FIELDS,
    servicesFile: e.VIGIL_SERVICES_FILE,
    textfileDir: e.VIGIL_TEXTFILE_DIR,
    probeModulesFile: e.VIGIL_PROBE_MODULES_FILE,
    probeAllow: e.VIGIL_PROBE_ALLOW,
    dockerHost: e.DOCKER_HOST,
    containerLabel: e.VIGIL_CONTAINER_LABEL,
    containerLabels: Object.freeze(e.VIGIL_CONTAINER_LABELS),
    tls: e.VIGIL_TLS_CERT && e.VIGIL_TLS_KEY ? Object.freeze({ certFile: e.VIGIL_TLS_CERT, keyFile: e.VIGIL_TLS_KEY }) : null,
    logLevel: e.VIGIL_LOG_LEVEL,
    logPretty: e.VIGIL_LOG_PRETTY,
    pty: ptyConfig(e, root),
    enrol: enrolling ? enrolConfig(e) : null,
  });
}

function enrolConfig(e: z.infer<typeof schema>): EnrolConfig {
  const key = e.VIGIL_CONSOLE_PUBLIC_KEY?.trim();
  let consolePublicKeyPem: string | null = null;
  if (key) consolePublicKeyPem = key.includes('-----BEGIN') ? key : readFileSync(key, 'utf8');
  return Object.freeze({
    consoleUrl: e.VIGIL_CONSOLE_URL!.replace(/\/+$/, ''),
    token: e.VIGIL_ENROL_TOKEN,
    name: e.VIGIL_HOST_NAME ?? hostName(),
    labels: Object.freeze(e.VIGIL_HOST_LABELS),
    provider: e.VIGIL_HOST_PROVIDER,
    region: e.VIGIL_HOST_REGION,
    advertiseUrl: e.VIGIL_ADVERTISE_URL,
    connect: e.VIGIL_CONNECT,
    stateDir: e.VIGIL_STATE_DIR,
    consolePublicKeyPem,
  });
}

/** The host name as a target name: its first label, cut to what a target's name allows. */
function hostName(): string {
  const first = os.hostname().split('.')[0] ?? '';
  let out = '';
  for (const ch of first) if (out.length < 63 && /[A-Za-z0-9._-]/.test(ch)) out += ch;
  return /^[A-Za-z0-9]/.test(out) ? out : `host-${out}`.slice(0, 63);
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The PTY socket's settings: who the shell runs as (VIGIL_PTY_USER, default
 * the exporter's own user, from /etc/passwd), which shell (VIGIL_PTY_SHELL,
 * default that user's login shell, else /bin/bash or /bin/sh), where
 * (VIGIL_PTY_CWD, default the user's home) and with what environment: a clean
 * one (TERM, HOME, USER, LOGNAME, SHELL, PATH, LANG) plus VIGIL_PTY_ENV; never
 * the exporter's own, which holds its token.
 * @throws ConfigError when the shell would run as root without VIGIL_PTY_ALLOW_ROOT=1
 */
function ptyConfig(e: z.infer<typeof schema>, root: string): PtyConfig | null {
  const key = e.VIGIL_CONSOLE_PUBLIC_KEY?.trim();
  if (!key) return null;
  const fail = (name: string, message: string): never => {
    throw new ConfigError(`invalid configuration:\n  ${name}: ${message}`);
  };
  let publicKeyPem = key;
  if (!key.includes('-----BEGIN')) {
    try {
      publicKeyPem = readFileSync(key, 'utf8');
    } catch (err) {
      fail(
        'VIGIL_CONSOLE_PUBLIC_KEY',
        `expected the console's public key (PEM text, or a file holding it); cannot read ${key} (${(err as NodeJS.ErrnoException).code})`,
      );
    }
  }
  if (!publicKeyPem.includes('-----BEGIN PUBLIC KEY-----'))
    fail('VIGIL_CONSOLE_PUBLIC_KEY', 'expected an Ed25519 public key in PEM (-----BEGIN PUBLIC KEY-----), as `vigil keys` prints it');
  let listen: ListenAddress | null = null;
  if (e.VIGIL_PTY_LISTEN !== undefined)
    listen = parseEnv(z.object({ VIGIL_PTY_LISTEN: listenAddress('') }), { VIGIL_PTY_LISTEN: e.VIGIL_PTY_LISTEN }).VIGIL_PTY_LISTEN;
  const passwd = path.join(root, 'etc/passwd');
  const self = typeof process.getuid === 'function' ? process.getuid() : -1;
  let user: PasswdEntry | undefined;
  if (e.VIGIL_PTY_USER !== undefined) {
    // In the host's namespaces the user is the host's; else this system's.
    const users = e.VIGIL_PTY_HOST_NAMESPACES ? passwd : '/etc/passwd';
    user = lookupUser(/^\d+$/.test(e.VIGIL_PTY_USER) ? Number(e.VIGIL_PTY_USER) : e.VIGIL_PTY_USER, users);
    if (!user) fail('VIGIL_PTY_USER', `no user ${e.VIGIL_PTY_USER} in ${users}`);
    if (user!.uid !== self && self !== 0)
      fail('VIGIL_PTY_USER', `the exporter runs as uid ${self} and can only start shells as ${user!.name} when it runs as root`);
  } else user = lookupUser(self, existsSync(passwd) ? passwd : '/etc/passwd');
  const uid = user?.uid ?? self;
  if (uid === 0 && !e.VIGIL_PTY_ALLOW_ROOT)
    fail(
      'VIGIL_CONSOLE_PUBLIC_KEY',
      'terminals would run shells as root; set VIGIL_PTY_USER to an unprivileged user (the exporter, as root, switches to it), ' +
        'or VIGIL_PTY_ALLOW_ROOT=1 to allow root shells on purpose',
    );
  // Files the shell will see: the host's (under root) when it enters the host's namespaces.
  const seen = (file: string) => existsSync(e.VIGIL_PTY_HOST_NAMESPACES ? path.join(root, file) : file);
  const loginShell = user && !/(nologin|false)$/.test(user.shell) && seen(user.shell) ? user.shell : undefined;
  const shell = e.VIGIL_PTY_SHELL ?? loginShell ?? (seen('/bin/bash') ? '/bin/bash' : '/bin/sh');
  const home = user?.home && seen(user.home) ? user.home : '/';
  const env: Record<string, string> = {
    TERM: 'xterm-256color',
    HOME: home,
    USER: user?.name ?? String(uid),
    LOGNAME: user?.name ?? String(uid),
    SHELL: shell,
    PATH: DEFAULT_PATH,
    LANG: process.env.LANG || 'C.UTF-8',
  };
  for (const pair of (e.VIGIL_PTY_ENV ?? '').split(',')) {
    if (!pair.trim()) continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) fail('VIGIL_PTY_ENV', `expected NAME=value pairs separated by commas, got ${JSON.stringify(pair.trim().slice(0, 40))}`);
    env[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
  }
  const switchUser = user !== undefined && user.uid !== self;
  const cwd = e.VIGIL_PTY_CWD ?? home;
  let spec: PtyOptions['shell'] = Object.freeze({
    shell,
    args: Object.freeze(['-l']),
    cwd,
    env,
    ...(switchUser ? { uid: user!.uid, gid: user!.gid } : {}),
  });
  if (e.VIGIL_PTY_HOST_NAMESPACES) {
    if (self !== 0)
      fail(
        'VIGIL_PTY_HOST_NAMESPACES',
        `entering the host's namespaces needs the exporter to run as root (it runs as uid ${self}); see deploy/compose/terminals.yml`,
      );
    const nsenter = ['/usr/bin/nsenter', '/bin/nsenter', '/usr/sbin/nsenter'].find((f) => existsSync(f));
    if (!nsenter) fail('VIGIL_PTY_HOST_NAMESPACES', 'nsenter is not installed in this image (util-linux)');
    // nsenter starts as root, enters PID 1's namespaces (the host's, with pid: host),
    // then becomes the user and runs the shell in the host's own filesystem.
    spec = Object.freeze({
      shell: nsenter!,
      args: Object.freeze([
        `--target=${e.VIGIL_PTY_NAMESPACES_OF}`,
        '--mount',
        '--uts',
        '--ipc',
        '--net',
        '--pid',
        `--wd=${cwd}`,
        ...(uid === 0 ? [] : [`--setgid=${user?.gid ?? uid}`, `--setuid=${uid}`]),
        '--',
        shell,
        '-l',
      ]),
      cwd: '/',
      env,
    });
  }
  return Object.freeze({
    publicKeyPem,
    exporterId: e.VIGIL_EXPORTER_ID ?? os.hostname(),
    listen,
    options: Object.freeze({
      maxSessions: e.VIGIL_PTY_MAX_SESSIONS,
      idleSeconds: e.VIGIL_PTY_IDLE_TIMEOUT,
      maxDurationSeconds: e.VIGIL_PTY_MAX_DURATION,
      containerShell: Object.freeze([e.VIGIL_PTY_CONTAINER_SHELL]),
      shell: spec,
    }),
  });
}
