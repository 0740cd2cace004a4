import { type CpuTotals, cpuUsagePercent, diskUsagePercent, hostFigures, percent } from '@vigil/core/figures';
import {
  NODE_CPU_SECONDS,
  NODE_HWMON_TEMP,
  NODE_NETWORK_RECEIVE_BYTES,
  NODE_NETWORK_TRANSMIT_BYTES,
  NODE_NETWORK_UP,
  NODE_THERMAL_ZONE_TEMP,
  NODE_UNAME_INFO,
} from '@vigil/core/metric-names';
import type { MetricSink, Sample } from '@vigil/core/render';
import type { CgroupStats } from './cgroup.js';
import type { Collection } from './collector.js';
import type { ContainerSnapshot } from './collectors/containers.js';
import type { ProbeResult } from './collectors/services.js';
import type { ContainerInfo } from './docker/container-cache.js';

/** `/host`: this host in one document. Bytes, seconds, percent (0–100); null where the host does not say. */
export interface HostView {
  cpu: { usagePercent: number | null; loadAverage: [number | null, number | null, number | null]; cores: number };
  memory: {
    totalBytes: number | null;
    usedBytes: number | null;
    freeBytes: number | null;
    availableBytes: number | null;
    usagePercent: number | null;
  };
  disks: {
    mountPoint: string;
    device: string;
    fsType: string;
    totalBytes: number;
    usedBytes: number;
    freeBytes: number;
    usagePercent: number | null;
  }[];
  temperature: { cpuCelsius: number | null; available: boolean };
  network: { interfaces: { name: string; rxBytes: number; txBytes: number; up: boolean | null }[] };
  system: { hostname: string | null; platform: 'linux'; arch: string | null; uptimeSeconds: number | null; kernelVersion: string | null };
}

/** One container in `/containers`: its metadata (less the host pid) and cgroup figures; never environment, command or mounts. */
export type ContainerView = Omit<ContainerInfo, 'pid'> &
  Pick<CgroupStats, 'cpuUsageSeconds' | 'memoryUsageBytes' | 'memoryWorkingSetBytes' | 'memoryLimitBytes'>;

/** `/containers`. */
export interface ContainersView {
  containers: ContainerView[];
  summary: { total: number; running: number; stopped: number; unhealthy: number };
  /** Why this collection has no container list (the collector failed or ran late), else null. */
  error: string | null;
}

/** `/services`. */
export interface ServicesView {
  services: ProbeResult[];
  allHealthy: boolean;
  /** Why this collection has no probe results (the collector failed or ran late), else null. */
  error: string | null;
}

/** `/stats`: everything at once. `timestamp` is Unix seconds of the collection. */
export interface StatsView {
  timestamp: number;
  host: HostView;
  containers: ContainersView;
  services: ServicesView;
}

function samples(sink: MetricSink, name: string): Sample[] {
  return sink.families.get(name)?.values ?? [];
}

/** Why a collector's part of the views is missing from this collection, or null. */
function failure(c: Collection, collector: string): string | null {
  const o = c.outcomes.find((x) => x.name === collector);
  return o && !o.success ? `collector ${collector} failed: ${o.error ?? 'unknown error'}` : null;
}

/**
 * Builds the JSON views from each collection, with core's {@link hostFigures}
 * for the figures the scraper's heartbeats derive the same way. Keeps the
 * previous collection's CPU totals for the usage percentage. Containers and
 * services come from the collection's own details: when their collector failed
 * or ran late in this collection, the view is empty and its `error` says why.
 */
export class ViewBuilder {
  #prevCpu: CpuTotals | null = null;
  #latest: StatsView | null = null;

  /** Builds the views of a finished collection. */
  update(c: Collection): StatsView {
    const containers = containersView(c.details.containers ?? [], failure(c, 'containers'));
    const probes = c.details.probes ?? [];
    const services: ServicesView = { services: probes, allHealthy: probes.every((s) => s.success), error: failure(c, 'services') };
    this.#latest = { timestamp: c.startedAt, host: this.#host(c.sink, c.startedAt), containers, services };
    return this.#latest;
  }

