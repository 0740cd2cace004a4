import type { Collector, HostPaths } from '../collector.js';
import { cpuCollector } from './cpu.js';
import { filesystemCollector } from './filesystem.js';
import { loadavgCollector } from './loadavg.js';
import { meminfoCollector } from './meminfo.js';
import { netdevCollector } from './netdev.js';
import { timeCollector } from './time.js';

/** What a collector may need to be built. */
export interface CollectorContext {
  paths: HostPaths;
}

/** Every collector, by name: adding one is one file and one line here. */
export const COLLECTORS: Record<string, (ctx: CollectorContext) => Collector> = {
  cpu: (ctx) => cpuCollector(ctx.paths),
  filesystem: (ctx) => filesystemCollector(ctx.paths),
  loadavg: (ctx) => loadavgCollector(ctx.paths),
  meminfo: (ctx) => meminfoCollector(ctx.paths),
  netdev: (ctx) => netdevCollector(ctx.paths),
  time: () => timeCollector(),
};

/** Builds the enabled collectors: all but those named in `disabled`. */
export function buildCollectors(ctx: CollectorContext, disabled: readonly string[] = []): Collector[] {
  return Object.entries(COLLECTORS)
    .filter(([name]) => !disabled.includes(name))
    .map(([, make]) => make(ctx));
}
