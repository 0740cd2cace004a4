import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Collector, HostPaths } from '../collector.js';
import { ParseError, readOptional, readText } from './read.js';

/** One protocol line of /proc/net/sockstat or sockstat6: `TCP: inuse 5 orphan 0 tw 0 alloc 7 mem 1`. */
export interface SockstatProtocol {
  protocol: string;
  /** Field name → count, in file order (`mem` in pages). */
  fields: [string, number][];
}

/**
 * Parses /proc/net/sockstat or /proc/net/sockstat6.
 * @returns `sockets: used N` (IPv4 file only; null otherwise) and each protocol's counts
 * @throws ParseError for a line that is not `NAME: key value …` with whole numbers
 */
export function parseSockstat(text: string, file = 'net/sockstat'): { socketsUsed: number | null; protocols: SockstatProtocol[] } {
  let socketsUsed: number | null = null;
  const protocols: SockstatProtocol[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const colon = line.indexOf(':');
    const protocol = colon > 0 ? line.slice(0, colon) : '';
    const parts = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (
      !/^[A-Z0-9]+$/i.test(protocol) ||
      parts.length % 2 !== 0 ||
      parts.some((p, k) => (k % 2 === 1 ? !/^\d+$/.test(p) : !/^[a-z_]+$/.test(p)))
    )
      throw new ParseError(file, i + 1, `expected "NAME: key count …", got ${JSON.stringify(line.slice(0, 60))}`);
    const fields: [string, number][] = [];
    for (let k = 0; k < parts.length; k += 2) fields.push([parts[k]!, Number(parts[k + 1])]);
    if (protocol === 'sockets') socketsUsed = fields.find(([k]) => k === 'used')?.[1] ?? null;
    else protocols.push({ protocol, fields });
  }
  return { socketsUsed, protocols };
}

let pageSize: number | undefined;

/**
 * The kernel's page size in bytes, from this process's first mapping in
 * /proc/self/smaps (the running kernel's, wherever the host's /proc is
 * mounted); 4096 when it cannot be read. A Raspberry Pi 5 kernel uses 16 KiB.
 */
export function kernelPageSize(): number {
  if (pageSize === undefined) {
    pageSize = 4096;
    try {
      const text = readFileSync('/proc/self/smaps', 'utf8');
      const at = text.indexOf('KernelPageSize:');
      const kb = at < 0 ? Number.NaN : Number.parseInt(text.slice(at + 15, text.indexOf('kB', at)).trim(), 10);
      if (kb > 0) pageSize = kb * 1024;
    } catch {
      // not Linux, or no /proc: the common size
    }
  }
  return pageSize;
}

/**
 * node_exporter's sockstat: `node_sockstat_sockets_used` and
 * `node_sockstat_<PROTOCOL>_<field>` (inuse, orphan, tw, alloc, mem and
 * mem_bytes = mem × page size, memory) from /proc/net/sockstat and sockstat6,
 * gauges. A kernel without IPv6 has no sockstat6: its series are left out.
 */
export function sockstatCollector(paths: HostPaths): Collector {
  return {
    name: 'sockstat',
    async update(sink, signal) {
      const page = kernelPageSize();
      for (const file of ['net/sockstat', 'net/sockstat6']) {
        // sockstat must be there; sockstat6 is not on a kernel without IPv6.
        const text =
          file === 'net/sockstat6'
            ? await readOptional(path.join(paths.proc, file), signal)
            : await readText(path.join(paths.proc, file), signal, 'memory');
        if (text === null) continue;
        const { socketsUsed, protocols } = parseSockstat(text, file);
        if (socketsUsed !== null) sink.gauge('node_sockstat_sockets_used', 'Number of IPv4 sockets in use.').set({}, socketsUsed);
        for (const { protocol, fields } of protocols) {
          const put = (name: string, value: number) =>
            sink.gauge(`node_sockstat_${protocol}_${name}`, `Number of ${protocol} sockets in state ${name}.`).set({}, value);
          for (const [name, value] of fields) {
            put(name, value);
            if (name === 'mem') put('mem_bytes', value * page);
          }
        }
      }
    },
  };
}
