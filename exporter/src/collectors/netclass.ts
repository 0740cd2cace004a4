import path from 'node:path';
import type { Collector, HostPaths } from '../collector.js';
import { isTransientSensorError, listClass, readKeptSync, readText } from './read.js';

/**
 * The numeric files of /sys/class/net/<device> node_exporter exports, each as
 * `node_network_<name>` with the help "Network device property: <name>": file,
 * name, and whether it is a counter.
 */
export const NETCLASS_PROPERTIES: readonly (readonly [file: string, name: string, counter: boolean])[] = [
  ['addr_assign_type', 'address_assign_type', false],
  ['carrier', 'carrier', false],
  ['carrier_changes', 'carrier_changes_total', true],
  ['carrier_up_count', 'carrier_up_changes_total', true],
  ['carrier_down_count', 'carrier_down_changes_total', true],
  ['dev_id', 'device_id', false],
  ['dormant', 'dormant', false],
  ['flags', 'flags', false],
  ['ifindex', 'iface_id', false],
  ['iflink', 'iface_link', false],
  ['link_mode', 'iface_link_mode', false],
  ['mtu', 'mtu_bytes', false],
  ['name_assign_type', 'name_assign_type', false],
  ['netdev_group', 'net_dev_group', false],
  ['speed', 'speed_bytes', false],
  ['tx_queue_len', 'transmit_queue_length', false],
  ['type', 'protocol_type', false],
];

/** A sysfs number: decimal, or hexadecimal with 0x (dev_id, flags); null for anything else. */
export function sysfsNumber(text: string): number | null {
  const t = text.trim();
  if (/^-?\d+$/.test(t)) return Number(t);
  if (/^0x[0-9a-f]+$/i.test(t)) return Number.parseInt(t.slice(2), 16);
  return null;
}

/** Files a device lacks (an older kernel's carrier_up_count), by path, not looked for again for a minute. */
const absent = new Map<string, number>();

const INFO_FILES = ['address', 'broadcast', 'duplex', 'ifalias', 'operstate'] as const;

/** Indexes, among INFO_FILES then NETCLASS_PROPERTIES, of the files that make up a device's state (see {@link refused}). */
const STATE_FILES: readonly number[] = ['operstate', 'flags', 'ifindex', 'carrier_changes'].map((f) => {
  const i = INFO_FILES.indexOf(f as (typeof INFO_FILES)[number]);
  return i >= 0 ? i : INFO_FILES.length + NETCLASS_PROPERTIES.findIndex(([file]) => file === f);
});

/**
 * Files the kernel refused (EINVAL) by path, with the device's state when it
 * did. The kernel refuses `speed`, `duplex`, `carrier` and `dormant` of a link
 * that is down or whose driver cannot say (`lo`), and `name_assign_type` of a
 * device named by nobody knows whom: each a function of the device's index,
 * flags, operational state and carrier changes. While those are unchanged the
 * answer is too, so the file is not asked again (each refusal is an exception
 * thrown and a system call, every scrape, for every such file).
 */
const refused = new Map<string, string>();

/**
 * A device's file read from its kept handle without an await: its content,
 * null when it has none or the kernel will not say now (speed of a link that
 * is down: EINVAL), undefined when it is not open yet. `state` is the device's
 * state (see {@link refused}), null when not known; a file the kernel refused
 * in the same state is not read again.
 */
function keptProperty(p: string, state: string | null, readKept: (p: string) => string | undefined): string | null | undefined {
  if ((absent.get(p) ?? 0) > Date.now()) return null;
  if (state !== null && refused.get(p) === state) return null;
  try {
    return readKept(p);
  } catch (err) {
    if (isTransientSensorError(err)) {
      if (refused.size > 4096) refused.clear();
      if (state !== null) refused.set(p, state);
      return null;
    }
    throw err;
  }
}

/** Opens and reads a device's file (its handle is kept for the next scrapes); null as {@link keptProperty}. */
async function openProperty(p: string, signal: AbortSignal): Promise<string | null> {
  try {
    return await readText(p, signal, 'memory');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      if (absent.size > 4096) absent.clear();
      absent.set(p, Date.now() + 60_000);
      return null;
    }
    if (isTransientSensorError(err)) return null;
    throw err;
  }
}

/**
 * node_exporter's netclass collector, from /sys/class/net/<device>:
 * `node_network_info{address, broadcast, device, duplex, ifalias, operstate} 1`
 * and the numeric properties of {@link NETCLASS_PROPERTIES} (`speed` in Mbit/s
 * becomes `speed_bytes`, bytes per second; -1, a speed the driver does not
 * know, stays -125000 as node_exporter has it). `node_network_up` comes from
 * the netdev collector. Every device, `lo` included, as upstream's default.
 * `readKept` reads a file from its kept handle (tests put a kernel's refusals in it).
 */
export function netclassCollector(paths: HostPaths, readKept: (path: string) => string | undefined = readKeptSync): Collector {
  return {
    name: 'netclass',
    async update(sink, signal) {
      const root = path.join(paths.sys, 'class/net');
      const devices = await listClass(root, /^[^.]/);
      const files = [...INFO_FILES, ...NETCLASS_PROPERTIES.map(([file]) => file)];
      // Every file is read synchronously from its kept handle; only those not
      // open yet (the first scrape, a new interface) are opened, concurrently.
      // The files that make up a device's state are read first.
      const values: (string | null | undefined)[][] = [];
      for (let d = 0; d < devices.length; d++) {
        const dir = path.join(root, devices[d]!);
        const row: (string | null | undefined)[] = new Array(files.length);
        // null until every state file has been read (a device not open yet).
        let state: string | null = '';
        for (let k = 0; k < STATE_FILES.length; k++) {
          const i = STATE_FILES[k]!;
          const v = keptProperty(path.join(dir, files[i]!), null, readKept);
          row[i] = v;
          state = state === null || v === undefined ? null : `${state}${v}|`;
        }
        for (let i = 0; i < files.length; i++)
          if (!STATE_FILES.includes(i)) row[i] = keptProperty(path.join(dir, files[i]!), state, readKept);
        values.push(row);
      }
      const opening: Promise<void>[] = [];
      for (let d = 0; d < values.length; d++) {
        const row = values[d]!;
        for (let i = 0; i < row.length; i++) {
          if (row[i] !== undefined) continue;
          opening.push(
            openProperty(path.join(root, devices[d]!, files[i]!), signal).then((text) => {
              row[i] = text;
            }),
          );
        }
      }
      await Promise.all(opening);
      const info = sink.gauge('node_network_info', 'Non-numeric data from /sys/class/net/<iface>, value is always 1.');
      const families = NETCLASS_PROPERTIES.map(([, name, counter]) => {
        const help = `Network device property: ${name}`;
        return counter ? sink.counter(`node_network_${name}`, help) : sink.gauge(`node_network_${name}`, help);
      });
      devices.forEach((device, d) => {
        const row = values[d]!;
        const text = (i: number) => row[i]?.trim() ?? '';
        info.set({ address: text(0), broadcast: text(1), device, duplex: text(2), ifalias: text(3), operstate: text(4) }, 1);
        NETCLASS_PROPERTIES.forEach(([file], j) => {
          const raw = row[INFO_FILES.length + j];
          const n = raw === null || raw === undefined ? null : sysfsNumber(raw);
          if (n !== null) families[j]!.set({ device }, file === 'speed' ? n * 125_000 : n);
        });
      });
    },
  };
}
