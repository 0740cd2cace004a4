import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_PGLITE_DIR, openPGlite, parseDatabaseUrl } from './db.js';
import { PGliteServer } from './pglite-server.js';

/** An embedded PGlite served over the PostgreSQL wire protocol on loopback. */
export interface EmbeddedPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, for pg clients in other processes. */
  url: string;
  stop(): Promise<void>;
}

/** Thrown when another live process serves the same data directory. */
export class EmbeddedInUseError extends Error {
  override name = 'EmbeddedInUseError';
}

const LOCK = 'vigil-embedded.json';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The URL of the embedded server a live `vigil start` is running for
 * `dataDir`, read from the lock file it keeps there; null when none runs.
 */
export function runningEmbeddedUrl(dataDir: string): string | null {
  try {
    const lock = JSON.parse(readFileSync(path.join(dataDir, LOCK), 'utf8')) as { pid: number; url: string };
    return alive(lock.pid) ? lock.url : null;
  } catch {
    return null;
  }
}

/**
 * What a program should connect to for DATABASE_URL: the URL itself, or — when
 * it names embedded PGlite whose directory a running `vigil start` serves — that
 * server's loopback URL, since two processes must never open one PGlite directory.
 */
export function resolveDatabaseUrl(url: string | undefined): string | undefined {
  const loc = parseDatabaseUrl(url);
  if (loc.kind !== 'pglite' || loc.dataDir === 'memory') return url;
  return runningEmbeddedUrl(loc.dataDir) ?? url;
}

/**
 * Opens PGlite in `dataDir` and serves it on 127.0.0.1 (port 0 = any free port),
 * so the scraper, console and CLI, each in its own process, reach one embedded
 * database through the same pg driver they use against a real server. Queries
 * from its connections run one at a time, each whole (see {@link PGliteServer});
 * a transaction keeps its turn.
 * A lock file in the directory tells other processes where to connect.
 * @throws EmbeddedInUseError when a live process serves the directory already
 */
export async function startEmbeddedPostgres(
  dataDir: string = DEFAULT_PGLITE_DIR,
  port = 0,
  maxConnections = 32,
): Promise<EmbeddedPostgres> {
  const existing = runningEmbeddedUrl(dataDir);
  if (existing)
    throw new EmbeddedInUseError(
      `another process serves the embedded database in ${dataDir} at ${existing}; stop it first or set DATABASE_URL`,
    );
  const pglite = await openPGlite(dataDir);
  const server = new PGliteServer(pglite, { host: '127.0.0.1', port, maxConnections });
  let bound: number;
  try {
    bound = await server.start();
  } catch (err) {
    await pglite.close();
    throw err;
  }
  const url = `postgres://postgres@127.0.0.1:${bound}/postgres`;
  const lockPath = path.join(dataDir, LOCK);
  writeFileSync(lockPath, JSON.stringify({ pid: process.pid, url }));
  return {
    url,
    async stop() {
      rmSync(lockPath, { force: true });
      await server.stop();
      await pglite.close();
    },
  };
}
