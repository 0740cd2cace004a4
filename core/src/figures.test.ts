import { describe, expect, it } from 'vitest';
import {
  cpuTotals,
  cpuUsagePercent,
  diskUsagePercent,
  hostFigures,
  type LabelledValue,
  memoryUsagePercent,
  percent,
  rootDiskUsagePercent,
} from './figures.js';

const series = (m: Record<string, LabelledValue[]>) => (name: string) => m[name];

describe('hostFigures', () => {
  it('derives memory, disks, load and uptime from node_exporter series', () => {
    const f = hostFigures(
      series({
        node_memory_MemTotal_bytes: [{ labels: {}, value: 1000 }],
        node_memory_MemAvailable_bytes: [{ labels: {}, value: 400 }],
        node_memory_MemFree_bytes: [{ labels: {}, value: 100 }],
        node_filesystem_size_bytes: [{ labels: { mountpoint: '/', device: '/dev/sda1', fstype: 'ext4' }, value: 100 }],
        node_filesystem_free_bytes: [{ labels: { mountpoint: '/' }, value: 30 }],
        node_filesystem_avail_bytes: [{ labels: { mountpoint: '/' }, value: 25 }],
        node_load1: [{ labels: {}, value: 0.5 }],
        node_boot_time_seconds: [{ labels: {}, value: 1000 }],
      }),
      4600,
    );
    expect(f).toMatchObject({ memoryUsedBytes: 600, memoryFreeBytes: 100, load: [0.5, null, null], uptimeSeconds: 3600 });
    expect(f.disks).toEqual([
      { mountPoint: '/', device: '/dev/sda1', fsType: 'ext4', sizeBytes: 100, freeBytes: 30, availBytes: 25, usedBytes: 70 },
    ]);
  });

  it('leaves out a filesystem without its free bytes, and uses free where avail is missing', () => {
    const f = hostFigures(
      series({
        node_filesystem_size_bytes: [
          { labels: { mountpoint: '/a' }, value: 10 },
          { labels: { mountpoint: '/b' }, value: 10 },
        ],
        node_filesystem_free_bytes: [{ labels: { mountpoint: '/b' }, value: 4 }],
      }),
      0,
    );
    expect(f.disks).toEqual([{ mountPoint: '/b', device: '', fsType: '', sizeBytes: 10, freeBytes: 4, availBytes: 4, usedBytes: 6 }]);
  });
});

describe('diskUsagePercent', () => {
  it('is df’s used / (used + avail): blocks reserved for root count as neither', () => {
    // 70 used of 95 usable (5 reserved for root) → 73.68 %, not 70 %.
    expect(diskUsagePercent(70, 25)).toBe(73.68);
    expect(diskUsagePercent(null, 25)).toBeNull();
    expect(diskUsagePercent(0, 0)).toBeNull();
  });
});

describe('cpu', () => {
  it('counts only the idle mode as idle (iowait is busy), skipping non-finite samples', () => {
    const get = series({
      node_cpu_seconds_total: [
        { labels: { mode: 'user' }, value: 10 },
        { labels: { mode: 'idle' }, value: 80 },
        { labels: { mode: 'iowait' }, value: 10 },
        { labels: { mode: 'steal' }, value: Number.NaN },
      ],
    });
    expect(cpuTotals(get)).toEqual({ idleSeconds: 80, totalSeconds: 100 });
    expect(cpuTotals(series({}))).toBeNull();
    expect(cpuUsagePercent({ idleSeconds: 90, totalSeconds: 100 }, { idleSeconds: 150, totalSeconds: 200 })).toBe(40);
    expect(cpuUsagePercent(null, { idleSeconds: 1, totalSeconds: 2 })).toBeNull();
  });

  it('percent', () => {
    expect(percent(1, 3)).toBe(33.33);
    expect(percent(null, 3)).toBeNull();
    expect(percent(1, 0)).toBeNull();
  });
});

describe('memory and root disk usage, one definition for every program', () => {
  it('memory: used over total, two decimals; null without figures or a total', () => {
    expect(memoryUsagePercent(1, 4)).toBe(25);
    expect(memoryUsagePercent(1, 3)).toBe(33.33);
    expect(memoryUsagePercent(1, 0)).toBeNull();
    expect(memoryUsagePercent(null, 4)).toBeNull();
    expect(memoryUsagePercent(1, undefined)).toBeNull();
  });
  it('root disk: used over used + avail as df says, else used over size for heartbeats without avail', () => {
    expect(rootDiskUsagePercent({ disk_used_bytes: 50, disk_total_bytes: 110, disk_avail_bytes: 50 })).toBe(50);
    expect(rootDiskUsagePercent({ disk_used_bytes: 50, disk_total_bytes: 200, disk_avail_bytes: null })).toBe(25);
    expect(rootDiskUsagePercent({ disk_used_bytes: 50, disk_total_bytes: 200 })).toBe(25);
    expect(rootDiskUsagePercent(null)).toBeNull();
    expect(rootDiskUsagePercent({ disk_used_bytes: null, disk_total_bytes: 200, disk_avail_bytes: 5 })).toBeNull();
  });
});
