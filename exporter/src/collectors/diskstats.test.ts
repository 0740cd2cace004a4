import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MetricSink } from '@vigil/core/render';
import { FIXTURES } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DISK_EXCLUDE, diskstatsCollector, parseDiskstats } from './diskstats.js';
import { ParseError } from './read.js';

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
