import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ensureBuilt, packageBin, startTestDocker } from '@vigil/core/testing';
import pg from 'pg';

export const REPO = path.resolve(import.meta.dirname, '..');

/**
 * The private test Docker engine (scripts/test-docker.sh, started if needed):
 * its address, its busybox image, and the docker CLI pointed at it (trimmed output).
 */
export function benchDocker() {
  const { host: dockerHost, image } = startTestDocker(REPO);
  const docker = (...args: string[]) =>
    execFileSync('docker', args, { env: { ...process.env, DOCKER_HOST: dockerHost }, encoding: 'utf8', maxBuffer: 64 << 20 }).trim();
  return { dockerHost, image, docker };
}

/**
 * The private test Docker engine (scripts/test-docker.sh, started if needed)
 * with `n` busybox containers sleeping under one fresh label; `remove()` them
 * when done.
 */
export function benchContainers(n: number, prefix: string) {
  const { dockerHost, docker, image } = benchDocker();
  const run = `${prefix}${Date.now().toString(36)}`;
  const label = `vigil.bench=${run}`;
  const names = Array.from({ length: n }, (_, i) => `${run}-${i}`);
  process.stderr.write(`starting ${n} containers…\n`);
  for (const name of names) docker('run', '-d', '--network', 'none', '--name', name, '--label', label, image, 'sleep', '3600');
  return { dockerHost, docker, label, names, remove: () => (names.length ? docker('rm', '-f', ...names) : '') };
}

/** The exporter's launcher and built bundle, found through its package as npm links it. */
function exporterFiles(): { bin: string; dist: string } {
  const bin = packageBin('@vigil/exporter', 'vigil-exporter', import.meta.url);
  return { bin, dist: path.join(path.dirname(bin), '../dist/vigil-exporter.mjs') };
}

/** The V8 flags the exporter's launcher runs it with (its shebang line). */
export function launcherFlags(): string[] {
  return readFileSync(exporterFiles().bin, 'utf8')
    .split('\n')[0]!
    .split(/\s+/)
    .filter((w) => w.startsWith('--'));
}

/**
 * The command line that runs the exporter's bundle as hosts do, with exactly
 * `flags` (the launcher would add back any of its own that are missing): the
 * bundle is built first when its sources are newer, so figures are never a
 * stale build's.
 */
export function exporterCommand(flags: readonly string[]): [string, string[]] {
  ensureBuilt('exporter', 'dist/vigil-exporter.mjs', ['exporter/src', 'exporter/bin', 'core/src']);
  const entry = `const { main } = await import(${JSON.stringify(exporterFiles().dist)}); await main([]);`;
  return [process.execPath, [...flags, '--input-type=module', '-e', entry]];
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A free loopback port (bound, then closed): the tests' helper. */
export { freePort } from '@vigil/core/testing';

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
    text =
      '# Benchmark results\n\nEach section is written by the benchmark named in it, run with `--record`; figures are from one run on the machine it names.\n';
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

/**
 * A TCP proxy in front of PostgreSQL that counts the statements its clients
 * run: each simple Query ('Q') and each Execute ('E') of the extended protocol,
 * read from the frontend's message stream (after the length-prefixed startup
 * message). The program measured connects through it, so only its statements count.
 */
export async function countingProxy(target: URL): Promise<{ port: number; statements: () => number; close(): void }> {
  let statements = 0;
  const proxy = net.createServer((client) => {
    const upstream = net.connect({ port: Number(target.port || 5432), host: target.hostname, noDelay: true });
    client.setNoDelay(true); // no Nagle delays: the proxy adds a hop, not 40 ms stalls
    let buffered = Buffer.alloc(0);
    let started = false;
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        if (!started) {
          if (buffered.length < 4) break;
          const len = buffered.readInt32BE(0);
          if (buffered.length < len) break;
          const code = buffered.readInt32BE(4);
          buffered = buffered.subarray(len);
          // An SSL request (80877103) is answered 'N' and followed by the real startup message.
          if (code !== 80877103) started = true;
          continue;
        }
        if (buffered.length < 5) break;
        const len = buffered.readInt32BE(1);
        if (buffered.length < len + 1) break;
        const type = String.fromCharCode(buffered[0]!);
        if (type === 'Q' || type === 'E') statements++;
        buffered = buffered.subarray(len + 1);
      }
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  return { port: (proxy.address() as net.AddressInfo).port, statements: () => statements, close: () => proxy.close() };
}

/**
 * A throwaway database `<prefix>_<pid>` on TEST_DATABASE_URL's server (made
 * empty, dropped with `drop()`), so a benchmark writes to the real PostgreSQL.
 * @throws Error when TEST_DATABASE_URL is unset
 */
export async function throwawayDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const server = process.env.TEST_DATABASE_URL;
  if (!server) throw new Error('set TEST_DATABASE_URL to a PostgreSQL server (a throwaway database is made there)');
  const name = `${prefix}_${process.pid}`;
  const run = async (sqlText: string) => {
    const c = new pg.Client({ connectionString: server });
    await c.connect();
    try {
      await c.query(sqlText);
    } finally {
      await c.end();
    }
  };
  await run(`drop database if exists ${name} with (force)`);
  await run(`create database ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`drop database if exists ${name} with (force)`) };
}
