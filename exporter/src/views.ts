import type { CgroupStats } from './cgroup.js';
import type { Collection } from './collector.js';
import type { ContainerInfo } from './docker.js';
import type { ContainerSnapshot } from './collectors/containers.js';
import type { ProbeResult } from './collectors/services.js';
import type { MetricSink, Sample } from './metrics.js';

/** `/host`: this host in one document. Bytes, seconds, percent (0–100); null where the host does not say. */
export interface HostView {
  cpu: { usagePercent: number | null; loadAverage: [number | null, number | null, number | null]; cores: number };
  memory: { totalBytes: number | null; usedBytes: number | null; freeBytes: number | null; availableBytes: number | null; usagePercent: number | null };
  disks: { mountPoint: string; device: string; fsType: string; totalBytes: number; usedBytes: number; freeBytes: number; usagePercent: number | null }[];
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
}

/** `/services`. */
export interface ServicesView {
  services: ProbeResult[];
  allHealthy: boolean;
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
function one(sink: MetricSink, name: string): number | null {
  return samples(sink, name)[0]?.value ?? null;
}
const pct = (part: number | null, whole: number | null) => (part === null || !whole ? null : Math.round((10_000 * part) / whole) / 100);

/**
 * Builds the JSON views from each collection. Keeps the previous collection's
 * CPU totals for the usage percentage, and the container and service snapshots
 * the collectors hand it during a collection.
 */
export class ViewBuilder {
  #prevCpu: { idle: number; total: number } | null = null;
  #pendingContainers: ContainerSnapshot[] | null = null;
  #pendingServices: ProbeResult[] | null = null;
  #latest: StatsView | null = null;

  /** Called by the containers collector with this collection's snapshots. */
  readonly onContainerSnapshots = (s: ContainerSnapshot[]) => {
    this.#pendingContainers = s;
  };

  /** Called by the services collector with this collection's results. */
  readonly onProbeResults = (r: ProbeResult[]) => {
    this.#pendingServices = r;
  };

  /** Builds the views of a finished collection (what a failed collector did not report is empty). */
  update(c: Collection): StatsView {
    const containers = this.#pendingContainers ?? [];
    const services = this.#pendingServices ?? [];
    this.#pendingContainers = null;
    this.#pendingServices = null;
    this.#latest = { timestamp: c.startedAt, host: this.#host(c.sink), containers: containersView(containers), services: { services, allHealthy: services.every((s) => s.success) } };
    return this.#latest;
  }

  /** The views of the latest collection. */
  get latest(): StatsView | null {
    return this.#latest;
  }

  #host(sink: MetricSink): HostView {
    const cpuSamples = samples(sink, 'node_cpu_seconds_total');
    let usagePercent: number | null = null;
    if (cpuSamples.length) {
      const total = cpuSamples.reduce((a, s) => a + s.value, 0);
      const idle = cpuSamples.filter((s) => s.labels.mode === 'idle' || s.labels.mode === 'iowait').reduce((a, s) => a + s.value, 0);
      if (this.#prevCpu && total > this.#prevCpu.total && idle >= this.#prevCpu.idle) {
        usagePercent = Math.round(10_000 * (1 - (idle - this.#prevCpu.idle) / (total - this.#prevCpu.total))) / 100;
      }
      this.#prevCpu = { idle, total };
    }
    const memTotal = one(sink, 'node_memory_MemTotal_bytes');
    const memAvail = one(sink, 'node_memory_MemAvailable_bytes');
    const memUsed = memTotal !== null && memAvail !== null ? memTotal - memAvail : null;
    const byMount = (name: string) => new Map(samples(sink, name).map((s) => [s.labels.mountpoint!, s.value]));
    const free = byMount('node_filesystem_free_bytes');
    const avail = byMount('node_filesystem_avail_bytes');
    const disks = samples(sink, 'node_filesystem_size_bytes').map((s) => {
      const used = s.value - (free.get(s.labels.mountpoint!) ?? 0);
      const a = avail.get(s.labels.mountpoint!) ?? 0;
      return { mountPoint: s.labels.mountpoint!, device: s.labels.device!, fsType: s.labels.fstype!, totalBytes: s.value, usedBytes: used, freeBytes: a, usagePercent: pct(used, used + a) };
    });
    const zones = samples(sink, 'node_thermal_zone_temp');
    const hwmon = samples(sink, 'node_hwmon_temp_celsius');
    const cpuTemp =
      zones.find((z) => /cpu|x86_pkg_temp|soc|package/i.test(z.labels.type ?? '')) ?? zones[0] ?? hwmon.find((h) => /coretemp|k10temp|cpu/i.test(h.labels.chip ?? '')) ?? hwmon[0];
    const up = new Map(samples(sink, 'node_network_up').map((s) => [s.labels.device!, s.value === 1]));
    const tx = new Map(samples(sink, 'node_network_transmit_bytes_total').map((s) => [s.labels.device!, s.value]));
    const uname = samples(sink, 'node_uname_info')[0]?.labels;
    const boot = one(sink, 'node_boot_time_seconds');
    const now = one(sink, 'node_time_seconds');
    return {
      cpu: { usagePercent, loadAverage: [one(sink, 'node_load1'), one(sink, 'node_load5'), one(sink, 'node_load15')], cores: new Set(cpuSamples.map((s) => s.labels.cpu)).size },
      memory: { totalBytes: memTotal, usedBytes: memUsed, freeBytes: one(sink, 'node_memory_MemFree_bytes'), availableBytes: memAvail, usagePercent: pct(memUsed, memTotal) },
      disks,
      temperature: { cpuCelsius: cpuTemp?.value ?? null, available: cpuTemp !== undefined },
      network: {
        interfaces: samples(sink, 'node_network_receive_bytes_total').map((s) => ({ name: s.labels.device!, rxBytes: s.value, txBytes: tx.get(s.labels.device!) ?? 0, up: up.get(s.labels.device!) ?? null })),
      },
      system: {
        hostname: uname?.nodename ?? null,
        platform: 'linux',
        arch: uname?.machine ?? null,
        uptimeSeconds: boot !== null && now !== null ? Math.max(0, now - boot) : null,
        kernelVersion: uname?.release ?? null,
      },
    };
  }
}

/** `/containers` from the collection's snapshots. */
export function containersView(snapshots: readonly ContainerSnapshot[]): ContainersView {
  const containers = snapshots.map(({ info, stats }): ContainerView => ({
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
  }));
  const running = containers.filter((c) => c.state === 'running').length;
  return { containers, summary: { total: containers.length, running, stopped: containers.length - running, unhealthy: containers.filter((c) => c.health === 'unhealthy').length } };
}
