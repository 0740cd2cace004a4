/**
 * A host's inventory from one scrape: its containers (from cAdvisor's
 * `container_*` series and Vigil's `vigil_container_*`) and its services (from
 * blackbox_exporter's `probe_*` series), so a cAdvisor or blackbox_exporter
 * target fills them as a Vigil exporter does. What a target does not expose is
 * null. The console shows these on a host's page; the scraper stores the latest.
 */
import type { LabelledValue, SeriesLookup } from './figures.js';
import {
  CONTAINER_CPU_USAGE_SECONDS,
  CONTAINER_LAST_SEEN,
  CONTAINER_MEMORY_WORKING_SET,
  CONTAINER_SPEC_MEMORY_LIMIT,
  CONTAINER_START_TIME,
  PROBE_DURATION_SECONDS,
  PROBE_HTTP_STATUS_CODE,
  PROBE_SSL_EARLIEST_CERT_EXPIRY,
  PROBE_SUCCESS,
  VIGIL_CONTAINER_HEALTH_STATUS,
  VIGIL_CONTAINER_RESTARTS,
  VIGIL_CONTAINER_STATE,
} from './metric-names.js';

/** Most containers, and most services, kept of one scrape (a bound on what one target can make the database store). */
export const INVENTORY_LIMIT = 500;

/** The series {@link inventoryFromSamples} reads (a scraper builds only these and the figures' of a body). */
export const INVENTORY_SERIES: ReadonlySet<string> = new Set(
  [
    CONTAINER_CPU_USAGE_SECONDS,
    CONTAINER_MEMORY_WORKING_SET,
    CONTAINER_SPEC_MEMORY_LIMIT,
    CONTAINER_START_TIME,
    CONTAINER_LAST_SEEN,
    VIGIL_CONTAINER_STATE,
    VIGIL_CONTAINER_HEALTH_STATUS,
    VIGIL_CONTAINER_RESTARTS,
    PROBE_SUCCESS,
    PROBE_DURATION_SECONDS,
    PROBE_HTTP_STATUS_CODE,
    PROBE_SSL_EARLIEST_CERT_EXPIRY,
  ].map((m) => m.name),
);

/** One container as its host's last scrape showed it. */
export interface ContainerInventory {
  /** Docker's container name (cAdvisor's `name` label). */
  name: string;
  image: string | null;
  /** Docker's state (`running`, `exited`, …); null when the exporter does not say (cAdvisor lists running containers only). */
  state: string | null;
  /** The health check's status (`healthy`, `unhealthy`, `starting`, `none`); null when not exposed. */
  health: string | null;
  /** How many times Docker restarted it. */
  restarts: number | null;
  /** CPU seconds used since it started, summed over CPUs (a counter: a rate needs two scrapes). */
  cpuSecondsTotal: number | null;
  /** CPU use between the last two scrapes, percent of one core (as `docker stats`); set by the scraper, null from one scrape. */
  cpuPercent: number | null;
  /** Working set, bytes (what the OOM killer weighs; what `docker stats` shows). */
  memoryBytes: number | null;
  /** Memory limit, bytes; null when unlimited. */
  memoryLimitBytes: number | null;
  /** When it started, Unix seconds. */
  startedAt: number | null;
}

/** One probed service as its host's last scrape showed it. */
export interface ServiceInventory {
  /** The `service` label (Vigil's services file), else `instance` or `target`, else `probe` (a blackbox_exporter target). */
  name: string;
  success: boolean;
  /** The probe's duration, seconds. */
  durationSeconds: number | null;
  /** The HTTP status code of the final answer; null for TCP probes and when no answer came. */
  statusCode: number | null;
  /** The earliest expiry of the certificate chain, Unix seconds; null without TLS. */
  certExpiry: number | null;
}

/** The containers and services of one scrape, each list sorted by name. */
export interface Inventory {
  containers: ContainerInventory[];
  services: ServiceInventory[];
}

const finite = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);

/** For each name label value, the samples of one series that carry it. */
function byName(samples: readonly LabelledValue[] | undefined, key: string): Map<string, LabelledValue[]> {
  const out = new Map<string, LabelledValue[]>();
  if (!samples) return out;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const name = s.labels[key];
    if (!name) continue;
    let list = out.get(name);
    if (!list) out.set(name, (list = []));
    list.push(s);
  }
  return out;
}

/** The label value of the sample whose value is 1 (a state-set gauge), or null. */
function current(samples: readonly LabelledValue[] | undefined, key: string): string | null {
  if (!samples) return null;
  for (const s of samples) if (s.value === 1 && s.labels[key]) return s.labels[key]!;
  return null;
}

/** CPU seconds: the `cpu="total"` sample when there is one (cAdvisor, Vigil), else the sum over per-CPU samples. */
function cpuSeconds(samples: readonly LabelledValue[] | undefined): number | null {
  if (!samples) return null;
  let sum = 0;
  let any = false;
  for (const s of samples) {
    if (!Number.isFinite(s.value)) continue;
    if (s.labels.cpu === 'total') return s.value;
    sum += s.value;
    any = true;
  }
  return any ? sum : null;
}

