import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import net from 'node:net';
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from 'node:tls';
import { invalid, parseDuration } from '@vigil/core/config';
import * as z from 'zod/mini';
import type { Collector } from '../collector.js';

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

function earliestExpiry(cert: DetailedPeerCertificate | PeerCertificate | undefined): number | null {
  let earliest: number | null = null;
  const seen = new Set<string>();
  let c = cert as DetailedPeerCertificate | undefined;
  while (c?.valid_to && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    const t = Date.parse(c.valid_to) / 1000;
    if (Number.isFinite(t)) earliest = earliest === null ? t : Math.min(earliest, t);
    c = c.issuerCertificate;
  }
  return earliest;
}

/** Probes one service: an HTTP GET (no redirects followed), or a TCP connect. Never throws. */
export function probe(s: ServiceConfig): Promise<ProbeResult> {
  const t0 = performance.now();
  const base = {
    name: s.name,
    type: (s.http ? 'http' : 'tcp') as 'http' | 'tcp',
    target: (s.http ?? s.tcp)!,
    statusCode: null,
    sslEarliestCertExpiry: null,
  };
  const done = (success: boolean, extra: Partial<ProbeResult> = {}): ProbeResult => ({
    ...base,
    success,
    durationSeconds: (performance.now() - t0) / 1000,
    error: null,
    ...extra,
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      cleanup();
      resolve(done(false, { error: `timed out after ${s.timeout} s` }));
    }, s.timeout * 1000);
    let cleanup = () => {};
    if (s.tcp) {
      const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(s.tcp)!;
      const socket = net.connect({ host: m[1] ?? m[2], port: Number(m[3]) });
      cleanup = () => socket.destroy();
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.destroy();
        resolve(done(true));
      });
      socket.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(done(false, { error: e.code ?? e.message }));
      });
      return;
    }
    const url = new URL(s.http!);
    const client = url.protocol === 'https:' ? https : http;
    const req = client.request(
      url,
      { method: 'GET', agent: false, rejectUnauthorized: !s.insecure, headers: { 'user-agent': 'vigil-exporter-probe' } },
      (res) => {
        const expiry = url.protocol === 'https:' ? earliestExpiry((res.socket as TLSSocket).getPeerCertificate?.(true)) : null;
        res.resume();
        res.once('end', () => {
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          const ok = s.expectStatus ? s.expectStatus.includes(status) : status >= 200 && status < 300;
          resolve(done(ok, { statusCode: status, sslEarliestCertExpiry: expiry, error: ok ? null : `HTTP ${status}` }));
        });
      },
    );
    cleanup = () => req.destroy();
    req.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(done(false, { error: e.code ?? e.message }));
    });
    req.end();
  });
}

/** Runs `probes` with at most `concurrency` at once, keeping their order. */
export async function probeAll(services: readonly ServiceConfig[], concurrency = 16): Promise<ProbeResult[]> {
  const results: ProbeResult[] = new Array(services.length);
  let next = 0;
  const worker = async () => {
    while (next < services.length) {
      const i = next++;
      results[i] = await probe(services[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, services.length) }, worker));
  return results;
}

/**
 * Service probes as blackbox_exporter reports them, one label `service`:
 * `probe_success`, `probe_duration_seconds`, `probe_http_status_code`,
 * `probe_ssl_earliest_cert_expiry`. The file is read once at start-up.
 */
export function servicesCollector(services: readonly ServiceConfig[], concurrency = 16): Collector {
  return {
    name: 'services',
    async update(sink) {
      const results = await probeAll(services, concurrency);
      const success = sink.gauge('probe_success', 'Displays whether or not the probe was a success');
      const durationF = sink.gauge('probe_duration_seconds', 'Returns how long the probe took to complete in seconds');
      const status = sink.gauge('probe_http_status_code', 'Response HTTP status code');
      const expiry = sink.gauge('probe_ssl_earliest_cert_expiry', 'Returns last SSL chain expiry in unixtime');
      for (const r of results) {
        const labels = { service: r.name };
        success.set(labels, r.success ? 1 : 0);
        durationF.set(labels, r.durationSeconds);
        if (r.type === 'http') status.set(labels, r.statusCode ?? 0);
        if (r.sslEarliestCertExpiry !== null) expiry.set(labels, r.sslEarliestCertExpiry);
      }
      return { probes: results };
    },
  };
}
