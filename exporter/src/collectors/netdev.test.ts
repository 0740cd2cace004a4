import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MetricSink } from '@vigil/core/render';
import { FIXTURES } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { NETDEV_COLUMNS, netdevCollector, parseNetdev, readOperstate } from './netdev.js';
import { ParseError } from './read.js';

const fixture = (host: string, file: string) => readFileSync(path.join(FIXTURES, host, 'proc', file), 'utf8');

describe('parseNetdev', () => {
  it('reads every interface of this host', () => {
    const text = fixture('this-host', 'net/dev');
    const stats = parseNetdev(text);
    const lines = text.trim().split('\n').slice(2);
    expect(stats.map((s) => s.device)).toEqual(lines.map((l) => l.split(':')[0]!.trim()));
    const eth0 = lines
      .find((l) => l.trim().startsWith('eth0:'))!
      .split(':')[1]!
      .trim()
      .split(/\s+/)
      .map(Number);
    expect(stats.find((s) => s.device === 'eth0')?.counters).toEqual(Object.fromEntries(NETDEV_COLUMNS.map((c, i) => [c, eth0[i]])));
  });
  it.each([
    ['a line without a colon', 'h1\nh2\neth0 1 2 3\n'],
    ['too few counters', 'h1\nh2\neth0: 1 2 3\n'],
    ['a non-numeric counter', `h1\nh2\neth0: ${'1 '.repeat(15)}x\n`],
  ])('rejects %s', (_, text) => {
    expect(() => parseNetdev(text)).toThrow(ParseError);
  });
});

describe('netdev: operstate', () => {
  it('reads operstate, null for an unknown device', async () => {
    const sys = path.join(FIXTURES, 'raspberry-pi/sys');
    expect(await readOperstate(sys, 'eth0')).toBe('up');
    expect(await readOperstate(sys, 'wlan0')).toBe('down');
    expect(await readOperstate(sys, 'nope0')).toBeNull();
  });
});

describe('netdev: receive_nohandler from sysfs', () => {
  it('reads each device’s rx_nohandler, and leaves out a device without one', async () => {
    const sys = path.join(FIXTURES, 'this-host/sys');
    const sink = new MetricSink();
    await netdevCollector({ proc: path.join(FIXTURES, 'this-host/proc'), sys, rootfs: '/' }).update(sink, new AbortController().signal);
    const want = ['eth0', 'ifb0', 'ifb1', 'lo'].map((device) => ({
      labels: { device },
      value: Number(readFileSync(path.join(sys, 'class/net', device, 'statistics/rx_nohandler'), 'utf8')),
    }));
    const got = sink.families.get('node_network_receive_nohandler_total')!;
    expect(got.type).toBe('counter');
    expect([...got.values].sort((a, b) => a.labels.device!.localeCompare(b.labels.device!))).toEqual(want);
    const pi = new MetricSink();
    await netdevCollector({
      proc: path.join(FIXTURES, 'raspberry-pi/proc'),
      sys: path.join(FIXTURES, 'raspberry-pi/sys'),
      rootfs: '/',
    }).update(pi, new AbortController().signal);
    expect(pi.families.get('node_network_receive_nohandler_total')?.values ?? []).toEqual([]);
  });
});
