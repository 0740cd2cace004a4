import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, type Database, hasIdentity, linkIdentity, userNameFrom, verifyLogin } from './index.js';
import { testDatabases } from './testing.js';

describe('userNameFrom', () => {
  it.each([
    ['Alice', undefined, 'alice'],
    [undefined, 'Bob.Smith@example.com', 'bob.smith'],
    ['José Müller', undefined, 'jos--m-ller'],
    ['_admin', undefined, 'u_admin'],
    [undefined, undefined, 'user'],
    ['x'.repeat(100), undefined, 'x'.repeat(60)],
  ])('names %j / %j as %j', (preferred, email, name) => expect(userNameFrom(preferred, email)).toBe(name));
});

describe.each(testDatabases())('identities at a provider on $name', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await engine.open());
    await createUser(db, { name: 'ada', role: 'admin', password: 'ada-password-1' });
  });
  afterAll(() => drop());
  const issuer = 'https://auth.example.com';

  it('makes a user at the first sign-in, finds it by issuer and subject after, and follows the role', async () => {
    const first = await linkIdentity(db, { issuer, subject: 's-1', name: 'carol', role: 'viewer' });
    expect(first).toMatchObject({ created: true, roleBefore: null, user: { name: 'carol', role: 'viewer' } });
    expect(await hasIdentity(db, first.user.id)).toBe(true);
    // Renamed at the provider: still the same user.
    const again = await linkIdentity(db, { issuer, subject: 's-1', name: 'caroline', role: 'viewer' });
    expect(again).toMatchObject({ created: false, roleBefore: null, user: { id: first.user.id, name: 'carol' } });
    const promoted = await linkIdentity(db, { issuer, subject: 's-1', name: 'carol', role: 'operator' });
    expect(promoted).toMatchObject({ roleBefore: 'viewer', user: { role: 'operator' } });
    // Its password is none anyone knows.
    expect(await verifyLogin(db, 'carol', '')).toBeNull();
  });

  it('never takes over a local account or another identity of the same name', async () => {
    const other = await linkIdentity(db, { issuer, subject: 's-2', name: 'ada', role: 'viewer' });
    expect(other.user.name).toBe('ada-2');
    const third = await linkIdentity(db, { issuer: 'https://other.example.com', subject: 's-1', name: 'carol', role: 'viewer' });
    expect(third.user.name).toBe('carol-2'); // the same subject at another issuer is someone else
    const ada = await db.selectFrom('users').select('id').where('name', '=', 'ada').executeTakeFirstOrThrow();
    expect(await hasIdentity(db, ada.id)).toBe(false);
  });
});
