import { parseExposition, type ScrapedSample } from '@vigil/core/exposition';
import { maskUrlsIn } from '@vigil/core/secrets';
import { Agent, request } from 'undici';

/** Keeps connections to exporters open between scrapes, as Prometheus does. */
const agent = new Agent({ keepAliveTimeout: 60_000, connections: 4 });

/** The Accept header Prometheus sends: text 0.0.4 preferred, OpenMetrics accepted. */
export const SCRAPE_ACCEPT = 'text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1';

/** What one scrape of one target gave. */
export type ScrapeResult =
  | { up: true; durationSeconds: number; samples: ScrapedSample[] }
  | { up: false; durationSeconds: number; error: string };

export interface ScrapeOptions {
  /** Sent as `Authorization: Bearer <token>` (the exporters' VIGIL_EXPORTER_TOKEN). */
  token?: string;
  timeoutSeconds: number;
  /** Largest body accepted, in bytes; a larger one fails the scrape. */
  bodyLimitBytes: number;
}

/** Thrown inside a scrape to end it with a readable message. */
class ScrapeError extends Error {}

/**
 * Scrapes one target: GET `url`, read at most `bodyLimitBytes`, parse the
 * exposition. Never throws: a refused connection, a timeout, a non-2xx answer,
 * an oversized or malformed body all come back as `up: false` with a message
 * that says what went wrong and where to look.
 */
export async function scrapeTarget(url: string, options: ScrapeOptions): Promise<ScrapeResult> {
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
    const res = await request(url, { method: 'GET', headers, signal, dispatcher: agent });
    if (res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump();
      const hint =
        res.statusCode === 401 || res.statusCode === 403 ? ': check that VIGIL_EXPORTER_TOKEN is the same here and on the exporter' : '';
      throw new ScrapeError(`HTTP ${res.statusCode}${hint}`);
    }
    const text = await readLimited(res, options.bodyLimitBytes);
    const samples = parseExposition(text);
    return { up: true, durationSeconds: elapsed(), samples };
  } catch (err) {
    return { up: false, durationSeconds: elapsed(), error: describeError(err, options) };
  }
}

async function readLimited(res: Awaited<ReturnType<typeof request>>, limit: number): Promise<string> {
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
  return Buffer.concat(chunks).toString('utf8');
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
