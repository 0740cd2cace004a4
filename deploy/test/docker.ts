import { type ExecFileSyncOptions, execFileSync } from 'node:child_process';
import path from 'node:path';
import { dockerMissing, TEST_DOCKER_HOST } from '@vigil/core/testing';

/** The repository's root. */
export const REPO = path.resolve(import.meta.dirname, '../..');

/** The private test engine from scripts/test-docker.sh (CI exports it). */
export const DOCKER_HOST = TEST_DOCKER_HOST;
export { dockerMissing };

/** The environment every docker and docker-compose command of these tests runs with. */
export function dockerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, DOCKER_HOST, ...extra };
}

/** Runs a command against the test engine; its trimmed stdout. @throws Error with its output when it fails */
export function run(cmd: string, args: string[], options: ExecFileSyncOptions & { env?: NodeJS.ProcessEnv } = {}): string {
  try {
    return String(
      execFileSync(cmd, args, {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
        stdio: ['ignore', 'pipe', 'pipe'],
        ...options,
        env: options.env ?? dockerEnv(),
      }),
    ).trim();
  } catch (e) {
    const err = e as { stderr?: Buffer | string; stdout?: Buffer | string; message: string };
    throw new Error(
      `${cmd} ${args.join(' ')} failed: ${err.message}\n${String(err.stdout ?? '').slice(-4000)}\n${String(err.stderr ?? '').slice(-4000)}`,
    );
  }
}

/** `docker …` against the test engine. */
export const docker = (...args: string[]): string => run('docker', args);

/**
 * The base images of scripts/docker-base.sh (made from Debian's packages where no
 * registry is reachable, kept once made): its output, the Dockerfile's build
 * arguments, or an image's name with --host or --postgres.
 */
export function baseImages(flag?: '--host' | '--postgres'): string {
  return run(path.join(REPO, 'scripts/docker-base.sh'), flag ? [flag] : [], { timeout: 900_000 });
}

/** The sh code blocks under a README heading, in order, as the reader sees them. */
export function readmeBlocks(readme: string, heading: string): string[] {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README has no "${heading}" section`);
  const end = readme.indexOf('\n## ', start + heading.length + 2);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const blocks: string[] = [];
  let at = 0;
  for (;;) {
    const open = section.indexOf('```sh\n', at);
    if (open < 0) return blocks;
    const close = section.indexOf('\n```', open + 6);
    blocks.push(section.slice(open + 6, close));
    at = close + 4;
  }
}
