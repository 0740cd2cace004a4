import { type Kysely, sql } from 'kysely';

/**
 * Terminals: `terminal_sessions`, one row per terminal or log stream the
 * console opened on a host (who, which host and container, from where, when,
 * bytes each way, how it ended, and its recording when one was made);
 * `targets.pty_url`, where a target's PTY socket is when it is not beside its
 * metrics (VIGIL_PTY_LISTEN); and `heartbeats.pty_sessions`, the sessions open
 * on the host at each scrape (vigil_exporter_pty_sessions).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('terminal_sessions')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('user_name', 'text', (c) => c.notNull())
    .addColumn('target_id', 'integer', (c) => c.references('targets.id').onDelete('set null'))
    .addColumn('target_name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('shell', 'exec', 'logs')`))
    .addColumn('container', 'text')
    .addColumn('origin', 'text')
    .addColumn('client_ip', 'text')
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('ended_at', 'timestamptz')
    .addColumn('bytes_in', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('bytes_out', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('exit_code', 'integer')
    .addColumn('exit_signal', 'text')
    .addColumn('end_reason', 'text')
    .addColumn('recording', 'text')
    .execute();
  await sql`create index terminal_sessions_started on terminal_sessions (started_at desc)`.execute(db);
  await sql`create index terminal_sessions_target on terminal_sessions (target_id, started_at desc)`.execute(db);
  await db.schema.alterTable('targets').addColumn('pty_url', 'text').execute();
  await sql`alter table heartbeats add column pty_sessions integer`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table heartbeats drop column pty_sessions`.execute(db);
  await db.schema.alterTable('targets').dropColumn('pty_url').execute();
  await db.schema.dropTable('terminal_sessions').execute();
}
