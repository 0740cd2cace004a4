/**
 * Rates from counters: network and disk throughput, IOPS and each container's
 * cpu and network, from two scrapes' counters, the way the common dashboards
 * compute `rate()` (Δcounter / Δt; a counter that went back, a reboot or a
 * restarted container, gives no rate rather than a negative one). And the
 * host's temperature, a gauge. Works on any node_exporter / cAdvisor
 * compatible target; what it does not expose is null.
 */
import { type CpuTotals, cpuTotals, type LabelledValue, type SeriesLookup } from './figures.js';
import { INVENTORY_LIMIT } from './inventory.js';
import {
  CONTAINER_CPU_USAGE_SECONDS,
  NODE_HWMON_TEMP,
  NODE_NETWORK_RECEIVE_BYTES,
  NODE_NETWORK_TRANSMIT_BYTES,
  NODE_THERMAL_ZONE_TEMP,
} from './metric-names.js';

export const NODE_DISK_READ_BYTES = 'node_disk_read_bytes_total';
export const NODE_DISK_WRITTEN_BYTES = 'node_disk_written_bytes_total';
export const NODE_DISK_READS = 'node_disk_reads_completed_total';
export const NODE_DISK_WRITES = 'node_disk_writes_completed_total';
export const CONTAINER_NETWORK_RECEIVE_BYTES = 'container_network_receive_bytes_total';
export const CONTAINER_NETWORK_TRANSMIT_BYTES = 'container_network_transmit_bytes_total';

/** The series {@link counterSnapshot} and {@link hostTemperature} read. */
export const RATE_SERIES: ReadonlySet<string> = new Set([
  NODE_NETWORK_RECEIVE_BYTES.name,
  NODE_NETWORK_TRANSMIT_BYTES.name,
  NODE_DISK_READ_BYTES,
  NODE_DISK_WRITTEN_BYTES,
  NODE_DISK_READS,
  NODE_DISK_WRITES,
  CONTAINER_CPU_USAGE_SECONDS.name,
  CONTAINER_NETWORK_RECEIVE_BYTES,
  CONTAINER_NETWORK_TRANSMIT_BYTES,
  NODE_HWMON_TEMP.name,
  NODE_THERMAL_ZONE_TEMP.name,
]);

/** At most this many interfaces are kept per host (the first by name). */
export const INTERFACE_LIMIT = 64;

/**
 * Interfaces whose traffic is counted again on a physical one (container
 * veths and bridges, overlay and tunnel devices) or never leaves the host
 * (`lo`): left out of a host's network figures. Prefixes, matched without a
 * regular expression.
 */
const VIRTUAL_INTERFACE_PREFIXES = [
  'veth',
  'docker',
  'br-',
  'virbr',
  'cni',
  'flannel',
  'cali',
  'vxlan',
  'tunl',
  'kube-',
  'podman',
  'lxcbr',
];

/** Whether `device` counts towards a host's network figures: not loopback, not a container or overlay device. */
export function isHostInterface(device: string): boolean {
  if (device === '' || device === 'lo') return false;
  for (const p of VIRTUAL_INTERFACE_PREFIXES) if (device.startsWith(p)) return false;
  return true;
}

/**
 * Block devices whose I/O is counted again on the disks under them
 * (device-mapper and md arrays) or that are not disks (loop, ram, zram,
 * optical, floppy): left out of a host's disk figures.
 */
const VIRTUAL_DISK_PREFIXES = ['dm-', 'md', 'loop', 'ram', 'zram', 'sr', 'fd', 'nbd'];

/** Whether `device` counts towards a host's disk throughput and IOPS. */
export function isHostDisk(device: string): boolean {
  if (device === '') return false;
  for (const p of VIRTUAL_DISK_PREFIXES) if (device.startsWith(p)) return false;
  return true;
}

/**
 * The counters of one scrape that rates are taken between: plain data (it
 * crosses threads and is kept per target between scrapes).
 */
export interface Counters {
  /** When the scrape counts as started, Unix seconds. */
  time: number;
  cpu: CpuTotals | null;
  /** Per host interface ({@link isHostInterface}): [received, transmitted] bytes (`node_network_*_bytes_total`). */
  net: Record<string, [number, number]>;
  /** Summed over host disks ({@link isHostDisk}): [read bytes, written bytes, reads, writes] (`node_disk_*`); null without the series. */
  disk: [number, number, number, number] | null;
  /** Per container name: [cpu seconds, received bytes, transmitted bytes], each null when not exposed (cAdvisor's series). */
  containers: Record<string, [number | null, number | null, number | null]>;
}

