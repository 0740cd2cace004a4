import path from 'node:path';
import type { Collector, HostPaths } from '../collector.js';
import { ParseError, Remembered, readOptional, readText } from './read.js';

/** One block device's counters from /proc/diskstats (Documentation/admin-guide/iostats.rst). */
export interface DiskStats {
  device: string;
  major: number;
  minor: number;
  /** The raw fields after major, minor and name: 11 (kernel < 4.18), 15 (discards) or 17 (flushes). */
  fields: number[];
}

/** node_exporter's default: whole disks only, no partitions, ram, loop or floppy devices. */
export const DEFAULT_DISK_EXCLUDE = /^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p|mmcblk\d+p)\d+$/;

/**
 * Parses /proc/diskstats.
 * @throws ParseError for a line with fewer than 14 fields or a non-numeric counter
 */
export function parseDiskstats(text: string): DiskStats[] {
  const out: DiskStats[] = [];
  text.split('\n').forEach((line, i) => {
    const f = line.trim().split(/\s+/);
    if (f.length === 1 && f[0] === '') return;
    if (f.length < 14) throw new ParseError('diskstats', i + 1, `expected at least 14 fields, got ${f.length}`);
    const fields = f.slice(3).map((v) => {
      if (!/^\d+$/.test(v)) throw new ParseError('diskstats', i + 1, `non-numeric counter ${JSON.stringify(v)} for ${f[2]}`);
      return Number(v);
    });
    if (!/^\d+$/.test(f[0]!) || !/^\d+$/.test(f[1]!))
      throw new ParseError('diskstats', i + 1, `expected major and minor device numbers, got ${JSON.stringify(`${f[0]} ${f[1]}`)}`);
    out.push({ device: f[2]!, major: Number(f[0]), minor: Number(f[1]), fields });
  });
  return out;
}

/** Reads and parses `<proc>/diskstats`. */
export async function readDiskstats(proc: string, signal?: AbortSignal): Promise<DiskStats[]> {
  return parseDiskstats(await readText(path.join(proc, 'diskstats'), signal, 'memory'));
}

const SECTOR = 512;
// [field index, metric, help, scale]: node_exporter's names and units.
const COUNTERS: [number, string, string, number][] = [
  [0, 'node_disk_reads_completed_total', 'The total number of reads completed successfully.', 1],
  [1, 'node_disk_reads_merged_total', 'The total number of reads merged.', 1],
  [2, 'node_disk_read_bytes_total', 'The total number of bytes read successfully.', SECTOR],
  [3, 'node_disk_read_time_seconds_total', 'The total number of seconds spent by all reads.', 0.001],
  [4, 'node_disk_writes_completed_total', 'The total number of writes completed successfully.', 1],
  [5, 'node_disk_writes_merged_total', 'The number of writes merged.', 1],
  [6, 'node_disk_written_bytes_total', 'The total number of bytes written successfully.', SECTOR],
  [7, 'node_disk_write_time_seconds_total', 'This is the total number of seconds spent by all writes.', 0.001],
  [9, 'node_disk_io_time_seconds_total', 'Total seconds spent doing I/Os.', 0.001],
  [10, 'node_disk_io_time_weighted_seconds_total', 'The weighted # of seconds spent doing I/Os.', 0.001],
  [11, 'node_disk_discards_completed_total', 'The total number of discards completed successfully.', 1],
  [12, 'node_disk_discards_merged_total', 'The total number of discards merged.', 1],
  [13, 'node_disk_discarded_sectors_total', 'The total number of sectors discarded successfully.', 1],
  [14, 'node_disk_discard_time_seconds_total', 'This is the total number of seconds spent by all discards.', 0.001],
  [15, 'node_disk_flush_requests_total', 'The total number of flush requests completed successfully', 1],
  [16, 'node_disk_flush_requests_time_seconds_total', 'This is the total number of seconds spent by all flush requests.', 0.001],
];

/**
 * The udev database's properties of a block device (`E:KEY=value` lines of
 * `<rootfs>/run/udev/data/b<major>:<minor>`); empty when udev has no entry
 * (a container without /run/udev, a host without udev).
 */
export async function readUdevProperties(rootfs: string, major: number, minor: number, signal?: AbortSignal): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const text = await readOptional(path.join(rootfs, 'run/udev/data', `b${major}:${minor}`), signal, 'once');
  for (const line of (text ?? '').split('\n')) {
    if (!line.startsWith('E:')) continue;
    const eq = line.indexOf('=');
    if (eq > 2) out.set(line.slice(2, eq), line.slice(eq + 1));
  }
  return out;
}

/** udev's properties by root and device number, read at most once a minute: they change when a disk is added. */
const udevCache = new Remembered<Map<string, string>>(60);

/**
 * `node_disk_*{device}` from /proc/diskstats, for whole disks (partitions,
 * loop and ram devices left out by default); `node_disk_info` (major, minor,
 * and udev's path, wwn, model, serial, revision, empty when udev does not
 * know them) and, for device-mapper devices, `node_disk_device_mapper_info`
 * (name, uuid, vg_name, lv_name, lv_layer), as node_exporter 1.5.
 */
export function diskstatsCollector(paths: HostPaths, exclude: RegExp = DEFAULT_DISK_EXCLUDE): Collector {
  return {
    name: 'diskstats',
    async update(sink, signal) {
      const disks = (await readDiskstats(paths.proc, signal)).filter((d) => !exclude.test(d.device));
      const udev = await Promise.all(
        disks.map((d) =>
          udevCache.get(`${paths.rootfs}\0${d.major}:${d.minor}`, () => readUdevProperties(paths.rootfs, d.major, d.minor, signal)),
        ),
      );
      const info = sink.gauge('node_disk_info', 'Info of /sys/block/<block_device>.');
      const dm = sink.gauge('node_disk_device_mapper_info', 'Info about disk device mapper.');
      disks.forEach((d, i) => {
        const p = udev[i]!;
        info.set(
          {
            device: d.device,
            major: String(d.major),
            minor: String(d.minor),
            path: p.get('ID_PATH') ?? '',
            wwn: p.get('ID_WWN') ?? '',
            model: p.get('ID_MODEL') ?? '',
            serial: p.get('ID_SERIAL_SHORT') ?? '',
            revision: p.get('ID_REVISION') ?? '',
          },
          1,
        );
        if (p.has('DM_NAME'))
          dm.set(
            {
              device: d.device,
              name: p.get('DM_NAME')!,
              uuid: p.get('DM_UUID') ?? '',
              vg_name: p.get('DM_VG_NAME') ?? '',
              lv_name: p.get('DM_LV_NAME') ?? '',
              lv_layer: p.get('DM_LV_LAYER') ?? '',
            },
            1,
          );
      });
      for (const [index, name, help, scale] of COUNTERS) {
        const withField = disks.filter((d) => d.fields[index] !== undefined);
        if (withField.length === 0) continue;
        const family = sink.counter(name, help);
        for (const d of withField) family.set({ device: d.device }, d.fields[index]! * scale);
      }
      const ioNow = sink.gauge('node_disk_io_now', 'The number of I/Os currently in progress.');
      for (const d of disks) ioNow.set({ device: d.device }, d.fields[8]!);
    },
  };
}
