import { execFileSync } from 'node:child_process';
import { TEST_DOCKER_HOST, TEST_DOCKER_IMAGE } from '@vigil/core/testing';

export { dockerMissing } from '@vigil/core/testing';
export const DOCKER_HOST = TEST_DOCKER_HOST;
export const IMAGE = TEST_DOCKER_IMAGE;

/** Runs the docker CLI against the test engine; returns its trimmed output. */
export function docker(...args: string[]): string {
  return execFileSync('docker', args, { env: { ...process.env, DOCKER_HOST }, encoding: 'utf8' }).trim();
}
