import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Database } from './database.js';
import { PGlitePool } from './pglite-pool.js';

/** Where embedded PGlite keeps its files when DATABASE_URL is unset. */
export const DEFAULT_PGLITE_DIR = '.vigil/pgdata';

/** What a DATABASE_URL names: a PostgreSQL server, or an embedded PGlite directory (or memory). */
export type DatabaseLocation =
  | { kind: 'postgres'; url: string }
  | { kind: 'pglite'; dataDir: string | 'memory' };

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
    `DATABASE_URL must be postgres://user@host:port/db, pglite://<directory>, pglite://memory, or unset for embedded PGlite in ${DEFAULT_PGLITE_DIR}; got a value starting "${url.slice(0, 12)}"`,
  );
}

/** Opens an embedded PGlite, creating its directory as needed. */
export async function openPGlite(dataDir: string | 'memory'): Promise<PGlite> {
  if (dataDir === 'memory') return PGlite.create();
  mkdirSync(dataDir, { recursive: true });
  return PGlite.create(path.resolve(dataDir));
}

/**
 * The one way programs get a database: a typed Kysely over a pg Pool
 * (`postgres://…`) or over embedded PGlite (unset / `pglite://…`).
 * Close it with `db.destroy()`, which ends the pool or closes PGlite.
 * @param url a DATABASE_URL as described in {@link parseDatabaseUrl}
 * @param options.max pool size for PostgreSQL (default 10)
 */
export async function createDb(url: string | undefined, options: { max?: number; applicationName?: string } = {}): Promise<Kysely<Database>> {
  const location = parseDatabaseUrl(url);
  if (location.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: location.url,
      max: options.max ?? 10,
      application_name: options.applicationName ?? 'vigil',
      connectionTimeoutMillis: 10_000,
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
