import { spawnSync } from 'node:child_process';

/** Whether a command answers `--version` on this machine. */
export function hasCommand(cmd: string): boolean {
  return spawnSync(cmd, ['--version']).status === 0;
}

/**
 * For a test needing a Debian package's program: returns when `cmd` is here;
 * in CI its absence is a failure (.ci/run installs `pkg`); elsewhere the test
 * is skipped through `skip`, saying which package is missing.
 */
export function requireCommand(cmd: string, pkg: string, skip: (note: string) => void): void {
  if (hasCommand(cmd)) return;
  if (process.env.CI) throw new Error(`${cmd} is missing: .ci/run must install Debian's ${pkg} package`);
  skip(`${cmd} is not installed (apt-get install ${pkg})`);
}