/** The rates between two scrapes. Bytes per second, operations per second, percent. */
export interface Rates {
  /** Summed over host interfaces; null without the series or a previous scrape. */
  netReceiveBytesPerSecond: number | null;
  netTransmitBytesPerSecond: number | null;
  /** Per host interface: [receive, transmit] bytes per second. Null when none has a rate. */
  interfaces: Record<string, [number, number]> | null;
  diskReadBytesPerSecond: number | null;
  diskWrittenBytesPerSecond: number | null;
  diskReadsPerSecond: number | null;
  diskWritesPerSecond: number | null;
  /**
   * Per container: [cpu percent of one core, memory working set bytes, receive
   * bytes/s, transmit bytes/s], each null where unknown. Null without containers.
   */
  containers: Record<string, [number | null, number | null, number | null, number | null]> | null;
}

/** The rates of a first scrape, or of a target without counters: none. */
export const NO_RATES: Readonly<Rates> = Object.freeze({
  netReceiveBytesPerSecond: null,
  netTransmitBytesPerSecond: null,
  interfaces: null,
  diskReadBytesPerSecond: null,
  diskWrittenBytesPerSecond: null,
  diskReadsPerSecond: null,
  diskWritesPerSecond: null,
  containers: null,
});

function sumBy(
  samples: readonly LabelledValue[] | undefined,
  key: string,
  keep: (v: string) => boolean,
  into: Map<string, number>,
  limit: number,
): void {
  if (!samples) return;
  for (const s of samples) {
    const k = s.labels[key];
    if (k === undefined || !keep(k) || !Number.isFinite(s.value)) continue;
    const before = into.get(k);
    if (before === undefined && into.size >= limit) continue;
    into.set(k, (before ?? 0) + s.value);
  }
}

function total(samples: readonly LabelledValue[] | undefined): number | null {
  if (!samples?.length) return null;
  let sum = 0;
  let any = false;
  for (const s of samples) {
    if (!Number.isFinite(s.value) || !isHostDisk(s.labels.device ?? '')) continue;
    sum += s.value;
    any = true;
  }
  return any ? sum : null;
}

/**
 * Reads the counters rates are taken from: CPU totals (`node_cpu_seconds_total`),
 * per host interface bytes (`node_network_{receive,transmit}_bytes_total`,
 * /proc/net/dev), disk bytes and operations summed over host disks
 * (`node_disk_*`, /proc/diskstats), and per container cpu seconds and network
 * bytes summed over its interfaces (cAdvisor's `container_*`, from cgroups).
 * @param time Unix seconds when the scrape started
 */
export function counterSnapshot(get: SeriesLookup, time: number): Counters {
  const rx = new Map<string, number>();
  const tx = new Map<string, number>();
  sumBy(get(NODE_NETWORK_RECEIVE_BYTES.name), 'device', isHostInterface, rx, INTERFACE_LIMIT);
  sumBy(get(NODE_NETWORK_TRANSMIT_BYTES.name), 'device', isHostInterface, tx, INTERFACE_LIMIT);
  const net: Counters['net'] = {};
  for (const [device, r] of rx) {
    const t = tx.get(device);
    if (t !== undefined) net[device] = [r, t];
  }
  const read = total(get(NODE_DISK_READ_BYTES));
  const written = total(get(NODE_DISK_WRITTEN_BYTES));
  const reads = total(get(NODE_DISK_READS));
  const writes = total(get(NODE_DISK_WRITES));
  const disk: Counters['disk'] =
    read === null || written === null || reads === null || writes === null ? null : [read, written, reads, writes];

  const all = () => true;
  // cpu: the cpu="total" sample (cAdvisor, Vigil) where there is one, else the sum over CPUs.
  const cpu = new Map<string, { total: number | null; sum: number }>();
  for (const s of get(CONTAINER_CPU_USAGE_SECONDS.name) ?? []) {
    const name = s.labels.name;
    if (!name || !Number.isFinite(s.value)) continue;
    let e = cpu.get(name);
    if (!e) {
      if (cpu.size >= INVENTORY_LIMIT) continue;
      cpu.set(name, (e = { total: null, sum: 0 }));
    }
    if (s.labels.cpu === 'total') e.total = s.value;
    else e.sum += s.value;
  }
  const crx = new Map<string, number>();
  const ctx = new Map<string, number>();
  sumBy(get(CONTAINER_NETWORK_RECEIVE_BYTES), 'name', all, crx, INVENTORY_LIMIT);
  sumBy(get(CONTAINER_NETWORK_TRANSMIT_BYTES), 'name', all, ctx, INVENTORY_LIMIT);
  const containers: Counters['containers'] = {};
  for (const name of new Set([...cpu.keys(), ...crx.keys()])) {
    if (name === '') continue;
    const c = cpu.get(name);
    containers[name] = [c ? (c.total ?? c.sum) : null, crx.get(name) ?? null, ctx.get(name) ?? null];
  }
  return { time, cpu: cpuTotals(get), net, disk, containers };
}

