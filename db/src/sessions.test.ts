import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSession,
  createUser,
  type Database,
  deleteSession,
  listUsers,
  pruneSessions,
  secretHash,
  sessionUser,
  setPassword,
  setRole,
  verifyLogin,
} from './index.js';
import { testDatabases } from './testing.js';

describe.each(testDatabases())('sessions on $name', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await engine.open());
    await createUser(db, { name: 'ada', role: 'admin', password: 'ada-password-1' });
    await createUser(db, { name: 'vic', role: 'viewer', password: 'vic-password-1' });
  });
  afterAll(() => drop());

  it('keeps sessions by hash, ends them at expiry, idle time, sign-out and password change', async () => {
    const ada = (await listUsers(db)).find((u) => u.name === 'ada')!;
    const { token, session } = await createSession(db, ada.id, { clientAddress: '192.0.2.7', userAgent: 'test' });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.id_hash).toBe(secretHash(token));
    expect(session.id_hash).not.toContain(token);
    expect((await sessionUser(db, token))?.user).toMatchObject({ name: 'ada', role: 'admin' });
    expect(await sessionUser(db, `${token}x`)).toBeNull();

    // Idle past the limit: gone, and deleted.
    const limits = { maxAgeSeconds: 3600, idleSeconds: 60 };
    const later = new Date(Date.now() + 61_000);
    expect(await sessionUser(db, token, limits, later)).toBeNull();
    expect(await db.selectFrom('sessions').select('id_hash').where('id_hash', '=', session.id_hash).execute()).toEqual([]);

    // Past its absolute expiry, however active.
    const short = await createSession(db, ada.id, {}, { maxAgeSeconds: 1, idleSeconds: 3600 });
    expect(await sessionUser(db, short.token, limits, new Date(Date.now() + 2000))).toBeNull();

    // Signed out.
    const s2 = await createSession(db, ada.id);
    await deleteSession(db, s2.token);
    expect(await sessionUser(db, s2.token)).toBeNull();

    // A new password ends every session of the user.
    const s3 = await createSession(db, ada.id);
    await setPassword(db, 'ada', 'ada-password-2');
    expect(await sessionUser(db, s3.token)).toBeNull();
    expect(await verifyLogin(db, 'ada', 'ada-password-1')).toBeNull();
    expect(await verifyLogin(db, 'ada', 'ada-password-2')).not.toBeNull();

    // The role is read at each request: a demotion applies at once.
    const s4 = await createSession(db, ada.id);
    await setRole(db, 'vic', 'admin');
    await setRole(db, 'ada', 'developer');
    expect((await sessionUser(db, s4.token))?.user.role).toBe('developer');
    await setRole(db, 'ada', 'admin');
    await setRole(db, 'vic', 'viewer');
  });

  it('prunes expired and idle sessions', async () => {
    const ada = (await listUsers(db)).find((u) => u.name === 'ada')!;
    await db.deleteFrom('sessions').execute();
    await createSession(db, ada.id);
    const old = await createSession(db, ada.id);
    await db
      .updateTable('sessions')
      .set({ last_seen_at: new Date(Date.now() - 2 * 86_400_000) })
      .where('id_hash', '=', old.session.id_hash)
      .execute();
    expect(await pruneSessions(db)).toBe(1);
    expect(await db.selectFrom('sessions').select('id_hash').execute()).toHaveLength(1);
  });
});
