import { access } from 'node:fs/promises';
import path from 'node:path';
import { USER_HZ } from './collectors/cpu.js';
import { ParseError, readText } from './collectors/read.js';

/**
 * Container resource figures read straight from cgroup files (v1 and v2), the
 * way cAdvisor reads them, never from Docker's /containers/{id}/stats.
 * Units: seconds, bytes, counts. null where the kernel does not provide a file.
 */
export interface CgroupStats {
  cpuUsageSeconds: number | null;
  cpuUserSeconds: number | null;
  cpuSystemSeconds: number | null;
  cfsPeriods: number | null;
  cfsThrottledPeriods: number | null;
  cfsThrottledSeconds: number | null;
  /** CFS quota and period in microseconds; quota null when unlimited. */
  cpuQuotaMicros: number | null;
  cpuPeriodMicros: number | null;
  memoryUsageBytes: number | null;
  /** usage − inactive_file, never below 0: what the OOM killer looks at. */
  memoryWorkingSetBytes: number | null;
  memoryRssBytes: number | null;
  memoryCacheBytes: number | null;
  memoryMaxUsageBytes: number | null;
  /** 0 when unlimited, as cAdvisor reports it. */
  memoryLimitBytes: number | null;
  /** Bytes read and written, by block device `major:minor`. */
  io: { device: string; readBytes: number; writeBytes: number }[];
  pids: number | null;
}

/** Which cgroup hierarchy the host mounts. */
export type CgroupVersion = 1 | 2;

/** v2 when `<sys>/fs/cgroup/cgroup.controllers` exists (unified), else v1 (legacy or hybrid). */
export async function detectCgroupVersion(sys: string): Promise<CgroupVersion> {
  try {
    await access(path.join(sys, 'fs/cgroup/cgroup.controllers'));
    return 2;
  } catch {
    return 1;
  }
}

/** `key value` lines (memory.stat, cpu.stat, cpuacct.stat) into a map. */
export function parseFlatKeyed(text: string, file: string): Map<string, number> {
  const out = new Map<string, number>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const m = /^(\S+)\s+(-?\d+)$/.exec(line.trim());
    if (!m) throw new ParseError(file, i + 1, `expected "key number", got ${JSON.stringify(line.slice(0, 40))}`);
    out.set(m[1]!, Number(m[2]));
  });
  return out;
}

/** cgroup v2 `cpu.max`: `max 100000` or `150000 100000` → quota (null = unlimited) and period, in µs. */
export function parseCpuMax(text: string): { quota: number | null; period: number } {
  const m = /^(max|\d+)\s+(\d+)\s*$/.exec(text.trim());
  if (!m) throw new ParseError('cpu.max', 1, `expected "quota period", got ${JSON.stringify(text.trim())}`);
  return { quota: m[1] === 'max' ? null : Number(m[1]), period: Number(m[2]) };
}

/** cgroup v2 `io.stat`: `8:0 rbytes=… wbytes=… rios=…` per device. */
export function parseIoStat(text: string): { device: string; readBytes: number; writeBytes: number }[] {
  const out: { device: string; readBytes: number; writeBytes: number }[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const [device, ...kv] = line.trim().split(/\s+/);
    if (!/^\d+:\d+$/.test(device!)) throw new ParseError('io.stat', i + 1, `expected a major:minor device, got ${JSON.stringify(device)}`);
    const fields = new Map(kv.map((p) => p.split('=') as [string, string]));
    out.push({ device: device!, readBytes: Number(fields.get('rbytes') ?? 0), writeBytes: Number(fields.get('wbytes') ?? 0) });
  });
  return out;
}

/** cgroup v1 `blkio.throttle.io_service_bytes`: `8:0 Read 4096` lines (and a `Total`) per device. */
export function parseBlkioServiceBytes(text: string): { device: string; readBytes: number; writeBytes: number }[] {
  const byDevice = new Map<string, { device: string; readBytes: number; writeBytes: number }>();
  text.split('\n').forEach((line, i) => {
    const f = line.trim().split(/\s+/);
    if (f[0] === '' || f[0] === 'Total') return; // blank, or the trailing "Total N"
    if (f.length !== 3 || !/^\d+:\d+$/.test(f[0]!) || !/^\d+$/.test(f[2]!))
      throw new ParseError('blkio.throttle.io_service_bytes', i + 1, `unexpected line ${JSON.stringify(line)}`);
    const d = byDevice.get(f[0]!) ?? { device: f[0]!, readBytes: 0, writeBytes: 0 };
    if (f[1] === 'Read') d.readBytes = Number(f[2]);
    if (f[1] === 'Write') d.writeBytes = Number(f[2]);
    byDevice.set(f[0]!, d);
  });
  return [...byDevice.values()];
}

