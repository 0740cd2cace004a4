import { type Kysely, sql } from 'kysely';

/**
 * Replicas: `scrapers`, one row per running scraper process (its id, where it
 * runs, when it started and when it was last seen, by the database's clock);
 * `targets.scraper_id`, the replica that owns a target's scrapes and liveness
 * (emptied when that replica's row goes); `notification_deliveries.claimed_by`
 * and `claimed_until`, the replica sending a delivery and how long its claim
 * holds; `login_failures`, the console's failed sign-ins, shared by its replicas.
 *
 * Expand only: every column is new and nullable, so the previous version keeps
 * running beside this one while it is replaced.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('scrapers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .alterTable('targets')
    .addColumn('scraper_id', 'text', (c) => c.references('scrapers.id').onDelete('set null'))
    .execute();
  await sql`create index targets_scraper on targets (scraper_id)`.execute(db);
  await db.schema.alterTable('notification_deliveries').addColumn('claimed_by', 'text').execute();
  await db.schema.alterTable('notification_deliveries').addColumn('claimed_until', 'timestamptz').execute();
  await db.schema
    .createTable('login_failures')
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index login_failures_key on login_failures (key, at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('login_failures').execute();
  await db.schema.alterTable('notification_deliveries').dropColumn('claimed_until').execute();
  await db.schema.alterTable('notification_deliveries').dropColumn('claimed_by').execute();
  await db.schema.alterTable('targets').dropColumn('scraper_id').execute();
  await db.schema.dropTable('scrapers').execute();
}
