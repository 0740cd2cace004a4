import os from 'node:os';
import path from 'node:path';
import { NODE_UNAME_INFO } from '@vigil/core/metric-names';
import type { Collector, HostPaths } from '../collector.js';
import { readText } from './read.js';

/** uname(2)'s fields, as node_exporter labels them. */
export interface Uname {
  sysname: string;
  release: string;
  version: string;
  machine: string;
  nodename: string;
  domainname: string;
}

/** Reads uname fields from `<proc>/sys/kernel/{ostype,osrelease,version,hostname,domainname}`; the machine from the running kernel. */
export async function readUname(proc: string, signal?: AbortSignal): Promise<Uname> {
  const read = async (f: string) => (await readText(path.join(proc, 'sys/kernel', f), signal, 'memory')).trim();
  const [sysname, release, version, nodename, domainname] = await Promise.all(
    ['ostype', 'osrelease', 'version', 'hostname', 'domainname'].map(read),
  );
  return { sysname: sysname!, release: release!, version: version!, machine: os.machine(), nodename: nodename!, domainname: domainname! };
}

/** `node_uname_info{sysname,release,version,machine,nodename,domainname} 1`. */
export function unameCollector(paths: HostPaths): Collector {
  return {
    name: 'uname',
    async update(sink, signal) {
      const u = await readUname(paths.proc, signal);
      sink.of(NODE_UNAME_INFO).set({ ...u }, 1);
    },
  };
}
