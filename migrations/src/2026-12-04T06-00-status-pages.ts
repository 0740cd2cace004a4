import { type Kysely, sql } from 'kysely';

/**
 * Status pages: `status_pages`, public read-only pages an admin defines (a
 * slug, a title, groups of hosts chosen by label, a note), shown at
 * /status/<slug> without a session. Expand only.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('status_pages')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('slug', 'text', (c) => c.notNull().unique().check(sql`slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'`))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('groups', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('note', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('status_pages').execute();
}
