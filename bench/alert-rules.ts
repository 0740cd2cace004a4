/**
 * What alert rules cost the scraper: 50 rules over 2,000 targets at one
 * heartbeat a second each, side by side with the work of the scrapes
 * themselves in one run.
 *
 * Per heartbeat, the scraper parses the scraped body and derives its figures
 * (core's figuresFromBody, on a node_exporter-sized body of about 1,100
 * lines with 10 containers and 3 probes); with rules it then evaluates them
 * (AlertEngine.observe: each rule cut to the target by its selector and
 * overrides, then checked). Every 2 s the alerts job writes what changed
 * (AlertEngine.pass: one read of the open alerts of the targets seen, and the
 * changes, against the real PostgreSQL). CPU is this process's (user +
 * system), per 1,000 heartbeats, in alternating rounds.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
 *     node --import tsx bench/alert-rules.ts [--targets 2000] [--rules 50] [--rounds 10] [--record]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { AlertRuleInput } from '@vigil/core/alerts';
import { figuresFromBody } from '@vigil/core/heartbeat';
import { addAlertRule, addTarget, createDb, migrateToLatest } from '@vigil/db';
import { AlertEngine } from '@vigil/scraper';
import pg from 'pg';
import { quantile, recordSection } from './lib.js';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: '2000' },
    rules: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '10' },
    record: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: TEST_DATABASE_URL=postgres://… node --import tsx bench/alert-rules.ts [--targets 2000] [--rules 50] [--rounds 10] [--record]\n' +
      '  CPU per 1,000 heartbeats of parsing and deriving figures, against evaluating --rules rules on them, and the\n' +
      '  alerts job (one pass per 2 s of --targets heartbeats) against a throwaway database. --record writes bench/RESULTS.md.\n',
  );
  process.exit(0);
}
const TARGETS = Number(values.targets);
const RULES = Number(values.rules);
const ROUNDS = Number(values.rounds);
const log = (m: string) => process.stderr.write(`${m}\n`);
const server = process.env.TEST_DATABASE_URL;
if (!server) throw new Error('set TEST_DATABASE_URL to a PostgreSQL server (a throwaway database is made there)');

/** A node_exporter-sized body (about 1,100 lines) for host `i` at step `k`: cpus, filesystems, interfaces, disks, 10 containers, 3 probes. */
function body(i: number, k: number): Uint8Array {
  const lines: string[] = [];
  for (let c = 0; c < 8; c++)
    for (const mode of ['idle', 'user', 'system', 'iowait', 'irq', 'softirq', 'steal', 'nice'])
      lines.push(`node_cpu_seconds_total{cpu="${c}",mode="${mode}"} ${(mode === 'idle' ? 900 : 50) * (k + 1) + c}`);
  lines.push(
    `node_memory_MemTotal_bytes 8e9`,
    `node_memory_MemAvailable_bytes ${4e9 - i * 1e5}`,
    'node_load1 0.7',
    'node_boot_time_seconds 1.7e9',
  );
  lines.push(`node_time_seconds ${1.8e9 + k}`);
  lines.push(`node_filesystem_size_bytes{mountpoint="/",device="/dev/sda1",fstype="ext4"} 1e11`);
  lines.push(`node_filesystem_avail_bytes{mountpoint="/",device="/dev/sda1",fstype="ext4"} ${5e10 - k * 1e6}`);
  lines.push(`node_filesystem_free_bytes{mountpoint="/",device="/dev/sda1",fstype="ext4"} ${5.5e10 - k * 1e6}`);
  for (const dev of ['eth0', 'wlan0', 'lo', 'docker0'])
    lines.push(
      `node_network_receive_bytes_total{device="${dev}"} ${k * 1e5}`,
      `node_network_transmit_bytes_total{device="${dev}"} ${k * 1e4}`,
    );
  for (const dev of ['sda', 'nvme0n1'])
    lines.push(
      `node_disk_read_bytes_total{device="${dev}"} ${k * 4096}`,
      `node_disk_written_bytes_total{device="${dev}"} ${k * 8192}`,
      `node_disk_reads_completed_total{device="${dev}"} ${k}`,
      `node_disk_writes_completed_total{device="${dev}"} ${2 * k}`,
    );
  lines.push('node_hwmon_temp_celsius{chip="cpu",sensor="temp1"} 52');
  for (let c = 0; c < 10; c++) {
    const l = `id="/docker/${c}",name="app-${c}",image="app:${c}"`;
    lines.push(
      `container_cpu_usage_seconds_total{${l},cpu="total"} ${k * 0.1}`,
      `container_memory_working_set_bytes{${l}} 1e8`,
      `container_spec_memory_limit_bytes{${l}} 0`,
      `container_start_time_seconds{${l}} 1.7e9`,
      `vigil_container_state{${l},state="running"} 1`,
      `vigil_container_health_status{${l},health="healthy"} 1`,
      `vigil_container_restarts{${l}} 0`,
    );
  }
  for (const s of ['site', 'api', 'mail'])
    lines.push(
      `probe_success{service="${s}"} 1`,
      `probe_duration_seconds{service="${s}"} 0.05`,
      `probe_ssl_earliest_cert_expiry{service="${s}"} 1.9e9`,
    );
  // The rest of a node_exporter body: series the figures do not read, parsed and skipped.
  while (lines.length < 1100) lines.push(`node_scrape_collector_duration_seconds{collector="c${lines.length}"} 0.001`);
  return new TextEncoder().encode(`${lines.join('\n')}\n`);
}

