import { MetricSink } from '@vigil/core/render';
import { describe, expect, it } from 'vitest';
import { fixture, paths } from '../../test/collectors.js';
import { ParseError } from './read.js';
import { parseUdpQueues, udpQueuesCollector } from './udp-queues.js';

describe('udp_queues', () => {
  const header = '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';
  it('reads this host: each family’s queues summed, v4 and v6', async () => {
    const sink = new MetricSink();
    await udpQueuesCollector(paths).update(sink, new AbortController().signal);
    const v4 = parseUdpQueues(fixture('net/udp'));
    const v6 = parseUdpQueues(fixture('net/udp6'), 'net/udp6');
    expect(sink.families.get('node_udp_queues')?.values).toEqual([
      { labels: { ip: 'v4', queue: 'tx' }, value: v4.tx },
      { labels: { ip: 'v4', queue: 'rx' }, value: v4.rx },
      { labels: { ip: 'v6', queue: 'tx' }, value: v6.tx },
      { labels: { ip: 'v6', queue: 'rx' }, value: v6.rx },
    ]);
  });

  it('sums the hexadecimal queues of every socket', () => {
    const row = (q: string) => `  1: 00000000:0044 00000000:0000 07 ${q} 00:00000000 00000000     0        0 1234 2 0000000000000000 0\n`;
    expect(parseUdpQueues(header + row('00000010:00000100') + row('00000001:00000001'))).toEqual({ tx: 17, rx: 257 });
  });

  it.each([`${header}  1: 00000000:0044 00000000:0000 07 zz:00\n`, `${header}  1: 00000000:0044\n`])('rejects %j', (text) => {
    expect(() => parseUdpQueues(text)).toThrow(ParseError);
  });
});
