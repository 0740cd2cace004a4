/**
 * Containers: the Vigil exporter's /metrics with 20 running containers against
 * `docker stats --no-stream` for the same containers, and the exporter's
 * resident memory after 1,000 and 10,000 scrapes against node_exporter's.
 * Each memory reading is taken the same way for both exporters: right after
 * a burst of back-to-back scrapes, and again after both sat idle for 10 s
 * (a real scrape interval is 15 s or more).
 * Needs the private test engine (scripts/test-docker.sh, started here if needed).
 *
 *   node --import tsx bench/containers.ts [--containers 20] [--scrapes 10000] [--record]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  benchContainers,
  exporterCommand,
  freePort,
  launcherFlags,
  quantile,
  recordSection,
  residentMemory,
  startProcess,
  timedGet,
} from './lib.js';

const EXPORTER_NODE_FLAGS = launcherFlags();

const { values } = parseArgs({
  options: {
    containers: { type: 'string', default: '20' },
    scrapes: { type: 'string', default: '10000' },
    record: { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  process.stdout.write('usage: node --import tsx bench/containers.ts [--containers 20] [--scrapes 10000] [--record]\n');
  process.exit(0);
}
const nContainers = Number(values.containers);
const nScrapes = Number(values.scrapes);

const { dockerHost: DOCKER_HOST, docker, label, names, remove } = benchContainers(nContainers, 'b');
const ports = { vigil: await freePort(), node: await freePort() };
const url = (p: number) => `http://127.0.0.1:${p}/metrics`;
const vigil = await startProcess(...exporterCommand(EXPORTER_NODE_FLAGS), url(ports.vigil), {
  ...process.env,
  DOCKER_HOST,
  VIGIL_EXPORTER_LISTEN: `127.0.0.1:${ports.vigil}`,
  VIGIL_CONTAINER_LABEL: label,
  VIGIL_LOG_LEVEL: 'warn',
});
const nodeExporter = await startProcess(
  '/usr/bin/prometheus-node-exporter',
  [`--web.listen-address=127.0.0.1:${ports.node}`],
  url(ports.node),
);

try {
  // 1. /metrics against docker stats, same containers, same run.
  const first = await (await fetch(url(ports.vigil))).text();
  const seen = names.filter((n) => first.includes(`container_memory_working_set_bytes{id=`) && first.includes(`name="${n}"`)).length;
  if (seen !== nContainers) throw new Error(`the exporter reports ${seen} of ${nContainers} containers`);
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 10; i++) ours.push((await timedGet(url(ports.vigil))).ms);
    const t0 = performance.now();
    docker('stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}} {{.MemUsage}}', ...names);
    theirs.push(performance.now() - t0);
  }
  const oursMed = quantile(ours, 0.5);
  const theirsMed = quantile(theirs, 0.5);

  // 2. Resident memory, read right after each burst of scrapes.
  const scrape = async (port: number, n: number) => {
    for (let i = 0; i < n; i++) await timedGet(url(port));
  };
  await scrape(ports.vigil, 1000 - 51);
  const vigil1k = residentMemory(vigil.pid!);
  await scrape(ports.node, 1000);
  const node1k = residentMemory(nodeExporter.pid!);
  const trail: string[] = [];
  let highest = vigil1k.rss;
  for (let done = 1000; done < nScrapes; ) {
    const step = Math.min(1000, nScrapes - done);
    await scrape(ports.vigil, step);
    done += step;
    const now = residentMemory(vigil.pid!).rss;
    highest = Math.max(highest, now);
    trail.push(`${done.toLocaleString('en')}: ${(now / 2 ** 20).toFixed(1)}`);
  }
  const vigilEnd = residentMemory(vigil.pid!);
  await new Promise((r) => setTimeout(r, 10_000));
  const vigilIdle = residentMemory(vigil.pid!);
  const nodeIdle = residentMemory(nodeExporter.pid!);
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  const row = (what: string, m: { rss: number; anon: number; file: number }) =>
    `| ${what} | ${mib(m.rss)} | ${mib(m.anon)} | ${mib(m.file)} |`;
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Linux ${os.release()}, Node ${process.version}, Docker ${docker('version', '--format', '{{.Server.Version}}')}`;
  const body = [
    `Command: \`node --import tsx bench/containers.ts --containers ${nContainers} --scrapes ${nScrapes} --record\`; ${new Date().toISOString().slice(0, 10)}, ${machine}.`,
    '',
    `| ${nContainers} running containers | median ms |`,
    '|---|---:|',
    `| Vigil /metrics (host + containers, from cgroup files) | ${oursMed.toFixed(2)} |`,
    `| \`docker stats --no-stream\` for the same containers | ${theirsMed.toFixed(0)} |`,
    '',
    `- docker stats / Vigil: **${(theirsMed / oursMed).toFixed(0)}×** (50 Vigil scrapes and 5 docker stats runs, interleaved)`,
    '',
    '| resident memory, MiB | VmRSS | anonymous | file-backed |',
    '|---|---:|---:|---:|',
    row('Vigil exporter, right after 1,000 scrapes', vigil1k),
    row('node_exporter 1.5 (default collectors), right after 1,000 scrapes', node1k),
    row(`Vigil exporter, right after ${nScrapes.toLocaleString('en')} scrapes`, vigilEnd),
    row('Vigil exporter, then 10 s idle', vigilIdle),
    row('node_exporter, then 10 s idle', nodeIdle),
    '',
    `- Vigil / node_exporter RSS after 1,000 scrapes: **${(vigil1k.rss / node1k.rss).toFixed(2)}×** right after the scrapes, **${(vigilIdle.rss / nodeIdle.rss).toFixed(2)}×** idle`,
    `- growth from 1,000 to ${nScrapes.toLocaleString('en')} scrapes: **${mib(vigilEnd.rss - vigil1k.rss)} MiB**; highest reading ${mib(highest)} MiB (VmRSS after each thousand: ${trail.join(', ')})`,
    "- file-backed pages are mostly the `node` executable's own code and data mapped in (a bare `node -e` process has about 30 MiB of them)",
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (values.record) recordSection('Containers: /metrics vs docker stats, and resident memory', body);
} finally {
  vigil.kill();
  nodeExporter.kill();
  remove();
}
