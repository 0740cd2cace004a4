import { execFileSync } from 'node:child_process';

/** The private test engine from scripts/test-docker.sh (CI exports VIGIL_TEST_DOCKER_HOST). */
export const TEST_DOCKER_HOST = process.env.VIGIL_TEST_DOCKER_HOST;
/** The tiny busybox image that script imports. */
export const TEST_DOCKER_IMAGE = process.env.VIGIL_TEST_DOCKER_IMAGE ?? 'vigil-busybox:test';

/** Why Docker tests cannot run here, or null when they can; in CI a missing engine is a failure, not a skip. */
export function dockerMissing(): string | null {
  if (TEST_DOCKER_HOST) return null;
  if (process.env.CI) throw new Error('VIGIL_TEST_DOCKER_HOST is unset: .ci/run must start the test engine with scripts/test-docker.sh');
  return 'no test Docker engine (run: eval "$(scripts/test-docker.sh)")';
}

/**
 * Starts the private test engine if it is not running (scripts/test-docker.sh,
 * from the repository at `repo`) and returns what that script exports:
 * `VIGIL_TEST_DOCKER_HOST` and `VIGIL_TEST_DOCKER_IMAGE`. For benchmarks,
 * which start it themselves.
 */
export function startTestDocker(repo: string): { host: string; image: string } {
  const vars = Object.fromEntries(
    execFileSync('bash', ['scripts/test-docker.sh'], { cwd: repo, encoding: 'utf8' })
      .replace(/^export /, '')
      .trim()
      .split(/\s+/)
      .map((kv) => kv.split('=') as [string, string]),
  );
  return { host: vars.VIGIL_TEST_DOCKER_HOST!, image: vars.VIGIL_TEST_DOCKER_IMAGE! };
}
