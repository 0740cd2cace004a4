import { createLogger, type Logger } from '@vigil/core/log';
import { consoleConfig } from './config';

let logger: Logger | null = null;

/** The console's logger (pino, JSON lines on stdout; human-readable under `vigil start`), made on first use. */
export function log(): Logger {
  logger ??= createLogger('console', consoleConfig().logLevel, process.env.VIGIL_LOG_PRETTY === '1');
  return logger;
}
