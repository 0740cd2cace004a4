import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MetricSink } from '@vigil/core/render';
import { FIXTURES } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DISK_EXCLUDE, diskstatsCollector, parseDiskstats } from './diskstats.js';
import { cleanChipName, readHwmonTemps } from './hwmon.js';
import { netdevCollector, readOperstate } from './netdev.js';
import { parsePressure } from './pressure.js';
import { ParseError } from './read.js';
import { parseMillidegrees, readThermalZones } from './thermal.js';
import { readUname } from './uname.js';

const read = (p: string) => readFileSync(path.join(FIXTURES, p), 'utf8');

describe('parseDiskstats', () => {
  it('reads this host: every line, 17 fields on this kernel', () => {
    const text = read('this-host/proc/diskstats');
    const disks = parseDiskstats(text);
    expect(disks).toHaveLength(text.trim().split('\n').length);
    const vda = text
      .split('\n')
      .find((l) => / vda /.test(l))!
      .trim()
      .split(/\s+/)
      .slice(3)
      .map(Number);
    expect(disks.find((d) => d.device === 'vda')?.fields).toEqual(vda);
  });

  it('reads an old kernel with 11 counters', () => {
    expect(parseDiskstats('   8       0 sda 1 2 3 4 5 6 7 8 9 10 11\n')).toEqual([
      { device: 'sda', major: 8, minor: 0, fields: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] },
    ]);
  });

  it.each(['   8 0 sda 1 2 3', '   8 0 sda 1 2 3 4 5 6 7 x 9 10 11', '   8 x sda 1 2 3 4 5 6 7 8 9 10 11'])('rejects %j', (line) => {
    expect(() => parseDiskstats(line)).toThrow(ParseError);
  });

  it.each([
    ['sda', false],
    ['sda1', true],
    ['nvme0n1', false],
    ['nvme0n1p2', true],
    ['mmcblk0', false],
    ['mmcblk0p2', true],
    ['loop3', true],
    ['zram0', true],
    ['dm-0', false],
  ])('default exclusion: %s excluded=%s', (dev, excluded) => {
    expect(DEFAULT_DISK_EXCLUDE.test(dev)).toBe(excluded);
  });
});

describe('parsePressure', () => {
  it('reads this host, µs as seconds', () => {
    const text = read('this-host/proc/pressure/memory');
    const [some, full] = [...text.matchAll(/total=(\d+)/g)].map((m) => Number(m[1]) / 1e6);
    expect(parsePressure(text)).toEqual({ someSeconds: some, fullSeconds: full });
  });
  it('reads a cpu file without a full line', () => {
    expect(parsePressure('some avg10=0.00 avg60=0.00 avg300=0.00 total=1500000\n')).toEqual({ someSeconds: 1.5, fullSeconds: null });
  });
  it.each(['', 'full avg10=0 total=5', 'some avg10=0.00 total=lots'])('rejects %j', (text) => {
    expect(() => parsePressure(text)).toThrow(ParseError);
  });
});

describe('temperatures', () => {
  it.each([
    ['48312\n', 48.312],
    ['-5000', -5],
    ['0', 0],
  ])('parseMillidegrees(%j) = %d', (t, c) => expect(parseMillidegrees(t, 'temp')).toBe(c));
  it.each(['', 'hot', '48.3'])('parseMillidegrees rejects %j', (t) => expect(() => parseMillidegrees(t, 'temp')).toThrow(ParseError));

  it("reads a Raspberry Pi's cpu-thermal zone and hwmon chip", async () => {
    expect(await readThermalZones(path.join(FIXTURES, 'raspberry-pi/sys'))).toEqual([{ zone: '0', type: 'cpu-thermal', celsius: 48.312 }]);
    expect(await readHwmonTemps(path.join(FIXTURES, 'raspberry-pi/sys'))).toEqual([
      { chip: 'cpu_thermal', chipName: 'cpu_thermal', sensor: 'temp1', label: null, celsius: 48.312 },
    ]);
  });

  it('finds nothing, without failing, on a host without sensors', async () => {
    expect(await readThermalZones(path.join(FIXTURES, 'this-host/sys'))).toEqual([]);
    expect(await readHwmonTemps(path.join(FIXTURES, 'this-host/sys'))).toEqual([]);
  });

  it.each([
    ['Platform CoreTemp.0', 'platform_coretemp_0'],
    ['__x__', 'x'],
    ['nvme', 'nvme'],
  ])('cleanChipName(%j) = %j', (a, b) => expect(cleanChipName(a)).toBe(b));
});

