import { X509Certificate } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import tls from 'node:tls';
import { createGunzip } from 'node:zlib';
import { PROBE_DURATION_SECONDS, PROBE_HTTP_STATUS_CODE, PROBE_SSL_EARLIEST_CERT_EXPIRY, PROBE_SUCCESS } from '@vigil/core/metric-names';
import type { Labels, MetricSink } from '@vigil/core/render';
import { type ProbeAllowList, probeRefusal } from './allow.js';
import type { HttpModule, RunnableModule, TcpModule } from './modules.js';

/** What one probe found, for the JSON views and logs (the series go to the sink). */
export interface ProbeOutcome {
  success: boolean;
  durationSeconds: number;
  /** The final HTTP status, for HTTP probes that got an answer. */
  statusCode: number | null;
  /** Unix seconds when the earliest certificate presented expires, for TLS. */
  sslEarliestCertExpiry: number | null;
  /** Why the probe failed, in words; null on success. */
  error: string | null;
}

/** Thrown inside a probe; its message becomes the outcome's error. */
class ProbeFailure extends Error {}

/** An IP address's bytes: 4 for IPv4, 16 for IPv6 (an embedded IPv4 tail included). */
export function ipBytes(address: string): number[] {
  if (net.isIPv4(address)) return address.split('.').map(Number);
  if (!net.isIPv6(address)) throw new Error(`${address} is not an IP address`);
  let text = address.split('%')[0]!;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    tail.push(
      ...text
        .slice(lastColon + 1)
        .split('.')
        .map(Number),
    );
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', rest] = text.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const words = [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** blackbox_exporter's probe_ip_addr_hash: FNV-1a (32 bit) of the address's bytes (4 for IPv4, 16 for IPv6). */
export function ipAddrHash(address: string): number {
  let h = 0x811c9dc5;
  for (const b of ipBytes(address)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** TLS protocol names as Go's tls.VersionName gives them (blackbox's probe_tls_version_info). */
const TLS_VERSIONS: Record<string, string> = { TLSv1: 'TLS 1.0', 'TLSv1.1': 'TLS 1.1', 'TLSv1.2': 'TLS 1.2', 'TLSv1.3': 'TLS 1.3' };

/** Go's time.Time{}.Unix(): what blackbox_exporter reports for a chain it did not verify. */
const GO_ZERO_TIME = -62135596800;

const G = (sink: MetricSink, name: string, help: string) => sink.gauge(name, help);

/**
 * Resolves a host as blackbox_exporter does: the preferred IP family first
 * (ip6 by default), the other when `fallback` and the preferred has none.
 * Literal addresses are taken as they are.
 * @throws ProbeFailure naming the host when it does not resolve
 */
async function resolve(host: string, preferred: 'ip4' | 'ip6', fallback: boolean): Promise<{ address: string; family: 4 | 6 }> {
  const literal = net.isIP(host.startsWith('[') ? host.slice(1, -1) : host);
  if (literal) return { address: host.startsWith('[') ? host.slice(1, -1) : host, family: literal as 4 | 6 };
  const first = preferred === 'ip6' ? 6 : 4;
  try {
    const r = await lookup(host, { family: first });
    return { address: r.address, family: first };
  } catch (err) {
    if (!fallback) throw new ProbeFailure(`cannot resolve ${host} over IPv${first}: ${(err as NodeJS.ErrnoException).code}`);
  }
  const second = first === 6 ? 4 : 6;
  try {
    const r = await lookup(host, { family: second });
    return { address: r.address, family: second };
  } catch (err) {
    throw new ProbeFailure(`cannot resolve ${host}: ${(err as NodeJS.ErrnoException).code}`);
  }
}

/**
 * Resolves a probe's host ({@link resolve}) and, when given a sink, records
 * blackbox's `probe_dns_lookup_time_seconds`, `probe_ip_protocol` and
 * `probe_ip_addr_hash` for it.
 */
async function resolveRecorded(
  host: string,
  m: { preferred_ip_protocol: 'ip4' | 'ip6'; ip_protocol_fallback: boolean },
  sink: MetricSink | null,
  labels: Labels,
): Promise<{ address: string; family: 4 | 6; dnsSeconds: number }> {
  const t0 = performance.now();
  const { address, family } = await resolve(host, m.preferred_ip_protocol, m.ip_protocol_fallback);
  const dnsSeconds = (performance.now() - t0) / 1000;
  if (sink) {
    G(sink, 'probe_dns_lookup_time_seconds', 'Returns the time taken for probe dns lookup in seconds').set(labels, dnsSeconds);
    G(sink, 'probe_ip_protocol', 'Specifies whether probe ip protocol is IP4 or IP6').set(labels, family);
    G(sink, 'probe_ip_addr_hash', "Specifies the hash of IP address. It's useful to detect if the IP address changes.").set(
      labels,
      ipAddrHash(address),
    );
  }
  return { address, family, dnsSeconds };
}

/** A probe's failure in words: the deadline, our own message, or the system error's code. */
function failureMessage(err: unknown, signal: AbortSignal): string {
  if (signal.aborted) return 'timed out';
  if (err instanceof ProbeFailure) return err.message;
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/** Adds blackbox's TLS series for a connected TLS socket and returns the earliest expiry (Unix seconds). */
function addTlsSeries(sink: MetricSink, labels: Labels, socket: TLSSocket): number | null {
  const version = TLS_VERSIONS[socket.getProtocol() ?? ''];
  if (version) G(sink, 'probe_tls_version_info', 'Returns the TLS version used or NaN when unknown').set({ ...labels, version }, 1);
  const chain: DetailedPeerCertificate[] = [];
  const seen = new Set<string>();
  let c = socket.getPeerCertificate(true) as DetailedPeerCertificate | undefined;
  while (c?.raw && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    chain.push(c);
    c = c.issuerCertificate;
  }
  if (chain.length === 0) return null;
  const expiry = (cert: DetailedPeerCertificate) => Date.parse(cert.valid_to) / 1000;
  // The certificates the server presented (Node adds the trust anchor it verified against at the end).
  const presented = socket.authorized && chain.length > 1 && chain.at(-1)!.issuerCertificate === chain.at(-1) ? chain.slice(0, -1) : chain;
  const earliest = Math.min(...presented.map(expiry));
  G(sink, PROBE_SSL_EARLIEST_CERT_EXPIRY.name, PROBE_SSL_EARLIEST_CERT_EXPIRY.help).set(labels, earliest);
  // The verified chain's earliest expiry; Go's zero time (year 1) when verification was skipped, as blackbox_exporter.
  G(sink, 'probe_ssl_last_chain_expiry_timestamp_seconds', 'Returns last SSL chain expiry in timestamp').set(
    labels,
    socket.authorized ? Math.min(...chain.map(expiry)) : GO_ZERO_TIME,
  );
  const leaf = new X509Certificate(chain[0]!.raw);
  G(sink, 'probe_ssl_last_chain_info', 'Contains SSL leaf certificate information').set(
    {
      ...labels,
      fingerprint_sha256: leaf.fingerprint256.replaceAll(':', '').toLowerCase(),
      subject: goName(leaf.subject),
      issuer: goName(leaf.issuer),
      subjectalternative: (leaf.subjectAltName ?? '')
        .split(', ')
        .filter((n) => n.startsWith('DNS:'))
        .map((n) => n.slice(4))
        .join(','),
    },
    1,
  );
  return earliest;
}

/** An X.509 name as Go's pkix.Name.String() writes it: the RDNs in reverse order, comma-separated. */
function goName(openssl: string): string {
  return openssl
    .split('\n')
    .filter(Boolean)
    .reverse()
    .map((rdn) => rdn.replace(/^emailAddress=/, '1.2.840.113549.1.9.1='))
    .join(',');
}

/** Per-phase seconds of an HTTP probe, summed over redirects, as blackbox's probe_http_duration_seconds{phase}. */
interface Phases {
  resolve: number;
  connect: number;
  tls: number;
  processing: number;
  transfer: number;
}

/** The answer to one HTTP request: status, headers, body bytes (kept when a body check needs them), timings. */
interface HttpAnswer {
  status: number;
  version: string;
  headers: http.IncomingHttpHeaders;
  contentLength: number;
  bodyBytes: number;
  body: Buffer | null;
  socket: net.Socket;
}

/**
 * One HTTP exchange on a fresh connection to `address` (already resolved and
 * allowed), timing its phases into `phases`. Never follows a redirect itself.
 */
function exchange(
  url: URL,
  address: string,
  family: 4 | 6,
  m: HttpModule,
  keepBody: boolean,
  phases: Phases,
  signal: AbortSignal,
): Promise<HttpAnswer> {
  return new Promise((resolvePromise, reject) => {
    const secure = url.protocol === 'https:';
    const t0 = performance.now();
    let tConnected = t0;
    let tReady = t0;
    const headers: Record<string, string> = {
      'user-agent': 'Vigil-Exporter/blackbox',
      ...(m.compression ? { 'accept-encoding': m.compression } : {}),
      ...m.headers,
    };
    const options: https.RequestOptions = {
      method: m.method,
      agent: false,
      headers,
      signal,
      // The address resolved (and allowed) already; Node's happy-eyeballs asks for all of them.
      lookup: (_h: string, o: { all?: boolean }, cb: (err: null, a: string | { address: string; family: number }[], f?: number) => void) =>
        o?.all ? cb(null, [{ address, family }]) : cb(null, address, family),
      rejectUnauthorized: !m.tls_config.insecure_skip_verify,
      servername: m.tls_config.server_name ?? (net.isIP(url.hostname.replace(/^\[|\]$/g, '')) ? undefined : url.hostname),
    } as https.RequestOptions;
    const req = (secure ? https : http).request(url, options, (res) => {
      const tFirstByte = performance.now();
      phases.processing += (tFirstByte - tReady) / 1000;
      const limit = m.body_size_limit;
      // Decompressed only when the module asks for compression, as blackbox_exporter.
      const gzip = m.compression === 'gzip' && res.headers['content-encoding'] === 'gzip';
      const stream = gzip ? res.pipe(createGunzip()) : res;
      const chunks: Buffer[] = [];
      let bytes = 0;
      const tooBig = () => new ProbeFailure(`body is over the module's body_size_limit of ${limit} bytes`);
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (limit && bytes > limit) {
          reject(tooBig());
          req.destroy();
          return;
        }
        if (keepBody) chunks.push(chunk);
      });
      stream.once('error', (e) => reject(e));
      stream.once('end', () => {
        if (limit && bytes > limit) return reject(tooBig());
        phases.transfer += (performance.now() - tFirstByte) / 1000;
        const declared = res.headers['content-length'];
        resolvePromise({
          status: res.statusCode ?? 0,
          version: res.httpVersion,
          headers: res.headers,
          // Go reports -1 when the length is unknown.
          contentLength: declared !== undefined ? Number(declared) : -1,
          bodyBytes: bytes,
          body: keepBody ? Buffer.concat(chunks) : null,
          socket: res.socket,
        });
      });
    });
    req.once('socket', (socket: net.Socket) => {
      socket.once('connect', () => {
        tConnected = performance.now();
        phases.connect += (tConnected - t0) / 1000;
        tReady = tConnected;
      });
      if (secure)
        socket.once('secureConnect', () => {
          tReady = performance.now();
          phases.tls += (tReady - tConnected) / 1000;
        });
    });
    req.once('error', reject);
    req.end(m.body);
  });
}

/** The headers named (case-insensitively), each of its values. */
const headerValues = (headers: http.IncomingHttpHeaders, name: string): string[] => {
  const v = headers[name.toLowerCase()];
  return v === undefined ? [] : Array.isArray(v) ? v : [String(v)];
};

/**
 * blackbox_exporter's HTTP prober: resolves (preferred IP family, fallback),
 * checks each hop against the allow-list, follows up to 10 redirects unless
 * the module says not to, and adds its series to `sink` with `labels`:
 * `probe_http_duration_seconds{phase}` (resolve, connect, tls, processing,
 * transfer; summed over redirects), `probe_http_status_code`,
 * `probe_http_content_length` (-1 when unknown), `probe_http_uncompressed_body_length`,
 * `probe_http_redirects`, `probe_http_ssl`, `probe_http_version`,
 * `probe_failed_due_to_regex`, `probe_http_last_modified_timestamp_seconds`,
 * `probe_ip_protocol`, `probe_ip_addr_hash`, `probe_dns_lookup_time_seconds`,
 * and for TLS `probe_ssl_earliest_cert_expiry`, `probe_ssl_last_chain_expiry_timestamp_seconds`,
 * `probe_ssl_last_chain_info`, `probe_tls_version_info`. HTTP/1.1 only (no h2).
 * Never throws: a failure is the outcome's `error`, with probe_success 0.
 */
async function probeHttp(
  target: string,
  m: HttpModule,
  allow: ProbeAllowList | null,
  sink: MetricSink,
  labels: Labels,
  signal: AbortSignal,
): Promise<Omit<ProbeOutcome, 'durationSeconds'>> {
  const phases: Phases = { resolve: 0, connect: 0, tls: 0, processing: 0, transfer: 0 };
  let redirects = 0;
  let failedRegex = false;
  let answer: HttpAnswer | null = null;
  let expiry: number | null = null;
  let statusCode: number | null = null;
  const follow = m.no_follow_redirects === undefined ? m.follow_redirects : !m.no_follow_redirects;
  const keepBody = m.fail_if_body_matches_regexp.length > 0 || m.fail_if_body_not_matches_regexp.length > 0;
  const finish = (success: boolean, error: string | null) => {
    const add = (name: string, help: string, value: number) => G(sink, name, help).set(labels, value);
    const d = G(sink, 'probe_http_duration_seconds', 'Duration of http request by phase, summed over all redirects');
    for (const phase of ['connect', 'processing', 'resolve', 'tls', 'transfer'] as const) d.set({ ...labels, phase }, phases[phase]);
    add(PROBE_HTTP_STATUS_CODE.name, PROBE_HTTP_STATUS_CODE.help, statusCode ?? 0);
    add('probe_http_content_length', 'Length of http content response', answer?.contentLength ?? 0);
    add('probe_http_uncompressed_body_length', 'Length of uncompressed response body', answer?.bodyBytes ?? 0);
    add('probe_http_redirects', 'The number of redirects', redirects);
    add('probe_http_ssl', 'Indicates if SSL was used for the final redirect', answer && answer.socket instanceof tls.TLSSocket ? 1 : 0);
    add('probe_http_version', 'Returns the version of HTTP of the probe response', answer ? Number(answer.version) : 0);
    add('probe_failed_due_to_regex', 'Indicates if probe failed due to regex', failedRegex ? 1 : 0);
    const lastModified = answer ? Date.parse(String(answer.headers['last-modified'] ?? '')) : Number.NaN;
    if (Number.isFinite(lastModified))
      add('probe_http_last_modified_timestamp_seconds', 'Returns the Last-Modified HTTP response header in unixtime', lastModified / 1000);
    return { success, statusCode, sslEarliestCertExpiry: expiry, error };
  };
  let url: URL;
  try {
    url = new URL(/^https?:\/\//i.test(target) ? target : `http://${target}`);
  } catch {
    return finish(false, `target ${JSON.stringify(target)} is not a URL`);
  }
  try {
    for (;;) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ProbeFailure(`cannot probe ${url.protocol} URLs`);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      // Recorded for the first hop, as blackbox_exporter does; every hop's lookup counts in the resolve phase.
      const { address, family, dnsSeconds } = await resolveRecorded(host, m, answer ? null : sink, labels);
      phases.resolve += dnsSeconds;
      if (allow && !allow.allows(host, address))
        throw new ProbeFailure(`${probeRefusal(host, address)}${redirects ? ` (reached by redirect ${redirects})` : ''}`);
      answer = await exchange(url, address, family, m, keepBody, phases, signal);
      statusCode = answer.status;
      if (answer.socket instanceof tls.TLSSocket) expiry = addTlsSeries(sink, labels, answer.socket);
      const location = answer.headers.location;
      if (location && answer.status >= 300 && answer.status < 400) {
        // Counted whether or not followed, as blackbox_exporter does.
        if (++redirects > 10) throw new ProbeFailure('stopped after 10 redirects');
        if (!follow) break;
        url = new URL(location, url);
        continue;
      }
      break;
    }
  } catch (err) {
    return finish(false, failureMessage(err, signal));
  }
  const a = answer!;
  const status = a.status;
  if (m.valid_status_codes.length ? !m.valid_status_codes.includes(status) : status < 200 || status >= 300)
    return finish(false, `HTTP ${status}`);
  const version = `HTTP/${a.version}`;
  if (m.valid_http_versions.length && !m.valid_http_versions.includes(version))
    return finish(false, `${version} is not among valid_http_versions`);
  const ssl = a.socket instanceof tls.TLSSocket;
  if (m.fail_if_ssl && ssl) return finish(false, 'answered over TLS, and the module has fail_if_ssl');
  if (m.fail_if_not_ssl && !ssl) return finish(false, 'answered without TLS, and the module has fail_if_not_ssl');
  if (keepBody) {
    const body = a.body!.toString('utf8');
    const bad = m.fail_if_body_matches_regexp.find((re) => re.matcher(body).find());
    const missing = m.fail_if_body_not_matches_regexp.find((re) => !re.matcher(body).find());
    if (bad || missing) {
      failedRegex = true;
      return finish(false, bad ? `body matched ${bad.pattern()}` : `body did not match ${missing!.pattern()}`);
    }
  }
  for (const h of m.fail_if_header_matches) {
    if (headerValues(a.headers, h.header).some((v) => h.regexp.matcher(v).find())) {
      failedRegex = true;
      return finish(false, `header ${h.header} matched ${h.regexp.pattern()}`);
    }
  }
  for (const h of m.fail_if_header_not_matches) {
    const values = headerValues(a.headers, h.header);
    if (values.length === 0 ? !h.allow_missing : !values.some((v) => h.regexp.matcher(v).find())) {
      failedRegex = true;
      return finish(false, `header ${h.header} did not match ${h.regexp.pattern()}`);
    }
  }
  return finish(true, null);
}

/**
 * blackbox_exporter's TCP prober: connect (TLS when the module says so), then
 * its query_response steps (expect a line matching, send a line, `${1}` from
 * the last match), adding probe_ip_protocol, probe_ip_addr_hash,
 * probe_dns_lookup_time_seconds, probe_failed_due_to_regex and, for TLS, the
 * certificate series. Reads at most 1 MiB of lines. Never throws.
 */
async function probeTcp(
  target: string,
  m: TcpModule,
  allow: ProbeAllowList | null,
  sink: MetricSink,
  labels: Labels,
  signal: AbortSignal,
): Promise<Omit<ProbeOutcome, 'durationSeconds'>> {
  let failedRegex = false;
  let expiry: number | null = null;
  const done = (success: boolean, error: string | null) => {
    G(sink, 'probe_failed_due_to_regex', 'Indicates if probe failed due to regex').set(labels, failedRegex ? 1 : 0);
    return { success, statusCode: null, sslEarliestCertExpiry: expiry, error };
  };
  const colon = target.lastIndexOf(':');
  const host = colon > 0 ? target.slice(0, colon).replace(/^\[|\]$/g, '') : '';
  const port = Number(target.slice(colon + 1));
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535)
    return done(false, `target ${JSON.stringify(target)}: expected host:port`);
  let socket: net.Socket | undefined;
  try {
    const { address } = await resolveRecorded(host, m, sink, labels);
    if (allow && !allow.allows(host, address)) throw new ProbeFailure(probeRefusal(host, address));
    socket = await new Promise<net.Socket>((ok, fail) => {
      const s = m.tls
        ? tls.connect({
            host: address,
            port,
            servername: m.tls_config.server_name ?? (net.isIP(host) ? undefined : host),
            rejectUnauthorized: !m.tls_config.insecure_skip_verify,
          })
        : net.connect({ host: address, port });
      const abort = () => s.destroy(new ProbeFailure('timed out'));
      signal.addEventListener('abort', abort, { once: true });
      s.once(m.tls ? 'secureConnect' : 'connect', () => ok(s));
      s.once('error', fail);
    });
    if (socket instanceof tls.TLSSocket) expiry = addTlsSeries(sink, labels, socket);
    const lines = lineReader(socket);
    let groups: string[] = [];
    for (const step of m.query_response) {
      if (step.expect) {
        for (;;) {
          const line = await lines.next();
          if (line === null) {
            failedRegex = true;
            throw new ProbeFailure(`connection closed before a line matched ${step.expect.pattern()}`);
          }
          const matcher = step.expect.matcher(line);
          if (matcher.find()) {
            groups = Array.from({ length: matcher.groupCount() + 1 }, (_, i) => matcher.group(i) ?? '');
            break;
          }
        }
      }
      if (step.send !== undefined) {
        const text = step.send.replace(/\$\{(\d+)\}|\$(\d+)/g, (_, a, b) => groups[Number(a ?? b)] ?? '');
        socket.write(`${text}\n`);
      }
    }
    return done(true, null);
  } catch (err) {
    return done(false, failureMessage(err, signal));
  } finally {
    socket?.destroy();
  }
}