/**
 * `/proc/<pid>/cgroup` → controller (`""` for the v2 unified line) to path.
 * `9:name=systemd:/docker/abc` gives `name=systemd` → `/docker/abc`.
 */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    for (const c of m[1]!.split(',')) out.set(c, m[2]!);
  }
  return out;
}

/** A cgroup v1 memory limit of "unlimited" is a page-rounded 2^63 − 1; cAdvisor reports 0 for it. */
const UNLIMITED = 2 ** 62;

/** A cgroup file's text, kept open between scrapes (kernfs, memory-backed); null when the kernel has no such file. */
async function readOptional(file: string): Promise<string | null> {
  try {
    return await readText(file, undefined, 'memory');
  } catch (err) {
    if (['ENOENT', 'ENOTSUP', 'EOPNOTSUPP', 'ENODEV'].includes((err as NodeJS.ErrnoException).code ?? '')) return null;
    throw err;
  }
}

const num = (s: string | null) => (s === null || s.trim() === '' ? null : Number(s.trim()));

/**
 * Reads one container's figures from cgroup v1 files under `<sys>/fs/cgroup/<controller>/<cgroupPath>`.
 * @throws ParseError for files whose content is not what the kernel writes
 */
export async function readCgroupV1(sys: string, cgroupPath: string): Promise<CgroupStats> {
  const f = (controller: string, file: string) => readOptional(path.join(sys, 'fs/cgroup', controller, cgroupPath, file));
  const [usage, acctStat, cpuStat, quota, period, memUsage, memStat, memLimit, memMax, blkio, pids] = await Promise.all([
    f('cpuacct', 'cpuacct.usage'),
    f('cpuacct', 'cpuacct.stat'),
    f('cpu', 'cpu.stat'),
    f('cpu', 'cpu.cfs_quota_us'),
    f('cpu', 'cpu.cfs_period_us'),
    f('memory', 'memory.usage_in_bytes'),
    f('memory', 'memory.stat'),
    f('memory', 'memory.limit_in_bytes'),
    f('memory', 'memory.max_usage_in_bytes'),
    f('blkio', 'blkio.throttle.io_service_bytes'),
    f('pids', 'pids.current'),
  ]);
  const acct = acctStat === null ? null : parseFlatKeyed(acctStat, 'cpuacct.stat');
  const cpu = cpuStat === null ? null : parseFlatKeyed(cpuStat, 'cpu.stat');
  const mem = memStat === null ? null : parseFlatKeyed(memStat, 'memory.stat');
  const usageBytes = num(memUsage);
  const inactiveFile = mem?.get('total_inactive_file') ?? mem?.get('inactive_file') ?? 0;
  const limit = num(memLimit);
  const q = num(quota);
  return {
    cpuUsageSeconds: usage === null ? null : Number(usage.trim()) / 1e9,
    cpuUserSeconds: acct?.has('user') ? acct.get('user')! / USER_HZ : null,
    cpuSystemSeconds: acct?.has('system') ? acct.get('system')! / USER_HZ : null,
    cfsPeriods: cpu?.get('nr_periods') ?? null,
    cfsThrottledPeriods: cpu?.get('nr_throttled') ?? null,
    cfsThrottledSeconds: cpu?.has('throttled_time') ? cpu.get('throttled_time')! / 1e9 : null,
    cpuQuotaMicros: q !== null && q > 0 ? q : null,
    cpuPeriodMicros: num(period),
    memoryUsageBytes: usageBytes,
    memoryWorkingSetBytes: usageBytes === null ? null : Math.max(0, usageBytes - inactiveFile),
    memoryRssBytes: mem?.get('total_rss') ?? mem?.get('rss') ?? null,
    memoryCacheBytes: mem?.get('total_cache') ?? mem?.get('cache') ?? null,
    memoryMaxUsageBytes: num(memMax),
    memoryLimitBytes: limit === null ? null : limit >= UNLIMITED ? 0 : limit,
    io: blkio === null ? [] : parseBlkioServiceBytes(blkio),
    pids: num(pids),
  };
}

