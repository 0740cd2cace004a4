import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { parsePressure } from './pressure.js';
import { ParseError } from './read.js';

const read = (p: string) => readFileSync(path.join(FIXTURES, p), 'utf8');

describe('parsePressure', () => {
  it('reads this host, µs as seconds', () => {
    const text = read('this-host/proc/pressure/memory');
    const [some, full] = [...text.matchAll(/total=(\d+)/g)].map((m) => Number(m[1]) / 1e6);
    expect(parsePressure(text)).toEqual({ someSeconds: some, fullSeconds: full });
  });
  it('reads a cpu file without a full line', () => {
    expect(parsePressure('some avg10=0.00 avg60=0.00 avg300=0.00 total=1500000\n')).toEqual({ someSeconds: 1.5, fullSeconds: null });
  });
  it.each(['', 'full avg10=0 total=5', 'some avg10=0.00 total=lots'])('rejects %j', (text) => {
    expect(() => parsePressure(text)).toThrow(ParseError);
  });
});
