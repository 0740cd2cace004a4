import path from 'node:path';
import { NODE_BOOT_TIME, NODE_CPU_SECONDS } from '@vigil/core/metric-names';
import type { MetricSink } from '@vigil/core/render';
import type { Collector, HostPaths } from '../collector.js';
import { ParseError, readText } from './read.js';

/** Clock ticks per second in /proc/stat (USER_HZ): 100 on every Linux architecture that exports it to user space. */
export const USER_HZ = 100;

/** CPU times in seconds, by mode, as in one `cpu` line of /proc/stat. */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
  guest: number;
  guestNice: number;
}

/** What /proc/stat says. Counts are since boot; `bootTime` is Unix seconds. */
export interface ProcStat {
  /** The aggregate `cpu` line. */
  total: CpuTimes;
  /** One entry per `cpuN` line; `cpu` is N as a string. */
  cpus: (CpuTimes & { cpu: string })[];
  bootTime: number | null;
  contextSwitches: number | null;
  interrupts: number | null;
  forks: number | null;
  procsRunning: number | null;
  procsBlocked: number | null;
}

const MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal', 'guest', 'guestNice'] as const;

/**
 * Parses /proc/stat (proc(5)). CPU ticks become seconds (÷ USER_HZ).
 * @throws ParseError for a non-numeric field or a file without the aggregate `cpu` line
 */
export function parseProcStat(text: string): ProcStat {
  const out: ProcStat = {
    total: zeroTimes(),
    cpus: [],
    bootTime: null,
    contextSwitches: null,
    interrupts: null,
    forks: null,
    procsRunning: null,
    procsBlocked: null,
  };
  let sawTotal = false;
  text.split('\n').forEach((line, i) => {
    const fields = line.trim().split(/\s+/);
    const key = fields[0];
    if (!key) return;
    const num = (s: string | undefined) => {
      const n = Number(s);
      if (s === undefined || !/^\d+$/.test(s))
        throw new ParseError('stat', i + 1, `expected a count after "${key}", got ${JSON.stringify(s ?? '')}`);
      return n;
    };
    if (key.startsWith('cpu')) {
      if (fields.length < 5) throw new ParseError('stat', i + 1, `"${key}" has ${fields.length - 1} fields, expected at least 4`);
      const times = zeroTimes();
      MODES.forEach((mode, j) => {
        const f = fields[j + 1];
        if (f !== undefined) times[mode] = num(f) / USER_HZ;
      });
      if (key === 'cpu') {
        out.total = times;
        sawTotal = true;
      } else {
        const n = key.slice(3);
        if (!/^\d+$/.test(n)) throw new ParseError('stat', i + 1, `unexpected cpu line "${key}"`);
        out.cpus.push({ cpu: n, ...times });
      }
    } else if (key === 'btime') out.bootTime = num(fields[1]);
    else if (key === 'ctxt') out.contextSwitches = num(fields[1]);
    else if (key === 'intr') out.interrupts = num(fields[1]);
    else if (key === 'processes') out.forks = num(fields[1]);
    else if (key === 'procs_running') out.procsRunning = num(fields[1]);
    else if (key === 'procs_blocked') out.procsBlocked = num(fields[1]);
  });
  if (!sawTotal) throw new ParseError('stat', 1, 'no aggregate "cpu" line: is this /proc/stat?');
  return out;
}

function zeroTimes(): CpuTimes {
  return { user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0, guest: 0, guestNice: 0 };
}

/** Reads and parses `<proc>/stat`. */
export async function readProcStat(proc: string, signal?: AbortSignal): Promise<ProcStat> {
  return parseProcStat(await readText(path.join(proc, 'stat'), signal, 'memory'));
}

/** Adds node_exporter's cpu and stat collectors' series for `stat`. */
export function addStatSamples(sink: MetricSink, stat: ProcStat): void {
  const seconds = sink.of(NODE_CPU_SECONDS);
  const guest = sink.counter('node_cpu_guest_seconds_total', 'Seconds the CPUs spent in guests (VMs) for each mode.');
  for (const c of stat.cpus) {
    for (const mode of ['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user'] as const) {
      seconds.set({ cpu: c.cpu, mode }, c[mode]);
    }
    guest.set({ cpu: c.cpu, mode: 'nice' }, c.guestNice);
    guest.set({ cpu: c.cpu, mode: 'user' }, c.guest);
  }
  if (stat.bootTime !== null) sink.of(NODE_BOOT_TIME).set({}, stat.bootTime);
  if (stat.contextSwitches !== null)
    sink.counter('node_context_switches_total', 'Total number of context switches.').set({}, stat.contextSwitches);
  if (stat.forks !== null) sink.counter('node_forks_total', 'Total number of forks.').set({}, stat.forks);
  if (stat.interrupts !== null) sink.counter('node_intr_total', 'Total number of interrupts serviced.').set({}, stat.interrupts);
  if (stat.procsBlocked !== null)
    sink.gauge('node_procs_blocked', 'Number of processes blocked waiting for I/O to complete.').set({}, stat.procsBlocked);
  if (stat.procsRunning !== null) sink.gauge('node_procs_running', 'Number of processes in runnable state.').set({}, stat.procsRunning);
}

/** CPU seconds by mode, boot time, context switches, interrupts, forks, runnable/blocked processes, from /proc/stat. */
export function cpuCollector(paths: HostPaths): Collector {
  return {
    name: 'cpu',
    async update(sink, signal) {
      addStatSamples(sink, await readProcStat(paths.proc, signal));
    },
  };
}
