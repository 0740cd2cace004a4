import type { HeartbeatTable } from '@vigil/db';
import type { ScrapedSample } from '@vigil/exporter';
import { indexSamples } from '@vigil/exporter';

/** CPU seconds summed over all CPUs: idle (idle + iowait) and total (every mode). */
export interface CpuTotals {
  idleSeconds: number;
  totalSeconds: number;
}

/** The figures a heartbeat carries, derived from one scrape's samples; null where the samples are missing. */
export type HeartbeatFigures = Pick<
  HeartbeatTable,
  'samples' | 'cpu_usage_percent' | 'memory_used_bytes' | 'memory_total_bytes' | 'disk_used_bytes' | 'disk_total_bytes' | 'load1' | 'uptime_seconds'
>;

/** Sums `node_cpu_seconds_total` over CPUs; null when the target does not expose it. */
export function cpuTotals(byName: Map<string, ScrapedSample[]>): CpuTotals | null {
  const series = byName.get('node_cpu_seconds_total');
  if (!series?.length) return null;
  let idle = 0;
  let total = 0;
  for (const s of series) {
    if (!Number.isFinite(s.value)) continue;
    total += s.value;
    if (s.labels.mode === 'idle' || s.labels.mode === 'iowait') idle += s.value;
  }
  return { idleSeconds: idle, totalSeconds: total };
}

/**
 * CPU busy percentage between two samples of the totals: 100 × (1 − Δidle / Δtotal).
 * Null when there is no previous sample or the counters went backwards (a reboot).
 */
export function cpuUsagePercent(previous: CpuTotals | undefined, current: CpuTotals | null): number | null {
  if (!previous || !current) return null;
  const dTotal = current.totalSeconds - previous.totalSeconds;
  const dIdle = current.idleSeconds - previous.idleSeconds;
  if (dTotal <= 0 || dIdle < 0 || dIdle > dTotal) return null;
  return Math.round(10_000 * (1 - dIdle / dTotal)) / 100;
}

function single(byName: Map<string, ScrapedSample[]>, name: string, where: (s: ScrapedSample) => boolean = () => true): number | null {
  const s = byName.get(name)?.find(where);
  return s && Number.isFinite(s.value) ? s.value : null;
}

/**
 * Derives a heartbeat's figures from a scrape, the way node_exporter dashboards do:
 * memory used = MemTotal − MemAvailable (MemFree + Buffers + Cached on kernels
 * without MemAvailable); root disk used = size − free of mountpoint "/";
 * uptime = node_time_seconds (or `scrapeTime`) − node_boot_time_seconds.
 * Works on any exporter: what it does not expose is null.
 * @param previousCpu the totals of the target's previous scrape, for cpu %
 * @param scrapeTime Unix seconds when the scrape started
 */
export function deriveFigures(samples: readonly ScrapedSample[], previousCpu: CpuTotals | undefined, scrapeTime: number): { figures: HeartbeatFigures; cpu: CpuTotals | null } {
  const byName = indexSamples(samples);
  const cpu = cpuTotals(byName);
  const memTotal = single(byName, 'node_memory_MemTotal_bytes');
  let memAvailable = single(byName, 'node_memory_MemAvailable_bytes');
  if (memAvailable === null && memTotal !== null) {
    const free = single(byName, 'node_memory_MemFree_bytes');
    const buffers = single(byName, 'node_memory_Buffers_bytes') ?? 0;
    const cached = single(byName, 'node_memory_Cached_bytes') ?? 0;
    memAvailable = free === null ? null : free + buffers + cached;
  }
  const isRoot = (s: ScrapedSample) => s.labels.mountpoint === '/';
  const diskSize = single(byName, 'node_filesystem_size_bytes', isRoot);
  const diskFree = single(byName, 'node_filesystem_free_bytes', isRoot);
  const boot = single(byName, 'node_boot_time_seconds');
  const now = single(byName, 'node_time_seconds') ?? scrapeTime;
  return {
    cpu,
    figures: {
      samples: samples.length,
      cpu_usage_percent: cpuUsagePercent(previousCpu, cpu),
      memory_total_bytes: memTotal,
      memory_used_bytes: memTotal !== null && memAvailable !== null ? memTotal - memAvailable : null,
      disk_total_bytes: diskSize,
      disk_used_bytes: diskSize !== null && diskFree !== null ? diskSize - diskFree : null,
      load1: single(byName, 'node_load1'),
      uptime_seconds: boot !== null && boot > 0 ? Math.max(0, now - boot) : null,
    },
  };
}
