import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Collector, HostPaths } from '../collector.js';
import { ParseError, Remembered } from './read.js';

/**
 * Parses an os-release file (os-release(5)): `KEY=value` lines, the value bare,
 * "double-quoted" (with \\ escapes of ", \\, $ and `) or 'single-quoted';
 * comments and blank lines skipped.
 * @throws ParseError for a line that is not an assignment, or an unterminated quote
 */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq) : '';
    if (!/^[A-Z][A-Z0-9_]*$/.test(key))
      throw new ParseError('os-release', i + 1, `expected KEY=value, got ${JSON.stringify(line.slice(0, 60))}`);
    const raw = line.slice(eq + 1);
    const quote = raw[0];
    if (quote === '"' || quote === "'") {
      let value = '';
      let k = 1;
      for (; k < raw.length && raw[k] !== quote; k++) {
        if (quote === '"' && raw[k] === '\\' && k + 1 < raw.length) k++;
        value += raw[k];
      }
      if (k >= raw.length) throw new ParseError('os-release', i + 1, `unterminated ${quote} in ${key}`);
      out[key] = value;
    } else out[key] = raw;
  }
  return out;
}

/** The labels node_os_info carries, in node_exporter's order, each from the os-release key of its name in capitals. */
const INFO_LABELS = [
  'build_id',
  'id',
  'id_like',
  'image_id',
  'image_version',
  'name',
  'pretty_name',
  'variant',
  'variant_id',
  'version',
  'version_codename',
  'version_id',
] as const;

/** The major.minor part of VERSION_ID as a number (`12` → 12, `22.04.3` → 22.04); null when it has none. */
export function osVersion(versionId: string | undefined): number | null {
  const m = /^(\d+)(\.\d+)?/.exec(versionId ?? '');
  return m ? Number(m[1]! + (m[2] ?? '')) : null;
}

/** os-release by root: it changes on upgrades, not between scrapes. */
const osRelease = new Remembered<string | undefined>(60);

/**
 * node_exporter's os collector: `node_os_info{build_id, id, …, version_id} 1`
 * and `node_os_version{id, id_like, name}` from `<rootfs>/etc/os-release`, or
 * `<rootfs>/usr/lib/os-release` when that is missing (read at most once a minute).
 */
export function osCollector(paths: HostPaths): Collector {
  return {
    name: 'os',
    async update(sink, signal) {
      const text = await osRelease.get(paths.rootfs, async () => {
        for (const file of ['etc/os-release', 'usr/lib/os-release']) {
          try {
            return await readFile(path.join(paths.rootfs, file), { encoding: 'utf8', signal });
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          }
        }
        return undefined;
      });
      if (text === undefined)
        throw new Error(
          `no os-release: neither ${path.join(paths.rootfs, 'etc/os-release')} nor ${path.join(paths.rootfs, 'usr/lib/os-release')} exists`,
        );
      const os = parseOsRelease(text);
      const labels: Record<string, string> = {};
      for (const l of INFO_LABELS) labels[l] = os[l.toUpperCase()] ?? '';
      sink
        .gauge(
          'node_os_info',
          "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, image_version, name, pretty_name, variant, variant_id, version, version_codename, version_id.",
        )
        .set(labels, 1);
      const version = osVersion(os.VERSION_ID);
      if (version !== null)
        sink
          .gauge('node_os_version', 'Metric containing the major.minor part of the OS version.')
          .set({ id: os.ID ?? '', id_like: os.ID_LIKE ?? '', name: os.NAME ?? '' }, version);
    },
  };
}
