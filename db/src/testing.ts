import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import pg from 'pg';
import type { Database } from './database.js';
import { createDb } from './db.js';
import { migrateToLatest } from './migrate.js';
import { ensureHeartbeatPartitions } from './partitions.js';

const DAY_MS = 86_400_000;

/** A database engine tests run against. */
export interface TestDatabase {
  /** `pglite` (always) or `postgres` (when TEST_DATABASE_URL is set). */
  name: 'pglite' | 'postgres';
  /**
   * A fresh, migrated, empty database with the partitions of yesterday, today and
   * tomorrow (UTC), so a test may write any time in the last 24 hours whatever the
   * time of day it runs at; `drop()` removes it.
   */
  open(): Promise<{ db: Kysely<Database>; url: string; drop(): Promise<void> }>;
}

/**
 * The engines to run database tests on: in-memory PGlite, and a throwaway
 * database on the server of TEST_DATABASE_URL when that is set (CI sets it).
 */
export function testDatabases(): TestDatabase[] {
  const engines: TestDatabase[] = [{ name: 'pglite', open: () => openFresh('pglite://memory') }];
  const server = process.env.TEST_DATABASE_URL;
  if (server) {
    engines.push({
      name: 'postgres',
      async open() {
        const name = `vigil_test_${process.pid}_${randomBytes(4).toString('hex')}`;
        const admin = new pg.Client({ connectionString: server });
        await admin.connect();
        try {
          await admin.query(`create database ${name}`);
        } finally {
          await admin.end();
        }
        const url = new URL(server);
        url.pathname = `/${name}`;
        const fresh = await openFresh(url.toString());
        return {
          ...fresh,
          async drop() {
            await fresh.drop();
            const c = new pg.Client({ connectionString: server });
            await c.connect();
            try {
              await c.query(`drop database if exists ${name} with (force)`);
            } finally {
              await c.end();
            }
          },
        };
      },
    });
  }
  return engines;
}

async function openFresh(url: string) {
  const db = await createDb(url, { max: 4 });
  await migrateToLatest(db);
  await ensureHeartbeatPartitions(db, new Date(Date.now() - DAY_MS), 2);
  return { db, url, drop: () => db.destroy() };
}
