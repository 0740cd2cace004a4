import { closedPort } from '@vigil/core/testing';
import { createDb } from '@vigil/db';
import { describe, expect, it } from 'vitest';
import { InventoryKeeper } from './inventory.js';

const inv = (state: string) => ({
  containers: [
    {
      name: 'web',
      image: 'nginx',
      state,
      health: null,
      restarts: 0,
      cpuSecondsTotal: 1,
      cpuPercent: null,
      memoryBytes: 1,
      memoryLimitBytes: null,
      startedAt: null,
    },
  ],
  services: [],
});

describe('InventoryKeeper', () => {
  it('keeps what failed to write, the newest per target, and tries again', async () => {
    const db = await createDb(`postgres://vigil@127.0.0.1:${await closedPort()}/none`, { max: 1 });
    try {
      const keeper = new InventoryKeeper();
      keeper.observe(1, new Date(1_000), inv('running'));
      keeper.observe(2, new Date(1_000), inv('running'));
      await expect(keeper.flush(db)).rejects.toThrow();
      expect(keeper.pending).toBe(2);
      keeper.observe(1, new Date(2_000), inv('exited'));
      await expect(keeper.flush(db)).rejects.toThrow();
      expect(keeper.pending).toBe(2);
      keeper.forget(2);
      expect(keeper.pending).toBe(1);
      // Nothing pending: flush never touches the database (one that throws on any use proves it).
      expect(await new InventoryKeeper().flush(untouchable)).toBe(0);
    } finally {
      await db.destroy();
    }
  });
});

const untouchable = new Proxy(
  {},
  {
    get: () => {
      throw new Error('touched');
    },
  },
) as never;
