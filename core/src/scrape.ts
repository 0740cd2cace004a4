import dns from 'node:dns';
import type { BlockList } from 'node:net';
import { Agent, buildConnector, request } from 'undici';
import { AddressRefusedError, addressAllowList, mayDial, normaliseAddress } from './address-guard.js';
import { parseExposition, type ScrapedSample } from './exposition.js';
import { EXPORTER_STATE_HEADER, EXPORTER_STOPPING, SCRAPE_INTERVAL_HEADER } from './protocol.js';
import { maskUrlsIn } from './secrets.js';

/**
 * Keeps connections to exporters open between scrapes, as Prometheus does. One
 * connection per origin (the scrapes of a target never overlap): undici then
 * keeps a plain Client per origin, where any other number makes a Pool whose
 * request queue preallocates 16 KiB, 80 MiB for a fleet of 5,000.
 */
const agents = new Map<string, Agent>();

/**
 * The agent for an allow-list of guarded addresses (see address-guard.ts):
 * connections to link-local and metadata addresses are refused unless listed.
 * One per list (in practice one per process).
 */
function agentFor(allow: readonly string[] | undefined): Agent {
  const key = (allow ?? []).join(',');
  let agent = agents.get(key);
  if (!agent) {
    const connect = guardedConnector(allow?.length ? addressAllowList(allow) : null, SCRAPE_ALLOW_SETTING);
    agent = new Agent({ keepAliveTimeout: 60_000, connections: 1, connect });
    agents.set(key, agent);
  }
  return agent;
}

