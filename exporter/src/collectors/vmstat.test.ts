import { describe, expect, it } from 'vitest';
import { fixture, paths, series } from '../../test/collectors.js';
import { ParseError } from './read.js';
import { DEFAULT_VMSTAT_FIELDS, parseVmstat, vmstatCollector } from './vmstat.js';

describe('vmstat', () => {
  it('reads every field of this host, and exports node_exporter’s default set, untyped', async () => {
    const text = fixture('vmstat');
    const fields = parseVmstat(text);
    expect(fields).toHaveLength(text.trim().split('\n').length);
    const got = await series(vmstatCollector(paths));
    const expected = text
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .filter(([name]) => DEFAULT_VMSTAT_FIELDS.test(name!));
    expect([...got.keys()].sort()).toEqual(expected.map(([n]) => `node_vmstat_${n}`).sort());
    for (const name of ['oom_kill', 'pgfault', 'pgmajfault', 'pgpgin', 'pgpgout', 'pswpin', 'pswpout'])
      expect(got.get(`node_vmstat_${name}`)).toEqual({ type: 'untyped', value: Number(expected.find(([n]) => n === name)![1]) });
  });

  it('takes another field set', async () => {
    const got = await series(vmstatCollector(paths, /^nr_free_pages$/));
    expect([...got.keys()]).toEqual(['node_vmstat_nr_free_pages']);
  });

  it.each(['nr_free_pages\n', 'nr_free_pages lots\n', 'Nr Free 1\n', '<html>\n'])('rejects %j', (text) => {
    expect(() => parseVmstat(text)).toThrow(ParseError);
  });
});
