import path from 'node:path';
import type { Collector, HostPaths } from '../collector.js';
import { ParseError, readText } from './read.js';

/** One CPU's row of /proc/net/softnet_stat; fields a kernel does not have are null. */
export interface SoftnetRow {
  cpu: string;
  processed: number;
  dropped: number;
  timesSqueezed: number;
  cpuCollision: number | null;
  receivedRps: number | null;
  flowLimitCount: number | null;
  backlogLen: number | null;
}

/**
 * Parses /proc/net/softnet_stat: one row per CPU of hexadecimal counters
 * (net/core/net-procfs.c): processed, dropped, time_squeeze, five unused,
 * cpu_collision, received_rps, flow_limit_count (9 to 11 columns on older
 * kernels), then backlog length and the CPU's index (13 since Linux 5.10).
 * The CPU is that index when the row has it, else the row's number.
 * @throws ParseError for a row of fewer than 3 columns or a value that is not hexadecimal
 */
export function parseSoftnet(text: string): SoftnetRow[] {
  const rows: SoftnetRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const c = line.split(/\s+/);
    if (c.length < 3 || c.some((x) => !/^[0-9a-f]+$/i.test(x)))
      throw new ParseError('net/softnet_stat', i + 1, `expected hexadecimal counters, got ${JSON.stringify(line.slice(0, 60))}`);
    const at = (k: number) => (k < c.length ? Number.parseInt(c[k]!, 16) : null);
    rows.push({
      cpu: String(c.length >= 13 ? at(12) : rows.length),
      processed: at(0)!,
      dropped: at(1)!,
      timesSqueezed: at(2)!,
      cpuCollision: at(8),
      receivedRps: at(9),
      flowLimitCount: at(10),
      backlogLen: at(11),
    });
  }
  return rows;
}

/**
 * node_exporter's softnet collector: `node_softnet_{processed,dropped,times_squeezed,
 * cpu_collision,received_rps,flow_limit_count}_total{cpu}` and
 * `node_softnet_backlog_len{cpu}` from /proc/net/softnet_stat, with its help texts.
 */
export function softnetCollector(paths: HostPaths): Collector {
  return {
    name: 'softnet',
    async update(sink, signal) {
      const rows = parseSoftnet(await readText(path.join(paths.proc, 'net/softnet_stat'), signal, 'memory'));
      const counters: [string, string, (r: SoftnetRow) => number | null][] = [
        ['node_softnet_processed_total', 'Number of processed packets', (r) => r.processed],
        ['node_softnet_dropped_total', 'Number of dropped packets', (r) => r.dropped],
        ['node_softnet_times_squeezed_total', 'Number of times processing packets ran out of quota', (r) => r.timesSqueezed],
        [
          'node_softnet_cpu_collision_total',
          'Number of collision occur while obtaining device lock while transmitting',
          (r) => r.cpuCollision,
        ],
        ['node_softnet_received_rps_total', 'Number of times cpu woken up received_rps', (r) => r.receivedRps],
        ['node_softnet_flow_limit_count_total', 'Number of times flow limit has been reached', (r) => r.flowLimitCount],
      ];
      for (const [name, help, pick] of counters)
        for (const r of rows) {
          const v = pick(r);
          if (v !== null) sink.counter(name, help).set({ cpu: r.cpu }, v);
        }
      for (const r of rows)
        if (r.backlogLen !== null) sink.gauge('node_softnet_backlog_len', 'Softnet backlog status').set({ cpu: r.cpu }, r.backlogLen);
    },
  };
}
