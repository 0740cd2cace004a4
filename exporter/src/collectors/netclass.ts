import path from 'node:path';
import type { Collector, HostPaths } from '../collector.js';
import { isTransientSensorError, listClass, readText } from './read.js';

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

/** A device's file, or null when it has none or the kernel will not say now (speed of a link that is down: EINVAL). */
async function property(dir: string, file: string, signal: AbortSignal): Promise<string | null> {
  try {
    return await readText(path.join(dir, file), signal, 'memory');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || isTransientSensorError(err)) return null;
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
 */
export function netclassCollector(paths: HostPaths): Collector {
  return {
    name: 'netclass',
    async update(sink, signal) {
      const root = path.join(paths.sys, 'class/net');
      for (const device of await listClass(root, /^[^.]/)) {
        const dir = path.join(root, device);
        const text = async (file: string) => (await property(dir, file, signal))?.trim() ?? '';
        sink.gauge('node_network_info', 'Non-numeric data from /sys/class/net/<iface>, value is always 1.').set(
          {
            address: await text('address'),
            broadcast: await text('broadcast'),
            device,
            duplex: await text('duplex'),
            ifalias: await text('ifalias'),
            operstate: await text('operstate'),
          },
          1,
        );
        for (const [file, name, counter] of NETCLASS_PROPERTIES) {
          const raw = await property(dir, file, signal);
          const n = raw === null ? null : sysfsNumber(raw);
          if (n === null) continue;
          const help = `Network device property: ${name}`;
          const family = counter ? sink.counter(`node_network_${name}`, help) : sink.gauge(`node_network_${name}`, help);
          family.set({ device }, file === 'speed' ? n * 125_000 : n);
        }
      }
    },
  };
}
