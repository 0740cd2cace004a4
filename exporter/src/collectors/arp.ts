import path from 'node:path';
import type { Collector, HostPaths } from '../collector.js';
import { ParseError, readText } from './read.js';

/**
 * Parses /proc/net/arp (a header, then `IP HW-type Flags HW-address Mask Device`
 * per entry).
 * @returns the number of entries per device, in order of first appearance
 * @throws ParseError when the header is missing or an entry has not six columns
 */
export function parseArp(text: string): Map<string, number> {
  const lines = text.split('\n');
  if (!lines[0]?.startsWith('IP address'))
    throw new ParseError('net/arp', 1, `expected the header "IP address HW type …", got ${JSON.stringify((lines[0] ?? '').slice(0, 40))}`);
  const byDevice = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const c = line.split(/\s+/);
    if (c.length !== 6) throw new ParseError('net/arp', i + 1, `expected 6 columns, got ${JSON.stringify(line.slice(0, 60))}`);
    byDevice.set(c[5]!, (byDevice.get(c[5]!) ?? 0) + 1);
  }
  return byDevice;
}

/** node_exporter's arp collector: `node_arp_entries{device}` from /proc/net/arp. */
export function arpCollector(paths: HostPaths): Collector {
  return {
    name: 'arp',
    async update(sink, signal) {
      const byDevice = parseArp(await readText(path.join(paths.proc, 'net/arp'), signal, 'memory'));
      for (const [device, n] of byDevice) sink.gauge('node_arp_entries', 'ARP entries by device').set({ device }, n);
    },
  };
}
