import { execFileSync } from 'node:child_process';

/** The private test engine from scripts/test-docker.sh (CI exports it). */
export const DOCKER_HOST = process.env.VIGIL_TEST_DOCKER_HOST;
export const IMAGE = process.env.VIGIL_TEST_DOCKER_IMAGE ?? 'vigil-busybox:test';

/** Why Docker tests cannot run here, or null when they can; in CI a missing engine is a failure, not a skip. */
export function dockerMissing(): string | null {
  if (DOCKER_HOST) return null;
  if (process.env.CI) throw new Error('VIGIL_TEST_DOCKER_HOST is unset: .ci/run must start the test engine with scripts/test-docker.sh');
  return 'no test Docker engine (run: eval "$(scripts/test-docker.sh)")';
}

/** Runs the docker CLI against the test engine; returns its trimmed output. */
export function docker(...args: string[]): string {
  return execFileSync('docker', args, { env: { ...process.env, DOCKER_HOST }, encoding: 'utf8' }).trim();
}
