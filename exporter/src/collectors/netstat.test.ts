import { MetricSink } from '@vigil/core/render';
import { describe, expect, it } from 'vitest';
import { fixture, paths } from '../../test/collectors.js';
import { DEFAULT_NETSTAT_FIELDS, netstatCollector, parseNetstatPairs, parseSnmp6 } from './netstat.js';
import { ParseError } from './read.js';

describe('netstat', () => {
  it('reads this host’s netstat, snmp and snmp6, and exports node_exporter’s default fields, untyped', async () => {
    const pairs = (file: string) => {
      const lines = fixture(file).trim().split('\n');
      const out: [string, number][] = [];
      for (let i = 0; i < lines.length; i += 2) {
        const [proto, ...names] = lines[i]!.split(' ');
        const values = lines[i + 1]!.split(' ').slice(1);
        for (const [k, n] of names.entries()) out.push([`${proto!.slice(0, -1)}_${n}`, Number(values[k])]);
      }
      return out;
    };
    expect(parseNetstatPairs(fixture('net/netstat'), 'net/netstat')).toEqual(pairs('net/netstat'));
    expect(parseNetstatPairs(fixture('net/snmp'), 'net/snmp')).toEqual(pairs('net/snmp'));
    const six = parseSnmp6(fixture('net/snmp6'));
    expect(six.find(([k]) => k === 'Ip6_InReceives')).toBeDefined();
    expect(six.find(([k]) => k === 'Udp6_InDatagrams')).toBeDefined();

    const sink = new MetricSink();
    await netstatCollector(paths).update(sink, new AbortController().signal);
    const expected = [...pairs('net/netstat'), ...pairs('net/snmp'), ...six].filter(([k]) => DEFAULT_NETSTAT_FIELDS.test(k));
    expect([...sink.families.keys()]).toEqual(expected.map(([k]) => `node_netstat_${k}`));
    for (const name of ['Tcp_RetransSegs', 'Tcp_CurrEstab', 'TcpExt_ListenOverflows', 'Udp_RcvbufErrors', 'Ip6_InOctets']) {
      const f = sink.families.get(`node_netstat_${name}`)!;
      expect(f.type).toBe('untyped');
      expect(f.values[0]!.value).toBe(expected.find(([k]) => k === name)![1]);
    }
    expect(sink.families.get('node_netstat_Tcp_RetransSegs')!.help).toBe('Statistic TcpRetransSegs.');
  });

  it.each([
    ['Tcp: A B\nTcp: 1\n', 'net/snmp'],
    ['Tcp: A B\nUdp: 1 2\n', 'net/snmp'],
    ['Tcp: A B\n', 'net/snmp'],
    ['Tcp: A\nTcp: x\n', 'net/snmp'],
  ])('rejects %j', (text, file) => {
    expect(() => parseNetstatPairs(text, file)).toThrow(ParseError);
  });

  it.each(['IpInReceives 1\n', 'Ip6InReceives\n', 'Ip6InReceives many\n'])('rejects the snmp6 line %j', (text) => {
    expect(() => parseSnmp6(text)).toThrow(ParseError);
  });
});
