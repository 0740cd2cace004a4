import path from 'node:path';
import {
  ConfigError,
  flag,
  invalid,
  type ListenAddress,
  listenAddress,
  logLevel,
  parseEnv,
  seconds,
  tokenSchema,
} from '@vigil/core/config';
import * as z from 'zod/mini';
import type { HostPaths } from './collector.js';
import { DEFAULT_DISK_EXCLUDE } from './collectors/diskstats.js';
import { DEFAULT_FILESYSTEM_FILTER, type FilesystemFilter } from './collectors/filesystem.js';
import { COLLECTORS } from './collectors/index.js';
import { DEFAULT_NETSTAT_FIELDS } from './collectors/netstat.js';
import { DEFAULT_VMSTAT_FIELDS } from './collectors/vmstat.js';
import { parseDockerHost } from './docker.js';
import { ProbeAllowList } from './probe/allow.js';

const schema = z.object({
  VIGIL_EXPORTER_LISTEN: listenAddress('127.0.0.1:9110'),
  VIGIL_EXPORTER_TOKEN: tokenSchema,
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
});

/** Every environment variable the program reads (its --help must name each). */
export const EXPORTER_VARIABLES: readonly string[] = Object.keys(schema.shape);

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
}

/**
 * Reads the exporter's environment. Host paths: `VIGIL_HOST_ROOT` prefixes
 * /proc, /sys and / (e.g. `/host` with `-v /:/host:ro`); `VIGIL_PROC`,
 * `VIGIL_SYS`, `VIGIL_ROOTFS` override each one.
 * @throws ConfigError naming each bad variable and what it expects
 */
export function loadExporterConfig(env: Record<string, string | undefined> = process.env): ExporterConfig {
  const e = parseEnv(schema, env);
  if ((e.VIGIL_TLS_CERT === undefined) !== (e.VIGIL_TLS_KEY === undefined)) {
    throw new ConfigError(
      'invalid configuration:\n  VIGIL_TLS_CERT and VIGIL_TLS_KEY: set both (PEM certificate and key files) or neither',
    );
  }
  if (!e.VIGIL_EXPORTER_TOKEN && !e.VIGIL_EXPORTER_INSECURE && !isLoopback(e.VIGIL_EXPORTER_LISTEN.host)) {
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
  });
}
