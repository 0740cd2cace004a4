/**
 * Figures from samples: the host figures people look at first (cpu %, memory,
 * disk, load, uptime), derived from node_exporter's series the way the common
 * dashboards derive them. One definition, used by the exporter's JSON views
 * (from its own collection) and the scraper's heartbeats (from a scrape of any
 * node_exporter-compatible target). What a target does not expose is null.
 */
import {
  NODE_BOOT_TIME,
  NODE_CPU_SECONDS,
  NODE_FILESYSTEM_AVAIL,
  NODE_FILESYSTEM_FREE,
  NODE_FILESYSTEM_SIZE,
  NODE_LOAD1,
  NODE_LOAD5,
  NODE_LOAD15,
  NODE_MEMORY_BUFFERS,
  NODE_MEMORY_CACHED,
  NODE_MEMORY_MEM_AVAILABLE,
  NODE_MEMORY_MEM_FREE,
  NODE_MEMORY_MEM_TOTAL,
  NODE_TIME,
} from './metric-names.js';

/**
 * The series {@link hostFigures} reads: a scraper needs only these of a
 * 1,000-line body (the rest is validated but not built; see scanExposition).
 */
export const FIGURE_SERIES: ReadonlySet<string> = new Set(
  [
    NODE_CPU_SECONDS,
    NODE_MEMORY_MEM_TOTAL,
    NODE_MEMORY_MEM_AVAILABLE,
    NODE_MEMORY_MEM_FREE,
    NODE_MEMORY_BUFFERS,
    NODE_MEMORY_CACHED,
    NODE_FILESYSTEM_SIZE,
    NODE_FILESYSTEM_FREE,
    NODE_FILESYSTEM_AVAIL,
    NODE_LOAD1,
    NODE_LOAD5,
    NODE_LOAD15,
    NODE_BOOT_TIME,
    NODE_TIME,
  ].map((d) => d.name),
);

