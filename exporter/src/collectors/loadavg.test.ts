import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { parseLoadAvg } from './loadavg.js';
import { ParseError } from './read.js';

const fixture = (host: string, file: string) => readFileSync(path.join(FIXTURES, host, 'proc', file), 'utf8');

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