describe('uname and operstate', () => {
  it('reads uname fields from the Pi fixture', async () => {
    expect(await readUname(path.join(FIXTURES, 'raspberry-pi/proc'))).toEqual({
      sysname: 'Linux',
      release: '6.1.0-rpi7-rpi-v8',
      version: '#1 SMP PREEMPT Debian 1:6.1.63-1+rpt1 (2023-11-24)',
      machine: os.machine(),
      nodename: 'pi-rack-1',
      domainname: '(none)',
    });
  });
  it('reads operstate, null for an unknown device', async () => {
    const sys = path.join(FIXTURES, 'raspberry-pi/sys');
    expect(await readOperstate(sys, 'eth0')).toBe('up');
    expect(await readOperstate(sys, 'wlan0')).toBe('down');
    expect(await readOperstate(sys, 'nope0')).toBeNull();
  });
});

describe('node_disk_info from the udev database', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'vigil-udev-'));
    mkdirSync(path.join(root, 'proc'));
    mkdirSync(path.join(root, 'run/udev/data'), { recursive: true });
    writeFileSync(
      path.join(root, 'proc/diskstats'),
      '   8       0 sda 1 2 3 4 5 6 7 8 9 10 11\n 253       0 dm-0 1 2 3 4 5 6 7 8 9 10 11\n 259       0 nvme0n1 1 2 3 4 5 6 7 8 9 10 11\n',
    );
    // As `udevadm info` stores them on a Debian host: a SATA SSD and an LVM volume.
    writeFileSync(
      path.join(root, 'run/udev/data/b8:0'),
      [
        'S:disk/by-id/ata-Samsung_SSD_870_EVO_1TB_S6PUNX0T123456',
        'S:disk/by-path/pci-0000:00:17.0-ata-1',
        'W:12',
        'I:2345678',
        'E:ID_ATA=1',
        'E:ID_TYPE=disk',
        'E:ID_BUS=ata',
        'E:ID_MODEL=Samsung_SSD_870_EVO_1TB',
        'E:ID_REVISION=SVT02B6Q',
        'E:ID_SERIAL=Samsung_SSD_870_EVO_1TB_S6PUNX0T123456',
        'E:ID_SERIAL_SHORT=S6PUNX0T123456',
        'E:ID_WWN=0x5002538f4123456a',
        'E:ID_PATH=pci-0000:00:17.0-ata-1',
        'E:ID_PATH_TAG=pci-0000_00_17_0-ata-1',
        'G:systemd',
        'not a udev line',
        'E:=no key',
      ].join('\n'),
    );
    writeFileSync(
      path.join(root, 'run/udev/data/b253:0'),
      [
        'S:mapper/vg0-root',
        'E:DM_NAME=vg0-root',
        'E:DM_UUID=LVM-abcdEFGHijklMNOPqrstUVWXyz0123456789abcdefGHIJKLmnopQRSTuv',
        'E:DM_VG_NAME=vg0',
        'E:DM_LV_NAME=root',
        'E:DM_SUSPENDED=0',
      ].join('\n'),
    );
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('labels each disk with udev’s properties, empty where udev has none, and device-mapper volumes by name', async () => {
    const sink = new MetricSink();
    await diskstatsCollector({ proc: path.join(root, 'proc'), sys: '/nonexistent', rootfs: root }).update(
      sink,
      new AbortController().signal,
    );
    expect(sink.families.get('node_disk_info')!.values).toEqual([
      {
        labels: {
          device: 'sda',
          major: '8',
          minor: '0',
          path: 'pci-0000:00:17.0-ata-1',
          wwn: '0x5002538f4123456a',
          model: 'Samsung_SSD_870_EVO_1TB',
          serial: 'S6PUNX0T123456',
          revision: 'SVT02B6Q',
        },
        value: 1,
      },
      { labels: { device: 'dm-0', major: '253', minor: '0', path: '', wwn: '', model: '', serial: '', revision: '' }, value: 1 },
      { labels: { device: 'nvme0n1', major: '259', minor: '0', path: '', wwn: '', model: '', serial: '', revision: '' }, value: 1 },
    ]);
    expect(sink.families.get('node_disk_device_mapper_info')!.values).toEqual([
      {
        labels: {
          device: 'dm-0',
          name: 'vg0-root',
          uuid: 'LVM-abcdEFGHijklMNOPqrstUVWXyz0123456789abcdefGHIJKLmnopQRSTuv',
          vg_name: 'vg0',
          lv_name: 'root',
          lv_layer: '',
        },
        value: 1,
      },
    ]);
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
