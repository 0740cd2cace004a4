import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccountError,
  apiKeyUser,
  countUsers,
  createApiKey,
  createSession,
  createUser,
  type Database,
  generatePassword,
  hashPassword,
  isUserName,
  listAudit,
  listUsers,
  removeUser,
  roleAtLeast,
  setRole,
  verifyLogin,
  writeAudit,
} from './index.js';
import { testDatabases } from './testing.js';

describe('roles and passwords', () => {
  it('orders the roles admin ⊃ operator ⊃ developer ⊃ viewer', () => {
    expect(roleAtLeast('admin', 'operator')).toBe(true);
    expect(roleAtLeast('operator', 'operator')).toBe(true);
    expect(roleAtLeast('developer', 'operator')).toBe(false);
    expect(roleAtLeast('viewer', 'developer')).toBe(false);
    expect(roleAtLeast('developer', 'viewer')).toBe(true);
  });

  it('hashes with argon2id, salted, and refuses short or huge passwords', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(a).not.toBe(b);
    await expect(hashPassword('short')).rejects.toThrow(/at least 10 characters/);
    await expect(hashPassword('x'.repeat(2000))).rejects.toThrow(/at most 1024 bytes/);
  });

  it('generates 120-bit passwords', () => {
    const p = generatePassword();
    expect(p).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(generatePassword()).not.toBe(p);
  });
});

describe.each(testDatabases())('accounts on $name', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await engine.open());
  });
  afterAll(() => drop());

  it('creates users and signs them in by password, never exposing the hash', async () => {
    expect(await countUsers(db)).toBe(0);
    const ada = await createUser(db, { name: 'ada', role: 'admin', password: 'ada-password-1' });
    expect(ada).toMatchObject({ name: 'ada', role: 'admin' });
    expect(ada).not.toHaveProperty('password_hash');
    await createUser(db, { name: 'vic', role: 'viewer', password: 'vic-password-1' });
    expect((await listUsers(db)).map((u) => [u.name, u.role])).toEqual([
      ['ada', 'admin'],
      ['vic', 'viewer'],
    ]);
    expect(await countUsers(db)).toBe(2);
    expect(await verifyLogin(db, 'ada', 'ada-password-1')).toMatchObject({ id: ada.id, role: 'admin' });
    expect(await verifyLogin(db, 'ada', 'wrong-password')).toBeNull();
    // A name no user can have never reaches the database (PostgreSQL refuses a NUL byte in text).
    expect(await verifyLogin(db, 'ada\u0000', 'ada-password-1')).toBeNull();
    expect(isUserName('ada')).toBe(true);
    expect(isUserName('ada\u0000')).toBe(false);
    expect(await verifyLogin(db, 'nobody', 'ada-password-1')).toBeNull();
    const [stored] = await db.selectFrom('users').select('password_hash').where('name', '=', 'ada').execute();
    expect(stored!.password_hash).not.toContain('ada-password-1');
  });

  it('refuses bad names, roles and duplicates with what to do', async () => {
    await expect(createUser(db, { name: 'ada', role: 'viewer', password: 'another-pass-1' })).rejects.toMatchObject({
      code: 'exists',
    });
    await expect(createUser(db, { name: 'Bad Name', role: 'viewer', password: 'another-pass-1' })).rejects.toThrow(/a-z, 0-9/);
    await expect(createUser(db, { name: 'bob', role: 'root', password: 'another-pass-1' })).rejects.toThrow(
      /admin, operator, developer, viewer/,
    );
    await expect(createUser(db, { name: 'bob', role: 'viewer', password: 'short' })).rejects.toBeInstanceOf(AccountError);
    expect(await countUsers(db)).toBe(2);
  });

  it('keeps at least one admin', async () => {
    await expect(setRole(db, 'ada', 'viewer')).rejects.toMatchObject({ code: 'last_admin' });
    await expect(removeUser(db, 'ada')).rejects.toThrow(/only admin/);
    const { before, after } = await setRole(db, 'vic', 'admin');
    expect([before.role, after.role]).toEqual(['viewer', 'admin']);
    expect((await setRole(db, 'ada', 'operator')).after.role).toBe('operator');
    await expect(setRole(db, 'nobody', 'viewer')).rejects.toMatchObject({ code: 'not_found' });
    await setRole(db, 'ada', 'admin');
    await setRole(db, 'vic', 'viewer');
  });

  it('removes a user with their sessions and keys; the audit log keeps their name', async () => {
    const bob = await createUser(db, { name: 'bob', role: 'operator', password: 'bob-password-1' });
    await createSession(db, bob.id);
    const { key } = await createApiKey(db, bob.id, 'script');
    await writeAudit(db, {
      user: bob,
      action: 'target.pause',
      objectType: 'target',
      objectId: 7,
      before: { paused: false },
      after: { paused: true },
    });
    await removeUser(db, 'bob');
    expect(await apiKeyUser(db, key)).toBeNull();
    expect(await db.selectFrom('sessions').select('user_id').where('user_id', '=', bob.id).execute()).toEqual([]);
    const { rows, total } = await listAudit(db, { limit: 10, offset: 0 });
    expect(total).toBeGreaterThanOrEqual(1);
    expect(rows[0]).toMatchObject({
      user_id: null,
      user_name: 'bob',
      action: 'target.pause',
      object_type: 'target',
      object_id: '7',
      before: { paused: false },
      after: { paused: true },
    });
  });
});
