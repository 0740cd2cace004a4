import path from 'node:path';
import { nodeMemory } from '@vigil/core/metric-names';
import type { Collector, HostPaths } from '../collector.js';
import { ParseError, readText } from './read.js';

/** One /proc/meminfo line: `name` as node_exporter spells it (`Active(anon)` → `Active_anon`), kB turned into bytes. */
export interface MeminfoField {
  name: string;
  value: number;
  /** true when the kernel gave kB (value is now bytes); false for counts like HugePages_Total. */
  bytes: boolean;
}

/**
 * Parses /proc/meminfo. Every field is kept, in file order.
 * @throws ParseError for a line that is not `Name: number [kB]`
 */
export function parseMeminfo(text: string): MeminfoField[] {
  const out: MeminfoField[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const m = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+(kB))?\s*$/.exec(line);
    if (!m) throw new ParseError('meminfo', i + 1, `expected "Name: number [kB]", got ${JSON.stringify(line.slice(0, 60))}`);
    const name = m[1]!.replace(/\(/g, '_').replace(/\)/g, '');
    out.push({ name, value: Number(m[2]) * (m[3] ? 1024 : 1), bytes: m[3] !== undefined });
  });
  if (out.length === 0) throw new ParseError('meminfo', 1, 'empty file');
  return out;
}

/** The value of one field (bytes for kB fields), or undefined when the kernel does not report it. */
export function meminfoValue(fields: readonly MeminfoField[], name: string): number | undefined {
  return fields.find((f) => f.name === name)?.value;
}

/** Reads and parses `<proc>/meminfo`. */
export async function readMeminfo(proc: string, signal?: AbortSignal): Promise<MeminfoField[]> {
  return parseMeminfo(await readText(path.join(proc, 'meminfo'), signal, 'memory'));
}

/** Every /proc/meminfo field as `node_memory_<Field>_bytes` (or `node_memory_<Field>` for counts). */
export function meminfoCollector(paths: HostPaths): Collector {
  return {
    name: 'meminfo',
    async update(sink, signal) {
      for (const f of await readMeminfo(paths.proc, signal)) {
        sink.of(nodeMemory(f.name, f.bytes)).set({}, f.value);
      }
    },
  };
}
