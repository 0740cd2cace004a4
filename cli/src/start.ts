import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigError, listenAddress, parseEnv, seconds } from '@vigil/core/config';
import type { VariableDocs } from '@vigil/core/variables';
import {
  createDb,
  createFirstAdmin,
  type EmbeddedPostgres,
  firstAdminMessage,
  migrateToLatest,
  parseDatabaseUrl,
  seedDefaultAlertRules,
  startEmbeddedPostgres,
  upsertTarget,
} from '@vigil/db';
import * as z from 'zod/mini';
import { type Program, programBin } from './programs.js';

type Out = (s: string) => void;

const schema = z.object({
  VIGIL_EXPORTER_LISTEN: listenAddress('127.0.0.1:9110'),
  VIGIL_CONSOLE_LISTEN: listenAddress('127.0.0.1:3000'),
  VIGIL_LOCAL_INTERVAL: seconds(15, { min: 1, max: 3600 }),
});

/** What `vigil start` reads itself, described once (its programs read their own; each one's --help lists them). */
export const START_VARIABLE_DOCS: VariableDocs<typeof schema> = {
  VIGIL_EXPORTER_LISTEN: { default: '127.0.0.1:9110', meaning: "where this machine's exporter listens (the exporter's own variable)" },
  VIGIL_CONSOLE_LISTEN: { default: '127.0.0.1:3000', meaning: "where the console listens (the console's own variable)" },
  VIGIL_LOCAL_INTERVAL: { default: '15s', meaning: "scrape interval of this machine's own exporter" },
};

/** `vigil start`'s schema (for checking its descriptions). */
export const START_SCHEMA = schema;