/** `n` rules of every kind, most with selectors and overrides, none of which fires on the bench's healthy hosts. */
function rules(n: number): AlertRuleInput[] {
  const kinds: ((i: number) => AlertRuleInput)[] = [
    (i) => ({
      name: `Cpu${i}`,
      kind: 'threshold',
      figure: 'cpu_usage_percent',
      value: 95,
      for_seconds: 300,
      overrides: [{ selector: 'role=db', value: 99 }],
    }),
    (i) => ({ name: `Mem${i}`, kind: 'threshold', figure: 'memory_usage_percent', value: 95, selector: `rack!=z${i}` }),
    (i) => ({
      name: `Disk${i}`,
      kind: 'threshold',
      figure: 'disk_usage_percent',
      value: 90,
      overrides: [{ selector: `host=pi-${i}`, enabled: false }],
    }),
    (i) => ({ name: `Load${i}`, kind: 'threshold', figure: 'load1', value: 16 }),
    (i) => ({ name: `Hot${i}`, kind: 'threshold', figure: 'temperature_celsius', value: 85, for_seconds: 60 }),
    (i) => ({ name: `Fill${i}`, kind: 'disk_full', within_hours: 1, window_seconds: 3600 }),
    (i) => ({ name: `Down${i}`, kind: 'container', condition: 'not_running' }),
    (i) => ({ name: `Sick${i}`, kind: 'container', condition: 'unhealthy' }),
    (i) => ({ name: `Loop${i}`, kind: 'container', condition: 'restarting' }),
    (i) => ({ name: `Probe${i}`, kind: 'probe', selector: 'env=prod' }),
    (i) => ({ name: `Cert${i}`, kind: 'certificate', within_days: 14 }),
  ];
  return Array.from({ length: n }, (_, i) => kinds[i % kinds.length]!(i));
}

