import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { invalid, parseDuration } from '@vigil/core/config';
import { MetricSink } from '@vigil/core/render';
import * as z from 'zod/mini';
import type { Collector } from '../collector.js';
import { HTTP_DEFAULTS, type RunnableModule, TCP_DEFAULTS } from '../probe/modules.js';
import { runProbe } from '../probe/prober.js';

const duration = (fallback: number) =>
  z.pipe(
    z.optional(z.union([z.number(), z.string()])),
    z.transform((v, ctx) => {
      if (v === undefined) return fallback;
      const s = typeof v === 'number' ? v : parseDuration(v);
      if (s === null || s <= 0 || s > 60) return invalid(ctx, 'expected a timeout above 0 and at most 60 s, such as 3, "3s" or "500ms"');
      return s;
    }),
  );

const serviceSchema = z
  .strictObject({
    name: z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'expected letters, digits, dot, dash or underscore (at most 63)')),
    http: z.optional(z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })),
    tcp: z.optional(z.string().check(z.regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'expected host:port'))),
    timeout: duration(3),
    /** Status codes that count as success; default any 2xx. */
    expectStatus: z.optional(z.array(z.int().check(z.minimum(100), z.maximum(599))).check(z.minLength(1))),
    /** Accept invalid TLS certificates (self-signed lab hosts). */
    insecure: z._default(z.boolean(), false),
  })
  .check(z.refine((s) => (s.http ? 1 : 0) + (s.tcp ? 1 : 0) === 1, { message: 'give exactly one of http or tcp' }));

const fileSchema = z
  .strictObject({ services: z.array(serviceSchema).check(z.maxLength(1000)) })
  .check(z.refine((f) => new Set(f.services.map((s) => s.name)).size === f.services.length, { message: 'service names must be unique' }));

/** One configured probe. */
export type ServiceConfig = z.infer<typeof serviceSchema>;

/** Thrown for a services file that cannot be read or is not valid; the message names the file and each problem. */
export class ServicesFileError extends Error {
  override name = 'ServicesFileError';
}

/**
 * Parses a services file (YAML, of which JSON is a subset):
 * `services: [{name, http: URL | tcp: host:port, timeout?, expectStatus?, insecure?}]`.
 * @throws ServicesFileError naming the file, the path in it and what is expected
 */
export function parseServicesFile(text: string, file: string): ServiceConfig[] {
  let doc: unknown;
  try {
    // Loaded on use: most exporters have no services file.
    const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    doc = parse(text);
  } catch (e) {
    throw new ServicesFileError(`${file}: not valid YAML or JSON: ${(e as Error).message}`);
  }
  const r = fileSchema.safeParse(doc);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `  ${i.path.length ? i.path.join('.') : '(file)'}: ${i.message}`);
    throw new ServicesFileError(`${file}: invalid services file:\n${problems.join('\n')}`);
  }
  return r.data.services;
}

/** Reads and parses the services file. */
export async function loadServicesFile(file: string): Promise<ServiceConfig[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ServicesFileError(`${file}: cannot read the services file (${(e as NodeJS.ErrnoException).code}); check VIGIL_SERVICES_FILE`);
  }
  return parseServicesFile(text, file);
}

/** What one probe found. */
export interface ProbeResult {
  name: string;
  type: 'http' | 'tcp';
  target: string;
  success: boolean;
  durationSeconds: number;
  /** HTTP status, for http probes that got an answer. */
  statusCode: number | null;
  /** Unix seconds when the earliest certificate of the chain expires, for https. */
  sslEarliestCertExpiry: number | null;
  error: string | null;
}

/** The blackbox module a configured service amounts to: no redirects followed, IPv4 first. */
export function serviceModule(s: ServiceConfig): RunnableModule {
  const tls_config = { insecure_skip_verify: s.insecure };
  if (s.tcp) {
    return { name: s.name, prober: 'tcp', timeoutSeconds: s.timeout, tcp: { ...TCP_DEFAULTS, tls_config, preferred_ip_protocol: 'ip4' } };
  }
  return {
    name: s.name,
    prober: 'http',
    timeoutSeconds: s.timeout,
    http: {
      ...HTTP_DEFAULTS,
      valid_status_codes: s.expectStatus ?? [],
      no_follow_redirects: true,
      tls_config,
      preferred_ip_protocol: 'ip4',
    },
  };
}

/**
 * Probes one service as blackbox_exporter would (an HTTP request without
 * following redirects, or a TCP connect), adding its series to `sink` with the
 * label `service` when given one. Never throws.
 */
export async function probe(s: ServiceConfig, sink: MetricSink = new MetricSink()): Promise<ProbeResult> {
  const outcome = await runProbe((s.http ?? s.tcp)!, serviceModule(s), null, sink, { service: s.name }, s.timeout);
  return {
    name: s.name,
    type: s.http ? 'http' : 'tcp',
    target: (s.http ?? s.tcp)!,
    success: outcome.success,
    durationSeconds: outcome.durationSeconds,
    statusCode: outcome.statusCode,
    sslEarliestCertExpiry: outcome.sslEarliestCertExpiry,
    error: outcome.error,
  };
}

/** Runs `probes` with at most `concurrency` at once, keeping their order; their series into `sink` when given. */
export async function probeAll(services: readonly ServiceConfig[], concurrency = 16, sink?: MetricSink): Promise<ProbeResult[]> {
  const results: ProbeResult[] = new Array(services.length);
  // One sink each, joined in the configured order whatever order they finish in.
  const sinks = services.map(() => new MetricSink());
  let next = 0;
  const worker = async () => {
    while (next < services.length) {
      const i = next++;
      results[i] = await probe(services[i]!, sinks[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, services.length) }, worker));
  if (sink) for (const s of sinks) sink.absorb(s);
  return results;
}

/**
 * Service probes as blackbox_exporter reports them, its series with one label
 * `service`: `probe_success`, `probe_duration_seconds`, and the HTTP prober's
 * `probe_http_*` (phases, status, lengths, version, TLS) or the TCP prober's
 * (see runProbe). The file is read once at start-up.
 */
export function servicesCollector(services: readonly ServiceConfig[], concurrency = 16): Collector {
  return {
    name: 'services',
    async update(sink) {
      return { probes: await probeAll(services, concurrency, sink) };
    },
  };
}
