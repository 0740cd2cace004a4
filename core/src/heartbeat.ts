import { ExpositionError, indexSamples, type ScrapedSample, scanExposition } from './exposition.js';
import { type CpuTotals, cpuUsagePercent, FIGURE_SERIES, hostFigures } from './figures.js';
import { INVENTORY_SERIES, type Inventory, inventoryFromSamples } from './inventory.js';
import { VIGIL_EXPORTER_PTY_SESSIONS } from './metric-names.js';

export type { CpuTotals };

/**
 * The figures a heartbeat carries, derived from one scrape's samples; null
 * where the samples are missing (the columns of the same names in the
 * `heartbeats` table). Bytes, percent, seconds.
 */
export interface HeartbeatFigures {
  /** Samples in the scrape. */
  samples: number | null;
  cpu_usage_percent: number | null;
  memory_used_bytes: number | null;
  memory_total_bytes: number | null;
  disk_used_bytes: number | null;
  disk_total_bytes: number | null;
  /** Space available to unprivileged users on /, bytes (statfs f_bavail); df's "Avail". */
  disk_avail_bytes: number | null;
  load1: number | null;
  uptime_seconds: number | null;
  /** Terminal sessions open on the host (vigil_exporter_pty_sessions); null when its exporter has no PTY socket. */
  pty_sessions: number | null;
}

/** The figures of a failed scrape: none. */
export const NO_FIGURES: Readonly<HeartbeatFigures> = Object.freeze({
  samples: null,
  cpu_usage_percent: null,
  memory_used_bytes: null,
  memory_total_bytes: null,
  disk_used_bytes: null,
  disk_total_bytes: null,
  disk_avail_bytes: null,
  load1: null,
  uptime_seconds: null,
  pty_sessions: null,
});

/**
 * Derives a heartbeat's figures from a scrape with core's {@link hostFigures}
 * (node_exporter's series, as the common dashboards read them): memory used =
 * MemTotal − MemAvailable; root disk used = size − free of mountpoint "/",
 * and its avail (so that usage is df's used / (used + avail));
 * uptime = node_time_seconds (or `scrapeTime`) − node_boot_time_seconds;
 * and its containers and services (core's {@link inventoryFromSamples}).
 * Works on any exporter: what it does not expose is null.
 * @param previousCpu the totals of the target's previous scrape, for cpu %
 * @param scrapeTime Unix seconds when the scrape started
 */
export function deriveFigures(
  samples: readonly ScrapedSample[],
  previousCpu: CpuTotals | undefined,
  scrapeTime: number,
  total: number = samples.length,
): { figures: HeartbeatFigures; cpu: CpuTotals | null; inventory: Inventory } {
  const byName = indexSamples(samples);
  const get = (name: string) => byName.get(name);
  const f = hostFigures(get, scrapeTime);
  const root = f.disks.find((d) => d.mountPoint === '/');
  return {
    cpu: f.cpu,
    inventory: inventoryFromSamples(get),
    figures: {
      samples: total,
      cpu_usage_percent: cpuUsagePercent(previousCpu, f.cpu),
      memory_total_bytes: f.memoryTotalBytes,
      memory_used_bytes: f.memoryUsedBytes,
      disk_total_bytes: root?.sizeBytes ?? null,
      disk_used_bytes: root?.usedBytes ?? null,
      disk_avail_bytes: root?.availBytes ?? null,
      load1: f.load[0],
      uptime_seconds: f.uptimeSeconds,
      pty_sessions: get(PTY_SESSIONS)?.[0]?.value ?? null,
    },
  };
}

/** A heartbeat's figures and the CPU totals to keep for the next scrape's percentage. */
export type BodyFigures = ReturnType<typeof deriveFigures>;

const decoder = new TextDecoder();

/** The exporter's open terminal sessions (its PTY socket). */
export const PTY_SESSIONS = VIGIL_EXPORTER_PTY_SESSIONS.name;

/**
 * Parses a scraped body and derives its heartbeat figures: what a worker
 * thread does for each scrape. A malformed exposition is `{error}` with the
 * parser's message (line and reason), not a throw, so it crosses threads as it is.
 */
export function figuresFromBody(body: Uint8Array, previousCpu: CpuTotals | undefined, scrapeTime: number): BodyFigures | { error: string } {
  try {
    // Every line is checked; only the series the figures read are built.
    const { samples, total } = scanExposition(
      decoder.decode(body),
      (name) => FIGURE_SERIES.has(name) || INVENTORY_SERIES.has(name) || name === PTY_SESSIONS,
    );
    return deriveFigures(samples, previousCpu, scrapeTime, total);
  } catch (err) {
    if (err instanceof ExpositionError) return { error: err.message };
    throw err;
  }
}
