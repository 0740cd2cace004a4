import path from 'node:path';

/** Where the captured host trees live: `core/test/fixtures/<tree>/{proc,sys,rootfs}`. */
export const FIXTURES = path.resolve(import.meta.dirname, '../../test/fixtures');

/**
 * The root of a captured host tree, for `VIGIL_HOST_ROOT`-style paths:
 * `this-host` (cgroup v1 hybrid), `cgroup-v2` (systemd driver, with Docker API
 * answers), `cgroup-v1`, `raspberry-pi` (thermal zone, hwmon, no PSI).
 */
export function fixtureTree(name: 'this-host' | 'cgroup-v1' | 'cgroup-v2' | 'raspberry-pi'): string {
  return path.join(FIXTURES, name);
}