const name = `vigil_bench_alerts_${process.pid}`;
const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`create database ${name}`);
const url = new URL(server);
url.pathname = `/${name}`;
const db = await createDb(url.toString(), { max: 4 });
try {
  await migrateToLatest(db);
  log(`making ${TARGETS} targets and ${RULES} rules`);
  const targets = [];
  for (let i = 0; i < TARGETS; i++)
    targets.push(
      await addTarget(db, {
        name: `pi-${i}`,
        url: `http://pi-${i}:9110/metrics`,
        labels: { rack: `r${i % 20}`, env: i % 2 ? 'prod' : 'lab', role: i % 10 ? 'web' : 'db' },
      }),
    );
  for (const r of rules(RULES)) await addAlertRule(db, r);
  const bodies = Array.from({ length: 50 }, (_, i) => body(i, 0));
  const later = Array.from({ length: 50 }, (_, i) => body(i, 1));
  const engine = new AlertEngine(db);
  await engine.loadRules();

  // Each heartbeat: parse and derive (the scrape's own work), then evaluate the rules on it.
  const sample = figuresFromBody(bodies[0]!, undefined, 1.8e9);
  if (
    'error' in sample ||
    sample.inventory.containers.length !== 10 ||
    sample.inventory.services.length !== 3 ||
    sample.inventory.containers[0]!.state !== 'running'
  )
    throw new Error('the bench body does not parse as 10 running containers and 3 probes');
  const parsed = targets.map((_, i) => {
    const first = figuresFromBody(bodies[i % 50]!, undefined, 1.8e9);
    if ('error' in first) throw new Error(first.error);
    const second = figuresFromBody(later[i % 50]!, first.counters, 1.8e9 + 1);
    if ('error' in second) throw new Error(second.error);
    return second;
  });
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const rows: { parse: number; evaluate: number; passMs: number; passCpu: number }[] = [];
  let time = 1.8e9;
  for (let round = 0; round < ROUNDS; round++) {
    // Two simulated seconds of the fleet: 2 × TARGETS heartbeats, then one pass.
    let c = cpu();
    for (let s = 0; s < 2; s++)
      for (let i = 0; i < TARGETS; i++) {
        const r = figuresFromBody(later[i % 50]!, parsed[i]!.counters, time + s);
        if ('error' in r) throw new Error(r.error);
      }
    const parse = cpu() - c;
    c = cpu();
    for (let s = 0; s < 2; s++)
      for (let i = 0; i < TARGETS; i++) engine.observe(targets[i]!, new Date((time + s) * 1000), parsed[i]!.figures, parsed[i]!.inventory);
    const evaluate = cpu() - c;
    c = cpu();
    const t0 = performance.now();
    await engine.pass();
    rows.push({ parse, evaluate, passMs: performance.now() - t0, passCpu: cpu() - c });
    time += 2;
    log(`round ${round + 1}: parse ${parse.toFixed(3)} s, evaluate ${evaluate.toFixed(3)} s, pass ${rows.at(-1)!.passMs.toFixed(1)} ms`);
  }
  const per1000 = (s: number) => (s / (2 * TARGETS)) * 1000 * 1000; // ms per 1,000 heartbeats
  const med = (f: (r: (typeof rows)[number]) => number) => quantile(rows.map(f), 0.5);
  const parseMs = med((r) => per1000(r.parse));
  const evalMs = med((r) => per1000(r.evaluate));
  const passCpuMs = med((r) => per1000(r.passCpu));
  const passMs = med((r) => r.passMs);
  // The share is taken within each round (same machine state), then the median.
  const ratio = med((r) => (r.evaluate + r.passCpu) / r.parse);
  const table = `| per 1,000 heartbeats | CPU ms (median of ${ROUNDS} rounds) |
|---|---:|
| parse and derive the figures (the scrape's own work, without the request) | ${parseMs.toFixed(1)} |
| evaluate ${RULES} rules | ${evalMs.toFixed(1)} |
| the alerts job's pass (read open alerts, write changes; this process only) | ${passCpuMs.toFixed(1)} |
| **rules / scrape** (median of each round's ratio) | **${(100 * ratio).toFixed(1)} %** |

One pass covers 2 s of the fleet (${2 * TARGETS} heartbeats): ${passMs.toFixed(1)} ms wall time, the database's share included.`;
  process.stdout.write(`${table}\n`);
  if (values.record)
    recordSection(
      `Alert rules: ${RULES} rules × ${TARGETS} targets`,
      `Command: \`TEST_DATABASE_URL=… node --import tsx bench/alert-rules.ts --targets ${TARGETS} --rules ${RULES} --rounds ${ROUNDS} --record\`; ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model.split(' ').slice(0, 2).join(' ')}, Node ${process.version}, PostgreSQL (TEST_DATABASE_URL).

${TARGETS} targets at one heartbeat a second each; ${RULES} rules of every kind (thresholds on each figure, disk predictions, container and probe and certificate rules), with selectors and overrides. Each round is 2 s of the fleet: every heartbeat's body (about 1,100 lines, 10 containers, 3 probes) parsed and its figures derived, then the rules evaluated on each, then one pass of the alerts job against PostgreSQL; CPU is this process's.

${table}

The request of a scrape (connect, send, read the body) is not in the scrape's figure, so the rules' share of a whole scrape is smaller still.`,
    );
} finally {
  await db.destroy();
  await admin.query(`drop database ${name}`);
  await admin.end();
}
