import { migrations } from '@vigil/migrations';
import { type Kysely, type MigrationResultSet, Migrator } from 'kysely';

/** Thrown when a migration fails; `cause` is the database's error. */
/** Every migration's name, in the order they run. */
export const MIGRATION_NAMES: readonly string[] = Object.freeze(Object.keys(migrations).sort());

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

/** Thrown by commands that need the latest schema when the database's is behind. */
export class SchemaBehindError extends Error {
  override name = 'SchemaBehindError';
}

/** The names of the migrations this code has that the database has not applied, oldest first. */
export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  return (await migrator.getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
}

/**
 * Checks that the database's schema is the one this code expects, without
 * changing it.
 * @throws SchemaBehindError naming the missing migrations and the command that applies them
 */
export async function requireCurrentSchema(db: Kysely<any>, migrateCommand = 'npx vigil migrate'): Promise<void> {
  const pending = await pendingMigrations(db);
  if (pending.length === 0) return;
  const all = Object.keys(migrations).length;
  throw new SchemaBehindError(
    pending.length === all
      ? `the database has no Vigil schema yet; create it with: ${migrateCommand}`
      : `the database schema is behind (${pending.length} migration${pending.length > 1 ? 's' : ''} to apply: ${pending.join(', ')}); bring it up to date with: ${migrateCommand}`,
  );
}

function applied({ error, results }: MigrationResultSet): string[] {
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    // No migration ran: the database could not be asked at all (unreachable,
    // refused); that error says more than "migration failed".
    if (failed === undefined) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`migration ${failed} failed: ${message}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