  /** The views of the latest collection. */
  get latest(): StatsView | null {
    return this.#latest;
  }

  #host(sink: MetricSink, now: number): HostView {
    const f = hostFigures((name) => sink.families.get(name)?.values, now);
    const usagePercent = cpuUsagePercent(this.#prevCpu, f.cpu);
    if (f.cpu) this.#prevCpu = f.cpu;
    const cpuSamples = samples(sink, NODE_CPU_SECONDS.name);
    const zones = samples(sink, NODE_THERMAL_ZONE_TEMP.name);
    const hwmon = samples(sink, NODE_HWMON_TEMP.name);
    const cpuTemp =
      zones.find((z) => /cpu|x86_pkg_temp|soc|package/i.test(z.labels.type ?? '')) ??
      zones[0] ??
      hwmon.find((h) => /coretemp|k10temp|cpu/i.test(h.labels.chip ?? '')) ??
      hwmon[0];
    const up = new Map(samples(sink, NODE_NETWORK_UP.name).map((s) => [s.labels.device!, s.value === 1]));
    const tx = new Map(samples(sink, NODE_NETWORK_TRANSMIT_BYTES.name).map((s) => [s.labels.device!, s.value]));
    const uname = samples(sink, NODE_UNAME_INFO.name)[0]?.labels;
    return {
      cpu: { usagePercent, loadAverage: f.load, cores: new Set(cpuSamples.map((s) => s.labels.cpu)).size },
      memory: {
        totalBytes: f.memoryTotalBytes,
        usedBytes: f.memoryUsedBytes,
        freeBytes: f.memoryFreeBytes,
        availableBytes: f.memoryAvailableBytes,
        usagePercent: percent(f.memoryUsedBytes, f.memoryTotalBytes),
      },
      disks: f.disks.map((d) => ({
        mountPoint: d.mountPoint,
        device: d.device,
        fsType: d.fsType,
        totalBytes: d.sizeBytes,
        usedBytes: d.usedBytes,
        freeBytes: d.availBytes,
        usagePercent: diskUsagePercent(d.usedBytes, d.availBytes),
      })),
      temperature: { cpuCelsius: cpuTemp?.value ?? null, available: cpuTemp !== undefined },
      network: {
        interfaces: samples(sink, NODE_NETWORK_RECEIVE_BYTES.name).map((s) => ({
          name: s.labels.device!,
          rxBytes: s.value,
          txBytes: tx.get(s.labels.device!) ?? 0,
          up: up.get(s.labels.device!) ?? null,
        })),
      },
      system: {
        hostname: uname?.nodename ?? null,
        platform: 'linux',
        arch: uname?.machine ?? null,
        uptimeSeconds: f.uptimeSeconds,
        kernelVersion: uname?.release ?? null,
      },
    };
  }
}

/** `/containers` from the collection's snapshots. */
export function containersView(snapshots: readonly ContainerSnapshot[], error: string | null = null): ContainersView {
  const containers = snapshots.map(
    ({ info, stats }): ContainerView => ({
      id: info.id,
      name: info.name,
      image: info.image,
      state: info.state,
      health: info.health,
      restartCount: info.restartCount,
      startedAt: info.startedAt,
      labels: info.labels,
      cpuUsageSeconds: stats?.cpuUsageSeconds ?? null,
      memoryUsageBytes: stats?.memoryUsageBytes ?? null,
      memoryWorkingSetBytes: stats?.memoryWorkingSetBytes ?? null,
      memoryLimitBytes: stats?.memoryLimitBytes ?? null,
    }),
  );
  const running = containers.filter((c) => c.state === 'running').length;
  return {
    containers,
    summary: {
      total: containers.length,
      running,
      stopped: containers.length - running,
      unhealthy: containers.filter((c) => c.health === 'unhealthy').length,
    },
    error,
  };
}
