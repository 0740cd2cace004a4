import type { Logger } from '@vigil/core/log';
import type { Collector, HostPaths } from '../collector.js';
import type { ContainerCache } from '../docker/container-cache.js';
import { arpCollector } from './arp.js';
import { conntrackCollector } from './conntrack.js';
import { containersCollector } from './containers.js';
import { cpuCollector } from './cpu.js';
import { DEFAULT_DISK_EXCLUDE, diskstatsCollector } from './diskstats.js';
import { entropyCollector } from './entropy.js';
import { filefdCollector } from './filefd.js';
import { DEFAULT_FILESYSTEM_FILTER, type FilesystemFilter, filesystemCollector } from './filesystem.js';
import { hwmonCollector } from './hwmon.js';
import { loadavgCollector } from './loadavg.js';
import { meminfoCollector } from './meminfo.js';
import { netclassCollector } from './netclass.js';
import { netdevCollector } from './netdev.js';
import { DEFAULT_NETSTAT_FIELDS, netstatCollector } from './netstat.js';
import { osCollector } from './os.js';
import { pressureCollector } from './pressure.js';
import { selinuxCollector } from './selinux.js';
import { type ServiceConfig, servicesCollector } from './services.js';
import { sockstatCollector } from './sockstat.js';
import { softnetCollector } from './softnet.js';
import { textfileCollector } from './textfile.js';
import { thermalCollector } from './thermal.js';
import { timeCollector } from './time.js';
import { timexCollector } from './timex.js';
import { udpQueuesCollector } from './udp-queues.js';
import { unameCollector } from './uname.js';
import { DEFAULT_VMSTAT_FIELDS, vmstatCollector } from './vmstat.js';

/** What a collector may need to be built. */
export interface CollectorContext {
  paths: HostPaths;
  filesystemFilter?: FilesystemFilter;
  diskExclude?: RegExp;
  /** The /proc/vmstat fields exported (default node_exporter's). */
  vmstatFields?: RegExp;
  /** The /proc/net/{netstat,snmp,snmp6} fields exported, as Proto_Name (default node_exporter's). */
  netstatFields?: RegExp;
  /** Probes from VIGIL_SERVICES_FILE. */
  services?: readonly ServiceConfig[];
  /** VIGIL_TEXTFILE_DIR: the directory of `*.prom` files; no textfile collector without it. */
  textfileDir?: string;
  /** Where collectors report problems that do not fail them (a skipped textfile). */
  log?: Logger;
  /** The Docker container cache; no container collector without it. */
  containers?: ContainerCache;
}

/** Every collector, by name: adding one is one file and one line here. */
export const COLLECTORS: Record<string, (ctx: CollectorContext) => Collector | null> = {
  arp: (ctx) => arpCollector(ctx.paths),
  conntrack: (ctx) => conntrackCollector(ctx.paths),
  containers: (ctx) => (ctx.containers ? containersCollector(ctx.paths, ctx.containers) : null),
  cpu: (ctx) => cpuCollector(ctx.paths),
  diskstats: (ctx) => diskstatsCollector(ctx.paths, ctx.diskExclude ?? DEFAULT_DISK_EXCLUDE),
  entropy: (ctx) => entropyCollector(ctx.paths),
  filefd: (ctx) => filefdCollector(ctx.paths),
  filesystem: (ctx) => filesystemCollector(ctx.paths, ctx.filesystemFilter ?? DEFAULT_FILESYSTEM_FILTER),
  hwmon: (ctx) => hwmonCollector(ctx.paths),
  loadavg: (ctx) => loadavgCollector(ctx.paths),
  meminfo: (ctx) => meminfoCollector(ctx.paths),
  netclass: (ctx) => netclassCollector(ctx.paths),
  netdev: (ctx) => netdevCollector(ctx.paths),
  netstat: (ctx) => netstatCollector(ctx.paths, ctx.netstatFields ?? DEFAULT_NETSTAT_FIELDS),
  os: (ctx) => osCollector(ctx.paths),
  pressure: (ctx) => pressureCollector(ctx.paths),
  selinux: (ctx) => selinuxCollector(ctx.paths),
  services: (ctx) => servicesCollector(ctx.services ?? [], 16),
  sockstat: (ctx) => sockstatCollector(ctx.paths),
  softnet: (ctx) => softnetCollector(ctx.paths),
  thermal: (ctx) => thermalCollector(ctx.paths),
  textfile: (ctx) => textfileCollector(ctx.textfileDir, ctx.log),
  time: (ctx) => timeCollector(ctx.paths),
  timex: () => timexCollector(),
  udp_queues: (ctx) => udpQueuesCollector(ctx.paths),
  uname: (ctx) => unameCollector(ctx.paths),
  vmstat: (ctx) => vmstatCollector(ctx.paths, ctx.vmstatFields ?? DEFAULT_VMSTAT_FIELDS),
};

/** Builds the enabled collectors: all but those named in `disabled`. */
export function buildCollectors(ctx: CollectorContext, disabled: readonly string[] = []): Collector[] {
  return Object.entries(COLLECTORS)
    .filter(([name]) => !disabled.includes(name))
    .map(([, make]) => make(ctx))
    .filter((c): c is Collector => c !== null);
}
