import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixture, paths, series } from '../../test/collectors.js';
import { ParseError } from './read.js';
import { kernelPageSize, parseSockstat, sockstatCollector } from './sockstat.js';

describe('sockstat', () => {
  it('reads this host: sockets used, and each protocol’s counts with mem in bytes', async () => {
    const v4 = parseSockstat(fixture('net/sockstat'));
    const tcp = v4.protocols.find((p) => p.protocol === 'TCP')!;
    expect(tcp.fields.map(([k]) => k)).toEqual(['inuse', 'orphan', 'tw', 'alloc', 'mem']);
    const got = await series(sockstatCollector(paths));
    expect(got.get('node_sockstat_sockets_used')?.value).toBe(v4.socketsUsed);
    for (const [k, v] of tcp.fields) expect(got.get(`node_sockstat_TCP_${k}`)).toEqual({ type: 'gauge', value: v });
    expect(got.get('node_sockstat_TCP_mem_bytes')?.value).toBe(tcp.fields.find(([k]) => k === 'mem')![1] * kernelPageSize());
    expect(got.get('node_sockstat_FRAG_memory')).toBeDefined();
    const v6 = parseSockstat(fixture('net/sockstat6'), 'net/sockstat6');
    expect(v6.socketsUsed).toBeNull();
    expect(got.get('node_sockstat_TCP6_inuse')?.value).toBe(v6.protocols.find((p) => p.protocol === 'TCP6')!.fields[0]![1]);
  });

  it('knows the page size of the kernel it runs on', () => {
    const kb = /KernelPageSize:\s+(\d+) kB/.exec(readFileSync('/proc/self/smaps', 'utf8'))![1]!;
    expect(kernelPageSize()).toBe(Number(kb) * 1024);
  });

  it.each(['TCP: inuse\n', 'TCP: inuse five\n', 'TCP inuse 5\n', 'TCP: 5 inuse\n', '<html>\n'])('rejects %j', (text) => {
    expect(() => parseSockstat(text)).toThrow(ParseError);
  });
});
