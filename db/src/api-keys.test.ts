import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyUser, createApiKey, createUser, type Database, listApiKeys, listUsers, revokeApiKey } from './index.js';
import { testDatabases } from './testing.js';

describe.each(testDatabases())('API keys on $name', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await engine.open());
    await createUser(db, { name: 'ada', role: 'admin', password: 'ada-password-1' });
    await createUser(db, { name: 'vic', role: 'viewer', password: 'vic-password-1' });
  });
  afterAll(() => drop());

  it('makes API keys shown once, stored hashed, that act as their user until revoked or expired', async () => {
    const vic = (await listUsers(db)).find((u) => u.name === 'vic')!;
    const { key, info } = await createApiKey(db, vic.id, 'grafana');
    expect(key).toMatch(/^vgl_[A-Za-z0-9_-]{43}$/);
    expect(info).toMatchObject({ name: 'grafana', user_name: 'vic', prefix: key.slice(0, 8), revoked_at: null, last_used_at: null });
    expect(JSON.stringify(await db.selectFrom('api_keys').selectAll().execute())).not.toContain(key);
    const used = await apiKeyUser(db, key);
    expect(used?.user).toMatchObject({ name: 'vic', role: 'viewer' });
    expect((await listApiKeys(db, { userId: vic.id }))[0]!.last_used_at).not.toBeNull();
    // One character changed (to another: a key may end in any of them).
    expect(await apiKeyUser(db, `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`)).toBeNull();
    expect(await apiKeyUser(db, 'not-a-key')).toBeNull();

    // Another user cannot revoke it; its owner can.
    const ada = (await listUsers(db)).find((u) => u.name === 'ada')!;
    expect(await revokeApiKey(db, info.id, ada.id)).toBeNull();
    const revoked = await revokeApiKey(db, info.id, vic.id);
    expect(revoked?.before.revoked_at).toBeNull();
    expect(revoked?.after.revoked_at).toBeInstanceOf(Date);
    expect(await apiKeyUser(db, key)).toBeNull();

    const expiring = await createApiKey(db, vic.id, 'ci', new Date(Date.now() + 60_000));
    expect(await apiKeyUser(db, expiring.key)).not.toBeNull();
    expect(await apiKeyUser(db, expiring.key, new Date(Date.now() + 61_000))).toBeNull();
    await expect(createApiKey(db, vic.id, 'old', new Date(Date.now() - 1000))).rejects.toThrow(/past/);
    await expect(createApiKey(db, vic.id, '  ')).rejects.toThrow(/name/);
  });
});
