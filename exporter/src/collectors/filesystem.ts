import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { NODE_FILESYSTEM_AVAIL, NODE_FILESYSTEM_FREE, NODE_FILESYSTEM_SIZE } from '@vigil/core/metric-names';
import type { Collector, HostPaths } from '../collector.js';
import { ParseError, readText } from './read.js';

/** One line of /proc/<pid>/mountinfo (proc(5)). */
export interface MountInfo {
  mountId: number;
  parentId: number;
  majorMinor: string;
  root: string;
  mountPoint: string;
  options: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

/** Undoes the kernel's octal escapes in mountinfo paths (`\040` = space). */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * Parses /proc/<pid>/mountinfo.
 * @throws ParseError for a line without the ` - ` separator or with too few fields
 */
export function parseMountinfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (f.length < 10 || sep < 0 || f.length < sep + 3 || !/^\d+$/.test(f[0]!) || !/^\d+$/.test(f[1]!)) {
      throw new ParseError('mountinfo', i + 1, `expected "id parent major:minor root mountpoint options ... - fstype source superoptions"`);
    }
    out.push({
      mountId: Number(f[0]),
      parentId: Number(f[1]),
      majorMinor: f[2]!,
      root: unescapeOctal(f[3]!),
      mountPoint: unescapeOctal(f[4]!),
      options: f[5]!.split(','),
      fsType: f[sep + 1]!,
      source: unescapeOctal(f[sep + 2]!),
      superOptions: (f[sep + 3] ?? '').split(','),
    });
  });
  return out;
}

/** Reads the host's mount table: `<proc>/1/mountinfo` (the host's view even from a container), else `<proc>/self/mountinfo`. */
export async function readMountinfo(proc: string, signal?: AbortSignal): Promise<MountInfo[]> {
  try {
    return parseMountinfo(await readText(path.join(proc, '1', 'mountinfo'), signal));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EACCES' && (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return parseMountinfo(await readText(path.join(proc, 'self', 'mountinfo'), signal));
  }
}

/** Which mounts to report. Defaults are node_exporter's. */
export interface FilesystemFilter {
  excludeFsTypes: RegExp;
  excludeMountPoints: RegExp;
}

export const DEFAULT_FILESYSTEM_FILTER: FilesystemFilter = {
  excludeFsTypes:
    /^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$/,
  excludeMountPoints: /^\/(dev|proc|run\/credentials\/.+|sys|var\/lib\/docker\/.+|var\/lib\/containers\/storage\/.+)($|\/)/,
};

/** The mounts worth reporting: filtered, one per mount point (the last mounted wins, as it hides the others). */
export function selectMounts(mounts: readonly MountInfo[], filter: FilesystemFilter = DEFAULT_FILESYSTEM_FILTER): MountInfo[] {
  const byPoint = new Map<string, MountInfo>();
  for (const m of mounts) {
    if (filter.excludeFsTypes.test(m.fsType) || filter.excludeMountPoints.test(m.mountPoint)) continue;
    byPoint.delete(m.mountPoint);
    byPoint.set(m.mountPoint, m);
  }
  return [...byPoint.values()];
}

/** Sizes of one filesystem, in bytes and inodes. */
export interface FilesystemStats {
  sizeBytes: number;
  freeBytes: number;
  availBytes: number;
  files: number;
  filesFree: number;
}

/**
 * statfs(2) on `<rootfs>/<mountPoint>`. `freeBytes` counts blocks reserved for
 * root, `availBytes` only what unprivileged users may use (df's "Avail").
 */
export async function statFilesystem(rootfs: string, mountPoint: string): Promise<FilesystemStats> {
  const s = await statfs(path.join(rootfs, mountPoint));
  return {
    sizeBytes: s.blocks * s.bsize,
    freeBytes: s.bfree * s.bsize,
    availBytes: s.bavail * s.bsize,
    files: s.files,
    filesFree: s.ffree,
  };
}

/**
 * `node_filesystem_{size,free,avail}_bytes`, `_files`, `_files_free`, `_readonly`,
 * `_device_error` with labels device, fstype, mountpoint, for every mount that
 * passes the filter. A statfs() that has not returned from an earlier scrape (a
 * hung NFS server) is not called again until it does: that mount reports
 * device_error 1 meanwhile, and no thread of the pool is lost to it twice. A
 * statfs() slower than `mountTimeoutSeconds` counts as an error for this scrape,
 * so one dead mount does not cost the others their series.
 */
export function filesystemCollector(
  paths: HostPaths,
  filter: FilesystemFilter = DEFAULT_FILESYSTEM_FILTER,
  mountTimeoutSeconds = 1,
): Collector {
  const stuck = new Set<string>();
  return {
    name: 'filesystem',
    async update(sink, signal) {
      const mounts = selectMounts(await readMountinfo(paths.proc, signal), filter);
      const size = sink.of(NODE_FILESYSTEM_SIZE);
      const free = sink.of(NODE_FILESYSTEM_FREE);
      const avail = sink.of(NODE_FILESYSTEM_AVAIL);
      const files = sink.gauge('node_filesystem_files', 'Filesystem total file nodes.');
      const filesFree = sink.gauge('node_filesystem_files_free', 'Filesystem total free file nodes.');
      const readonly = sink.gauge('node_filesystem_readonly', 'Filesystem read-only status.');
      const deviceError = sink.gauge(
        'node_filesystem_device_error',
        'Whether an error occurred while getting statistics for the given device.',
      );
      const aborted = new Promise<'aborted'>((resolve) => signal.addEventListener('abort', () => resolve('aborted'), { once: true }));
      // statfs() all mounts at once, then emit in mount-table order: the output's
      // order must not depend on which call returned first.
      const results = await Promise.all(
        mounts.map(async (m): Promise<FilesystemStats | 'error' | 'aborted'> => {
          const key = `${m.majorMinor} ${m.mountPoint}`;
          if (stuck.has(key)) return 'error';
          stuck.add(key);
          const pending = statFilesystem(paths.rootfs, m.mountPoint).finally(() => stuck.delete(key));
          let timer: NodeJS.Timeout | undefined;
          const late = new Promise<'error'>((resolve) => (timer = setTimeout(() => resolve('error'), mountTimeoutSeconds * 1000)));
          try {
            return await Promise.race([pending, aborted, late]);
          } catch {
            return 'error';
          } finally {
            clearTimeout(timer);
          }
        }),
      );
      mounts.forEach((m, i) => {
        const labels = { device: m.source, fstype: m.fsType, mountpoint: m.mountPoint };
        const s = results[i]!;
        if (s === 'aborted') return;
        readonly.set(labels, m.options.includes('ro') ? 1 : 0);
        if (s === 'error') {
          deviceError.set(labels, 1);
          return;
        }
        size.set(labels, s.sizeBytes);
        free.set(labels, s.freeBytes);
        avail.set(labels, s.availBytes);
        files.set(labels, s.files);
        filesFree.set(labels, s.filesFree);
        deviceError.set(labels, 0);
      });
    },
  };
}
