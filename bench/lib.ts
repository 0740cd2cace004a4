import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '..');

/**
 * The private test Docker engine (scripts/test-docker.sh, started if needed)
 * with `n` busybox containers sleeping under one fresh label; `remove()` them
 * when done.
 */
export function benchContainers(n: number, prefix: string) {
  const env = Object.fromEntries(
    execFileSync('bash', ['scripts/test-docker.sh'], { cwd: REPO, encoding: 'utf8' })
      .replace(/^export /, '')
      .trim()
      .split(/\s+/)
      .map((kv) => kv.split('=') as [string, string]),
  );
  const dockerHost = env.VIGIL_TEST_DOCKER_HOST!;
  const docker = (...args: string[]) => execFileSync('docker', args, { env: { ...process.env, DOCKER_HOST: dockerHost }, encoding: 'utf8' }).trim();
  const run = `${prefix}${Date.now().toString(36)}`;
  const label = `vigil.bench=${run}`;
  const names = Array.from({ length: n }, (_, i) => `${run}-${i}`);
  process.stderr.write(`starting ${n} containers…\n`);
  for (const name of names) docker('run', '-d', '--network', 'none', '--name', name, '--label', label, env.VIGIL_TEST_DOCKER_IMAGE!, 'sleep', '3600');
  return { dockerHost, docker, label, names, remove: () => (names.length ? docker('rm', '-f', ...names) : '') };
}

let exporterBuilt = false;

/**
 * The command line that runs the exporter as hosts do: the launcher with its
 * V8 flags, on a bundle built now from the current sources (the launcher would
 * otherwise fall back to the TypeScript sources when they are newer, and the
 * figures would be tsx's). Built once per run.
 */
export function exporterCommand(flags: readonly string[]): [string, string[]] {
  if (!exporterBuilt) execFileSync(process.execPath, [path.join(REPO, 'exporter/build.mjs')], { cwd: REPO, stdio: 'ignore' });
  exporterBuilt = true;
  return [process.execPath, [...flags, path.join(REPO, 'exporter/bin/vigil-exporter.js')]];
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A free loopback port (bound, then closed): the tests' helper. */
export { closedPort as freePort } from '../scraper/test/servers.js';

/** Starts a process and waits until `url` answers; kill it with `.kill()`. */
export async function startProcess(cmd: string, args: string[], url: string, env: NodeJS.ProcessEnv = process.env): Promise<ChildProcess> {
  const child = spawn(cmd, args, { cwd: REPO, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${cmd} exited: ${stderr}`);
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill();
  throw new Error(`${cmd} did not answer at ${url}`);
}

/** One timed GET: milliseconds and body bytes. */
export async function timedGet(url: string): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  const r = await fetch(url);
  const body = await r.arrayBuffer();
  const ms = performance.now() - t0;
  if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status}`);
  return { ms, bytes: body.byteLength };
}

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo]! + (s[Math.ceil(i)]! - s[lo]!) * (i - lo);
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (VmRSS). */
export function rssBytes(pid: number): number {
  return residentMemory(pid).rss;
}

/**
 * A process's resident memory in bytes from /proc/<pid>/status: `rss` (VmRSS)
 * = `anon` (RssAnon: heaps, stacks) + `file` (RssFile: pages of the executable
 * and libraries mapped in) + shared memory.
 */
export function residentMemory(pid: number): { rss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : NaN;
  };
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}

/** Replaces the section `## <title>` of bench/RESULTS.md with `body` (adds it when missing). */
export function recordSection(title: string, body: string): void {
  const file = path.join(REPO, 'bench/RESULTS.md');
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text = '# Benchmark results\n\nEach section is written by the benchmark named in it, run with `--record`; figures are from one run on the machine it names.\n';
  }
  const heading = `## ${title}`;
  const start = text.indexOf(heading);
  const section = `${heading}\n\n${body.trim()}\n`;
  if (start < 0) text = `${text.trimEnd()}\n\n${section}`;
  else {
    const next = text.indexOf('\n## ', start + heading.length);
    text = `${text.slice(0, start)}${section}${next < 0 ? '' : text.slice(next)}`;
  }
  writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
}
