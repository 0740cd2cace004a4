import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { NODE_TIME } from '@vigil/core/metric-names';
import type { Collector, HostPaths } from '../collector.js';
import { listClass, Remembered, readText } from './read.js';

/**
 * The clock sources of /sys/devices/system/clocksource/clocksource<N>: each
 * device's available ones (space-separated in `available_clocksource`) and its
 * current one; none when sysfs has no such directory.
 */
export async function readClocksources(
  sys: string,
  signal?: AbortSignal,
): Promise<{ device: string; available: string[]; current: string }[]> {
  const root = path.join(sys, 'devices/system/clocksource');
  const out: { device: string; available: string[]; current: string }[] = [];
  for (const name of await listClass(root, /^clocksource\d+$/)) {
    const dir = path.join(root, name);
    const available = (await readText(path.join(dir, 'available_clocksource'), signal, 'memory')).split(/\s+/).filter(Boolean);
    const current = (await readText(path.join(dir, 'current_clocksource'), signal, 'memory')).trim();
    out.push({ device: name.slice('clocksource'.length), available, current });
  }
  return out;
}

/** A zone's local time types (RFC 8536): offset east of UTC in seconds, DST flag, abbreviation. */
interface LocalTimeType {
  utoff: number;
  isdst: boolean;
  abbreviation: string;
}

/** What {@link parseTzif} reads of a TZif file: transitions (seconds since the epoch) with their types, and the footer TZ string. */
export interface Tzif {
  transitions: number[];
  transitionTypes: number[];
  types: LocalTimeType[];
  /** The POSIX TZ string for times after the last transition (version 2+), or ''. */
  footer: string;
}

/**
 * Parses a TZif file (RFC 8536; /etc/localtime, /usr/share/zoneinfo/*): the
 * version 2+ 64-bit block when present, else the version 1 block. Linear in
 * the file's size; every count is checked against the bytes present.
 * @throws Error naming what is wrong for anything that is not TZif
 */
export function parseTzif(buf: Buffer): Tzif {
  const bad = (why: string) => new Error(`not a TZif time zone file: ${why}`);
  if (buf.length < 44 || buf.toString('latin1', 0, 4) !== 'TZif') throw bad('no TZif header');
  const version = buf[4]!;
  const counts = (at: number) => {
    if (at + 44 > buf.length) throw bad('truncated header');
    const c = [20, 24, 28, 32, 36, 40].map((o) => buf.readUInt32BE(at + o));
    return { isut: c[0]!, isstd: c[1]!, leap: c[2]!, time: c[3]!, type: c[4]!, char: c[5]! };
  };
  const blockSize = (c: ReturnType<typeof counts>, timeSize: number) =>
    c.time * timeSize + c.time + c.type * 6 + c.char + c.leap * (timeSize + 4) + c.isstd + c.isut;
  let at = 0;
  let c = counts(0);
  let timeSize = 4;
  if (version >= 0x32) {
    // '2' or later: skip the 32-bit block to the 64-bit one.
    at = 44 + blockSize(c, 4);
    c = counts(at);
    timeSize = 8;
  }
  let p = at + 44;
  if (p + blockSize(c, timeSize) > buf.length) throw bad('truncated data block');
  if (c.type === 0) throw bad('no local time types');
  const transitions: number[] = [];
  for (let i = 0; i < c.time; i++, p += timeSize) transitions.push(timeSize === 8 ? Number(buf.readBigInt64BE(p)) : buf.readInt32BE(p));
  const transitionTypes: number[] = [];
  for (let i = 0; i < c.time; i++, p++) {
    if (buf[p]! >= c.type) throw bad('a transition names a type that does not exist');
    transitionTypes.push(buf[p]!);
  }
  const raw: { utoff: number; isdst: boolean; idx: number }[] = [];
  for (let i = 0; i < c.type; i++, p += 6) raw.push({ utoff: buf.readInt32BE(p), isdst: buf[p + 4] === 1, idx: buf[p + 5]! });
  const chars = buf.toString('latin1', p, p + c.char);
  p += c.char + c.leap * (timeSize + 4) + c.isstd + c.isut;
  const types = raw.map((t) => {
    const end = chars.indexOf('\0', t.idx);
    return { utoff: t.utoff, isdst: t.isdst, abbreviation: chars.slice(t.idx, end < 0 ? undefined : end) };
  });
  let footer = '';
  if (timeSize === 8 && buf[p] === 0x0a) {
    const end = buf.indexOf(0x0a, p + 1);
    if (end > p) footer = buf.toString('latin1', p + 1, end);
  }
  return { transitions, transitionTypes, types, footer };
}

