import path from 'node:path';
import { FIXTURES } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { cleanChipName, readHwmonTemps } from './hwmon.js';
import { ParseError } from './read.js';
import { parseMillidegrees, readThermalZones } from './thermal.js';

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
