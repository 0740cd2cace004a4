/**
 * /metrics latency, CPU per scrape and resident memory of the Vigil exporter
 * against Debian's prometheus-node-exporter on this host, in one run: requests
 * alternate between the exporters so all see the same machine load; reports
 * medians, p90s, CPU per scrape (utime + stime from /proc/<pid>/stat over the
 * measured requests), VmRSS after them, and the ratios.
 *
 *   npm run bench                    print the figures
 *   npm run bench -- --record        ...and write them into bench/RESULTS.md
 *   npm run bench -- --requests 500  requests per exporter (default 300, after 30 warm-up)
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  cpuSeconds,
  exporterCommand,
  freePort,
  launcherFlags,
  quantile,
  REPO,
  recordSection,
  residentMemory,
  startProcess,
  timedGet,
} from './lib.js';

const EXPORTER_NODE_FLAGS = launcherFlags();

const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
// Cron jobs' metrics (apt, directory sizes, a backup histogram), read by both.
const TEXTFILES = path.join(REPO, 'core/test/fixtures/textfile/good');
// node_exporter's collectors that produce what Vigil's host collectors do: the
// same set on both sides (Vigil has no bcache, btrfs, cpufreq, edac, … see
// exporter/src/parity.test.ts; node_exporter has no containers or services).
const SAME_COLLECTORS = [
  'arp',
  'conntrack',
  'cpu',
  'diskstats',
  'entropy',
  'filefd',
  'filesystem',
  'hwmon',
  'loadavg',
  'meminfo',
  'netclass',
  'netdev',
  'netstat',
  'os',
  'pressure',
  'selinux',
  'sockstat',
  'softnet',
  'stat',
  'textfile',
  'thermal_zone',
  'time',
  'timex',
  'udp_queues',
  'uname',
  'vmstat',
];

const { values } = parseArgs({
  options: { record: { type: 'boolean' }, requests: { type: 'string', default: '300' }, help: { type: 'boolean' } },
});
if (values.help) {
  process.stdout.write('usage: npm run bench -- [--requests N] [--record]\n');
  process.exit(0);
}
const n = Number(values.requests);

const ports = { vigil: await freePort(), nodeDefault: await freePort(), nodeSame: await freePort() };
const url = (p: number) => `http://127.0.0.1:${p}/metrics`;
const children = [
  // No Docker here: this compares host collectors only (see containers.ts for containers).
  await startProcess(...exporterCommand(EXPORTER_NODE_FLAGS), url(ports.vigil), {
    ...process.env,
    VIGIL_EXPORTER_LISTEN: `127.0.0.1:${ports.vigil}`,
    VIGIL_LOG_LEVEL: 'warn',
    VIGIL_DISABLED_COLLECTORS: 'containers,services',
    VIGIL_TEXTFILE_DIR: TEXTFILES,
  }),
  await startProcess(
    NODE_EXPORTER,
    [`--web.listen-address=127.0.0.1:${ports.nodeDefault}`, `--collector.textfile.directory=${TEXTFILES}`],
    url(ports.nodeDefault),
  ),
  await startProcess(
    NODE_EXPORTER,
    [
      `--web.listen-address=127.0.0.1:${ports.nodeSame}`,
      '--collector.disable-defaults',
      ...SAME_COLLECTORS.map((c) => `--collector.${c}`),
      `--collector.textfile.directory=${TEXTFILES}`,
    ],
    url(ports.nodeSame),
  ),
];

try {
  const names = ['vigil', 'nodeDefault', 'nodeSame'] as const;
  const samples: Record<(typeof names)[number], { ms: number[]; bytes: number }> = {
    vigil: { ms: [], bytes: 0 },
    nodeDefault: { ms: [], bytes: 0 },
    nodeSame: { ms: [], bytes: 0 },
  };
  for (let i = 0; i < 30; i++) for (const k of names) await timedGet(url(ports[k]));
  const pids = { vigil: children[0]!.pid!, nodeDefault: children[1]!.pid!, nodeSame: children[2]!.pid! };
  const cpu0 = Object.fromEntries(names.map((k) => [k, cpuSeconds(pids[k])])) as Record<(typeof names)[number], number>;
  for (let i = 0; i < n; i++) {
    // Rotate the order each round so none always goes first.
    for (let j = 0; j < names.length; j++) {
      const k = names[(i + j) % names.length]!;
      const r = await timedGet(url(ports[k]));
      samples[k].ms.push(r.ms);
      samples[k].bytes = r.bytes;
    }
  }
  const cpuMs = Object.fromEntries(names.map((k) => [k, ((cpuSeconds(pids[k]) - cpu0[k]) * 1000) / n])) as Record<
    (typeof names)[number],
    number
  >;
  const rss = Object.fromEntries(names.map((k) => [k, residentMemory(pids[k]).rss / 2 ** 20])) as Record<(typeof names)[number], number>;
  const med = (k: (typeof names)[number]) => quantile(samples[k].ms, 0.5);
  const p90 = (k: (typeof names)[number]) => quantile(samples[k].ms, 0.9);
  const rows = [
    ['Vigil exporter, all host collectors', 'vigil'],
    ['node_exporter 1.5, default collectors', 'nodeDefault'],
    ['node_exporter 1.5, the same collectors', 'nodeSame'],
  ] as const;
  const table = [
    '| exporter | median ms | p90 ms | CPU ms / scrape | VmRSS MiB | body bytes |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map(
      ([label, k]) =>
        `| ${label} | ${med(k).toFixed(2)} | ${p90(k).toFixed(2)} | ${cpuMs[k].toFixed(2)} | ${rss[k].toFixed(1)} | ${samples[k].bytes} |`,
    ),
  ].join('\n');
  const ratios = [
    `- median latency ratio Vigil / node_exporter, the same collectors (${SAME_COLLECTORS.join(', ')}): **${(med('vigil') / med('nodeSame')).toFixed(2)}**; against its default collectors: **${(med('vigil') / med('nodeDefault')).toFixed(2)}**`,
    `- CPU per scrape ratio Vigil / node_exporter, the same collectors: **${(cpuMs.vigil / cpuMs.nodeSame).toFixed(2)}**`,
    `- VmRSS ratio Vigil / node_exporter, the same collectors: **${(rss.vigil / rss.nodeSame).toFixed(2)}** (Vigil's includes the node runtime; see the containers section for anonymous vs file-backed pages)`,
  ].join('\n');
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Linux ${os.release()}, Node ${process.version}`;
  const body = `Command: \`npm run bench -- --requests ${n} --record\` — ${n} requests to each exporter, alternating, after 30 warm-up rounds; both read the same textfile directory (${TEXTFILES.replace(REPO + '/', '')}); ${new Date().toISOString().slice(0, 10)}, ${machine}.\n\n${table}\n\n${ratios}\n`;
  process.stdout.write(`${body}\n`);
  if (values.record) recordSection('/metrics latency vs node_exporter', body);
} finally {
  for (const c of children) c.kill();
}
