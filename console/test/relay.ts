import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { generateTicketKeys } from '@vigil/core/pty';
import { ensureBuilt, freePort, packageBin, REPO, until } from '@vigil/core/testing';
import { addTarget, createDb, createSession, createUser, migrateToLatest } from '@vigil/db';
import { sharedTestDatabase } from './database.js';

/** A console and an exporter, each its own built program, with terminals on, and a developer signed in. */
export interface Relay {
  /** `ws://…/ws/terminal/<id>` of the exporter's target on the console. */
  terminalUrl: string;
  /** The exporter's own `ws://…/pty`, and a ticket-free way around it is not offered. */
  headers: Record<string, string>;
  pids: { console: number; exporter: number };
  /** The database the console uses. */
  dbUrl: string;
  close(): Promise<void>;
}

/** Resolves once `child` prints a line matching `line` (stdout or stderr). @throws when it exits first, with what it printed */
export async function started(child: ChildProcess, line: RegExp, what: string): Promise<void> {
  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    for (const s of [child.stdout!, child.stderr!])
      createInterface({ input: s }).on('line', (l) => {
        output.push(l);
        if (line.test(l)) resolve();
      });
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}:\n${output.join('\n')}`)));
  });
}

/**
 * Starts the built exporter (as hosts run it, its V8 flags included) and the
 * built console on a database (TEST_DATABASE_URL's server in a throwaway
 * database, else embedded PGlite served on loopback), with a fresh ticket key
 * pair, the exporter as a target and a developer's session.
 */
export async function startRelay(exporterEnv: Record<string, string> = {}): Promise<Relay> {
  ensureBuilt('exporter', 'dist/vigil-exporter.mjs', ['exporter/src', 'exporter/bin', 'core/src']);
  ensureBuilt('console', 'dist/server.mjs', ['console/src', 'core/src', 'db/src', 'migrations/src']);
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-relay-'));
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const c of cleanups.reverse()) await c();
  };
  try {
    const database = await sharedTestDatabase(dir, 'vigil_relay');
    const dbUrl = database.url;
    cleanups.push(() => database.drop());
    const keys = await generateTicketKeys();
    writeFileSync(path.join(dir, 'key.pem'), keys.privateKeyPem, { mode: 0o600 });
    const exporterPort = await freePort();
    const exporter = spawn(path.join(REPO, 'exporter/bin/vigil-exporter.js'), [], {
      env: {
        PATH: process.env.PATH,
        VIGIL_EXPORTER_LISTEN: `127.0.0.1:${exporterPort}`,
        VIGIL_CONSOLE_PUBLIC_KEY: keys.publicKeyPem,
        VIGIL_EXPORTER_ID: 'relay-host',
        VIGIL_PTY_ALLOW_ROOT: '1',
        VIGIL_PTY_SHELL: '/bin/sh',
        VIGIL_DISABLED_COLLECTORS: 'containers',
        ...exporterEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => void exporter.kill('SIGKILL'));
    await started(exporter, /exporter listening/, 'vigil-exporter');
    const db = await createDb(dbUrl, { max: 1 });
    let token: string;
    let targetId: number;
    try {
      await migrateToLatest(db);
      targetId = (await addTarget(db, { name: 'relay-host', url: `http://127.0.0.1:${exporterPort}/metrics` })).id;
      const user = await createUser(db, { name: 'relay-dev', role: 'developer', password: 'a-long-password-123' });
      token = (await createSession(db, user.id)).token;
    } finally {
      await db.destroy();
    }
    const consolePort = await freePort();
    const consoleChild = spawn(packageBin('@vigil/console', 'vigil-console', import.meta.url), [], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: dbUrl,
        VIGIL_CONSOLE_LISTEN: `127.0.0.1:${consolePort}`,
        VIGIL_CONSOLE_PRIVATE_KEY: path.join(dir, 'key.pem'),
        VIGIL_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => void consoleChild.kill('SIGKILL'));
    await started(consoleChild, /^console listening/, 'vigil-console');
    await until('the console to answer', 10, async () => (await fetch(`http://127.0.0.1:${consolePort}/api/v1/health`)).ok);
    return {
      terminalUrl: `ws://127.0.0.1:${consolePort}/ws/terminal/${targetId}`,
      headers: { origin: `http://localhost:${consolePort}`, cookie: `vigil_session=${token}` },
      pids: { console: consoleChild.pid!, exporter: exporter.pid! },
      dbUrl,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
