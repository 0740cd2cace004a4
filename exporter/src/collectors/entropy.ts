import path from 'node:path';
import type { Collector, HostPaths } from '../collector.js';
import { parseWholeNumber, readText } from './read.js';

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
      const avail = parseWholeNumber(await readText(path.join(dir, 'entropy_avail'), signal, 'memory'), 'sys/kernel/random/entropy_avail');
      const pool = parseWholeNumber(await readText(path.join(dir, 'poolsize'), signal, 'memory'), 'sys/kernel/random/poolsize');
      sink.gauge('node_entropy_available_bits', 'Bits of available entropy.').set({}, avail);
      sink.gauge('node_entropy_pool_size_bits', 'Bits of entropy pool.').set({}, pool);
    },
  };
}