/** The URL the local scraper reaches an exporter listening on `host:port` at. */
export function localUrl(listen: { host: string; port: number }, pathname = ''): string {
  const host =
    listen.host === '0.0.0.0' || listen.host === ''
      ? '127.0.0.1'
      : listen.host === '::'
        ? '[::1]'
        : listen.host.includes(':')
          ? `[${listen.host}]`
          : listen.host;
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
 * the local exporter as a target named after this host, creates the first
 * admin (printing its generated password once) when there is no user, and runs exporter,
 * scraper and console — each its package's program, built — as child processes
 * whose output it prefixes with their names. Each program's configuration is
 * checked first, so a bad value stops it before anything is migrated or started.
 * @throws when a part fails to start; the parts already started are stopped
 */
export async function startLocal(env: NodeJS.ProcessEnv, out: Out): Promise<LocalVigil> {
  const cfg = parseEnv(schema, env);
  parseDatabaseUrl(env.DATABASE_URL); // fail early on a bad value
  // Every program checks its own configuration (\`--check-config\`) before
  // anything is migrated or started: a bad value stops here, naming it.
  for (const name of ['exporter', 'scraper', 'console'] as const) await checkConfig(name, env);
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
      if (loc.dataDir === 'memory')
        throw new Error(
          'vigil start needs a database its processes can share: use pglite://<dir>, a postgres:// URL, or leave DATABASE_URL unset',
        );
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
      // The very first start: nobody could sign in, so an admin is made and its
      // password printed this once (the only place it ever appears).
      const first = await createFirstAdmin(db);
      if (first) {
        out(firstAdminMessage(first.password, 'npx vigil users reset-password admin'));
        const rules = await seedDefaultAlertRules(db);
        if (rules) out(`alert rules: the ${rules} fleet defaults (the console's Alerts page, or \`npx vigil alerts rules\`)\n`);
      }
    } finally {
      await db.destroy();
    }

    const terminals = await terminalEnv(env, loc.kind === 'pglite' ? path.dirname(loc.dataDir) : '.vigil', out);
    const childEnv = {
      ...env,
      ...terminals,
      DATABASE_URL: databaseUrl,
      VIGIL_LOG_PRETTY: env.VIGIL_LOG_PRETTY ?? '1',
      // The scraper stops with it, so there is no one to say goodbye to.
      VIGIL_EXPORTER_STOP_GRACE: env.VIGIL_EXPORTER_STOP_GRACE ?? '0',
    };
    for (const name of ['exporter', 'scraper', 'console'] as const) children[name] = launch(name, childEnv, out);
    const consoleUrl = localUrl(cfg.VIGIL_CONSOLE_LISTEN).replace('//127.0.0.1:', '//localhost:');
    for (const [name, url] of [
      ['exporter', localUrl(cfg.VIGIL_EXPORTER_LISTEN, '/health')],
      ['console', `${consoleUrl}/`],
    ] as const) {
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

/**
 * Makes the Ed25519 key pair for terminal tickets in `dir` (console-key.pem,
 * mode 0600, and console-key.pub.pem), or keeps the pair already there.
 */
export async function ensureTerminalKeys(dir: string): Promise<{ privateFile: string; publicFile: string; created: boolean }> {
  const privateFile = path.join(dir, 'console-key.pem');
  const publicFile = path.join(dir, 'console-key.pub.pem');
  if (existsSync(privateFile) && existsSync(publicFile)) return { privateFile, publicFile, created: false };
  const { generateTicketKeys } = await import('@vigil/core/pty');
  const keys = await generateTicketKeys();
  mkdirSync(dir, { recursive: true });
  writeFileSync(privateFile, keys.privateKeyPem, { mode: 0o600 });
  writeFileSync(publicFile, keys.publicKeyPem);
  return { privateFile, publicFile, created: true };
}

/**
 * Terminals for \`vigil start\`: a key pair beside the embedded database (.vigil; made once), the private
 * key for the console and the public one for the local exporter, whose id is
 * the target's name. Left off when the shells would run as root and the user
 * did not allow it (VIGIL_PTY_USER or VIGIL_PTY_ALLOW_ROOT), or when the
 * caller set the keys themselves.
 */
async function terminalEnv(env: NodeJS.ProcessEnv, dir: string, out: Out): Promise<Record<string, string>> {
  if (env.VIGIL_CONSOLE_PRIVATE_KEY || env.VIGIL_CONSOLE_PUBLIC_KEY) return {};
  if (process.getuid?.() === 0 && !env.VIGIL_PTY_USER && !env.VIGIL_PTY_ALLOW_ROOT) {
    out('terminals: off (this runs as root; set VIGIL_PTY_USER=<user> for shells as that user, or VIGIL_PTY_ALLOW_ROOT=1)\n');
    return {};
  }
  const { privateFile, publicFile } = await ensureTerminalKeys(dir);
  out(`terminals: on (tickets signed with ${privateFile})\n`);
  return {
    VIGIL_CONSOLE_PRIVATE_KEY: privateFile,
    VIGIL_CONSOLE_PUBLIC_KEY: publicFile,
    VIGIL_EXPORTER_ID: env.VIGIL_EXPORTER_ID ?? os.hostname(),
  };
}

/**
 * Runs a program's \`--check-config\`: it parses its environment as it would to
 * start, and exits 2 with the message when a value is bad.
 * @throws Error with the program's own message
 */
async function checkConfig(name: Program, env: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn(programBin(name), ['--check-config'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  if (code === 0) return;
  const message = `the ${name} would not start: ${stderr.trim().replace(/^vigil-\w+: /, '') || `it exited with ${code}`}`;
  throw code === 2 ? new ConfigError(message) : new StartError(message);
}

/** A part of \`vigil start\` that cannot start, for a reason other than a configuration value (those are ConfigError, exit 2). */
export class StartError extends Error {
  override name = 'StartError';
}

function launch(name: Program, env: NodeJS.ProcessEnv, out: Out): ChildProcess {
  const child = spawn(programBin(name), [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => out(`[${name}] ${line}\n`));
  }
  child.on('exit', (code, signal) => out(`[${name}] exited (${signal ?? `code ${code}`})\n`));
  out(`[${name}] started, pid ${child.pid}\n`);
  return child;
}
