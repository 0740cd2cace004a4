import { type Kysely, sql } from 'kysely';

// Frozen in time: this file never imports application code.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('targets')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('interval_seconds', 'integer', (c) => c.notNull().defaultTo(15).check(sql`interval_seconds between 1 and 86400`))
    .addColumn('timeout_seconds', 'double precision', (c) => c.notNull().defaultTo(10).check(sql`timeout_seconds > 0`))
    .addColumn('labels', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('source', 'text', (c) => c.notNull().defaultTo('cli'))
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('unknown').check(sql`state in ('unknown', 'up', 'down')`))
    .addColumn('state_changed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('targets_timeout_within_interval', sql`timeout_seconds <= interval_seconds`)
    .execute();

  // Partitioned by day; partitions are created ahead and dropped past retention
  // by the scraper's retention job (see partitions.ts).
  await sql`
    create table heartbeats (
      target_id integer not null references targets (id) on delete cascade,
      time timestamptz not null,
      up boolean not null,
      duration_seconds double precision not null,
      error text,
      samples integer,
      cpu_usage_percent double precision,
      memory_used_bytes double precision,
      memory_total_bytes double precision,
      disk_used_bytes double precision,
      disk_total_bytes double precision,
      load1 double precision,
      uptime_seconds double precision,
      primary key (target_id, time)
    ) partition by range (time)`.execute(db);
  // The liveness job asks "when did this target last succeed?".
  await sql`create index heartbeats_last_success on heartbeats (target_id, time desc) where up`.execute(db);

  await db.schema
    .createTable('events')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('target_id', 'integer', (c) => c.notNull().references('targets.id').onDelete('cascade'))
    .addColumn('time', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('from_state', 'text')
    .addColumn('to_state', 'text')
    .addColumn('message', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_target_time').on('events').columns(['target_id', 'time']).execute();
  await db.schema.createIndex('events_time').on('events').column('time').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('events').execute();
  await db.schema.dropTable('heartbeats').execute();
  await db.schema.dropTable('targets').execute();
}
