import path from 'node:path';
import type { Collector, HostPaths } from '../collector.js';
import { ParseError, readOptional, readText } from './read.js';

/**
 * Sums the queues of /proc/net/udp or udp6: a header, then one socket per
 * line whose fifth column is `tx_queue:rx_queue` in hexadecimal bytes.
 * @throws ParseError for a socket line without a `hex:hex` queue column
 */
export function parseUdpQueues(text: string, file = 'net/udp'): { tx: number; rx: number } {
  const lines = text.split('\n');
  let tx = 0;
  let rx = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const queues = line.split(/\s+/)[4] ?? '';
    const colon = queues.indexOf(':');
    const t = queues.slice(0, colon);
    const r = queues.slice(colon + 1);
    if (colon < 1 || !/^[0-9A-F]+$/i.test(t) || !/^[0-9A-F]+$/i.test(r))
      throw new ParseError(file, i + 1, `expected tx_queue:rx_queue in the fifth column, got ${JSON.stringify(line.slice(0, 80))}`);
    tx += Number.parseInt(t, 16);
    rx += Number.parseInt(r, 16);
  }
  return { tx, rx };
}

/**
 * node_exporter's udp_queues collector: `node_udp_queues{ip="v4|v6", queue="tx|rx"}`,
 * bytes queued in the kernel for UDP datagrams, summed over the sockets of
 * /proc/net/udp and udp6 (v6 left out on a kernel without IPv6).
 */
export function udpQueuesCollector(paths: HostPaths): Collector {
  return {
    name: 'udp_queues',
    async update(sink, signal) {
      const family = sink.gauge('node_udp_queues', 'Number of allocated memory in the kernel for UDP datagrams in bytes.');
      for (const [file, ip] of [
        ['net/udp', 'v4'],
        ['net/udp6', 'v6'],
      ] as const) {
        // udp must be there; udp6 is not on a kernel without IPv6.
        const text =
          ip === 'v6'
            ? await readOptional(path.join(paths.proc, file), signal)
            : await readText(path.join(paths.proc, file), signal, 'memory');
        if (text === null) continue;
        const q = parseUdpQueues(text, file);
        family.set({ ip, queue: 'tx' }, q.tx);
        family.set({ ip, queue: 'rx' }, q.rx);
      }
    },
  };
}
