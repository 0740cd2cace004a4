import path from 'node:path';
import type { Collector, HostPaths } from '../collector.js';
import { ParseError, parseWholeNumber, readOptional, readText } from './read.js';

/** The /proc/net/stat/nf_conntrack columns node_exporter exports, with its help texts. */
export const CONNTRACK_STATS: Readonly<Record<string, string>> = {
  found: 'Number of searched entries which were successful.',
  invalid: 'Number of packets seen which can not be tracked.',
  ignore: 'Number of packets seen which are already connected to a conntrack entry.',
  insert: 'Number of entries inserted into the list.',
  insert_failed: 'Number of entries for which list insertion was attempted but failed.',
  drop: 'Number of packets dropped due to conntrack failure.',
  early_drop: 'Number of dropped conntrack entries to make room for new ones, if maximum table size was reached.',
  search_restart: 'Number of conntrack table lookups which had to be restarted due to hashtable resizes.',
};

/**
 * Parses /proc/net/stat/nf_conntrack: a header of column names, then one line
 * of hexadecimal counts per CPU.
 * @returns each column summed over the CPUs
 * @throws ParseError when a line's width differs from the header or a count is not hexadecimal
 */
export function parseConntrackStat(text: string): Map<string, number> {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').trim().split(/\s+/);
  if (header.length < 2 || !header.every((h) => /^[a-z_]+$/.test(h)))
    throw new ParseError(
      'net/stat/nf_conntrack',
      1,
      `expected a header of column names, got ${JSON.stringify((lines[0] ?? '').slice(0, 60))}`,
    );
  const sums = new Map<string, number>(header.map((h) => [h, 0]));
  for (let i = 1; i < lines.length; i++) {
    const cells = lines[i]!.trim().split(/\s+/);
    if (cells.length !== header.length || cells.some((c) => !/^[0-9a-f]+$/i.test(c)))
      throw new ParseError(
        'net/stat/nf_conntrack',
        i + 1,
        `expected ${header.length} hexadecimal counts, got ${JSON.stringify(lines[i]!.slice(0, 60))}`,
      );
    for (let k = 0; k < cells.length; k++) sums.set(header[k]!, sums.get(header[k]!)! + Number.parseInt(cells[k]!, 16));
  }
  return sums;
}

/**
 * node_exporter's conntrack collector: `node_nf_conntrack_entries` and
 * `node_nf_conntrack_entries_limit` (/proc/sys/net/netfilter/nf_conntrack_{count,max};
 * "conntrack table full" alerts compare the two) and `node_nf_conntrack_stat_*`
 * (/proc/net/stat/nf_conntrack, summed over CPUs), gauges. A host without the
 * nf_conntrack module has none of these files: no series, not a failure.
 */
export function conntrackCollector(paths: HostPaths): Collector {
  return {
    name: 'conntrack',
    async update(sink, signal) {
      const netfilter = path.join(paths.proc, 'sys/net/netfilter');
      const count = await readOptional(path.join(netfilter, 'nf_conntrack_count'), signal);
      if (count === null) return;
      const max = await readText(path.join(netfilter, 'nf_conntrack_max'), signal, 'memory');
      sink
        .gauge('node_nf_conntrack_entries', 'Number of currently allocated flow entries for connection tracking.')
        .set({}, parseWholeNumber(count, 'sys/net/netfilter/nf_conntrack_count'));
      sink
        .gauge('node_nf_conntrack_entries_limit', 'Maximum size of connection tracking table.')
        .set({}, parseWholeNumber(max, 'sys/net/netfilter/nf_conntrack_max'));
      const stat = await readOptional(path.join(paths.proc, 'net/stat/nf_conntrack'), signal);
      if (stat === null) return;
      const sums = parseConntrackStat(stat);
      for (const [column, help] of Object.entries(CONNTRACK_STATS)) {
        const v = sums.get(column);
        if (v !== undefined) sink.gauge(`node_nf_conntrack_stat_${column}`, help).set({}, v);
      }
    },
  };
}
