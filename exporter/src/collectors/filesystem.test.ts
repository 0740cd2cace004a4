import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FILESYSTEM_FILTER, parseMountinfo, selectMounts } from './filesystem.js';
import { ParseError } from './read.js';

const fixture = (host: string, file: string) => readFileSync(path.join(FIXTURES, host, 'proc', file), 'utf8');

describe('parseMountinfo', () => {
  it('reads this host and finds the root filesystem', () => {
    const mounts = parseMountinfo(fixture('this-host', '1/mountinfo'));
    const root = mounts.filter((m) => m.mountPoint === '/');
    expect(root).toHaveLength(1);
    const line = fixture('this-host', '1/mountinfo')
      .split('\n')
      .find((l) => l.split(' ')[4] === '/')!;
    const after = line.split(' - ')[1]!.split(' ');
    expect(root[0]).toMatchObject({ fsType: after[0], source: after[1] });
  });

  it('unescapes octal in paths and keeps optional fields out of the way', () => {
    const [m] = parseMountinfo('36 35 98:0 /mnt1 /mnt/my\\040disk rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n');
    expect(m).toMatchObject({ mountPoint: '/mnt/my disk', fsType: 'ext3', source: '/dev/root', root: '/mnt1', options: ['rw', 'noatime'] });
  });

  it.each(['36 35 98:0 / /mnt rw', 'x 35 98:0 / /mnt rw - ext4 /dev/sda1 rw', '36 35 98:0 / /mnt rw master:1 shared:2 x ext4'])(
    'rejects %j',
    (line) => {
      expect(() => parseMountinfo(line)).toThrow(ParseError);
    },
  );

  it('selects real filesystems, one per mount point, the last mounted winning', () => {
    const mounts = parseMountinfo(
      [
        '1 0 8:1 / / rw - ext4 /dev/sda1 rw',
        '2 1 0:5 / /proc rw - proc proc rw',
        '3 1 0:6 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw',
        '4 1 8:2 / /data rw - ext4 /dev/sdb1 rw',
        '5 1 8:3 / /data ro - xfs /dev/sdc1 ro',
        '6 1 0:7 / /run tmpfs rw - tmpfs tmpfs rw',
        '7 1 0:8 / /var/lib/docker/overlay2/abc/merged rw - overlay overlay rw',
      ].join('\n'),
    );
    expect(selectMounts(mounts, DEFAULT_FILESYSTEM_FILTER).map((m) => `${m.mountPoint} ${m.fsType}`)).toEqual([
      '/ ext4',
      '/data xfs',
      '/run tmpfs',
    ]);
  });
});