function refusal(host: string, address: string, setting: string): AddressRefusedError {
  const shown = host === address ? address : `${host} (${address})`;
  return new AddressRefusedError(
    `${shown} is a link-local or cloud metadata address, which is not scraped; list it in ${setting} (an address or a CIDR range) to allow it`,
  );
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * undici's connector (`new Agent({ connect })`) refusing guarded addresses
 * unless `allowed` lists them: an address in the URL is checked before
 * dialling, a name after DNS (every address it resolves to that would be dialled).
 * @param setting the variable that lists allowed addresses, named in the refusal
 */
export function guardedConnector(allowed: BlockList | null, setting: string): buildConnector.connector {
  const lookup = (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => {
    dns.lookup(hostname, { ...options }, (err, address, family) => {
      if (err) return callback(err, '');
      const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
      const bad = addresses.find((a) => !mayDial(a, allowed));
      if (bad !== undefined) return callback(refusal(hostname, bad, setting), '');
      callback(null, address as never, family);
    });
  };
  const base = buildConnector({ lookup } as never);
  return (opts, callback) => {
    const [literal, family] = normaliseAddress(opts.hostname);
    if (family !== 0 && !mayDial(literal, allowed)) {
      callback(refusal(literal, literal, setting), null);
      return;
    }
    base(opts, callback);
  };
}
/** The variable that lists the link-local and metadata addresses scrapes may reach (the scraper's and the console's). */
export const SCRAPE_ALLOW_SETTING = 'VIGIL_SCRAPE_ALLOW';

/** The Accept header Prometheus sends: text 0.0.4 preferred, OpenMetrics accepted. */
export const SCRAPE_ACCEPT = 'text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1';

/** What one scrape of one target gave: what `parse` made of the body, or why it failed. */
export type ScrapeResult<T = ScrapedSample[]> =
  | { up: true; durationSeconds: number; parsed: T }
  | { up: false; durationSeconds: number; error: string; stopping?: true };

/** The error recorded for a scrape answered by an exporter's clean-shutdown goodbye. */
export const GOODBYE_ERROR = 'exporter stopping: a clean shutdown (it said goodbye)';

/**
 * Makes something of a scraped body (its own buffer, which may be transferred
 * to a worker thread). Rejecting, or resolving `{error}`, fails the scrape with
 * that message.
 */
export type BodyParser<T> = (body: Buffer) => Promise<T | { error: string }>;

/** The samples of a body, parsed on this thread (for callers that want every sample). */
export const parseSamples: BodyParser<ScrapedSample[]> = async (body) => parseExposition(body.toString('utf8'));

export interface ScrapeOptions {
  /** Sent as `Authorization: Bearer <token>` (the exporters' VIGIL_EXPORTER_TOKEN). */
  token?: string;
  timeoutSeconds: number;
  /** Largest body accepted, in bytes; a larger one fails the scrape. */
  bodyLimitBytes: number;
  /** The target's scrape interval, sent so a stopping Vigil exporter waits for this scraper's goodbye scrape. */
  intervalSeconds?: number;
  /** Link-local and metadata addresses or CIDR ranges that may be scraped all the same (VIGIL_SCRAPE_ALLOW); others are refused. */
  allowAddresses?: readonly string[];
}

/** Thrown inside a scrape to end it with a readable message. */
class ScrapeError extends Error {}

/**
 * Scrapes one target: GET `url`, read at most `bodyLimitBytes`, parse the
 * exposition. Never throws: a refused connection, a timeout, a non-2xx answer,
 * an oversized or malformed body all come back as `up: false` with a message
 * that says what went wrong and where to look.
 */
export async function scrapeTarget<T = ScrapedSample[]>(
  url: string,
  options: ScrapeOptions,
  parse: BodyParser<T> = parseSamples as unknown as BodyParser<T>,
): Promise<ScrapeResult<T>> {
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const signal = AbortSignal.timeout(options.timeoutSeconds * 1000);
  try {
    const headers: Record<string, string> = {
      accept: SCRAPE_ACCEPT,
      'user-agent': 'vigil-scraper',
      'x-prometheus-scrape-timeout-seconds': String(options.timeoutSeconds),
    };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.intervalSeconds) headers[SCRAPE_INTERVAL_HEADER] = String(options.intervalSeconds);
    const res = await request(url, { method: 'GET', headers, signal, dispatcher: agentFor(options.allowAddresses) });
    if (res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump();
      if (res.statusCode === 503 && res.headers[EXPORTER_STATE_HEADER] === EXPORTER_STOPPING)
        return { up: false, durationSeconds: elapsed(), error: GOODBYE_ERROR, stopping: true };
      const hint =
        res.statusCode === 401 || res.statusCode === 403 ? ': check that VIGIL_EXPORTER_TOKEN is the same here and on the exporter' : '';
      throw new ScrapeError(`HTTP ${res.statusCode}${hint}`);
    }
    const body = await readLimited(res, options.bodyLimitBytes);
    const parsed = await parse(body);
    if (parsed !== null && typeof parsed === 'object' && 'error' in parsed && typeof parsed.error === 'string')
      throw new ScrapeError(parsed.error);
    return { up: true, durationSeconds: elapsed(), parsed: parsed as T };
  } catch (err) {
    return { up: false, durationSeconds: elapsed(), error: describeError(err, options) };
  }
}

/** The body in a buffer of its own (never a slice of Node's shared pool, so it can be transferred). */
async function readLimited(res: Awaited<ReturnType<typeof request>>, limit: number): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (declared > limit) {
    discard(res.body);
    throw new ScrapeError(`body of ${declared} bytes is over the ${limit}-byte limit (VIGIL_SCRAPE_BODY_LIMIT)`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limit) {
      discard(res.body);
      throw new ScrapeError(`body over the ${limit}-byte limit (VIGIL_SCRAPE_BODY_LIMIT)`);
    }
    chunks.push(chunk);
  }
  const body = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for (const c of chunks) {
    c.copy(body, at);
    at += c.byteLength;
  }
  return body;
}

/** Drops a body we will not read; the abort this causes is expected, not an error. */
function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on('error', () => {});
  body.destroy();
}

function describeError(err: unknown, options: ScrapeOptions): string {
  if (err instanceof ScrapeError) return err.message;
  const e = err as Error & { code?: string; cause?: Error & { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.code === 'UND_ERR_ABORTED')
    return `timed out after ${options.timeoutSeconds} s`;
  if (e?.name === 'ExpositionError') return e.message;
  if (e?.code === 'VIGIL_ADDRESS_REFUSED') return e.message;
  if (e?.cause?.code === 'VIGIL_ADDRESS_REFUSED') return e.cause.message;
  if (e?.code === 'ERR_INVALID_URL' || e?.code === 'UND_ERR_INVALID_ARG') return `bad target URL: ${maskUrlsIn(e.message)}`;
  const code = e?.code ?? e?.cause?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused: is the exporter running and listening on that address?';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host name not found (${code})`;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'connection closed by the target before it answered';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `target unreachable (${code})`;
    default:
      break;
  }
  if (e?.cause?.name === 'TimeoutError') return `timed out after ${options.timeoutSeconds} s`;
  return maskUrlsIn(`${e?.cause?.message ?? e?.message ?? String(err)}${code ? ` (${code})` : ''}`);
}
