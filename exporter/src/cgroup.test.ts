import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import {
  blockDeviceName,
  detectCgroupVersion,
  findContainerCgroup,
  parseBlkioServiceBytes,
  parseCpuMax,
  parseFlatKeyed,
  parseIoStat,
  parseProcCgroup,
  readCgroupV1,
  readCgroupV2,
} from './cgroup.js';
import { USER_HZ } from './collectors/cpu.js';
import { ParseError } from './collectors/read.js';

const v1 = path.join(FIXTURES, 'cgroup-v1/sys');
const v2 = path.join(FIXTURES, 'cgroup-v2/sys');
const id = (tree: string) => readFileSync(path.join(FIXTURES, tree, 'container-id'), 'utf8').trim();
const file = (tree: string, p: string) => readFileSync(path.join(FIXTURES, tree, 'sys/fs/cgroup', p), 'utf8');
const kv = (text: string, key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)![1]);

describe('cgroup v1 (captured from a Docker container on this host, cgroupfs driver)', () => {
  it('is detected as v1 and found at /docker/<id>', async () => {
    expect(await detectCgroupVersion(v1)).toBe(1);
    expect(await findContainerCgroup(v1, '/nonexistent', 1, id('cgroup-v1'), null)).toBe(`/docker/${id('cgroup-v1')}`);
  });

  it('reads cpu, memory, io and pids as cAdvisor does', async () => {
    const cg = `/docker/${id('cgroup-v1')}`;
    const s = await readCgroupV1(v1, cg);
    const mem = file('cgroup-v1', `memory${cg}/memory.stat`);
    const usage = Number(file('cgroup-v1', `memory${cg}/memory.usage_in_bytes`));
    expect(s).toMatchObject({
      cpuUsageSeconds: Number(file('cgroup-v1', `cpuacct${cg}/cpuacct.usage`)) / 1e9,
      cpuUserSeconds: kv(file('cgroup-v1', `cpuacct${cg}/cpuacct.stat`), 'user') / USER_HZ,
      cfsPeriods: kv(file('cgroup-v1', `cpu${cg}/cpu.stat`), 'nr_periods'),
      cpuQuotaMicros: Number(file('cgroup-v1', `cpu${cg}/cpu.cfs_quota_us`)),
      memoryUsageBytes: usage,
      memoryWorkingSetBytes: Math.max(0, usage - kv(mem, 'total_inactive_file')),
      memoryRssBytes: kv(mem, 'total_rss'),
      memoryLimitBytes: Number(file('cgroup-v1', `memory${cg}/memory.limit_in_bytes`)),
      pids: Number(file('cgroup-v1', `pids${cg}/pids.current`)),
      io: [],
    });
  });
});

describe('cgroup v2 (systemd driver: system.slice/docker-<id>.scope)', () => {
  const cg = `/system.slice/docker-${id('cgroup-v2')}.scope`;

  it('is detected as v2 and found in the systemd layout', async () => {
    expect(await detectCgroupVersion(v2)).toBe(2);
    expect(await findContainerCgroup(v2, '/nonexistent', 2, id('cgroup-v2'), null)).toBe(cg);
    expect(await findContainerCgroup(v2, '/nonexistent', 2, 'f'.repeat(64), null)).toBeNull();
  });

  it('reads cpu, memory, io and pids', async () => {
    expect(await readCgroupV2(v2, cg)).toEqual({
      cpuUsageSeconds: 98.765432,
      cpuUserSeconds: 65.4321,
      cpuSystemSeconds: 33.333332,
      cfsPeriods: 12000,
      cfsThrottledPeriods: 345,
      cfsThrottledSeconds: 6.789,
      cpuQuotaMicros: 150000,
      cpuPeriodMicros: 100000,
      memoryUsageBytes: 268435456,
      memoryWorkingSetBytes: 268435456 - 67108864,
      memoryRssBytes: 150994944,
      memoryCacheBytes: 100663296,
      memoryMaxUsageBytes: 301989888,
      memoryLimitBytes: 536870912,
      io: [
        { device: '8:0', readBytes: 104857600, writeBytes: 52428800 },
        { device: '253:0', readBytes: 4096, writeBytes: 0 },
      ],
      pids: 7,
    });
    expect(await blockDeviceName(v2, '8:0')).toBe('/dev/sda');
    expect(await blockDeviceName(v2, '253:0')).toBe('253:0');
  });
});

describe('cgroup file parsers', () => {
  it.each([
    ['max 100000', { quota: null, period: 100000 }],
    ['150000 100000\n', { quota: 150000, period: 100000 }],
  ])('parseCpuMax(%j)', (t, v) => expect(parseCpuMax(t)).toEqual(v));
  it.each(['', 'max', 'lots 100000'])('parseCpuMax rejects %j', (t) => expect(() => parseCpuMax(t)).toThrow(ParseError));
  it('parses blkio with Read/Write/Sync lines and the Total', () => {
    expect(parseBlkioServiceBytes('8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Total 12288\nTotal 12288\n')).toEqual([
      { device: '8:0', readBytes: 4096, writeBytes: 8192 },
    ]);
    expect(() => parseBlkioServiceBytes('8:0 Read lots\n')).toThrow(ParseError);
  });
  it('rejects a malformed io.stat and flat-keyed file', () => {
    expect(() => parseIoStat('sda rbytes=1\n')).toThrow(ParseError);
    expect(() => parseFlatKeyed('usage_usec lots\n', 'cpu.stat')).toThrow(/cpu.stat line 1/);
  });
  it('parses /proc/<pid>/cgroup for v1 and v2', () => {
    const m = parseProcCgroup(
      '12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n0::/system.slice/docker-abc.scope\n',
    );
    expect(m.get('memory')).toBe('/docker/abc');
    expect(m.get('cpuacct')).toBe('/docker/abc');
    expect(m.get('')).toBe('/system.slice/docker-abc.scope');
  });
});
