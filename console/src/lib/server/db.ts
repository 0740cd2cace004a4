import { createDb, type Database, parseDatabaseUrl, resolveDatabaseUrl } from '@vigil/db';
import type { Kysely } from 'kysely';
import { consoleConfig } from './config';

let db: Promise<Kysely<Database>> | null = null;

/**
 * The console's database handle, opened on first use from the configured
 * DATABASE_URL. The console never opens embedded PGlite itself (the process of
 * `vigil start` owns it): with DATABASE_URL unset it connects to the server a
 * running `vigil start` serves.
 * @throws Error when DATABASE_URL names an embedded database nobody serves
 */
export function getDb(): Promise<Kysely<Database>> {
  if (!db) {
    const url = resolveDatabaseUrl(consoleConfig().databaseUrl);
    if (parseDatabaseUrl(url).kind !== 'postgres') {
      throw new Error('database: the console needs DATABASE_URL=postgres://… or a running `vigil start` serving the embedded database');
    }
    db = createDb(url, { max: 5, applicationName: 'vigil-console' });
  }
  return db;
}
