import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { meminfoValue, parseMeminfo } from './meminfo.js';
import { ParseError } from './read.js';

const fixture = (host: string, file: string) => readFileSync(path.join(FIXTURES, host, 'proc', file), 'utf8');

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
