import { type Kysely, sql } from 'kysely';

/**
 * What the console shows beyond heartbeats: each target's latest containers
 * and services (`target_inventory`, one row per target, replaced when they
 * change), and hourly min/avg/max of the heartbeat figures
 * (`heartbeats_hourly`, written by the scraper's retention job, kept a year)
 * for charts longer than raw heartbeats serve well; and `targets.token`, a
 * bearer token for one target's exporter (else VIGIL_EXPORTER_TOKEN is sent).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('targets').addColumn('token', 'text').execute();
  await db.schema
    .createTable('target_inventory')
    .addColumn('target_id', 'integer', (c) => c.primaryKey().references('targets.id').onDelete('cascade'))
    .addColumn('containers', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('services', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('scraped_at', 'timestamptz', (c) => c.notNull())
    .addColumn('changed_at', 'timestamptz', (c) => c.notNull())
    .execute();

  const stats = (name: string) => [`${name}_min`, `${name}_avg`, `${name}_max`].map((c) => `${c} double precision`).join(',\n      ');
  await sql
    .raw(`
    create table heartbeats_hourly (
      target_id integer not null references targets (id) on delete cascade,
      hour timestamptz not null,
      scrapes integer not null,
      up_scrapes integer not null,
      ${stats('cpu')},
      ${stats('memory')},
      ${stats('disk')},
      ${stats('load1')},
      primary key (target_id, hour)
    )`)
    .execute(db);
  // The retention job drops whole hours across all targets.
  await sql`create index heartbeats_hourly_hour on heartbeats_hourly (hour)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('heartbeats_hourly').execute();
  await db.schema.dropTable('target_inventory').execute();
  await db.schema.alterTable('targets').dropColumn('token').execute();
}
