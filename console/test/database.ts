import path from 'node:path';
import { startEmbeddedPostgres } from '@vigil/db';
import pg from 'pg';

/**
 * A database several processes can share, for tests that run the built
 * programs: a throwaway database on TEST_DATABASE_URL's server (CI), else
 * embedded PGlite served on loopback from `dir`/pgdata. `drop()` removes it.
 */
export async function sharedTestDatabase(dir: string, prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const server = process.env.TEST_DATABASE_URL;
  if (!server) {
    const embedded = await startEmbeddedPostgres(path.join(dir, 'pgdata'));
    return { url: embedded.url, drop: () => embedded.stop() };
  }
  const name = `${prefix}_${process.pid}_${Date.now() % 100000}`;
  const admin = async (sql: string) => {
    const a = new pg.Client({ connectionString: server });
    await a.connect();
    try {
      await a.query(sql);
    } finally {
      await a.end();
    }
  };
  await admin(`create database ${name}`);
  return {
    url: Object.assign(new URL(server), { pathname: `/${name}` }).toString(),
    drop: () => admin(`drop database if exists ${name} with (force)`),
  };
}
