import path from 'node:path';
import type { Collector, HostPaths } from '../collector.js';
import { ParseError, readText } from './read.js';

/** A whole number from a one-value /proc file, or a ParseError naming the file. */
function wholeNumber(text: string, file: string): number {
  const t = text.trim();
  if (!/^\d+$/.test(t)) throw new ParseError(file, 1, `expected a whole number, got ${JSON.stringify(t.slice(0, 40))}`);
  return Number(t);
}

/**
 * `node_entropy_available_bits` and `node_entropy_pool_size_bits` from
 * /proc/sys/kernel/random/{entropy_avail,poolsize}, as node_exporter's entropy
 * collector (since Linux 5.18 both read 256).
 */
export function entropyCollector(paths: HostPaths): Collector {
  return {
    name: 'entropy',
    async update(sink, signal) {
      const dir = path.join(paths.proc, 'sys/kernel/random');
      const avail = wholeNumber(await readText(path.join(dir, 'entropy_avail'), signal, 'memory'), 'sys/kernel/random/entropy_avail');
      const pool = wholeNumber(await readText(path.join(dir, 'poolsize'), signal, 'memory'), 'sys/kernel/random/poolsize');
      sink.gauge('node_entropy_available_bits', 'Bits of available entropy.').set({}, avail);
      sink.gauge('node_entropy_pool_size_bits', 'Bits of entropy pool.').set({}, pool);
    },
  };
}