/**
 * Derives a host's containers and services from one scrape's samples.
 * Containers are the series with a non-empty `name` label (cAdvisor's Docker
 * containers; its cgroup-only series have none); services are the
 * `probe_success` samples. At most {@link INVENTORY_LIMIT} of each, by name.
 * `cpuPercent` is null: it needs the previous scrape ({@link containerCpuPercent}).
 */
export function inventoryFromSamples(get: SeriesLookup): Inventory {
  const cpu = byName(get(CONTAINER_CPU_USAGE_SECONDS.name), 'name');
  const memory = byName(get(CONTAINER_MEMORY_WORKING_SET.name), 'name');
  const limit = byName(get(CONTAINER_SPEC_MEMORY_LIMIT.name), 'name');
  const started = byName(get(CONTAINER_START_TIME.name), 'name');
  const seen = byName(get(CONTAINER_LAST_SEEN.name), 'name');
  const state = byName(get(VIGIL_CONTAINER_STATE.name), 'name');
  const health = byName(get(VIGIL_CONTAINER_HEALTH_STATUS.name), 'name');
  const restarts = byName(get(VIGIL_CONTAINER_RESTARTS.name), 'name');
  const names = new Set<string>();
  for (const m of [cpu, memory, started, seen, state, restarts]) for (const k of m.keys()) names.add(k);
  const containers: ContainerInventory[] = [];
  for (const name of [...names].sort().slice(0, INVENTORY_LIMIT)) {
    const any = cpu.get(name)?.[0] ?? memory.get(name)?.[0] ?? state.get(name)?.[0] ?? started.get(name)?.[0] ?? seen.get(name)?.[0];
    const limitBytes = finite(limit.get(name)?.[0]?.value);
    containers.push({
      name,
      image: any?.labels.image || null,
      state: current(state.get(name), 'state'),
      health: current(health.get(name), 'status'),
      restarts: finite(restarts.get(name)?.[0]?.value),
      cpuSecondsTotal: cpuSeconds(cpu.get(name)),
      cpuPercent: null,
      memoryBytes: finite(memory.get(name)?.[0]?.value),
      // cAdvisor says 0 for no limit; the kernel's "max" is read as a huge number.
      memoryLimitBytes: limitBytes === null || limitBytes <= 0 || limitBytes >= 2 ** 62 ? null : limitBytes,
      startedAt: finite(started.get(name)?.[0]?.value),
    });
  }
  const serviceName = (l: Readonly<Record<string, string>>) => l.service || l.instance || l.target || 'probe';
  const keyed = (series: string) => {
    const m = new Map<string, number>();
    for (const s of get(series) ?? []) if (!m.has(serviceName(s.labels))) m.set(serviceName(s.labels), s.value);
    return m;
  };
  const duration = keyed(PROBE_DURATION_SECONDS.name);
  const status = keyed(PROBE_HTTP_STATUS_CODE.name);
  const cert = keyed(PROBE_SSL_EARLIEST_CERT_EXPIRY.name);
  const success = keyed(PROBE_SUCCESS.name);
  const services: ServiceInventory[] = [];
  for (const name of [...success.keys()].sort().slice(0, INVENTORY_LIMIT)) {
    const code = finite(status.get(name));
    services.push({
      name,
      success: success.get(name) === 1,
      durationSeconds: finite(duration.get(name)),
      statusCode: code === null || code === 0 ? null : code,
      certExpiry: finite(cert.get(name)),
    });
  }
  return { containers, services };
}

/**
 * Fills each container's `cpuPercent` from the CPU seconds of the previous
 * scrape `elapsedSeconds` earlier: Δcpu / Δt × 100, percent of one core (200
 * is two cores busy). A container absent before, restarted (its counter went
 * back) or a window of no time stays null. Returns new objects.
 */
export function containerCpuPercent(
  containers: readonly ContainerInventory[],
  previous: ReadonlyMap<string, number>,
  elapsedSeconds: number,
): ContainerInventory[] {
  return containers.map((c) => {
    const before = previous.get(c.name);
    if (before === undefined || c.cpuSecondsTotal === null || !(elapsedSeconds > 0) || c.cpuSecondsTotal < before)
      return { ...c, cpuPercent: null };
    return { ...c, cpuPercent: ((c.cpuSecondsTotal - before) / elapsedSeconds) * 100 };
  });
}

/**
 * What of an inventory is news when it changes: which containers and services
 * exist, their image, state, health, restarts, limit, start; each service's
 * result and status. Counters and figures (cpu, memory, durations) are left
 * out: they change on every scrape and are refreshed on a slower clock.
 */
export function inventoryFingerprint(inv: Inventory): string {
  return JSON.stringify([
    inv.containers.map((c) => [c.name, c.image, c.state, c.health, c.restarts, c.memoryLimitBytes, c.startedAt]),
    inv.services.map((s) => [s.name, s.success, s.statusCode, s.certExpiry]),
  ]);
}
