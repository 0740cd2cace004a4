import path from 'node:path';
import { NODE_NETWORK_UP, nodeNetwork } from '@vigil/core/metric-names';
import type { Collector, HostPaths } from '../collector.js';
import { ParseError, readOptional, readText } from './read.js';

/** The /proc/net/dev columns, in order, with node_exporter's metric stems. */
export const NETDEV_COLUMNS = [
  'receive_bytes',
  'receive_packets',
  'receive_errs',
  'receive_drop',
  'receive_fifo',
  'receive_frame',
  'receive_compressed',
  'receive_multicast',
  'transmit_bytes',
  'transmit_packets',
  'transmit_errs',
  'transmit_drop',
  'transmit_fifo',
  'transmit_colls',
  'transmit_carrier',
  'transmit_compressed',
] as const;

export type NetdevColumn = (typeof NETDEV_COLUMNS)[number];

/** One interface's counters since boot (bytes and packets). */
export interface NetdevStats {
  device: string;
  counters: Record<NetdevColumn, number>;
}

/**
 * Parses /proc/net/dev (two header lines, then `iface: 16 counters`).
 * @throws ParseError for a line without 16 numeric counters
 */
export function parseNetdev(text: string): NetdevStats[] {
  const out: NetdevStats[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (i < 2 || line.trim() === '') return;
    const colon = line.indexOf(':');
    if (colon < 0) throw new ParseError('net/dev', i + 1, `expected "device: counters", got ${JSON.stringify(line.slice(0, 40))}`);
    const device = line.slice(0, colon).trim();
    const values = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (device === '' || values.length !== NETDEV_COLUMNS.length || values.some((v) => !/^\d+$/.test(v))) {
      throw new ParseError('net/dev', i + 1, `expected ${NETDEV_COLUMNS.length} counters for "${device}"`);
    }
    const counters = Object.fromEntries(NETDEV_COLUMNS.map((c, j) => [c, Number(values[j])])) as Record<NetdevColumn, number>;
    out.push({ device, counters });
  });
  return out;
}

/**
 * Reads and parses `<proc>/net/dev`: the network namespace of the process `proc`
 * names (`/proc` itself: the exporter's, the host's when it runs in the host's).
 * @param keepOpen false for per-container paths, which come and go
 */
export async function readNetdev(proc: string, signal?: AbortSignal, keepOpen = true): Promise<NetdevStats[]> {
  return parseNetdev(await readText(path.join(proc, 'net', 'dev'), signal, keepOpen ? 'memory' : 'once'));
}

/** Whether an interface is up, from `<sys>/class/net/<device>/operstate`; null when sysfs does not know it. */
export async function readOperstate(sys: string, device: string, signal?: AbortSignal): Promise<string | null> {
  try {
    return (await readText(path.join(sys, 'class/net', device, 'operstate'), signal, 'memory')).trim();
  } catch {
    return null;
  }
}

/**
 * `node_network_{receive,transmit}_*_total{device}` from /proc/net/dev,
 * `node_network_up{device}` (operstate "up") and
 * `node_network_receive_nohandler_total{device}` (packets dropped for want of
 * a protocol handler, which /proc/net/dev lacks; node_exporter reads it over
 * netlink) from /sys/class/net/<device>/{operstate,statistics/rx_nohandler}.
 */
export function netdevCollector(paths: HostPaths): Collector {
  return {
    name: 'netdev',
    async update(sink, signal) {
      const stats = await readNetdev(paths.proc, signal);
      const states = await Promise.all(stats.map((s) => readOperstate(paths.sys, s.device, signal)));
      const nohandler = await Promise.all(
        stats.map((s) => readOptional(path.join(paths.sys, 'class/net', s.device, 'statistics/rx_nohandler'), signal)),
      );
      const up = sink.of(NODE_NETWORK_UP);
      stats.forEach((s, i) => {
        if (states[i] !== null) up.set({ device: s.device }, states[i] === 'up' ? 1 : 0);
      });
      const nh = sink.counter('node_network_receive_nohandler_total', 'Network device statistic receive_nohandler.');
      stats.forEach((s, i) => {
        const t = nohandler[i]?.trim();
        if (t && /^\d+$/.test(t)) nh.set({ device: s.device }, Number(t));
      });
      for (const col of NETDEV_COLUMNS) {
        const [dir, what] = col.split('_') as ['receive' | 'transmit', string];
        const family = sink.of(nodeNetwork(dir, what));
        for (const s of stats) family.set({ device: s.device }, s.counters[col]);
      }
    },
  };
}