/** Δ/Δt, or null when either side is missing or the counter went back (a reset). */
function rate(before: number | null | undefined, now: number | null | undefined, seconds: number): number | null {
  if (before === null || before === undefined || now === null || now === undefined || now < before) return null;
  return (now - before) / seconds;
}

const round = (v: number | null, digits = 0): number | null => {
  if (v === null) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/**
 * The rates between two snapshots of the same target, `previous` taken first.
 * Byte rates are rounded to whole bytes, operations and cpu to two decimals
 * (what a chart shows; it keeps the stored JSON small). With no previous
 * snapshot or no time between them, every rate is null.
 * @param memory each container's working set now, bytes (cAdvisor's
 *   `container_memory_working_set_bytes`), carried into `containers`
 */
export function ratesBetween(
  previous: Counters | null | undefined,
  current: Counters,
  memory: ReadonlyMap<string, number | null> = new Map(),
): Rates {
  const seconds = previous ? current.time - previous.time : 0;
  const containers = Object.keys(current.containers);
  const memoryOnly = [...memory.keys()].filter((n) => !(n in current.containers));
  const anyContainer = containers.length + memoryOnly.length > 0;
  if (!previous || !(seconds > 0)) {
    if (!anyContainer) return NO_RATES;
    const out: NonNullable<Rates['containers']> = {};
    for (const n of [...containers, ...memoryOnly]) out[n] = [null, memory.get(n) ?? null, null, null];
    return { ...NO_RATES, containers: out };
  }

  let interfaces: Rates['interfaces'] = null;
  let rxSum: number | null = null;
  let txSum: number | null = null;
  for (const [device, [r, t]] of Object.entries(current.net)) {
    const before = previous.net[device];
    if (!before) continue;
    const rr = rate(before[0], r, seconds);
    const tr = rate(before[1], t, seconds);
    if (rr === null || tr === null) continue;
    interfaces ??= {};
    interfaces[device] = [round(rr)!, round(tr)!];
    rxSum = (rxSum ?? 0) + rr;
    txSum = (txSum ?? 0) + tr;
  }

  const d = current.disk;
  const p = previous.disk;
  const diskRate = (i: number, digits: number) => round(rate(p?.[i], d?.[i], seconds), digits);

  let out: Rates['containers'] = null;
  if (anyContainer) {
    out = {};
    for (const name of containers) {
      const [cpu, rx, tx] = current.containers[name]!;
      const before = previous.containers[name];
      const cpuRate = rate(before?.[0], cpu, seconds);
      out[name] = [
        round(cpuRate === null ? null : cpuRate * 100, 2),
        memory.get(name) ?? null,
        round(rate(before?.[1], rx, seconds)),
        round(rate(before?.[2], tx, seconds)),
      ];
    }
    for (const n of memoryOnly) out[n] = [null, memory.get(n) ?? null, null, null];
  }
  return {
    netReceiveBytesPerSecond: round(rxSum),
    netTransmitBytesPerSecond: round(txSum),
    interfaces,
    diskReadBytesPerSecond: diskRate(0, 0),
    diskWrittenBytesPerSecond: diskRate(1, 0),
    diskReadsPerSecond: diskRate(2, 2),
    diskWritesPerSecond: diskRate(3, 2),
    containers: out,
  };
}

/**
 * The host's temperature, degrees Celsius: the hottest of its hwmon sensors
 * (`node_hwmon_temp_celsius`, /sys/class/hwmon) and thermal zones
 * (`node_thermal_zone_temp`, /sys/class/thermal; a Raspberry Pi's SoC). Readings
 * outside −60…200 °C (a disconnected probe) are left out. Null without sensors.
 */
export function hostTemperature(get: SeriesLookup): number | null {
  let max: number | null = null;
  for (const name of [NODE_HWMON_TEMP.name, NODE_THERMAL_ZONE_TEMP.name])
    for (const s of get(name) ?? []) {
      if (!Number.isFinite(s.value) || s.value < -60 || s.value > 200) continue;
      if (max === null || s.value > max) max = s.value;
    }
  return max === null ? null : Math.round(max * 10) / 10;
}