/** A sample as both sides hold it: labels and value. */
export interface LabelledValue {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of one series name, or undefined when the target has none. */
export type SeriesLookup = (name: string) => readonly LabelledValue[] | undefined;

/** CPU seconds summed over all CPUs: idle (the idle mode) and total (every mode). */
export interface CpuTotals {
  idleSeconds: number;
  totalSeconds: number;
}

/** One filesystem's space, bytes, from statfs(2) as node_exporter reports it. */
export interface DiskFigures {
  mountPoint: string;
  device: string;
  fsType: string;
  sizeBytes: number;
  freeBytes: number;
  /** Free to unprivileged users (free less reserved blocks). */
  availBytes: number;
  /** size − free: what is written there. */
  usedBytes: number;
}

/** The figures of one collection or scrape. Bytes, seconds; null where the samples are missing. */
export interface HostFigures {
  cpu: CpuTotals | null;
  memoryTotalBytes: number | null;
  /** MemAvailable, or MemFree + Buffers + Cached on kernels without it. */
  memoryAvailableBytes: number | null;
  memoryFreeBytes: number | null;
  /** MemTotal − available. */
  memoryUsedBytes: number | null;
  disks: DiskFigures[];
  load: [number | null, number | null, number | null];
  /** node_time_seconds (or the collection time) − node_boot_time_seconds. */
  uptimeSeconds: number | null;
}

function first(get: SeriesLookup, name: string): number | null {
  const s = get(name)?.[0];
  return s && Number.isFinite(s.value) ? s.value : null;
}

/**
 * Sums `node_cpu_seconds_total` over CPUs and modes; idle is the `idle` mode
 * only, so time waiting on I/O (`iowait`) counts as busy, as the common
 * dashboards count it (Grafana's "Node Exporter Full": 1 − idle). Non-finite
 * samples are skipped. Null when the series is absent.
 */
export function cpuTotals(get: SeriesLookup): CpuTotals | null {
  const series = get(NODE_CPU_SECONDS.name);
  if (!series?.length) return null;
  let idle = 0;
  let total = 0;
  for (const s of series) {
    if (!Number.isFinite(s.value)) continue;
    total += s.value;
    if (s.labels.mode === 'idle') idle += s.value;
  }
  return { idleSeconds: idle, totalSeconds: total };
}

/**
 * CPU busy percentage (0–100, two decimals) between two samples of the totals:
 * 100 × (1 − Δidle / Δtotal). Null without a previous sample, or when the
 * counters went backwards (a reboot) or did not move.
 */
export function cpuUsagePercent(previous: CpuTotals | null | undefined, current: CpuTotals | null): number | null {
  if (!previous || !current) return null;
  const dTotal = current.totalSeconds - previous.totalSeconds;
  const dIdle = current.idleSeconds - previous.idleSeconds;
  if (dTotal <= 0 || dIdle < 0 || dIdle > dTotal) return null;
  return Math.round(10_000 * (1 - dIdle / dTotal)) / 100;
}

/**
 * A filesystem's usage as `df` reports it: used / (used + avail), percent
 * (0–100, two decimals). Space reserved for root (and beyond a quota) counts
 * neither as used nor as available, so 100 % is when writes start failing.
 * Null without figures.
 */
export function diskUsagePercent(usedBytes: number | null | undefined, availBytes: number | null | undefined): number | null {
  if (usedBytes === null || usedBytes === undefined || availBytes === null || availBytes === undefined) return null;
  return percent(usedBytes, usedBytes + availBytes);
}

/**
 * Memory in use as a percentage of MemTotal (0–100, two decimals): a heartbeat's
 * `memory_used_bytes` (MemTotal − MemAvailable) over `memory_total_bytes`. Null
 * without figures. The one definition: the console shows it, and the charts'
 * SQL (db's series.ts) computes the same ratio per heartbeat.
 */
export function memoryUsagePercent(usedBytes: number | null | undefined, totalBytes: number | null | undefined): number | null {
  return percent(usedBytes ?? null, totalBytes ?? null);
}

/**
 * A heartbeat's root disk usage, percent (two decimals): df's used / (used +
 * avail) ({@link diskUsagePercent}), so reserved blocks and quotas do not hide a
 * full disk; used / size for heartbeats recorded before avail was kept. Null
 * without figures. The charts' SQL (db's series.ts) follows the same rule.
 */
export function rootDiskUsagePercent(
  h: { disk_used_bytes: number | null; disk_total_bytes: number | null; disk_avail_bytes?: number | null } | null | undefined,
): number | null {
  if (!h) return null;
  return h.disk_avail_bytes === null || h.disk_avail_bytes === undefined
    ? percent(h.disk_used_bytes, h.disk_total_bytes)
    : diskUsagePercent(h.disk_used_bytes, h.disk_avail_bytes);
}

/** `part` as a percentage (0–100, two decimals) of `whole`; null when either is missing or whole is 0. */
export function percent(part: number | null, whole: number | null): number | null {
  return part === null || !whole ? null : Math.round((10_000 * part) / whole) / 100;
}

/**
 * Derives {@link HostFigures} from node_exporter series.
 * @param get the samples of a series name (a scrape's index, or the exporter's collection)
 * @param nowSeconds Unix seconds of the collection, for uptime when `node_time_seconds` is absent
 */
export function hostFigures(get: SeriesLookup, nowSeconds: number): HostFigures {
  const memTotal = first(get, NODE_MEMORY_MEM_TOTAL.name);
  const memFree = first(get, NODE_MEMORY_MEM_FREE.name);
  let memAvailable = first(get, NODE_MEMORY_MEM_AVAILABLE.name);
  if (memAvailable === null && memTotal !== null && memFree !== null) {
    memAvailable = memFree + (first(get, NODE_MEMORY_BUFFERS.name) ?? 0) + (first(get, NODE_MEMORY_CACHED.name) ?? 0);
  }
  const free = new Map((get(NODE_FILESYSTEM_FREE.name) ?? []).map((s) => [s.labels.mountpoint, s.value]));
  const avail = new Map((get(NODE_FILESYSTEM_AVAIL.name) ?? []).map((s) => [s.labels.mountpoint, s.value]));
  const disks: DiskFigures[] = [];
  for (const s of get(NODE_FILESYSTEM_SIZE.name) ?? []) {
    const mountPoint = s.labels.mountpoint;
    const f = free.get(mountPoint);
    if (mountPoint === undefined || f === undefined || !Number.isFinite(s.value) || !Number.isFinite(f)) continue;
    const a = avail.get(mountPoint);
    disks.push({
      mountPoint,
      device: s.labels.device ?? '',
      fsType: s.labels.fstype ?? '',
      sizeBytes: s.value,
      freeBytes: f,
      availBytes: a !== undefined && Number.isFinite(a) ? a : f,
      usedBytes: s.value - f,
    });
  }
  const boot = first(get, NODE_BOOT_TIME.name);
  const now = first(get, NODE_TIME.name) ?? nowSeconds;
  return {
    cpu: cpuTotals(get),
    memoryTotalBytes: memTotal,
    memoryAvailableBytes: memAvailable,
    memoryFreeBytes: memFree,
    memoryUsedBytes: memTotal !== null && memAvailable !== null ? memTotal - memAvailable : null,
    disks,
    load: [first(get, NODE_LOAD1.name), first(get, NODE_LOAD5.name), first(get, NODE_LOAD15.name)],
    uptimeSeconds: boot !== null && boot > 0 ? Math.max(0, now - boot) : null,
  };
}
