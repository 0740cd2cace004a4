import os from 'node:os';
import path from 'node:path';
import { FIXTURES } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { readUname } from './uname.js';

describe('uname', () => {
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
});
