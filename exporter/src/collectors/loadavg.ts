import path from 'node:path';
import { NODE_LOAD1, NODE_LOAD5, NODE_LOAD15 } from '@vigil/core/metric-names';
import type { Collector, HostPaths } from '../collector.js';
import { ParseError, readText } from './read.js';

/** Load averages over 1, 5 and 15 minutes. */
export interface LoadAvg {
  load1: number;
  load5: number;
  load15: number;
}

/**
 * Parses /proc/loadavg (`0.22 0.26 0.13 1/132 6738`).
 * @throws ParseError when the first three fields are not numbers
 */
export function parseLoadAvg(text: string): LoadAvg {
  const f = text.trim().split(/\s+/);
  const nums = f.slice(0, 3).map((s) => (/^\d+(\.\d+)?$/.test(s) ? Number(s) : NaN));
  if (nums.length < 3 || nums.some(Number.isNaN))
    throw new ParseError('loadavg', 1, `expected three load averages, got ${JSON.stringify(text.trim().slice(0, 40))}`);
  return { load1: nums[0]!, load5: nums[1]!, load15: nums[2]! };
}

/** Reads and parses `<proc>/loadavg`. */
export async function readLoadAvg(proc: string, signal?: AbortSignal): Promise<LoadAvg> {
  return parseLoadAvg(await readText(path.join(proc, 'loadavg'), signal, 'memory'));
}

/** `node_load1`, `node_load5`, `node_load15` from /proc/loadavg. */
export function loadavgCollector(paths: HostPaths): Collector {
  return {
    name: 'loadavg',
    async update(sink, signal) {
      const l = await readLoadAvg(paths.proc, signal);
      sink.of(NODE_LOAD1).set({}, l.load1);
      sink.of(NODE_LOAD5).set({}, l.load5);
      sink.of(NODE_LOAD15).set({}, l.load15);
    },
  };
}
