import { describe, expect, it } from 'vitest';
import { fixture, paths, series } from '../../test/collectors.js';
import { CONNTRACK_STATS, conntrackCollector, parseConntrackStat } from './conntrack.js';
import { ParseError } from './read.js';

describe('conntrack', () => {
  it('reads this host: entries, the limit, and the per-CPU statistics summed', async () => {
    const got = await series(conntrackCollector(paths));
    expect(got.get('node_nf_conntrack_entries')?.value).toBe(Number(fixture('sys/net/netfilter/nf_conntrack_count')));
    expect(got.get('node_nf_conntrack_entries_limit')?.value).toBe(Number(fixture('sys/net/netfilter/nf_conntrack_max')));
    for (const column of Object.keys(CONNTRACK_STATS)) expect(got.has(`node_nf_conntrack_stat_${column}`)).toBe(true);
  });

  it('sums each column over the CPUs, in hexadecimal', () => {
    const sums = parseConntrackStat('entries  found insert_failed\n0000000a 00000001 000000ff\n0000000a 00000002 00000001\n');
    expect(Object.fromEntries(sums)).toEqual({ entries: 20, found: 3, insert_failed: 256 });
  });

  it('has no series, and no failure, without the nf_conntrack module', async () => {
    expect((await series(conntrackCollector({ ...paths, proc: '/nonexistent' }))).size).toBe(0);
  });

  it.each(['', 'entries found\n0000000a\n', 'entries found\n0000000a zz\n', '1 2\n3 4\n'])('rejects %j', (text) => {
    expect(() => parseConntrackStat(text)).toThrow(ParseError);
  });
});
