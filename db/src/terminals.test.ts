import { describe, expect, it } from 'vitest';
import { addTarget } from './targets.js';
import { endTerminalSession, getTerminalSession, queryTerminalSessions, startTerminalSession } from './terminals.js';
import { testDatabases } from './testing.js';
import { createUser } from './users.js';

describe.each(testDatabases())('terminal sessions on $name', (engine) => {
  it('lists them newest first, filtered by user, host, start time and whether open, with the count of all that match', async () => {
    const { db, drop } = await engine.open();
    try {
      const alice = await createUser(db, { name: 'alice', role: 'developer', password: 'alice-password-1' });
      const bob = await createUser(db, { name: 'bob', role: 'admin', password: 'bob-password-12' });
      const pi = await addTarget(db, { name: 'pi', url: 'http://pi/metrics' });
      const nas = await addTarget(db, { name: 'nas', url: 'http://nas/metrics' });
      const open = (user: typeof alice, target: typeof pi) =>
        startTerminalSession(db, {
          userId: user.id,
          userName: user.name,
          targetId: target.id,
          targetName: target.name,
          kind: 'shell',
          container: null,
          origin: null,
          clientIp: '127.0.0.1',
        });
      const a1 = await open(alice, pi);
      const a2 = await open(alice, nas);
      const b1 = await open(bob, pi);
      // Started at known times, an hour apart: a1 oldest.
      const t0 = Date.now() - 3 * 3_600_000;
      // (started_at is the database's to set: the schema's types forbid writing it, a test backdates it all the same.)
      for (const [i, id] of [a1, a2, b1].entries())
        await db
          .updateTable('terminal_sessions')
          .set({ started_at: new Date(t0 + i * 3_600_000) } as never)
          .where('id', '=', id)
          .execute();
      await endTerminalSession(db, a1, { bytesIn: 3, bytesOut: 10, exitCode: 0, exitSignal: null, reason: 'exit' });

      const ids = async (filter: Parameters<typeof queryTerminalSessions>[1], page = { limit: 10, offset: 0 }) => {
        const { rows, total } = await queryTerminalSessions(db, filter, page);
        return { ids: rows.map((r) => String(r.id)), total };
      };
      expect(await ids({})).toEqual({ ids: [b1, a2, a1], total: 3 });
      expect(await ids({ userId: alice.id })).toEqual({ ids: [a2, a1], total: 2 });
      expect(await ids({ userName: 'bob' })).toEqual({ ids: [b1], total: 1 });
      expect(await ids({ targetId: pi.id })).toEqual({ ids: [b1, a1], total: 2 });
      expect(await ids({ since: new Date(t0 + 1_800_000) })).toEqual({ ids: [b1, a2], total: 2 });
      expect(await ids({ until: new Date(t0 + 1_800_000) })).toEqual({ ids: [a1], total: 1 });
      expect(await ids({ open: true })).toEqual({ ids: [b1, a2], total: 2 });
      expect(await ids({ open: false })).toEqual({ ids: [a1], total: 1 });
      expect(await ids({ userId: alice.id, open: true, targetId: nas.id })).toEqual({ ids: [a2], total: 1 });
      expect(await ids({}, { limit: 1, offset: 1 })).toEqual({ ids: [a2], total: 3 });

      expect(await getTerminalSession(db, a1)).toMatchObject({ user_name: 'alice', target_name: 'pi', end_reason: 'exit' });
      expect(await getTerminalSession(db, '999999')).toBeNull();
      expect(await getTerminalSession(db, '1 or 1=1')).toBeNull();
    } finally {
      await drop();
    }
  });
});
