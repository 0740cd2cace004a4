import type { Kysely } from 'kysely';

/**
 * `target_inventory.fingerprint`: what of an inventory is news (see core's
 * inventoryFingerprint), kept so a scraper that restarts keeps `changed_at`
 * when nothing changed while it was away.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('target_inventory').addColumn('fingerprint', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('target_inventory').dropColumn('fingerprint').execute();
}
