import { type Kysely, Migrator, type MigrationResultSet } from 'kysely';
import { migrations } from './migrations/index.js';

/** Thrown when a migration fails; `cause` is the database's error. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

/**
 * Brings the schema to the latest migration.
 * @returns the names of the migrations applied by this call (empty when up to date)
 * @throws MigrationError naming the failed migration and the database's message
 */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  return applied(await migrator.migrateToLatest());
}

/** Reverts the most recent migration; returns the names reverted. */
export async function migrateDown(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  return applied(await migrator.migrateDown());
}

function applied({ error, results }: MigrationResultSet): string[] {
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    const message = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`migration ${failed} failed: ${message}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
