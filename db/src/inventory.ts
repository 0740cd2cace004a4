import type { ContainerInventory, ServiceInventory } from '@vigil/core/inventory';
import { type Kysely, sql } from 'kysely';
import type { Database, TargetInventory } from './database.js';

/** One target's inventory to store: its containers and services, when the scrape started, when they last changed. */
export interface InventoryWrite {
  targetId: number;
  containers: readonly ContainerInventory[];
  services: readonly ServiceInventory[];
  scrapedAt: Date;
  changedAt: Date;
  /** What of it is news (core's inventoryFingerprint); a stored row with the same one keeps its `changed_at`. */
  fingerprint?: string;
}

/**
 * Stores the latest inventory of each target, one multi-row upsert for all.
 * A row of a target removed meanwhile is skipped, not an error (the targets
 * kept are locked against removal until the upsert commits).
 */
export async function upsertInventories(db: Kysely<Database>, rows: readonly InventoryWrite[]): Promise<void> {
  if (rows.length === 0) return;
  const ids = rows.map((r) => r.targetId);
  await db.transaction().execute(async (trx) => {
    const live = new Set((await trx.selectFrom('targets').select('id').where('id', 'in', ids).forKeyShare().execute()).map((t) => t.id));
    const values = rows
      .filter((r) => live.has(r.targetId))
      .map((r) => ({
        target_id: r.targetId,
        containers: JSON.stringify(r.containers),
        services: JSON.stringify(r.services),
        scraped_at: r.scrapedAt,
        changed_at: r.changedAt,
        fingerprint: r.fingerprint ?? null,
      }));
    if (values.length === 0) return;
    await trx
      .insertInto('target_inventory')
      .values(values)
      .onConflict((oc) =>
        oc.column('target_id').doUpdateSet((eb) => ({
          containers: eb.ref('excluded.containers'),
          services: eb.ref('excluded.services'),
          scraped_at: eb.ref('excluded.scraped_at'),
          // Unchanged news (a scraper that restarted writes its first inventory as new): the old time stays.
          changed_at: sql<Date>`case when target_inventory.fingerprint = excluded.fingerprint then target_inventory.changed_at else excluded.changed_at end`,
          fingerprint: eb.ref('excluded.fingerprint'),
        })),
      )
      .execute();
  });
}

/** A target's stored inventory, or null when none was stored (no scrape yet, or nothing to show). */
export async function getInventory(db: Kysely<Database>, targetId: number): Promise<TargetInventory | null> {
  return (await db.selectFrom('target_inventory').selectAll().where('target_id', '=', targetId).executeTakeFirst()) ?? null;
}
