import { spawnSync } from 'node:child_process';

/** Whether a command answers `--version` on this machine. */
export function hasCommand(cmd: string, versionArgs: readonly string[] = ['--version']): boolean {
  return spawnSync(cmd, versionArgs).status === 0;
}

/**
 * For a test needing a Debian package's program: returns when `cmd` is here;
 * in CI its absence is a failure (.ci/run installs `pkg`); elsewhere the test
 * is skipped through `skip`, saying which package is missing. `versionArgs`
 * are what makes `cmd` answer and exit 0 (`--version` for most; `-v` for nginx).
 */
export function requireCommand(
  cmd: string,
  pkg: string,
  skip: (note: string) => void,
  versionArgs: readonly string[] = ['--version'],
): void {
  if (hasCommand(cmd, versionArgs)) return;
  if (process.env.CI) throw new Error(`${cmd} is missing: .ci/run must install Debian's ${pkg} package`);
  skip(`${cmd} is not installed (apt-get install ${pkg})`);
}
