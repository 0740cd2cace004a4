import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../log.js';

/** A logger whose JSON lines a test reads: `lines` so far, and `next()` for the first line logged after the call. */
export interface CapturedLog {
  log: Logger;
  lines: string[];
  /** Resolves with the next line logged (wait on the event, not on time). */
  next(): Promise<string>;
}

/** A JSON-lines logger (the programs' own, serializers included) writing into memory. */
export function captureLog(level = 'info'): CapturedLog {
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  const log = createLogger(
    'test',
    level,
    false,
    new Writable({
      write(chunk, _encoding, done) {
        const line = String(chunk);
        lines.push(line);
        for (const w of waiting.splice(0)) w(line);
        done();
      },
    }),
  );
  return { log, lines, next: () => new Promise((r) => waiting.push(r)) };
}
