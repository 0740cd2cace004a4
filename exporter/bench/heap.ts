/**
 * What the exporter's resident memory is made of over many scrapes: RSS before
 * and after a forced full GC, and the JS heap in use, with 20 running containers.
 * Tells a leak (heap in use after GC rising) from V8 letting its heap fill before
 * collecting (RSS before GC higher, after GC flat). Its RSS includes the tsx
 * loader, so compare its heap column, not its RSS, with bench/containers.ts.
 * In-process, with the V8 flags of the exporter's launcher:
 *
 *   node --single-threaded --max-semi-space-size=1 --optimize-for-size --expose-gc --no-opt --no-sparkplug \
 *     --import tsx exporter/bench/heap.ts [--containers 20] [--scrapes 6000] [--record]
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { silentLogger } from '@vigil/core/log';
import { benchContainers, recordSection } from '../../bench/lib.js';
import { createExporterApp } from '../src/app.js';
import { buildCollectors } from '../src/collectors/index.js';
import { loadExporterConfig } from '../src/config.js';
import { DockerClient } from '../src/docker/client.js';
import { ContainerCache } from '../src/docker/container-cache.js';

const { values } = parseArgs({
  options: { containers: { type: 'string', default: '20' }, scrapes: { type: 'string', default: '6000' }, record: { type: 'boolean' } },
});
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (see the header of this file)');
const { dockerHost: DOCKER_HOST, label, remove } = benchContainers(Number(values.containers), 'h');

const log = silentLogger();
const containers = new ContainerCache(new DockerClient(DOCKER_HOST), { labelFilter: label, log });
containers.start();
const app = createExporterApp({
  collectors: buildCollectors({ paths: loadExporterConfig({}).paths, containers }),
  collectorTimeoutSeconds: 5,
  token: undefined,
  log,
});
const server = app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const port = (server.address() as AddressInfo).port;
const get = () =>
  new Promise<void>((resolve) => http.get({ port, path: '/metrics', agent: false }, (r) => r.resume().on('end', () => resolve())));
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
const rows: string[] = [];
try {
  let done = 0;
  for (const n of [1000, 2000, 4000, Number(values.scrapes)].filter((x, i, a) => x <= Number(values.scrapes) && a.indexOf(x) === i)) {
    for (; done < n; done++) await get();
    const before = process.memoryUsage();
    gc();
    gc();
    const after = process.memoryUsage();
    rows.push(`| ${n.toLocaleString('en')} | ${mib(before.rss)} | ${mib(after.rss)} | ${mib(after.heapUsed)} | ${mib(after.external)} |`);
  }
} finally {
  server.close();
  containers.stop();
  remove();
}
const body = [
  `Command: \`node --single-threaded --max-semi-space-size=1 --optimize-for-size --expose-gc --no-opt --no-sparkplug --import tsx exporter/bench/heap.ts --containers ${values.containers} --scrapes ${values.scrapes} --record\` (in-process, ${new Date().toISOString().slice(0, 10)}).`,
  '',
  '| scrapes | RSS MiB | RSS after full GC MiB | JS heap in use after GC MiB | external MiB |',
  '|---:|---:|---:|---:|---:|',
  ...rows,
].join('\n');
process.stdout.write(`${body}\n`);
if (values.record) recordSection('Exporter memory: heap in use over many scrapes', body);
