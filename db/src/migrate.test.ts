import net from 'node:net';
import { migrations } from '@vigil/migrations';
import { describe, expect, it } from 'vitest';
import { checkDatabase, createDb, DatabaseUnreachableError } from './db.js';
import { migrateDown, migrateToLatest, pendingMigrations, requireCurrentSchema, SchemaBehindError } from './migrate.js';

describe('requireCurrentSchema', () => {
  it('says what is missing and how to migrate, without migrating', async () => {
    const db = await createDb('pglite://memory');
    try {
      const all = Object.keys(migrations);
      await expect(requireCurrentSchema(db)).rejects.toThrow(/no Vigil schema yet; create it with: npx vigil migrate/);
      expect(await pendingMigrations(db)).toEqual(all);
      await migrateToLatest(db);
      await requireCurrentSchema(db);
      await migrateDown(db);
      await expect(requireCurrentSchema(db, 'vigil migrate')).rejects.toThrow(SchemaBehindError);
      await expect(requireCurrentSchema(db, 'vigil migrate')).rejects.toThrow(
        `1 migration to apply: ${all.at(-1)}); bring it up to date with: vigil migrate`,
      );
      expect(await pendingMigrations(db)).toEqual([all.at(-1)]); // still behind: nothing was applied
    } finally {
      await db.destroy();
    }
  });
});

describe('checkDatabase', () => {
  it('answers for a live database', async () => {
    const db = await createDb('pglite://memory');
    await checkDatabase(db, 'pglite://memory');
    await db.destroy();
  });

  it('names DATABASE_URL and the address, password masked, when refused', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const { port } = s.address() as net.AddressInfo;
    await new Promise((r) => s.close(r));
    const url = `postgres://vigil:hunter2@127.0.0.1:${port}/vigil`;
    const db = await createDb(url);
    try {
      const err = await checkDatabase(db, url).catch((e: Error) => e);
      expect(err).toBeInstanceOf(DatabaseUnreachableError);
      expect((err as Error).message).toMatch(
        /^cannot reach the database at postgres:\/\/vigil:\*\*\*@127\.0\.0\.1:\d+\/vigil \(DATABASE_URL\): connection refused/,
      );
      expect((err as Error).message).not.toContain('hunter2');
    } finally {
      await db.destroy();
    }
  });

  // Needs a server to ask; in CI (which sets TEST_DATABASE_URL) it always runs, and fails without one.
  it.skipIf(!process.env.TEST_DATABASE_URL && !process.env.CI)(
    'says when the database does not exist (needs TEST_DATABASE_URL)',
    async () => {
      if (!process.env.TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is unset: .ci/run must set it');
      const url = new URL(process.env.TEST_DATABASE_URL!);
      url.pathname = '/vigil_no_such_database';
      const db = await createDb(url.toString());
      try {
        await expect(checkDatabase(db, url.toString())).rejects.toThrow(/no such database on that server/);
      } finally {
        await db.destroy();
      }
    },
  );
});
