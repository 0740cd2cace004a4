/**
 * The exporter's V8 flags, side by side: two exporters on the same host and
 * containers, one with the launcher's flags and one with the launcher's flags
 * less the ones under test, scraped alternately. Prints the CPU seconds each
 * used, the median /metrics latency and the resident memory after the run.
 *
 *   node --import tsx bench/exporter-flags.ts [--containers 20] [--scrapes 1500] [--without "--no-opt --no-sparkplug"] [--record]
 */
import { parseArgs } from 'node:util';
import {
  benchContainers,
  cpuSeconds,
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
    scrapes: { type: 'string', default: '1500' },
    without: { type: 'string', default: '--no-opt --no-sparkplug' },
    record: { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: node --import tsx bench/exporter-flags.ts [--containers 20] [--scrapes 1500] [--without "--no-opt --no-sparkplug"] [--record]\n',
  );
  process.exit(0);
}
const without = values.without.split(/\s+/).filter(Boolean);
const missing = without.filter((f) => !EXPORTER_NODE_FLAGS.includes(f));
if (missing.length) throw new Error(`--without ${missing.join(' ')}: not among the launcher's flags (${EXPORTER_NODE_FLAGS.join(' ')})`);
const nScrapes = Number(values.scrapes);
const { dockerHost, label, remove } = benchContainers(Number(values.containers), 'f');

const variants = [
  { name: 'launcher flags', flags: EXPORTER_NODE_FLAGS },
  { name: `without ${without.join(' ')}`, flags: EXPORTER_NODE_FLAGS.filter((f) => !without.includes(f)) },
];
const running = await Promise.all(
  variants.map(async (v) => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/metrics`;
    const child = await startProcess(...exporterCommand(v.flags), url, {
      ...process.env,
      DOCKER_HOST: dockerHost,
      VIGIL_EXPORTER_LISTEN: `127.0.0.1:${port}`,
      VIGIL_CONTAINER_LABEL: label,
      VIGIL_LOG_LEVEL: 'warn',
    });
    return { ...v, url, child, ms: [] as number[], cpu0: cpuSeconds(child.pid!) };
  }),
);

try {
  for (let i = 0; i < nScrapes; i++) for (const r of running) r.ms.push((await timedGet(r.url)).ms);
  const rows = running.map((r) => {
    const m = residentMemory(r.child.pid!);
    return { ...r, cpu: cpuSeconds(r.child.pid!) - r.cpu0, median: quantile(r.ms, 0.5), rss: m.rss / 2 ** 20, anon: m.anon / 2 ** 20 };
  });
  const [ours, other] = rows as [(typeof rows)[0], (typeof rows)[0]];
  const body = [
    `Command: \`node --import tsx bench/exporter-flags.ts --containers ${values.containers} --scrapes ${nScrapes} --without "${without.join(' ')}" --record\`; ${new Date().toISOString().slice(0, 10)}, Node ${process.version}; ${nScrapes} scrapes each, alternating.`,
    '',
    '| exporter | CPU s | median ms | VmRSS MiB | anonymous MiB |',
    '|---|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.name} (\`${r.flags.join(' ')}\`) | ${r.cpu.toFixed(2)} | ${r.median.toFixed(2)} | ${r.rss.toFixed(1)} | ${r.anon.toFixed(1)} |`,
    ),
    '',
    `- launcher flags / without: CPU **${(ours.cpu / other.cpu).toFixed(2)}×**, median latency **${(ours.median / other.median).toFixed(2)}×**, VmRSS **${(ours.rss / other.rss).toFixed(2)}×**`,
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (values.record) recordSection(`Exporter V8 flags: with and without ${without.join(' ')}`, body);
} finally {
  for (const r of running) r.child.kill();
  remove();
}
