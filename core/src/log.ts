import { createRequire } from 'node:module';
import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * A pino logger for one program. JSON lines by default (for journald and log
 * shippers); human-readable when `pretty` is set (a terminal, `vigil start`).
 * pino-pretty is loaded only then: an exporter logging JSON does not carry it.
 * `destination` (JSON lines) is for tests that read what was logged.
 */
export function createLogger(name: string, level: string, pretty = false, destination?: NodeJS.WritableStream): Logger {
  if (destination) return pino({ name, level }, destination);
  if (!pretty) return pino({ name, level });
  const prettyStream = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return pino({ name, level }, prettyStream({ colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname', sync: true }));
}

/** A logger that writes nothing: for tests, and for callers that want no output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
