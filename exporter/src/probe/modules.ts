import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { invalid, parseDuration } from '@vigil/core/config';
import type { RE2JS } from 're2js';
import * as z from 'zod/mini';

let re2js: typeof RE2JS | undefined;

/**
 * RE2JS, loaded from node_modules on first use (the bundle leaves it out): an
 * exporter without regular expressions in its probe modules never holds it.
 */
function compileRe2(source: string): RE2JS {
  re2js ??= (createRequire(import.meta.url)('re2js') as typeof import('re2js')).RE2JS;
  return re2js.compile(source);
}

/**
 * A regular expression from the modules file, compiled with RE2JS: matching
 * is linear in the probed body's length whatever the pattern, as Go's regexp
 * in blackbox_exporter, so a hostile answer cannot stall the exporter.
 */
const re2 = z.pipe(
  z.string(),
  z.transform((s, ctx) => {
    try {
      return compileRe2(s);
    } catch (e) {
      return invalid(ctx, `not a valid RE2 regular expression: ${(e as Error).message}`);
    }
  }),
);

const duration = z.pipe(
  z.optional(z.union([z.number(), z.string()])),
  z.transform((v, ctx) => {
    if (v === undefined) return undefined;
    const s = typeof v === 'number' ? v : parseDuration(v);
    if (s === null || s <= 0 || s > 120) return invalid(ctx, 'expected a duration above 0 and at most 120 s, such as "5s"');
    return s;
  }),
);

const tlsConfig = z.strictObject({
  insecure_skip_verify: z._default(z.boolean(), false),
  server_name: z.optional(z.string()),
});

const ipProtocol = z._default(z.enum(['ip4', 'ip6']), 'ip6');

const headerMatch = z.strictObject({ header: z.string(), regexp: re2, allow_missing: z._default(z.boolean(), false) });

const httpModule = z.strictObject({
  valid_status_codes: z._default(z.array(z.int().check(z.minimum(100), z.maximum(599))), []),
  valid_http_versions: z._default(z.array(z.string()), []),
  method: z._default(z.string().check(z.regex(/^[A-Z]{1,16}$/, 'expected an HTTP method such as GET')), 'GET'),
  headers: z._default(z.record(z.string(), z.string()), {}),
  body: z.optional(z.string()),
  /** Ask for and decompress a gzip body (blackbox's `compression`); by default the body is taken as sent. */
  compression: z.optional(z.enum(['gzip'])),
  follow_redirects: z._default(z.boolean(), true),
  no_follow_redirects: z.optional(z.boolean()),
  fail_if_ssl: z._default(z.boolean(), false),
  fail_if_not_ssl: z._default(z.boolean(), false),
  fail_if_body_matches_regexp: z._default(z.array(re2), []),
  fail_if_body_not_matches_regexp: z._default(z.array(re2), []),
  fail_if_header_matches: z._default(z.array(headerMatch), []),
  fail_if_header_not_matches: z._default(z.array(headerMatch), []),
  tls_config: z._default(tlsConfig, { insecure_skip_verify: false }),
  preferred_ip_protocol: ipProtocol,
  ip_protocol_fallback: z._default(z.boolean(), true),
  body_size_limit: z.pipe(
    z.optional(z.union([z.int().check(z.minimum(1)), z.string()])),
    z.transform((v, ctx) => {
      try {
        return parseByteSize(v);
      } catch (e) {
        return invalid(ctx, (e as Error).message);
      }
    }),
  ),
});

const queryStep = z.strictObject({ expect: z.optional(re2), send: z.optional(z.string()) });

const tcpModule = z.strictObject({
  tls: z._default(z.boolean(), false),
  tls_config: z._default(tlsConfig, { insecure_skip_verify: false }),
  preferred_ip_protocol: ipProtocol,
  ip_protocol_fallback: z._default(z.boolean(), true),
  query_response: z._default(z.array(queryStep), []),
});

const moduleSchema = z.looseObject({
  prober: z.string(),
  timeout: duration,
  http: z.optional(z.unknown()),
  tcp: z.optional(z.unknown()),
});

/** An HTTP module's settings, as blackbox_exporter's `http:` block. */
export type HttpModule = z.infer<typeof httpModule>;
/** A TCP module's settings, as blackbox_exporter's `tcp:` block. */
export type TcpModule = z.infer<typeof tcpModule>;

/** A module of the HTTP prober. */
export type HttpProbeModule = { name: string; prober: 'http'; timeoutSeconds?: number; http: HttpModule };
/** A module of the TCP prober. */
export type TcpProbeModule = { name: string; prober: 'tcp'; timeoutSeconds?: number; tcp: TcpModule };
/** A module Vigil can run. */
export type RunnableModule = HttpProbeModule | TcpProbeModule;
/** One probe module: an HTTP or TCP prober with its settings, or one Vigil does not implement (icmp, dns, grpc). */
export type ProbeModule = RunnableModule | { name: string; prober: 'unsupported'; reason: string };

/** Thrown for a modules file that cannot be read or is not valid; the message names the file and each problem. */
export class ModulesFileError extends Error {
  override name = 'ModulesFileError';
}

