import path from 'node:path';
import type { Collector, HostPaths } from '../collector.js';
import { ParseError, readText } from './read.js';

/** Total stall time of one /proc/pressure file, in seconds: `some` (at least one task) and `full` (all tasks). */
export interface PressureTotals {
  someSeconds: number;
  fullSeconds: number | null;
}

/**
 * Parses one /proc/pressure/{cpu,memory,io} file (Documentation/accounting/psi.rst):
 * `some avg10=… avg60=… avg300=… total=<µs>` and, on most kernels, a `full` line.
 * @throws ParseError when the `some` line or a total is missing or not a number
 */
export function parsePressure(text: string, file = 'pressure'): PressureTotals {
  let some: number | null = null;
  let full: number | null = null;
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const m = /^(some|full)\s.*\btotal=(\d+)\s*$/.exec(line);
    if (!m) throw new ParseError(file, i + 1, `expected "some|full avg10=… total=<µs>", got ${JSON.stringify(line.slice(0, 50))}`);
    const seconds = Number(m[2]) / 1e6;
    if (m[1] === 'some') some = seconds;
    else full = seconds;
  });
  if (some === null) throw new ParseError(file, 1, 'no "some" line');
  return { someSeconds: some, fullSeconds: full };
}

/**
 * `node_pressure_{cpu,memory,io}_waiting_seconds_total` and
 * `node_pressure_{memory,io}_stalled_seconds_total` from /proc/pressure. A kernel
 * without PSI (no /proc/pressure) yields no series, not a failure.
 */
export function pressureCollector(paths: HostPaths): Collector {
  return {
    name: 'pressure',
    async update(sink, signal) {
      for (const resource of ['cpu', 'io', 'memory'] as const) {
        let totals: PressureTotals;
        try {
          totals = parsePressure(await readText(path.join(paths.proc, 'pressure', resource), signal, 'memory'), `pressure/${resource}`);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || code === 'EOPNOTSUPP') return; // kernel without PSI
          throw err;
        }
        const what = resource === 'cpu' ? 'CPU' : resource === 'io' ? 'IO' : 'memory';
        sink
          .counter(`node_pressure_${resource}_waiting_seconds_total`, `Total time in seconds that processes have waited for ${what}`)
          .set({}, totals.someSeconds);
        if (resource !== 'cpu' && totals.fullSeconds !== null) {
          sink
            .counter(
              `node_pressure_${resource}_stalled_seconds_total`,
              `Total time in seconds no process could make progress due to ${what} congestion`,
            )
            .set({}, totals.fullSeconds);
        }
      }
    },
  };
}
