import { type Kysely, sql } from 'kysely';

/**
 * A target whose exporter said goodbye (a clean shutdown) is `stopped`: not
 * `down`, so no alert, until it answers again.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table targets drop constraint targets_state_check`.execute(db);
  await sql`alter table targets add constraint targets_state_check check (state in ('unknown', 'up', 'down', 'stopped'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`update targets set state = 'unknown' where state = 'stopped'`.execute(db);
  await sql`alter table targets drop constraint targets_state_check`.execute(db);
  await sql`alter table targets add constraint targets_state_check check (state in ('unknown', 'up', 'down'))`.execute(db);
}
