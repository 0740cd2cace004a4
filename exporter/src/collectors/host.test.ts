import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURES } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DISK_EXCLUDE, parseDiskstats } from './diskstats.js';
import { cleanChipName, readHwmonTemps } from './hwmon.js';
import { readOperstate } from './netdev.js';
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
      { device: 'sda', fields: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] },
    ]);
  });

  it.each(['   8 0 sda 1 2 3', '   8 0 sda 1 2 3 4 5 6 7 x 9 10 11'])('rejects %j', (line) => {
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
