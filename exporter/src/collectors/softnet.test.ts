import { MetricSink } from '@vigil/core/render';
import { describe, expect, it } from 'vitest';
import { fixture, paths } from '../../test/collectors.js';
import { ParseError } from './read.js';
import { parseSoftnet, softnetCollector } from './softnet.js';

describe('softnet', () => {
  it('reads this host: a row per CPU, labelled by the CPU index the kernel gives', async () => {
    const text = fixture('net/softnet_stat');
    const lines = text.trim().split('\n');
    const rows = parseSoftnet(text);
    expect(rows).toHaveLength(lines.length);
    for (const [i, line] of lines.entries()) {
      const c = line.trim().split(/\s+/);
      expect(rows[i]).toMatchObject({
        cpu: String(c.length >= 13 ? Number.parseInt(c[12]!, 16) : i),
        processed: Number.parseInt(c[0]!, 16),
        dropped: Number.parseInt(c[1]!, 16),
        timesSqueezed: Number.parseInt(c[2]!, 16),
      });
    }
    const sink = new MetricSink();
    await softnetCollector(paths).update(sink, new AbortController().signal);
    expect(sink.families.get('node_softnet_processed_total')).toMatchObject({
      type: 'counter',
      values: rows.map((r) => ({ labels: { cpu: r.cpu }, value: r.processed })),
    });
    expect(sink.families.get('node_softnet_times_squeezed_total')?.help).toBe('Number of times processing packets ran out of quota');
  });

  it('reads an older kernel’s rows: no CPU index, no backlog', () => {
    const rows = parseSoftnet(
      '0000000a 00000001 00000002 00000000 00000000 00000000 00000000 00000000 00000000 00000003 00000000\n'.repeat(2),
    );
    expect(rows.map((r) => r.cpu)).toEqual(['0', '1']);
    expect(rows[0]).toMatchObject({
      processed: 10,
      dropped: 1,
      timesSqueezed: 2,
      cpuCollision: 0,
      receivedRps: 3,
      flowLimitCount: 0,
      backlogLen: null,
    });
  });

  it.each(['0000000a 00000001\n', '0000000a 0000000g 00000002\n', '<html>\n'])('rejects %j', (text) => {
    expect(() => parseSoftnet(text)).toThrow(ParseError);
  });
});
