import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { maskUrl, maskUrlsIn } from '@vigil/core/secrets';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from './database.js';
import { PGlitePool } from './pglite-pool.js';

/** Where embedded PGlite keeps its files when DATABASE_URL is unset. */
export const DEFAULT_PGLITE_DIR = '.vigil/pgdata';

/** What a DATABASE_URL names: a PostgreSQL server, or an embedded PGlite directory (or memory). */
export type DatabaseLocation = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string | 'memory' };

/** Thrown for a DATABASE_URL that names neither PostgreSQL nor PGlite. */
export class DatabaseUrlError extends Error {
  override name = 'DatabaseUrlError';
}

/**
 * Reads a DATABASE_URL: `postgres://…` or `postgresql://…` → a server;
 * unset or empty → PGlite in {@link DEFAULT_PGLITE_DIR}; `pglite://<dir>` → PGlite
 * in that directory; `pglite://memory` → an in-memory PGlite (gone on close).
 * @throws DatabaseUrlError for any other scheme, naming what is accepted.
 */
export function parseDatabaseUrl(url: string | undefined): DatabaseLocation {
  if (url === undefined || url.trim() === '') return { kind: 'pglite', dataDir: DEFAULT_PGLITE_DIR };
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url };
  if (url.startsWith('pglite://')) {
    const dir = url.slice('pglite://'.length);
    if (dir === '') throw new DatabaseUrlError('DATABASE_URL pglite:// needs a directory, e.g. pglite://.vigil/pgdata or pglite://memory');
    return { kind: 'pglite', dataDir: dir === 'memory' ? 'memory' : dir };
  }
  throw new DatabaseUrlError(
    `DATABASE_URL must be postgres://user@host:port/db, pglite://<directory>, pglite://memory, or unset for embedded PGlite in ${DEFAULT_PGLITE_DIR}; got "${maskUrl(url)}"`,
  );
}

/** Thrown when the database named by DATABASE_URL cannot be reached or refuses us; the message names the address (password masked) and what to check. */
export class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError';
}

/** How a server's address is shown: the URL with its password masked. */
export function databaseAddress(url: string): string {
  return maskUrl(url);
}

/** How long a connection attempt may take before it counts as unreachable, in milliseconds. */
export const CONNECT_TIMEOUT_MS = 4000;

/**
 * Asks the database `select 1`, so that a program fails at start with a clear
 * message rather than on its first query.
 * @param url the DATABASE_URL it was opened with, for the message
 * @throws DatabaseUnreachableError naming DATABASE_URL, the address and the cause
 */
export async function checkDatabase(db: Kysely<any>, url: string | undefined): Promise<void> {
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    const e = err as Error & { code?: string };
    const where = url && parseDatabaseUrl(url).kind === 'postgres' ? databaseAddress(url) : 'the embedded database';
    const why =
      e.code === 'ECONNREFUSED'
        ? 'connection refused: is PostgreSQL running and listening there?'
        : e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN'
          ? 'host name not found'
          : e.code === '28P01' || e.code === '28000'
            ? 'the server refused the user or password'
            : e.code === '3D000'
              ? 'no such database on that server (create it, or fix the name)'
              : /timeout/i.test(e.message)
                ? `no answer within ${CONNECT_TIMEOUT_MS / 1000} s`
                : maskUrlsIn(e.message);
    throw new DatabaseUnreachableError(`cannot reach the database at ${where} (DATABASE_URL): ${why}`, { cause: err });
  }
}

/**
 * Opens an embedded PGlite, creating its directory as needed. PGlite (28 MB)
 * is loaded here, on first use: the images ship without it and use PostgreSQL.
 * @throws DatabaseUrlError when this installation has no PGlite (an image), saying to use PostgreSQL
 */
export async function openPGlite(dataDir: string | 'memory'): Promise<PGlite> {
  let pglite: typeof import('@electric-sql/pglite');
  try {
    pglite = await import('@electric-sql/pglite');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    throw new DatabaseUrlError(
      'this installation has no embedded database (PGlite, left out of the images): set DATABASE_URL=postgres://user:password@host:5432/db',
    );
  }
  if (dataDir === 'memory') return pglite.PGlite.create();
  mkdirSync(dataDir, { recursive: true });
  return pglite.PGlite.create(path.resolve(dataDir));
}

/**
 * The one way programs get a database: a typed Kysely over a pg Pool
 * (`postgres://…`) or over embedded PGlite (unset / `pglite://…`).
 * Close it with `db.destroy()`, which ends the pool or closes PGlite.
 * @param url a DATABASE_URL as described in {@link parseDatabaseUrl}
 * @param options.max pool size for PostgreSQL (default 10)
 */
export async function createDb(
  url: string | undefined,
  options: { max?: number; applicationName?: string } = {},
): Promise<Kysely<Database>> {
  const location = parseDatabaseUrl(url);
  if (location.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: location.url,
      max: options.max ?? 10,
      application_name: options.applicationName ?? 'vigil',
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    // A client losing its server (idle or checked out) must not crash the
    // process: its pending query rejects with the error, and the next one gets
    // a fresh connection or a clear error.
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  const pglite = await openPGlite(location.dataDir);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: new PGlitePool(pglite) }) });
}
