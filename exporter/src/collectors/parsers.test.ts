import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { parseProcStat, USER_HZ } from './cpu.js';
import { DEFAULT_FILESYSTEM_FILTER, parseMountinfo, selectMounts } from './filesystem.js';
import { parseLoadAvg } from './loadavg.js';
import { meminfoValue, parseMeminfo } from './meminfo.js';
import { NETDEV_COLUMNS, parseNetdev } from './netdev.js';
import { ParseError } from './read.js';

const fixture = (host: string, file: string) => readFileSync(path.join(FIXTURES, host, 'proc', file), 'utf8');

describe('parseProcStat', () => {
  it('reads every cpu line of this host, ticks as seconds', () => {
    const text = fixture('this-host', 'stat');
    const stat = parseProcStat(text);
    const cpuLines = text.split('\n').filter((l) => /^cpu\d+ /.test(l));
    expect(stat.cpus).toHaveLength(cpuLines.length);
    for (const [i, line] of cpuLines.entries()) {
      const [name, user, nice, system, idle, iowait] = line.split(/\s+/);
      expect(stat.cpus[i]).toMatchObject({
        cpu: name!.slice(3),
        user: Number(user) / USER_HZ,
        nice: Number(nice) / USER_HZ,
        system: Number(system) / USER_HZ,
        idle: Number(idle) / USER_HZ,
        iowait: Number(iowait) / USER_HZ,
      });
    }
    expect(stat.bootTime).toBe(Number(/^btime (\d+)$/m.exec(text)![1]));
    expect(stat.contextSwitches).toBe(Number(/^ctxt (\d+)$/m.exec(text)![1]));
    expect(stat.interrupts).toBe(Number(/^intr (\d+)/m.exec(text)![1]));
  });

  it.each([
    [
      'an old kernel with four fields',
      'cpu 1 2 3 4\ncpu0 1 2 3 4\n',
      (s: ReturnType<typeof parseProcStat>) => expect(s.cpus[0]).toMatchObject({ user: 0.01, idle: 0.04, steal: 0 }),
    ],
    [
      'no btime or ctxt',
      'cpu 1 0 0 1\n',
      (s: ReturnType<typeof parseProcStat>) => expect([s.bootTime, s.contextSwitches, s.cpus]).toEqual([null, null, []]),
    ],
  ])('accepts %s', (_, text, check) => {
    check(parseProcStat(text));
  });

  it.each([
    ['an empty file', ''],
    ['no aggregate cpu line', 'cpu0 1 2 3 4\n'],
    ['a non-numeric tick', 'cpu 1 2 x 4\n'],
    ['a short cpu line', 'cpu 1 2\n'],
    ['a strange cpu name', 'cpu 1 2 3 4\ncpuX 1 2 3 4\n'],
    ['a negative btime', 'cpu 1 2 3 4\nbtime -5\n'],
  ])('rejects %s', (_, text) => {
    expect(() => parseProcStat(text)).toThrow(ParseError);
  });
});

describe('parseLoadAvg', () => {
  it('reads this host', () => {
    const text = fixture('this-host', 'loadavg');
    const [a, b, c] = text.split(' ').map(Number);
    expect(parseLoadAvg(text)).toEqual({ load1: a, load5: b, load15: c });
  });
  it.each(['', '0.1 0.2', 'a b c 1/2 3', '0.1 -0.2 0.3 1/1 1'])('rejects %j', (text) => {
    expect(() => parseLoadAvg(text)).toThrow(ParseError);
  });
});

