import path from 'node:path';
import type { Collector, HostPaths } from '../collector.js';
import { ParseError, readText } from './read.js';

/** The kernel's file handle counts. */
export interface FileFd {
  /** Allocated file handles. */
  allocated: number;
  /** The most the kernel will allocate (fs.file-max). */
  maximum: number;
}

/**
 * Parses /proc/sys/fs/file-nr: `allocated unused maximum` (unused is always 0 since Linux 2.6).
 * @throws ParseError when there are not three whole numbers
 */
export function parseFileNr(text: string): FileFd {
  const f = text.trim().split(/\s+/);
  if (f.length !== 3 || f.some((x) => !/^\d+$/.test(x)))
    throw new ParseError('sys/fs/file-nr', 1, `expected "allocated unused maximum", got ${JSON.stringify(text.trim().slice(0, 60))}`);
  return { allocated: Number(f[0]), maximum: Number(f[2]) };
}

/** `node_filefd_allocated` and `node_filefd_maximum` from /proc/sys/fs/file-nr, as node_exporter's filefd collector. */
export function filefdCollector(paths: HostPaths): Collector {
  return {
    name: 'filefd',
    async update(sink, signal) {
      const fd = parseFileNr(await readText(path.join(paths.proc, 'sys/fs/file-nr'), signal, 'memory'));
      sink.gauge('node_filefd_allocated', 'File descriptor statistics: allocated.').set({}, fd.allocated);
      sink.gauge('node_filefd_maximum', 'File descriptor statistics: maximum.').set({}, fd.maximum);
    },
  };
}
