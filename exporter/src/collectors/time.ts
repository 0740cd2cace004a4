import path from 'node:path';
import { NODE_TIME } from '@vigil/core/metric-names';
import type { Collector, HostPaths } from '../collector.js';
import { listClass, readText } from './read.js';

/**
 * The clock sources of /sys/devices/system/clocksource/clocksource<N>: each
 * device's available ones (space-separated in `available_clocksource`) and its
 * current one; none when sysfs has no such directory.
 */
export async function readClocksources(
  sys: string,
  signal?: AbortSignal,
): Promise<{ device: string; available: string[]; current: string }[]> {
  const root = path.join(sys, 'devices/system/clocksource');
  const out: { device: string; available: string[]; current: string }[] = [];
  for (const name of await listClass(root, /^clocksource\d+$/)) {
    const dir = path.join(root, name);
    const available = (await readText(path.join(dir, 'available_clocksource'), signal, 'memory')).split(/\s+/).filter(Boolean);
    const current = (await readText(path.join(dir, 'current_clocksource'), signal, 'memory')).trim();
    out.push({ device: name.slice('clocksource'.length), available, current });
  }
  return out;
}

/**
 * `node_time_seconds` (the host's clock, so skew between hosts can be seen)
 * and, as node_exporter's time collector, `node_time_clocksource_available_info`
 * and `node_time_clocksource_current_info{clocksource, device}` from sysfs.
 */
export function timeCollector(paths?: HostPaths, now: () => number = Date.now): Collector {
  return {
    name: 'time',
    async update(sink, signal) {
      sink.of(NODE_TIME).set({}, now() / 1000);
      if (!paths) return;
      for (const { device, available, current } of await readClocksources(paths.sys, signal)) {
        for (const clocksource of available)
          sink
            .gauge('node_time_clocksource_available_info', "Available clocksources read from '/sys/devices/system/clocksource'.")
            .set({ clocksource, device }, 1);
        sink
          .gauge('node_time_clocksource_current_info', "Current clocksource read from '/sys/devices/system/clocksource'.")
          .set({ clocksource: current, device }, 1);
      }
    },
  };
}
