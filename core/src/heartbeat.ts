import { ExpositionError, indexSamples, type ScrapedSample, scanExposition } from './exposition.js';
import { type CpuTotals, cpuUsagePercent, FIGURE_SERIES, hostFigures } from './figures.js';
import { INVENTORY_SERIES, type Inventory, inventoryFromSamples } from './inventory.js';
import { VIGIL_EXPORTER_PTY_SESSIONS } from './metric-names.js';
import { type Counters, counterSnapshot, hostTemperature, RATE_SERIES, ratesBetween } from './rates.js';

export type { Counters, CpuTotals };

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
  /** Bytes per second since the previous scrape, summed over host interfaces (core's rates.ts: not lo, veths or bridges). */
  net_receive_bytes_per_second: number | null;
  net_transmit_bytes_per_second: number | null;
  /** Per host interface: [receive, transmit] bytes per second. */
  net_interfaces: Record<string, [number, number]> | null;
  /** Bytes and operations (IOPS) per second since the previous scrape, summed over host disks (not dm-, md, loop). */
  disk_read_bytes_per_second: number | null;
  disk_written_bytes_per_second: number | null;
  disk_reads_per_second: number | null;
  disk_writes_per_second: number | null;
  /** The hottest hwmon sensor or thermal zone, °C. */
  temperature_celsius: number | null;
  /** Per container name: [cpu % of one core, memory working set bytes, receive bytes/s, transmit bytes/s], null where unknown. */
  container_figures: Record<string, [number | null, number | null, number | null, number | null]> | null;
  /** Per probed service: 1 when its probe succeeded (`probe_success`), 0 when it failed; null without probes. */
  probe_results: Record<string, 0 | 1> | null;
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
  net_receive_bytes_per_second: null,
  net_transmit_bytes_per_second: null,
  net_interfaces: null,
  disk_read_bytes_per_second: null,
  disk_written_bytes_per_second: null,
  disk_reads_per_second: null,
  disk_writes_per_second: null,
  temperature_celsius: null,
  container_figures: null,
  probe_results: null,
});

/**
 * Derives a heartbeat's figures from a scrape with core's {@link hostFigures}
 * (node_exporter's series, as the common dashboards read them): memory used =
 * MemTotal − MemAvailable; root disk used = size − free of mountpoint "/",
 * and its avail (so that usage is df's used / (used + avail));
 * uptime = node_time_seconds (or `scrapeTime`) − node_boot_time_seconds;
 * network and disk rates, each container's cpu, memory and network, and the
 * temperature (core's rates.ts); and its containers and services (core's
 * {@link inventoryFromSamples}). Works on any exporter: what it does not
 * expose is null.
 * @param previous the counters of the target's previous scrape, for cpu % and every rate
 * @param scrapeTime Unix seconds when the scrape started
 */
export function deriveFigures(
  samples: readonly ScrapedSample[],
  previous: Counters | undefined,
  scrapeTime: number,
  total: number = samples.length,
): { figures: HeartbeatFigures; counters: Counters; inventory: Inventory } {
  const byName = indexSamples(samples);
  const get = (name: string) => byName.get(name);
  const f = hostFigures(get, scrapeTime);
  const root = f.disks.find((d) => d.mountPoint === '/');
  const inventory = inventoryFromSamples(get);
  const counters = counterSnapshot(get, scrapeTime);
  const memory = new Map<string, number>();
  for (const c of inventory.containers) if (c.memoryBytes !== null) memory.set(c.name, c.memoryBytes);
  const r = ratesBetween(previous, counters, memory);
  return {
    counters,
    inventory,
    figures: {
      samples: total,
      cpu_usage_percent: cpuUsagePercent(previous?.cpu, f.cpu),
      memory_total_bytes: f.memoryTotalBytes,
      memory_used_bytes: f.memoryUsedBytes,
      disk_total_bytes: root?.sizeBytes ?? null,
      disk_used_bytes: root?.usedBytes ?? null,
      disk_avail_bytes: root?.availBytes ?? null,
      load1: f.load[0],
      uptime_seconds: f.uptimeSeconds,
      pty_sessions: get(PTY_SESSIONS)?.[0]?.value ?? null,
      net_receive_bytes_per_second: r.netReceiveBytesPerSecond,
      net_transmit_bytes_per_second: r.netTransmitBytesPerSecond,
      net_interfaces: r.interfaces,
      disk_read_bytes_per_second: r.diskReadBytesPerSecond,
      disk_written_bytes_per_second: r.diskWrittenBytesPerSecond,
      disk_reads_per_second: r.diskReadsPerSecond,
      disk_writes_per_second: r.diskWritesPerSecond,
      temperature_celsius: hostTemperature(get),
      container_figures: r.containers,
      probe_results: inventory.services.length ? Object.fromEntries(inventory.services.map((v) => [v.name, v.success ? 1 : 0])) : null,
    },
  };
}

/** A heartbeat's figures and the counters to keep for the next scrape's rates. */
export type BodyFigures = ReturnType<typeof deriveFigures>;

const decoder = new TextDecoder();

/** The exporter's open terminal sessions (its PTY socket). */
export const PTY_SESSIONS = VIGIL_EXPORTER_PTY_SESSIONS.name;

/**
 * Parses a scraped body and derives its heartbeat figures: what a worker
 * thread does for each scrape. A malformed exposition is `{error}` with the
 * parser's message (line and reason), not a throw, so it crosses threads as it is.
 */
export function figuresFromBody(body: Uint8Array, previous: Counters | undefined, scrapeTime: number): BodyFigures | { error: string } {
  try {
    // Every line is checked; only the series the figures read are built.
    const { samples, total } = scanExposition(
      decoder.decode(body),
      (name) => FIGURE_SERIES.has(name) || INVENTORY_SERIES.has(name) || RATE_SERIES.has(name) || name === PTY_SESSIONS,
    );
    return deriveFigures(samples, previous, scrapeTime, total);
  } catch (err) {
    if (err instanceof ExpositionError) return { error: err.message };
    throw err;
  }
}