describe('parseMeminfo', () => {
  it('keeps every field of this host, kB as bytes, counts as counts', () => {
    const text = fixture('this-host', 'meminfo');
    const fields = parseMeminfo(text);
    expect(fields).toHaveLength(text.trim().split('\n').length);
    expect(meminfoValue(fields, 'MemTotal')).toBe(Number(/^MemTotal:\s+(\d+) kB/m.exec(text)![1]) * 1024);
    expect(meminfoValue(fields, 'HugePages_Total')).toBe(Number(/^HugePages_Total:\s+(\d+)$/m.exec(text)![1]));
    expect(fields.find((f) => f.name === 'HugePages_Total')?.bytes).toBe(false);
    expect(fields.find((f) => f.name === 'Active_anon')?.bytes).toBe(true); // Active(anon) as node_exporter names it
    expect(meminfoValue(fields, 'NoSuchField')).toBeUndefined();
  });
  it.each(['', 'MemTotal 123 kB', 'MemTotal: lots kB', 'MemTotal: 12 MB'])('rejects %j', (text) => {
    expect(() => parseMeminfo(text)).toThrow(ParseError);
  });
});

describe('parseNetdev', () => {
  it('reads every interface of this host', () => {
    const text = fixture('this-host', 'net/dev');
    const stats = parseNetdev(text);
    const lines = text.trim().split('\n').slice(2);
    expect(stats.map((s) => s.device)).toEqual(lines.map((l) => l.split(':')[0]!.trim()));
    const eth0 = lines
      .find((l) => l.trim().startsWith('eth0:'))!
      .split(':')[1]!
      .trim()
      .split(/\s+/)
      .map(Number);
    expect(stats.find((s) => s.device === 'eth0')?.counters).toEqual(Object.fromEntries(NETDEV_COLUMNS.map((c, i) => [c, eth0[i]])));
  });
  it.each([
    ['a line without a colon', 'h1\nh2\neth0 1 2 3\n'],
    ['too few counters', 'h1\nh2\neth0: 1 2 3\n'],
    ['a non-numeric counter', `h1\nh2\neth0: ${'1 '.repeat(15)}x\n`],
  ])('rejects %s', (_, text) => {
    expect(() => parseNetdev(text)).toThrow(ParseError);
  });
});

describe('parseMountinfo', () => {
  it('reads this host and finds the root filesystem', () => {
    const mounts = parseMountinfo(fixture('this-host', '1/mountinfo'));
    const root = mounts.filter((m) => m.mountPoint === '/');
    expect(root).toHaveLength(1);
    const line = fixture('this-host', '1/mountinfo')
      .split('\n')
      .find((l) => l.split(' ')[4] === '/')!;
    const after = line.split(' - ')[1]!.split(' ');
    expect(root[0]).toMatchObject({ fsType: after[0], source: after[1] });
  });

  it('unescapes octal in paths and keeps optional fields out of the way', () => {
    const [m] = parseMountinfo('36 35 98:0 /mnt1 /mnt/my\\040disk rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n');
    expect(m).toMatchObject({ mountPoint: '/mnt/my disk', fsType: 'ext3', source: '/dev/root', root: '/mnt1', options: ['rw', 'noatime'] });
  });

  it.each(['36 35 98:0 / /mnt rw', 'x 35 98:0 / /mnt rw - ext4 /dev/sda1 rw', '36 35 98:0 / /mnt rw master:1 shared:2 x ext4'])(
    'rejects %j',
    (line) => {
      expect(() => parseMountinfo(line)).toThrow(ParseError);
    },
  );

  it('selects real filesystems, one per mount point, the last mounted winning', () => {
    const mounts = parseMountinfo(
      [
        '1 0 8:1 / / rw - ext4 /dev/sda1 rw',
        '2 1 0:5 / /proc rw - proc proc rw',
        '3 1 0:6 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw',
        '4 1 8:2 / /data rw - ext4 /dev/sdb1 rw',
        '5 1 8:3 / /data ro - xfs /dev/sdc1 ro',
        '6 1 0:7 / /run tmpfs rw - tmpfs tmpfs rw',
        '7 1 0:8 / /var/lib/docker/overlay2/abc/merged rw - overlay overlay rw',
      ].join('\n'),
    );
    expect(selectMounts(mounts, DEFAULT_FILESYSTEM_FILTER).map((m) => `${m.mountPoint} ${m.fsType}`)).toEqual([
      '/ ext4',
      '/data xfs',
      '/run tmpfs',
    ]);
  });
});
