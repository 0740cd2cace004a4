import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FIXTURES } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { PROC, series } from '../../test/collectors.js';
import { closeHandles } from './read.js';
import { parseSelinuxConfig, selinuxCollector } from './selinux.js';

describe('selinux', () => {
  it('is 0 without selinuxfs (this host), with no mode series', async () => {
    const got = await series(selinuxCollector({ proc: PROC, sys: path.join(FIXTURES, 'this-host/sys'), rootfs: '/nonexistent' }));
    expect([...got]).toEqual([['node_selinux_enabled', { type: 'gauge', value: 0 }]]);
  });

  it('reads the current and configured modes of a Fedora-like host, and refuses a malformed enforce file', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'vigil-selinux-'));
    try {
      mkdirSync(path.join(root, 'sys/fs/selinux'), { recursive: true });
      mkdirSync(path.join(root, 'etc/selinux'), { recursive: true });
      writeFileSync(path.join(root, 'sys/fs/selinux/enforce'), '0');
      writeFileSync(
        path.join(root, 'etc/selinux/config'),
        '# This file controls the state of SELinux on the system.\nSELINUX=enforcing\nSELINUXTYPE=targeted\n',
      );
      const c = selinuxCollector({ proc: PROC, sys: path.join(root, 'sys'), rootfs: root });
      const got = await series(c);
      expect(got.get('node_selinux_enabled')!.value).toBe(1);
      expect(got.get('node_selinux_current_mode')!.value).toBe(0);
      expect(got.get('node_selinux_config_mode')!.value).toBe(1);
      expect(parseSelinuxConfig('SELINUX=disabled\n')).toBe(-1);
      expect(parseSelinuxConfig('SELINUX=sometimes\n')).toBeNull();
      writeFileSync(path.join(root, 'sys/fs/selinux/enforce'), 'on');
      closeHandles((p) => p.startsWith(root));
      await expect(series(c)).rejects.toThrow(/fs\/selinux\/enforce line 1: expected a whole number, got "on"/);
      closeHandles((p) => p.startsWith(root));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
