import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { parseProcStat, USER_HZ } from './cpu.js';
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
