/**
 * The connect-out socket: a host the scraper cannot reach (behind NAT, no
 * inbound port) keeps one outbound WebSocket to the console, and the console
 * relays requests over it — Prometheus's PushProx pattern: the scraper still
 * decides when to scrape and pulls; the exporter never sends on its own.
 *
 * Frames are JSON text:
 * - console → exporter: `request` (an HTTP request to relay to the exporter's
 *   own app), `pty` (dial back `<console>/api/v1/connect/pty/<sid>` for a
 *   terminal: that socket then carries the terminal's own WebSocket);
 * - exporter → console: a response, as one binary frame: a 4-byte length, the
 *   header as JSON (`{id, status, headers}`), then the body's bytes as they are
 *   (no escaping: a 100 KB /metrics costs a copy, not a JSON round trip).
 * Liveness is WebSocket ping and pong (the console pings; each side drops a
 * silent socket).
 */
import * as z from 'zod/mini';

/** The largest frame either side reads, bytes (a big host's /metrics is a few hundred KiB). */
export const CONNECT_MAX_FRAME_BYTES = 32 * 1024 * 1024;
/** How often the console pings a connected exporter, seconds; a socket silent for two of these is dropped. */
export const CONNECT_PING_SECONDS = 15;
/** The paths of the exporter's app a relayed request may ask for. */
export const RELAYED_PATHS: readonly string[] = Object.freeze([
  '/metrics',
  '/health',
  '/stats',
  '/host',
  '/containers',
  '/services',
  '/probe',
]);
/** The request headers relayed to the exporter (the rest are the console's business). */
export const RELAYED_REQUEST_HEADERS: readonly string[] = Object.freeze([
  'accept',
  'user-agent',
  'x-prometheus-scrape-timeout-seconds',
  'x-vigil-scrape-interval-seconds',
]);
/** WebSocket close code: the console closed this socket because another took its place, or the host was removed. */
export const CLOSE_REPLACED = 4001;
export const CLOSE_REMOVED = 4004;

const headers = z.record(z.string(), z.string());

/** A frame the console sends. */
export const consoleFrame = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('request'),
    id: z.int(),
    method: z.enum(['GET', 'HEAD']),
    /** Path and query, one of {@link RELAYED_PATHS}. */
    path: z.string().check(z.maxLength(4096)),
    headers,
    /** The address of whoever asked the console (the scraper's), for the exporter's own bookkeeping. */
    remote: z.optional(z.string().check(z.maxLength(100))),
  }),
  z.object({ type: z.literal('pty'), sid: z.string().check(z.minLength(16), z.maxLength(64)) }),
]);
export type ConsoleFrame = z.infer<typeof consoleFrame>;

/** The header of a response the exporter sends (its body follows in the same binary frame). */
export const responseHeader = z.object({
  id: z.int(),
  status: z.int().check(z.gte(100), z.lte(599)),
  headers,
});
export type ResponseHeader = z.infer<typeof responseHeader>;

/** A response as one binary frame: the header's length (4 bytes, big-endian), the header as JSON, the body. */
export function encodeResponse(header: ResponseHeader, body: Buffer): Buffer {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(h.length, 0);
  return Buffer.concat([len, h, body]);
}

/**
 * Reads a response frame ({@link encodeResponse}).
 * @returns the header and the body (a view of the frame, not a copy), or null when it is not one
 */
export function decodeResponse(frame: Buffer): { header: ResponseHeader; body: Buffer } | null {
  if (frame.length < 4) return null;
  const len = frame.readUInt32BE(0);
  if (len > 65_536 || 4 + len > frame.length) return null;
  let v: unknown;
  try {
    v = JSON.parse(frame.subarray(4, 4 + len).toString('utf8'));
  } catch {
    return null;
  }
  const r = z.safeParse(responseHeader, v);
  return r.success ? { header: r.data, body: frame.subarray(4 + len) } : null;
}

/**
 * Reads a frame: JSON, then the schema.
 * @returns the frame, or null when it is not one (the caller logs and drops it)
 */
export function parseFrame<S extends typeof consoleFrame>(schema: S, data: string): z.infer<S> | null {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return null;
  }
  const r = z.safeParse(schema, v);
  return r.success ? (r.data as z.infer<S>) : null;
}

/** Whether a relayed path (before its `?`) is one the exporter's app serves to the console. */
export function relayedPath(pathAndQuery: string): boolean {
  const q = pathAndQuery.indexOf('?');
  return RELAYED_PATHS.includes(q < 0 ? pathAndQuery : pathAndQuery.slice(0, q));
}

/** The console's WebSocket URL for a path (`http` → `ws`, `https` → `wss`). */
export function websocketUrl(consoleUrl: string, path: string): string {
  const u = new URL(consoleUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = (u.pathname.endsWith('/') ? u.pathname.slice(0, -1) : u.pathname) + path;
  u.search = '';
  return u.toString();
}