/** Lines from a socket, one at a time; null at the end. Reads at most 1 MiB. */
function lineReader(socket: net.Socket): { next(): Promise<string | null> } {
  let buffered = '';
  let total = 0;
  let ended = false;
  let error: Error | null = null;
  let wake: (() => void) | null = null;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    total += d.length;
    if (total > 1024 * 1024) {
      error = new ProbeFailure('more than 1 MiB without the expected line');
      socket.destroy();
    }
    buffered += d;
    wake?.();
  });
  socket.once('end', () => {
    ended = true;
    wake?.();
  });
  socket.once('close', () => {
    ended = true;
    wake?.();
  });
  socket.once('error', (e) => {
    error = e;
    wake?.();
  });
  return {
    async next() {
      for (;;) {
        if (error) throw error;
        const nl = buffered.indexOf('\n');
        if (nl >= 0) {
          const line = buffered.slice(0, nl).replace(/\r$/, '');
          buffered = buffered.slice(nl + 1);
          return line;
        }
        if (ended) {
          if (buffered === '') return null;
          const rest = buffered;
          buffered = '';
          return rest;
        }
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = null;
      }
    },
  };
}

/**
 * Runs one probe of `target` with `module`, under `timeoutSeconds`, and
 * adds its series to `sink` with `labels` (none for /probe; `{service}` for
 * the services collector): the prober's, then `probe_success` and
 * `probe_duration_seconds`. Never throws.
 */
export async function runProbe(
  target: string,
  module: RunnableModule,
  allow: ProbeAllowList | null,
  sink: MetricSink,
  labels: Labels,
  timeoutSeconds: number,
): Promise<ProbeOutcome> {
  const t0 = performance.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutSeconds * 1000);
  try {
    const r =
      module.prober === 'http'
        ? await probeHttp(target, module.http, allow, sink, labels, controller.signal)
        : await probeTcp(target, module.tcp, allow, sink, labels, controller.signal);
    const durationSeconds = (performance.now() - t0) / 1000;
    G(sink, PROBE_SUCCESS.name, PROBE_SUCCESS.help).set(labels, r.success ? 1 : 0);
    G(sink, PROBE_DURATION_SECONDS.name, PROBE_DURATION_SECONDS.help).set(labels, durationSeconds);
    return { ...r, error: r.error && controller.signal.aborted ? `timed out after ${timeoutSeconds} s` : r.error, durationSeconds };
  } finally {
    clearTimeout(timer);
  }
}
