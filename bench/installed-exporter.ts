/**
 * The installed exporter (the release directory install.sh puts in
 * /opt/vigil/exporter, run with the unit's flags) on Node.js 20 (this machine's)
 * and Node.js 18.20 (Debian 12's own, in a container of Debian's packages, as a
 * Raspberry Pi would run it), beside a bare `node` doing nothing on each and
 * node_exporter: resident memory right after 1,000 scrapes and after 10 s idle,
 * median latency and CPU per scrape. The scrapes go round-robin, one to each
 * exporter in turn, so a noisy moment hits all of them alike.
 * Needs the private test engine (scripts/test-docker.sh, started here if needed)
 * and Debian's prometheus-node-exporter.
 *
 *   node --import tsx bench/installed-exporter.ts [--scrapes 1000] [--record]
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { makeRelease } from '@vigil/deploy/release';
import { benchDocker, cpuSeconds, freePort, quantile, REPO, recordSection, residentMemory, startProcess } from './lib.js';

const { values } = parseArgs({
  options: { scrapes: { type: 'string', default: '1000' }, record: { type: 'boolean' }, help: { type: 'boolean' } },
});
if (values.help) {
  process.stdout.write('usage: node --import tsx bench/installed-exporter.ts [--scrapes 1000] [--record]\n');
  process.exit(0);
}
const nScrapes = Number(values.scrapes);
const TOKEN = 'bench-token-0123456789abcdef';

// The release, made from this checkout's build (npm run build first).
const release = path.join(REPO, 'bench/out/vigil-exporter');
await makeRelease(REPO, 'exporter', release);
const { NODE_FLAGS } = (await import(path.join(release, 'bin/node-flags.js'))) as { NODE_FLAGS: string[] };

const { dockerHost, docker } = benchDocker();
const dockerEnv = { ...process.env, DOCKER_HOST: dockerHost };
const debian = execFileSync(path.join(REPO, 'scripts/docker-base.sh'), ['--host'], { env: dockerEnv, encoding: 'utf8' }).trim();
const node18Version = docker('run', '--rm', debian, 'node', '--version');

interface Subject {
  name: string;
  pid: number;
  url?: string;
  stop(): void;
  ms: number[];
  cpu0: number;
}
const subjects: Subject[] = [];
const started: (() => void)[] = [];

function local(child: ChildProcess, name: string, url?: string): Subject {
  const s = { name, pid: child.pid!, url, stop: () => child.kill(), ms: [], cpu0: 0 };
  started.push(s.stop);
  return s;
}

/** A container of Debian 12 on the host's network; its main process's pid as this machine sees it. */
async function inDebian(name: string, args: string[], url?: string): Promise<Subject> {
  const id = docker(
    'run',
    '-d',
    '--network',
    'host',
    '-v',
    `${release}:/opt/vigil/exporter:ro`,
    '-e',
    `VIGIL_EXPORTER_TOKEN=${TOKEN}`,
    ...args,
  );
  started.push(() => docker('rm', '-f', id));
  if (url) {
    const deadline = Date.now() + 30_000;
    while (!(await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } }).catch(() => null))?.ok) {
      if (Date.now() > deadline) throw new Error(`${name} did not answer: ${docker('logs', id)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { name, pid: Number(docker('inspect', '--format', '{{.State.Pid}}', id)), url, stop: () => {}, ms: [], cpu0: 0 };
}

const idle = 'setInterval(() => {}, 1 << 30)';
try {
  const ports = { v20: await freePort(), v18: await freePort(), node: await freePort() };
  const url = (p: number) => `http://127.0.0.1:${p}/metrics`;
  subjects.push(local(spawn(process.execPath, ['-e', idle], { stdio: 'ignore' }), `bare node ${process.version}`));
  subjects.push(await inDebian(`bare node ${node18Version} (Debian 12)`, [debian, 'node', '-e', idle]));
  const v20 = await startProcess(process.execPath, [...NODE_FLAGS, path.join(release, 'bin/vigil-exporter.js')], url(ports.v20), {
    ...process.env,
    VIGIL_EXPORTER_LISTEN: `127.0.0.1:${ports.v20}`,
    VIGIL_EXPORTER_TOKEN: TOKEN,
    VIGIL_LOG_LEVEL: 'warn',
  });
  subjects.push(local(v20, `Vigil exporter, installed, node ${process.version}`, url(ports.v20)));
  subjects.push(
    await inDebian(
      `Vigil exporter, installed, node ${node18Version} (Debian 12)`,
      [
        '-e',
        `VIGIL_EXPORTER_LISTEN=127.0.0.1:${ports.v18}`,
        '-e',
        'VIGIL_LOG_LEVEL=warn',
        debian,
        'node',
        ...NODE_FLAGS,
        '/opt/vigil/exporter/bin/vigil-exporter.js',
      ],
      url(ports.v18),
    ),
  );
  const nodeExporter = await startProcess(
    '/usr/bin/prometheus-node-exporter',
    [`--web.listen-address=127.0.0.1:${ports.node}`],
    url(ports.node),
  );
  subjects.push(local(nodeExporter, 'node_exporter 1.5, default collectors', url(ports.node)));

  const exporters = subjects.filter((s) => s.url);
  // Warm-up, then the measured round-robin.
  for (let i = 0; i < 30; i++)
    for (const s of exporters) await fetch(s.url!, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.arrayBuffer());
  for (const s of exporters) s.cpu0 = cpuSeconds(s.pid);
  for (let i = 0; i < nScrapes; i++) {
    for (const s of exporters) {
      const t0 = performance.now();
      const r = await fetch(s.url!, { headers: { authorization: `Bearer ${TOKEN}` } });
      await r.arrayBuffer();
      if (!r.ok) throw new Error(`${s.name}: HTTP ${r.status}`);
      s.ms.push(performance.now() - t0);
    }
  }
  const after = new Map(subjects.map((s) => [s, residentMemory(s.pid)]));
  const cpu = new Map(exporters.map((s) => [s, ((cpuSeconds(s.pid) - s.cpu0) / nScrapes) * 1000]));
  await new Promise((r) => setTimeout(r, 10_000));
  const idleMem = new Map(subjects.map((s) => [s, residentMemory(s.pid)]));

  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  const find = (prefix: string) => subjects.find((s) => s.name.startsWith(prefix))!;
  const bare20 = subjects[0]!;
  const bare18 = subjects[1]!;
  const vigil20 = find('Vigil exporter, installed, node v20');
  const vigil18 = subjects.find((s) => s.name.startsWith('Vigil') && s.name.includes('Debian'))!;
  const nodeExp = find('node_exporter');
  const above = (s: Subject, bare: Subject, m: Map<Subject, { rss: number }>) => mib(m.get(s)!.rss - m.get(bare)!.rss);
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Linux ${os.release()}`;
  const body = [
    `Command: \`node --import tsx bench/installed-exporter.ts --scrapes ${nScrapes} --record\`; ${new Date().toISOString().slice(0, 10)}, ${machine}. The exporter as install.sh installs it (bench/out/vigil-exporter, ${mib(Number(execFileSync('du', ['-sb', release], { encoding: 'utf8' }).split('\t')[0]))} MiB), run with the unit's flags; ${nScrapes.toLocaleString('en')} scrapes round-robin after 30 warm-up rounds; Node.js 18 is Debian 12's \`nodejs\` in a container of Debian's packages (same kernel, its memory read from this machine's /proc).`,
    '',
    '| process | median ms | CPU ms / scrape | VmRSS MiB after the scrapes | anonymous | file-backed | VmRSS MiB after 10 s idle |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...subjects.map((s) => {
      const m = after.get(s)!;
      return `| ${s.name} | ${s.url ? quantile(s.ms, 0.5).toFixed(2) : '–'} | ${s.url ? cpu.get(s)!.toFixed(2) : '–'} | ${mib(m.rss)} | ${mib(m.anon)} | ${mib(m.file)} | ${mib(idleMem.get(s)!.rss)} |`;
    }),
    '',
    `- above a bare node of the same version, right after the scrapes: **${above(vigil20, bare20, after)} MiB** on Node.js 20, **${above(vigil18, bare18, after)} MiB** on Node.js 18; after 10 s idle: ${above(vigil20, bare20, idleMem)} and ${above(vigil18, bare18, idleMem)} MiB`,
    `- Vigil / node_exporter, Node.js 20: median latency **${(quantile(vigil20.ms, 0.5) / quantile(nodeExp.ms, 0.5)).toFixed(2)}×**, CPU per scrape **${(cpu.get(vigil20)! / cpu.get(nodeExp)!).toFixed(2)}×**, VmRSS **${(after.get(vigil20)!.rss / after.get(nodeExp)!.rss).toFixed(2)}×**; Node.js 18: latency **${(quantile(vigil18.ms, 0.5) / quantile(nodeExp.ms, 0.5)).toFixed(2)}×**, CPU **${(cpu.get(vigil18)! / cpu.get(nodeExp)!).toFixed(2)}×** (node_exporter here runs its default collectors; \`npm run bench\` compares the same collectors)`,
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (values.record) recordSection('Installed exporter: memory on Node.js 18 and 20', body);
} finally {
  for (const stop of started.reverse()) {
    try {
      stop();
    } catch {
      // already gone
    }
  }
}