/** The std and dst abbreviations of a POSIX TZ string (`CET-1CEST,M3.5.0,M10.5.0/3`, `<+0530>-5:30`), with std's offset east of UTC in seconds. */
function footerZones(tz: string): { std: string; stdOffset: number; dst?: string } | null {
  let i = 0;
  const name = () => {
    if (tz[i] === '<') {
      const end = tz.indexOf('>', i);
      if (end < 0) return null;
      const n = tz.slice(i + 1, end);
      i = end + 1;
      return n;
    }
    const start = i;
    while (i < tz.length && /[A-Za-z]/.test(tz[i]!)) i++;
    return i - start >= 3 ? tz.slice(start, i) : null;
  };
  const std = name();
  if (!std) return null;
  const start = i;
  while (i < tz.length && /[-+0-9:]/.test(tz[i]!)) i++;
  const [h = '0', m = '0', s = '0'] = tz.slice(start, i).split(':');
  const sign = h.startsWith('-') ? -1 : 1;
  const west = sign * (Math.abs(Number(h)) * 3600 + Number(m) * 60 + Number(s));
  if (!Number.isFinite(west)) return null;
  const dst = i < tz.length && tz[i] !== ',' ? (name() ?? undefined) : undefined;
  return { std, stdOffset: -west, dst };
}

/**
 * The abbreviation a zone gives the instant `nowSeconds` whose offset east of
 * UTC is `offsetSeconds` (as Go's time.Now().Zone() names it): after the last
 * transition, the footer's std or dst name by that offset; else the type of
 * the last transition at or before now (type 0 before the first).
 */
export function zoneAbbreviation(z: Tzif, nowSeconds: number, offsetSeconds: number): string {
  const last = z.transitions.length - 1;
  if ((last < 0 || nowSeconds >= z.transitions[last]!) && z.footer) {
    const f = footerZones(z.footer);
    if (f) return offsetSeconds === f.stdOffset || !f.dst ? f.std : f.dst;
  }
  let type = 0;
  for (let i = 0; i <= last && z.transitions[i]! <= nowSeconds; i++) type = z.transitionTypes[i]!;
  return z.types[type]!.abbreviation;
}

/**
 * Where Go (and glibc, and Node's ICU) find the local zone: `TZ` unset →
 * `/etc/localtime`; `TZ` empty or `UTC` → none (UTC); `TZ=Europe/Berlin` or
 * `:Europe/Berlin` → `/usr/share/zoneinfo/Europe/Berlin`; an absolute path as given.
 */
export function localZoneFile(tz: string | undefined): string | null {
  if (tz === undefined) return '/etc/localtime';
  const name = tz.startsWith(':') ? tz.slice(1) : tz;
  if (name === '' || name === 'UTC') return null;
  return path.isAbsolute(name) ? name : path.join('/usr/share/zoneinfo', name);
}

/**
 * node_exporter's `node_time_zone_offset_seconds{time_zone}`: the exporter's
 * local zone (as node_exporter's, the process's: TZ, else /etc/localtime),
 * its current offset east of UTC in seconds from the runtime's clock, named by
 * the zone file's abbreviation (`UTC`, `CET`, `IST`) as Go names it; `UTC`
 * when there is no zone file.
 */
export async function localZone(
  now: Date = new Date(),
  tz: string | undefined = process.env.TZ,
  cache?: Remembered<Tzif | null>,
): Promise<{ name: string; offsetSeconds: number }> {
  const offsetSeconds = 0 - now.getTimezoneOffset() * 60 || 0; // never -0
  const file = localZoneFile(tz);
  if (file === null) return { name: 'UTC', offsetSeconds };
  const load = async () => {
    try {
      return parseTzif(await readFile(file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  };
  const zone = await (cache ? cache.get(file, load) : load());
  if (zone === null) return { name: 'UTC', offsetSeconds };
  return { name: zoneAbbreviation(zone, Math.floor(now.getTime() / 1000), offsetSeconds), offsetSeconds };
}

/** Zone files by path, read at most once a minute. */
const zoneFiles = new Remembered<Tzif | null>(60);

/**
 * `node_time_seconds` (the host's clock, so skew between hosts can be seen)
 * and, as node_exporter's time collector, `node_time_clocksource_available_info`
 * and `node_time_clocksource_current_info{clocksource, device}` from sysfs,
 * and `node_time_zone_offset_seconds{time_zone}` (see {@link localZone}).
 */
export function timeCollector(paths?: HostPaths, now: () => number = Date.now): Collector {
  return {
    name: 'time',
    async update(sink, signal) {
      const t = now();
      sink.of(NODE_TIME).set({}, t / 1000);
      if (!paths) return;
      const zone = await localZone(new Date(t), process.env.TZ, zoneFiles);
      sink.gauge('node_time_zone_offset_seconds', 'System time zone offset in seconds.').set({ time_zone: zone.name }, zone.offsetSeconds);
      for (const { device, available, current } of await readClocksources(paths.sys, signal)) {
        for (const clocksource of available)
          sink
            .gauge('node_time_clocksource_available_info', "Available clocksources read from '/sys/devices/system/clocksource'.")
            .set({ clocksource, device }, 1);
        sink
          .gauge('node_time_clocksource_current_info', "Current clocksource read from '/sys/devices/system/clocksource'.")
          .set({ clocksource: current, device }, 1);
      }
    },
  };
}