/**
 * How long a probe may take, as blackbox_exporter decides it: the scrape's
 * timeout (Prometheus' `X-Prometheus-Scrape-Timeout-Seconds` header, else 10 s,
 * Prometheus' default) less half a second, or the module's timeout when that is
 * shorter. Seconds.
 */
export function probeTimeout(moduleSeconds: number | undefined, header: string | undefined): number {
  const scrape = header !== undefined && /^\d{1,4}(\.\d{1,9})?$/.test(header) ? Number(header) : 10;
  const budget = Math.max(scrape - 0.5, 0.5);
  return moduleSeconds !== undefined && moduleSeconds < budget ? moduleSeconds : budget;
}

/** An `http:` block with every setting at blackbox_exporter's default. */
export const HTTP_DEFAULTS: HttpModule = httpModule.parse({});
/** A `tcp:` block with every setting at blackbox_exporter's default. */
export const TCP_DEFAULTS: TcpModule = tcpModule.parse({});

/** The modules every Vigil exporter has without a file: blackbox_exporter's example `http_2xx`, `http_post_2xx` and `tcp_connect`. */
export const DEFAULT_MODULES: ReadonlyMap<string, ProbeModule> = new Map<string, ProbeModule>([
  ['http_2xx', { name: 'http_2xx', prober: 'http', http: HTTP_DEFAULTS }],
  ['http_post_2xx', { name: 'http_post_2xx', prober: 'http', http: { ...HTTP_DEFAULTS, method: 'POST' } }],
  ['tcp_connect', { name: 'tcp_connect', prober: 'tcp', tcp: TCP_DEFAULTS }],
]);

const issues = (e: z.core.$ZodError, at: string) => e.issues.map((i) => `  ${[at, ...i.path].join('.')}: ${i.message}`);

/**
 * Parses a blackbox_exporter configuration (`modules: {name: {prober, timeout,
 * http | tcp}}`), so the file a blackbox_exporter used (e.g. Debian's
 * /etc/prometheus/blackbox.yml) serves Vigil's `/probe` unchanged. Modules of
 * the icmp, dns and grpc probers are kept as unsupported: `/probe` names the
 * reason when asked for one. A setting Vigil does not implement is an error
 * naming it, never silently ignored.
 * @throws ModulesFileError naming the file, the module and each problem
 */
export function parseModulesFile(text: string, file: string): Map<string, ProbeModule> {
  let doc: unknown;
  try {
    const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    doc = parse(text);
  } catch (e) {
    throw new ModulesFileError(`${file}: not valid YAML: ${(e as Error).message}`);
  }
  const top = z.looseObject({ modules: z.record(z.string(), z.unknown()) }).safeParse(doc);
  if (!top.success) throw new ModulesFileError(`${file}: expected a blackbox_exporter configuration with a "modules:" map`);
  const out = new Map<string, ProbeModule>();
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(top.data.modules)) {
    const m = moduleSchema.safeParse(raw);
    if (!m.success) {
      problems.push(...issues(m.error, `modules.${name}`));
      continue;
    }
    const timeoutSeconds = m.data.timeout;
    if (m.data.prober === 'http') {
      const h = httpModule.safeParse(m.data.http ?? {});
      if (h.success) out.set(name, { name, prober: 'http', timeoutSeconds, http: h.data });
      else problems.push(...issues(h.error, `modules.${name}.http`));
    } else if (m.data.prober === 'tcp') {
      const t = tcpModule.safeParse(m.data.tcp ?? {});
      if (t.success) out.set(name, { name, prober: 'tcp', timeoutSeconds, tcp: t.data });
      else problems.push(...issues(t.error, `modules.${name}.tcp`));
    } else {
      out.set(name, {
        name,
        prober: 'unsupported',
        reason: `module ${name} uses the ${m.data.prober} prober, which Vigil does not implement (http and tcp only)`,
      });
    }
  }
  if (problems.length) throw new ModulesFileError(`${file}: invalid modules file:\n${problems.join('\n')}`);
  return out;
}

/** Reads and parses a modules file (VIGIL_PROBE_MODULES_FILE). */
export async function loadModulesFile(file: string): Promise<Map<string, ProbeModule>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ModulesFileError(
      `${file}: cannot read the probe modules file (${(e as NodeJS.ErrnoException).code}); check VIGIL_PROBE_MODULES_FILE`,
    );
  }
  return parseModulesFile(text, file);
}

/** A body size limit in bytes from blackbox's `body_size_limit` (a number of bytes, or "1MB", "512KiB"…); 0 for none. */
export function parseByteSize(v: number | string | undefined): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const m = /^(\d{1,12})\s?([KMG]i?B|B)?$/.exec(v.trim());
  if (!m) throw new ModulesFileError(`body_size_limit ${JSON.stringify(v)}: expected bytes such as 1048576, "1MB" or "512KiB"`);
  const unit = m[2] ?? 'B';
  const scale = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[unit] ?? 1;
  return Number(m[1]) * scale;
}
