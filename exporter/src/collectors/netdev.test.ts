import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { NETDEV_COLUMNS, parseNetdev } from './netdev.js';
import { ParseError } from './read.js';

const fixture = (host: string, file: string) => readFileSync(path.join(FIXTURES, host, 'proc', file), 'utf8');

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
