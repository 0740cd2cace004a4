import { containerCpuPercent, type Inventory, inventoryFingerprint } from '@vigil/core/inventory';
import { type Database, type InventoryWrite, upsertInventories } from '@vigil/db';
import type { Kysely } from 'kysely';

interface Kept {
  fingerprint: string;
  changedAt: Date;
  /** When this target's inventory was last queued for writing, ms. */
  queuedAt: number;
  /** Each container's CPU seconds at the previous scrape, and when that was (ms). */
  cpu: Map<string, number>;
  cpuAt: number;
}

/**
 * Keeps each target's latest containers and services and writes them to
 * `target_inventory` only when they change (a container appears, goes, changes
 * state, health or restarts; a probe's result or status changes), or, for
 * the figures that move on every scrape (cpu, memory, probe durations), at
 * most once per `refreshSeconds`. A target that never had any writes nothing.
 * What waits to be written is the latest per target: a database outage costs
 * no memory beyond one inventory per target.
 */
export class InventoryKeeper {
  #kept = new Map<number, Kept>();
  #pending = new Map<number, InventoryWrite>();

  constructor(private readonly refreshSeconds = 60) {}

  /** Inventories waiting to be written. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Takes one successful scrape's inventory (started at `time`); fills container cpu % from the previous one. */
  observe(targetId: number, time: Date, inventory: Inventory): void {
    const now = time.getTime();
    const kept = this.#kept.get(targetId);
    const containers = containerCpuPercent(inventory.containers, kept?.cpu ?? new Map(), kept ? (now - kept.cpuAt) / 1000 : 0);
    const cpu = new Map<string, number>();
    for (const c of inventory.containers) if (c.cpuSecondsTotal !== null) cpu.set(c.name, c.cpuSecondsTotal);
    const fingerprint = inventoryFingerprint(inventory);
    const empty = inventory.containers.length === 0 && inventory.services.length === 0;
    if (!kept && empty) return;
    const changed = !kept || kept.fingerprint !== fingerprint;
    const changedAt = changed ? time : kept.changedAt;
    const due = changed || now - kept.queuedAt >= this.refreshSeconds * 1000;
    this.#kept.set(targetId, { fingerprint, changedAt, queuedAt: due ? now : kept!.queuedAt, cpu, cpuAt: now });
    if (due) this.#pending.set(targetId, { targetId, containers, services: inventory.services, scrapedAt: time, changedAt, fingerprint });
  }

  /** Forgets a target removed or paused (its next inventory is written as new). */
  forget(targetId: number): void {
    this.#kept.delete(targetId);
    this.#pending.delete(targetId);
  }

  /**
   * Writes what is pending in one upsert. On failure the writes stay pending
   * (unless a newer one for the same target came meanwhile) and the error is thrown.
   */
  async flush(db: Kysely<Database>): Promise<number> {
    if (this.#pending.size === 0) return 0;
    const batch = [...this.#pending.values()];
    this.#pending.clear();
    try {
      await upsertInventories(db, batch);
    } catch (err) {
      for (const w of batch) if (!this.#pending.has(w.targetId)) this.#pending.set(w.targetId, w);
      throw err;
    }
    return batch.length;
  }
}
