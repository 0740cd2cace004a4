import { type Kysely, sql } from 'kysely';

/**
 * Heartbeats keep the root filesystem's space available to unprivileged users
 * (statfs f_bavail), so "disk used" can be df's used / (used + avail): what
 * fills up, reserved blocks and quotas left out.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table heartbeats add column disk_avail_bytes double precision`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table heartbeats drop column disk_avail_bytes`.execute(db);
}
