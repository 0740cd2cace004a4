import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createDb, type EmbeddedPostgres, migrateToLatest, parseDatabaseUrl, startEmbeddedPostgres, upsertTarget } from '@vigil/db';
import { listenAddress, parseEnv, seconds } from '@vigil/exporter';
import * as z from 'zod/mini';

/** The V8 flags the exporter runs with (as in its bin's shebang): a small heap for a per-host process. */
export const EXPORTER_NODE_FLAGS = ['--single-threaded', '--max-semi-space-size=1', '--optimize-for-size', '--expose-gc', '--no-opt', '--no-sparkplug'];

/** The repository root: the workspaces live below it. */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

type Out = (s: string) => void;

const schema = z.object({
  VIGIL_EXPORTER_LISTEN: listenAddress('127.0.0.1:9110'),
  VIGIL_CONSOLE_LISTEN: listenAddress('127.0.0.1:3000'),
  VIGIL_LOCAL_INTERVAL: seconds(15, { min: 1, max: 3600 }),
});

/** The URL the local scraper reaches an exporter listening on `host:port` at. */
export function localUrl(listen: { host: string; port: number }, pathname = ''): string {
  const host = listen.host === '0.0.0.0' || listen.host === '' ? '127.0.0.1' : listen.host === '::' ? '[::1]' : listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return `http://${host}:${listen.port}${pathname}`;
}

async function waitFor(url: string, seconds: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`it exited with code ${child.exitCode} before answering at ${url}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await r.body?.cancel();
      if (r.status < 500) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no answer at ${url} within ${seconds} s`);
}

/** A whole Vigil running on this machine. */
export interface LocalVigil {
  consoleUrl: string;
  databaseUrl: string;
  children: Record<'exporter' | 'scraper' | 'console', ChildProcess>;
  stop(): Promise<void>;
}

/**
 * `vigil start`: the whole system on this machine. With DATABASE_URL unset it
 * serves embedded PGlite (in .vigil/pgdata) on loopback; it migrates, registers
 * the local exporter as a target named after this host, builds the console on
 * first use, and runs exporter, scraper and console as child processes whose
 * output it prefixes with their names.
 * @throws when a part fails to start; the parts already started are stopped
 */
export async function startLocal(env: NodeJS.ProcessEnv, out: Out): Promise<LocalVigil> {
  const cfg = parseEnv(schema, env);
  parseDatabaseUrl(env.DATABASE_URL); // fail early on a bad value
  let embedded: EmbeddedPostgres | null = null;
  const children: Partial<LocalVigil['children']> = {};
  const stop = async () => {
    await Promise.all(
      Object.values(children).map(
        (c) =>
          new Promise<void>((resolve) => {
            if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 5000).unref();
          }),
      ),
    );
    await embedded?.stop();
    embedded = null;
  };
  try {
    let databaseUrl = env.DATABASE_URL ?? '';
    const loc = parseDatabaseUrl(env.DATABASE_URL);
    if (loc.kind === 'pglite') {
      if (loc.dataDir === 'memory') throw new Error('vigil start needs a database its processes can share: use pglite://<dir>, a postgres:// URL, or leave DATABASE_URL unset');
      out(`database: embedded PGlite in ${loc.dataDir}\n`);
      embedded = await startEmbeddedPostgres(loc.dataDir);
      databaseUrl = embedded.url;
    } else out('database: PostgreSQL from DATABASE_URL\n');

    const db = await createDb(databaseUrl, { max: 1, applicationName: 'vigil-start' });
    try {
      const applied = await migrateToLatest(db);
      if (applied.length) out(`migrated: ${applied.join(', ')}\n`);
      const interval = Math.round(cfg.VIGIL_LOCAL_INTERVAL);
      const target = await upsertTarget(db, {
        name: os.hostname(),
        url: localUrl(cfg.VIGIL_EXPORTER_LISTEN, '/metrics'),
        interval_seconds: interval,
        timeout_seconds: Math.min(10, interval),
        source: 'start',
      });
      out(`target: ${target.name} → ${target.url}\n`);
    } finally {
      await db.destroy();
    }

    if (!existsSync(path.join(REPO_ROOT, 'console/build/handler.js'))) {
      out('building the console (first start only)…\n');
      await run('npm', ['run', 'build', '--silent', '-w', 'console'], out);
    }

    const childEnv = { ...env, DATABASE_URL: databaseUrl, VIGIL_LOG_PRETTY: env.VIGIL_LOG_PRETTY ?? '1' };
    const tsx = ['--import', 'tsx'];
    children.exporter = launch('exporter', [...EXPORTER_NODE_FLAGS, 'exporter/bin/vigil-exporter.js'], childEnv, out);
    children.scraper = launch('scraper', ['scraper/bin/vigil.js', 'scraper'], childEnv, out);
    children.console = launch('console', [...tsx, 'console/server.ts'], childEnv, out);
    const consoleUrl = localUrl(cfg.VIGIL_CONSOLE_LISTEN).replace('//127.0.0.1:', '//localhost:');
    for (const [name, url] of [['exporter', localUrl(cfg.VIGIL_EXPORTER_LISTEN, '/health')], ['console', `${consoleUrl}/`]] as const) {
      try {
        await waitFor(url, 60, children[name]!);
      } catch (e) {
        throw new Error(`the ${name} did not start: ${(e as Error).message}`);
      }
    }
    return { consoleUrl, databaseUrl, children: children as LocalVigil['children'], stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function launch(name: string, args: string[], env: NodeJS.ProcessEnv, out: Out): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => out(`[${name}] ${line}\n`));
  }
  child.on('exit', (code, signal) => out(`[${name}] exited (${signal ?? `code ${code}`})\n`));
  out(`[${name}] started, pid ${child.pid}\n`);
  return child;
}

function run(cmd: string, args: string[], out: Out): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (l) => out(`  ${l}\n`));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed with code ${code}`))));
  });
}
