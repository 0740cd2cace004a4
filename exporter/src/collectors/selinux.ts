import path from 'node:path';
import type { Collector, HostPaths } from '../collector.js';
import { parseWholeNumber, readOptional } from './read.js';

/** A mode as node_exporter numbers it: enforcing 1, permissive 0, disabled -1. */
const MODES: Record<string, number> = { enforcing: 1, permissive: 0, disabled: -1 };

/**
 * The `SELINUX=` mode of /etc/selinux/config (enforcing 1, permissive 0,
 * disabled -1); null when the file has no such line or an unknown mode.
 */
export function parseSelinuxConfig(text: string): number | null {
  let mode: number | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('SELINUX=')) continue;
    mode = MODES[line.slice('SELINUX='.length).trim().toLowerCase()] ?? null;
  }
  return mode;
}

/**
 * node_exporter's selinux collector: `node_selinux_enabled` (1 when the
 * kernel has SELinux, i.e. selinuxfs is at `<sys>/fs/selinux`), and when it
 * is on, `node_selinux_current_mode` (`<sys>/fs/selinux/enforce`: 1
 * enforcing, 0 permissive) and `node_selinux_config_mode` (the `SELINUX=` of
 * `<rootfs>/etc/selinux/config`, -1 for disabled).
 */
export function selinuxCollector(paths: HostPaths): Collector {
  return {
    name: 'selinux',
    async update(sink, signal) {
      const enforce = await readOptional(path.join(paths.sys, 'fs/selinux/enforce'), signal);
      sink.gauge('node_selinux_enabled', 'SELinux is enabled, 1 is true, 0 is false').set({}, enforce === null ? 0 : 1);
      if (enforce === null) return;
      sink
        .gauge('node_selinux_current_mode', 'Current SELinux enforcement mode')
        .set({}, parseWholeNumber(enforce, 'fs/selinux/enforce') === 1 ? 1 : 0);
      const config = await readOptional(path.join(paths.rootfs, 'etc/selinux/config'), signal, 'once');
      const mode = config === null ? null : parseSelinuxConfig(config);
      if (mode !== null) sink.gauge('node_selinux_config_mode', 'Configured SELinux enforcement mode').set({}, mode);
    },
  };
}
