import path from 'node:path';
import {
  CONTAINER_CPU_USAGE_SECONDS,
  CONTAINER_LAST_SEEN,
  CONTAINER_MEMORY_WORKING_SET,
  CONTAINER_SPEC_MEMORY_LIMIT,
  CONTAINER_START_TIME,
  VIGIL_CONTAINER_HEALTH_STATUS,
  VIGIL_CONTAINER_RESTARTS,
  VIGIL_CONTAINER_STATE,
} from '@vigil/core/metric-names';
import type { Labels, MetricSink } from '@vigil/core/render';
import {
  blockDeviceName,
  type CgroupStats,
  type CgroupVersion,
  detectCgroupVersion,
  findContainerCgroup,
  readCgroupV1,
  readCgroupV2,
} from '../cgroup.js';
import type { Collector, HostPaths } from '../collector.js';
import type { ContainerCache, ContainerInfo } from '../docker/container-cache.js';
import { type NetdevColumn, type NetdevStats, readNetdev } from './netdev.js';
import { closeHandles } from './read.js';

/** cAdvisor's network series and the /proc/<pid>/net/dev column each comes from. */
const NETWORK_SERIES: [string, string, NetdevColumn][] = [
  ['container_network_receive_bytes_total', 'Cumulative count of bytes received', 'receive_bytes'],
  ['container_network_receive_packets_total', 'Cumulative count of packets received', 'receive_packets'],
  ['container_network_receive_packets_dropped_total', 'Cumulative count of packets dropped while receiving', 'receive_drop'],
  ['container_network_receive_errors_total', 'Cumulative count of errors encountered while receiving', 'receive_errs'],
  ['container_network_transmit_bytes_total', 'Cumulative count of bytes transmitted', 'transmit_bytes'],
  ['container_network_transmit_packets_total', 'Cumulative count of packets transmitted', 'transmit_packets'],
  ['container_network_transmit_packets_dropped_total', 'Cumulative count of packets dropped while transmitting', 'transmit_drop'],
  ['container_network_transmit_errors_total', 'Cumulative count of errors encountered while transmitting', 'transmit_errs'],
];

/** A container with what was read of it in this scrape. */
export interface ContainerSnapshot {
  info: ContainerInfo;
  cgroup: string | null;
  stats: CgroupStats | null;
  network: NetdevStats[];
}

