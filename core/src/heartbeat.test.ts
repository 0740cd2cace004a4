import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExposition } from './exposition.js';
import { cpuUsagePercent } from './figures.js';
import { deriveFigures, NO_FIGURES } from './heartbeat.js';
import { fixtureTree } from './testing/index.js';

/** A /proc/meminfo field of the fixture in bytes, read plainly (kB × 1024). */
function meminfoBytes(proc: string, field: string): number {
  const line = readFileSync(path.join(proc, 'meminfo'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}

const cpuLines = (user: number, idle: number, iowait = 0) =>
  [
    `node_cpu_seconds_total{cpu="0",mode="user"} ${user}`,
    `node_cpu_seconds_total{cpu="0",mode="idle"} ${idle}`,
    `node_cpu_seconds_total{cpu="0",mode="iowait"} ${iowait}`,
  ].join('\n');

describe('deriveFigures', () => {
  it('derives cpu % from two scrapes, counting iowait as busy (as the common dashboards do)', () => {
    const first = deriveFigures(parseExposition(cpuLines(100, 900, 0)), undefined, 0);
    expect(first.figures.cpu_usage_percent).toBeNull(); // needs two samples
    // Δuser 30, Δidle 60, Δiowait 10 → busy (30 + 10) / 100
    const second = deriveFigures(parseExposition(cpuLines(130, 960, 10)), first.counters, 15);
    expect(second.figures.cpu_usage_percent).toBe(40);
  });

  it.each([
    ['a reboot (counters reset)', { idleSeconds: 900, totalSeconds: 1000 }, { idleSeconds: 5, totalSeconds: 10 }],
    ['no time passed', { idleSeconds: 900, totalSeconds: 1000 }, { idleSeconds: 900, totalSeconds: 1000 }],
    ['idle growing faster than total', { idleSeconds: 900, totalSeconds: 1000 }, { idleSeconds: 1000, totalSeconds: 1010 }],
  ])('gives no cpu % after %s', (_, prev, cur) => {
    expect(cpuUsagePercent(prev, cur)).toBeNull();
  });

  it('derives memory, root disk, load and uptime from the exporter fixture', () => {
    const proc = path.join(fixtureTree('this-host'), 'proc');
    const value = (n: string) => meminfoBytes(proc, n);
    const bootTime = Number(/^btime (\d+)$/m.exec(readFileSync(path.join(proc, 'stat'), 'utf8'))![1]);
    const text = [
      `node_memory_MemTotal_bytes ${value('MemTotal')}`,
      `node_memory_MemAvailable_bytes ${value('MemAvailable')}`,
      'node_filesystem_size_bytes{device="/dev/sdb1",fstype="ext4",mountpoint="/data"} 5000',
      'node_filesystem_size_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 1000',
      'node_filesystem_free_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 250',
      'node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 200',
      'node_load1 0.75',
      `node_boot_time_seconds ${bootTime}`,
      `node_time_seconds ${bootTime + 3600.5}`,
      'vigil_exporter_pty_sessions 2',
    ].join('\n');
    const { figures } = deriveFigures(parseExposition(text), undefined, 0);
    expect(figures).toEqual({
      ...NO_FIGURES,
      samples: 10,
      cpu_usage_percent: null,
      memory_total_bytes: value('MemTotal'),
      memory_used_bytes: value('MemTotal') - value('MemAvailable'),
      disk_total_bytes: 1000,
      disk_used_bytes: 750,
      disk_avail_bytes: 200,
      load1: 0.75,
      uptime_seconds: 3600.5,
      pty_sessions: 2,
    });
  });

  it('falls back to MemFree + Buffers + Cached without MemAvailable, and to the scrape time without node_time_seconds', () => {
    const text =
      'node_memory_MemTotal_bytes 1000\nnode_memory_MemFree_bytes 100\nnode_memory_Buffers_bytes 50\nnode_memory_Cached_bytes 250\nnode_boot_time_seconds 1000';
    const { figures } = deriveFigures(parseExposition(text), undefined, 4600);
    expect(figures.memory_used_bytes).toBe(600);
    expect(figures.uptime_seconds).toBe(3600);
  });

  it('gives nulls for an exporter that is not a node exporter', () => {
    const { figures, counters } = deriveFigures(parseExposition('http_requests_total 5\nprocess_cpu_seconds_total 1'), undefined, 0);
    expect(counters).toEqual({ time: 0, cpu: null, net: {}, disk: null, containers: {} });
    expect(figures).toEqual({ ...NO_FIGURES, samples: 2 });
    expect(Object.values(NO_FIGURES).every((v) => v === null)).toBe(true);
  });

  it('ignores NaN and infinite values', () => {
    const { figures } = deriveFigures(parseExposition('node_load1 NaN\nnode_memory_MemTotal_bytes +Inf'), undefined, 0);
    expect(figures.load1).toBeNull();
    expect(figures.memory_total_bytes).toBeNull();
  });
});
