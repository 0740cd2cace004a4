import path from 'node:path';
import type { Collector, HostPaths } from '../collector.js';
import { ParseError, readText } from './read.js';

/** node_exporter's default `--collector.vmstat.fields`: OOM kills, paging, swapping, page faults. */
export const DEFAULT_VMSTAT_FIELDS = /^(oom_kill|pgpg|pswp|pg.*fault).*/;

/**
 * Parses /proc/vmstat (`name value` per line, counts since boot).
 * @returns each field, in file order
 * @throws ParseError for a line that is not a name and a whole number
 */
export function parseVmstat(text: string): [string, number][] {
  const out: [string, number][] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const sp = line.indexOf(' ');
    const name = sp > 0 ? line.slice(0, sp) : '';
    const value = sp > 0 ? line.slice(sp + 1).trim() : '';
    if (!/^[a-z0-9_]+$/.test(name) || !/^-?\d+$/.test(value))
      throw new ParseError('vmstat', i + 1, `expected "name count", got ${JSON.stringify(line.slice(0, 60))}`);
    out.push([name, Number(value)]);
  }
  return out;
}

/**
 * `node_vmstat_<field>` (untyped, as node_exporter has them) for the fields of
 * /proc/vmstat that `fields` matches (default node_exporter's:
 * oom_kill, pgpgin, pgpgout, pswpin, pswpout, pgfault, pgmajfault).
 */
export function vmstatCollector(paths: HostPaths, fields: RegExp = DEFAULT_VMSTAT_FIELDS): Collector {
  return {
    name: 'vmstat',
    async update(sink, signal) {
      const pairs = parseVmstat(await readText(path.join(paths.proc, 'vmstat'), signal, 'memory'));
      for (let i = 0; i < pairs.length; i++) {
        const name = pairs[i]![0];
        if (fields.test(name)) sink.untyped(`node_vmstat_${name}`, `/proc/vmstat information field ${name}.`).set({}, pairs[i]![1]);
      }
    },
  };
}
