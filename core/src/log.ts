import { createRequire } from 'node:module';
import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * Fields of errors that carry what a client or server sent: Node's HTTP parser
 * errors hold the raw request bytes (`rawPacket`, with its Authorization
 * header), client libraries the request and its headers.
 */
const UNSAFE_ERROR_FIELDS = ['rawPacket', 'headers', 'request', 'response', 'config', 'options'];

/** pino's error serializer, less the fields that may carry credentials. */
export function safeError(err: unknown): unknown {
  const o = pino.stdSerializers.err(err as Error) as unknown;
  if (o && typeof o === 'object') for (const f of UNSAFE_ERROR_FIELDS) delete (o as Record<string, unknown>)[f];
  return o;
}

/**
 * A pino logger for one program. Errors logged under `err` are serialized
 * without raw request bytes or headers (see {@link safeError}); request headers
 * are never logged. JSON lines by default (for journald and log
 * shippers); human-readable when `pretty` is set (a terminal, `vigil start`).
 * pino-pretty is loaded only then: an exporter logging JSON does not carry it.
 * `destination` (JSON lines) is for tests that read what was logged.
 */
export function createLogger(name: string, level: string, pretty = false, destination?: NodeJS.WritableStream): Logger {
  const options = { name, level, serializers: { err: safeError, error: safeError } };
  if (destination) return pino(options, destination);
  if (!pretty) return pino(options);
  const prettyStream = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return pino(options, prettyStream({ colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname', sync: true }));
}

/** A logger that writes nothing: for tests, and for callers that want no output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