/** cAdvisor's label for an allowed Docker label: `container_label_<key with non-alphanumerics as _>`. */
export function containerLabelName(key: string): string {
  return `container_label_${key.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

/**
 * Reads every container's figures: cgroup files for running ones, their network
 * namespace's /proc/<pid>/net/dev. A container whose files vanish mid-read (it
 * stopped) is reported without figures rather than failing the scrape.
 */
export async function snapshotContainers(
  cache: ContainerCache,
  paths: HostPaths,
  version: CgroupVersion,
  cgroupOf: Map<string, string | null>,
  signal?: AbortSignal,
): Promise<ContainerSnapshot[]> {
  const containers = await cache.list(signal);
  return Promise.all(
    containers.map(async (info): Promise<ContainerSnapshot> => {
      if (info.state !== 'running' || !info.pid) return { info, cgroup: null, stats: null, network: [] };
      let cg = cgroupOf.get(info.id);
      if (cg === undefined || cg === null) {
        cg = await findContainerCgroup(paths.sys, paths.proc, version, info.id, info.pid);
        cgroupOf.set(info.id, cg);
      }
      if (cg === null) return { info, cgroup: null, stats: null, network: [] };
      // Files of a container that stops mid-read read as missing (null figures); a
      // file that is there but unreadable fails the collector, visibly.
      const [stats, network] = await Promise.all([
        version === 2 ? readCgroupV2(paths.sys, cg) : readCgroupV1(paths.sys, cg),
        readNetdev(path.join(paths.proc, String(info.pid)), signal, false).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT' || err.code === 'ESRCH') return [];
          throw err;
        }),
      ]);
      return { info, cgroup: cg, stats, network: network.filter((n) => n.device !== 'lo') };
    }),
  );
}

/** Adds cAdvisor-named series (and Vigil's state, health and restarts) for the snapshots. */
export async function addContainerSamples(
  sink: MetricSink,
  snapshots: readonly ContainerSnapshot[],
  sys: string,
  now: number,
): Promise<void> {
  const g = (name: string, help: string) => sink.gauge(name, help);
  const c = (name: string, help: string) => sink.counter(name, help);
  const state = g(VIGIL_CONTAINER_STATE.name, VIGIL_CONTAINER_STATE.help);
  const health = g(VIGIL_CONTAINER_HEALTH_STATUS.name, VIGIL_CONTAINER_HEALTH_STATUS.help);
  const restarts = g(VIGIL_CONTAINER_RESTARTS.name, VIGIL_CONTAINER_RESTARTS.help);
  const devices = new Map<string, string>();
  for (const { info, cgroup, stats, network } of snapshots) {
    const labels: Labels = { id: cgroup ?? `/docker/${info.id}`, image: info.image, name: info.name };
    for (const [k, v] of Object.entries(info.labels)) labels[containerLabelName(k)] = v;
    state.set({ ...labels, state: info.state }, 1);
    health.set({ ...labels, status: info.health }, 1);
    restarts.set(labels, info.restartCount);
    if (info.startedAt !== null) g(CONTAINER_START_TIME.name, CONTAINER_START_TIME.help).set(labels, info.startedAt);
    if (!stats) continue;
    g(CONTAINER_LAST_SEEN.name, CONTAINER_LAST_SEEN.help).set(labels, now);
    const put = (family: () => ReturnType<MetricSink['gauge']>, v: number | null, extra: Labels = {}) => {
      if (v !== null && Number.isFinite(v)) family().set({ ...labels, ...extra }, v);
    };
    put(() => c(CONTAINER_CPU_USAGE_SECONDS.name, CONTAINER_CPU_USAGE_SECONDS.help), stats.cpuUsageSeconds, { cpu: 'total' });
    put(() => c('container_cpu_user_seconds_total', 'Cumulative user cpu time consumed in seconds.'), stats.cpuUserSeconds);
    put(() => c('container_cpu_system_seconds_total', 'Cumulative system cpu time consumed in seconds.'), stats.cpuSystemSeconds);
    put(() => c('container_cpu_cfs_periods_total', 'Number of elapsed enforcement period intervals.'), stats.cfsPeriods);
    put(() => c('container_cpu_cfs_throttled_periods_total', 'Number of throttled period intervals.'), stats.cfsThrottledPeriods);
    put(
      () => c('container_cpu_cfs_throttled_seconds_total', 'Total time duration the container has been throttled.'),
      stats.cfsThrottledSeconds,
    );
    put(() => g('container_spec_cpu_quota', 'CPU quota of the container.'), stats.cpuQuotaMicros);
    put(() => g('container_spec_cpu_period', 'CPU period of the container.'), stats.cpuQuotaMicros === null ? null : stats.cpuPeriodMicros);
    put(
      () => g('container_memory_usage_bytes', 'Current memory usage in bytes, including all memory regardless of when it was accessed'),
      stats.memoryUsageBytes,
    );
    put(() => g(CONTAINER_MEMORY_WORKING_SET.name, CONTAINER_MEMORY_WORKING_SET.help), stats.memoryWorkingSetBytes);
    put(() => g('container_memory_rss', 'Size of RSS in bytes.'), stats.memoryRssBytes);
    put(() => g('container_memory_cache', 'Number of bytes of page cache memory.'), stats.memoryCacheBytes);
    put(() => g('container_memory_max_usage_bytes', 'Maximum memory usage recorded in bytes'), stats.memoryMaxUsageBytes);
    put(() => g(CONTAINER_SPEC_MEMORY_LIMIT.name, CONTAINER_SPEC_MEMORY_LIMIT.help), stats.memoryLimitBytes);
    put(() => g('container_processes', 'Number of processes running inside the container.'), stats.pids);
    for (const io of stats.io) {
      let device = devices.get(io.device);
      if (device === undefined) {
        device = await blockDeviceName(sys, io.device);
        devices.set(io.device, device);
      }
      c('container_fs_reads_bytes_total', 'Cumulative count of bytes read').set({ ...labels, device }, io.readBytes);
      c('container_fs_writes_bytes_total', 'Cumulative count of bytes written').set({ ...labels, device }, io.writeBytes);
    }
    for (const n of network) {
      for (const [name, help, column] of NETWORK_SERIES) c(name, help).set({ ...labels, interface: n.device }, n.counters[column]);
    }
  }
}

/**
 * Containers: metadata from the Docker Engine API (cached, refreshed from its
 * event stream), resource figures from cgroup files. Series of a removed
 * container are gone on the next scrape, since every scrape builds them afresh.
 */
export function containersCollector(paths: HostPaths, cache: ContainerCache): Collector {
  let version: Promise<CgroupVersion> | null = null;
  const cgroupOf = new Map<string, string | null>();
  return {
    name: 'containers',
    async update(sink, signal) {
      version ??= detectCgroupVersion(paths.sys);
      const snapshots = await snapshotContainers(cache, paths, await version, cgroupOf, signal);
      const live = new Set(snapshots.map((s) => s.info.id));
      for (const [id, cg] of cgroupOf) {
        if (live.has(id)) continue;
        cgroupOf.delete(id);
        // Close the cgroup files kept open for a container that is gone.
        if (cg) closeHandles((p) => p.includes(`${cg}/`));
      }
      await addContainerSamples(sink, snapshots, paths.sys, Date.now() / 1000);
      return { containers: snapshots };
    },
  };
}