/**
 * Reads one container's figures from cgroup v2 files under `<sys>/fs/cgroup/<cgroupPath>`.
 * @throws ParseError for files whose content is not what the kernel writes
 */
export async function readCgroupV2(sys: string, cgroupPath: string): Promise<CgroupStats> {
  const f = (file: string) => readOptional(path.join(sys, 'fs/cgroup', cgroupPath, file));
  const [cpuStat, cpuMax, memCurrent, memStat, memMax, memPeak, io, pids] = await Promise.all([
    f('cpu.stat'),
    f('cpu.max'),
    f('memory.current'),
    f('memory.stat'),
    f('memory.max'),
    f('memory.peak'),
    f('io.stat'),
    f('pids.current'),
  ]);
  const cpu = cpuStat === null ? null : parseFlatKeyed(cpuStat, 'cpu.stat');
  const mem = memStat === null ? null : parseFlatKeyed(memStat, 'memory.stat');
  const max = cpuMax === null ? null : parseCpuMax(cpuMax);
  const usageBytes = num(memCurrent);
  const usec = (k: string) => (cpu?.has(k) ? cpu.get(k)! / 1e6 : null);
  return {
    cpuUsageSeconds: usec('usage_usec'),
    cpuUserSeconds: usec('user_usec'),
    cpuSystemSeconds: usec('system_usec'),
    cfsPeriods: cpu?.get('nr_periods') ?? null,
    cfsThrottledPeriods: cpu?.get('nr_throttled') ?? null,
    cfsThrottledSeconds: usec('throttled_usec'),
    cpuQuotaMicros: max?.quota ?? null,
    cpuPeriodMicros: max?.period ?? null,
    memoryUsageBytes: usageBytes,
    memoryWorkingSetBytes: usageBytes === null ? null : Math.max(0, usageBytes - (mem?.get('inactive_file') ?? 0)),
    memoryRssBytes: mem?.get('anon') ?? null,
    memoryCacheBytes: mem?.get('file') ?? null,
    memoryMaxUsageBytes: num(memPeak),
    memoryLimitBytes: memMax === null ? null : memMax.trim() === 'max' ? 0 : Number(memMax.trim()),
    io: io === null ? [] : parseIoStat(io),
    pids: num(pids),
  };
}

/**
 * Finds a container's cgroup path (relative to the hierarchy root): from its init
 * process's /proc/<pid>/cgroup when that is usable, else the cgroupfs
 * (`/docker/<id>`) or systemd (`/system.slice/docker-<id>.scope`) layout,
 * whichever exists. null when none does.
 */
export async function findContainerCgroup(
  sys: string,
  proc: string,
  version: CgroupVersion,
  id: string,
  pid: number | null,
): Promise<string | null> {
  const candidates: string[] = [];
  if (pid) {
    const text = await readOptional(path.join(proc, String(pid), 'cgroup'));
    if (text) {
      const map = parseProcCgroup(text);
      const p = version === 2 ? map.get('') : (map.get('memory') ?? map.get('cpuacct'));
      // A path with ".." is relative to our own cgroup namespace, not the root: unusable.
      if (p && p !== '/' && !p.includes('..')) candidates.push(p);
    }
  }
  candidates.push(`/docker/${id}`, `/system.slice/docker-${id}.scope`);
  const probeDir = (p: string) => path.join(sys, 'fs/cgroup', version === 2 ? '' : 'memory', p);
  for (const c of candidates) {
    try {
      await access(probeDir(c));
      return c;
    } catch {
      // try the next layout
    }
  }
  return null;
}

/** The device name of a block device `major:minor` from `<sys>/dev/block/M:m/uevent` (`/dev/sda`), else `major:minor`. */
export async function blockDeviceName(sys: string, majorMinor: string): Promise<string> {
  const text = await readOptional(path.join(sys, 'dev/block', majorMinor, 'uevent'));
  const m = text ? /^DEVNAME=(.+)$/m.exec(text) : null;
  return m ? `/dev/${m[1]}` : majorMinor;
}
