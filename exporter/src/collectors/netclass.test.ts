import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MetricSink } from '@vigil/core/render';
import { FIXTURES } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { paths } from '../../test/collectors.js';
import { NETCLASS_PROPERTIES, netclassCollector, sysfsNumber } from './netclass.js';
import { readKeptSync } from './read.js';

describe('netclass', () => {
  const sys = path.join(FIXTURES, 'this-host', 'sys');
  const read = (device: string, file: string) => {
    try {
      return readFileSync(path.join(sys, 'class/net', device, file), 'utf8').trim();
    } catch {
      return null;
    }
  };

  it('reads each device of this host: info labels, and every property it has', async () => {
    const sink = new MetricSink();
    await netclassCollector({ ...paths, sys }).update(sink, new AbortController().signal);
    const devices = ['eth0', 'ifb0', 'ifb1', 'lo'];
    expect(sink.families.get('node_network_info')?.values.map((v) => v.labels)).toEqual(
      devices.map((device) => ({
        address: read(device, 'address') ?? '',
        broadcast: read(device, 'broadcast') ?? '',
        device,
        duplex: read(device, 'duplex') ?? '',
        ifalias: read(device, 'ifalias') ?? '',
        operstate: read(device, 'operstate') ?? '',
      })),
    );
    for (const [file, name, counter] of NETCLASS_PROPERTIES) {
      const expected = devices
        .filter((d) => read(d, file) !== null)
        .map((device) => ({ labels: { device }, value: sysfsNumber(read(device, file)!)! * (file === 'speed' ? 125_000 : 1) }));
      const family = sink.families.get(`node_network_${name}`);
      expect(family?.values ?? [], name).toEqual(expected);
      if (family) expect(family.type).toBe(counter ? 'counter' : 'gauge');
    }
    expect(sink.families.get('node_network_mtu_bytes')?.help).toBe('Network device property: mtu_bytes');
  });

  it('does not ask again for a file the kernel refused until the device changes state', async () => {
    // A copy of this host's tree where eth0 is down: its kernel refuses speed (EINVAL).
    const tree = mkdtempSync(path.join(tmpdir(), 'netclass-'));
    cpSync(path.join(sys, 'class/net'), path.join(tree, 'class/net'), { recursive: true, dereference: true });
    const dev = path.join(tree, 'class/net/eth0');
    let up = false;
    const asked: string[] = [];
    const readKept = (p: string) => {
      const text = readKeptSync(p);
      if (text !== undefined && p.endsWith('eth0/speed')) {
        asked.push(p);
        if (!up) throw Object.assign(new Error('EINVAL: invalid argument, read'), { code: 'EINVAL' });
      }
      return text;
    };
    const collector = netclassCollector({ ...paths, sys: tree }, readKept);
    const speed = async () => {
      const sink = new MetricSink();
      await collector.update(sink, new AbortController().signal);
      return sink.families.get('node_network_speed_bytes')?.values.find((v) => v.labels.device === 'eth0')?.value;
    };
    try {
      writeFileSync(path.join(dev, 'operstate'), 'down\n');
      writeFileSync(path.join(dev, 'speed'), '10000\n');
      // The first scrape opens every file (no kept handle yet), the second is refused.
      expect(await speed()).toBe(10_000 * 125_000);
      expect(await speed()).toBeUndefined();
      expect(asked).toHaveLength(1);
      // Refused in the same state: not asked again, still no series.
      expect(await speed()).toBeUndefined();
      expect(await speed()).toBeUndefined();
      expect(asked).toHaveLength(1);
      // The link comes up (its operstate moves): asked again, and answered.
      up = true;
      writeFileSync(path.join(dev, 'operstate'), 'up\n');
      expect(await speed()).toBe(10_000 * 125_000);
      expect(asked).toHaveLength(2);
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });

  it.each([
    ['1500', 1500],
    ['-1', -1],
    ['0x1003', 4099],
    ['0x0', 0],
    ['unknown', null],
    ['', null],
  ])('reads the sysfs number %j as %j', (text, want) => {
    expect(sysfsNumber(text)).toBe(want);
  });
});
