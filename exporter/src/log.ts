import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * A pino logger for one program. JSON lines by default (for journald and log
 * shippers); human-readable when `pretty` is set (a terminal, `vigil start`).
 * pino-pretty is loaded only then: an exporter logging JSON does not carry it.
 */
export function createLogger(name: string, level: string, pretty = false): Logger {
  if (!pretty) return pino({ name, level });
  const prettyStream = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return pino({ name, level }, prettyStream({ colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname', sync: true }));
}
