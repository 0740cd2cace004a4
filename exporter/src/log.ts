import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * A pino logger for one program. JSON lines by default (for journald and log
 * shippers); human-readable when `pretty` is set (a terminal, `vigil start`).
 */
export function createLogger(name: string, level: string, pretty_ = false): Logger {
  if (!pretty_) return pino({ name, level });
  return pino({ name, level }, pretty({ colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname', sync: true }));
}
