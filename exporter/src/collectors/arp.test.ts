import { MetricSink } from '@vigil/core/render';
import { describe, expect, it } from 'vitest';
import { fixture, paths } from '../../test/collectors.js';
import { arpCollector, parseArp } from './arp.js';
import { ParseError } from './read.js';

describe('arp', () => {
  it('counts this host’s entries per device', async () => {
    const text = fixture('net/arp');
    const entries = text.trim().split('\n').slice(1);
    const byDevice = parseArp(text);
    expect([...byDevice.values()].reduce((a, b) => a + b, 0)).toBe(entries.length);
    const sink = new MetricSink();
    await arpCollector(paths).update(sink, new AbortController().signal);
    expect(sink.families.get('node_arp_entries')?.values).toEqual([...byDevice].map(([device, n]) => ({ labels: { device }, value: n })));
  });

  it('counts several devices', () => {
    const text =
      'IP address       HW type     Flags       HW address            Mask     Device\n' +
      '10.0.0.1 0x1 0x2 aa:bb:cc:dd:ee:01 * eth0\n10.0.0.2 0x1 0x2 aa:bb:cc:dd:ee:02 * eth0\n10.1.0.1 0x1 0x2 aa:bb:cc:dd:ee:03 * wlan0\n';
    expect(Object.fromEntries(parseArp(text))).toEqual({ eth0: 2, wlan0: 1 });
  });

  it.each(['', '10.0.0.1 0x1 0x2 aa:bb * eth0\n', 'IP address HW type Flags HW address Mask Device\n10.0.0.1 0x1 eth0\n'])(
    'rejects %j',
    (text) => {
      expect(() => parseArp(text)).toThrow(ParseError);
    },
  );
});
