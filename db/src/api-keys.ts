/** API keys (`api_keys`): `vgl_` keys shown once, kept as SHA-256 and a prefix, revocable, acting with their owner's role. */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ApiKey, Database } from './database.js';
import { secretHash } from './sessions.js';
import { type Account, AccountError } from './users.js';

/** An API key as listings show it: never the key or its hash. */
export type ApiKeyInfo = Omit<ApiKey, 'key_hash'> & { user_name: string };

const KEY_PREFIX = 'vgl_';

/**
 * Makes an API key for a user: `vgl_` and 32 random bytes (base64url). The key
 * is returned this once; only its SHA-256 and its first 8 characters are kept.
 * @throws AccountError (invalid) for an empty name or an expiry in the past
 */
export async function createApiKey(
  db: Kysely<Database>,
  userId: number,
  name: string,
  expiresAt: Date | null = null,
): Promise<{ key: string; info: ApiKeyInfo }> {
  const label = name.trim();
  if (label === '' || label.length > 100) throw new AccountError('invalid', 'an API key needs a name of 1 to 100 characters');
  if (expiresAt && expiresAt.getTime() <= Date.now()) throw new AccountError('invalid', 'an API key cannot expire in the past');
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  const row = await db
    .insertInto('api_keys')
    .values({ user_id: userId, name: label, key_hash: secretHash(key), prefix: key.slice(0, 8), expires_at: expiresAt })
    .returning(['id'])
    .executeTakeFirstOrThrow();
  const [info] = await listApiKeys(db, { id: row.id });
  return { key, info: info! };
}

/** API keys, newest first: one user's (`userId`), one key (`id`), or everyone's. */
export async function listApiKeys(db: Kysely<Database>, filter: { userId?: number; id?: number } = {}): Promise<ApiKeyInfo[]> {
  let q = db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select([
      'api_keys.id',
      'api_keys.user_id',
      'users.name as user_name',
      'api_keys.name',
      'api_keys.prefix',
      'api_keys.created_at',
      'api_keys.expires_at',
      'api_keys.revoked_at',
      'api_keys.last_used_at',
    ])
    .orderBy('api_keys.id', 'desc');
  if (filter.userId !== undefined) q = q.where('api_keys.user_id', '=', filter.userId);
  if (filter.id !== undefined) q = q.where('api_keys.id', '=', filter.id);
  return q.execute();
}

/**
 * Revokes a key (it stays listed, marked revoked). `userId` restricts it to
 * that user's keys. Returns the key before and after, or null when there is no
 * such key (or it is another user's).
 */
export async function revokeApiKey(
  db: Kysely<Database>,
  id: number,
  userId?: number,
): Promise<{ before: ApiKeyInfo; after: ApiKeyInfo } | null> {
  const [before] = await listApiKeys(db, { id, ...(userId === undefined ? {} : { userId }) });
  if (!before) return null;
  await db
    .updateTable('api_keys')
    .set({ revoked_at: before.revoked_at ?? new Date() })
    .where('id', '=', id)
    .execute();
  const [after] = await listApiKeys(db, { id });
  return { before, after: after! };
}

/**
 * The user an API key acts as, or null when the key is unknown, revoked or
 * expired. Records its use at most once a minute.
 */
export async function apiKeyUser(db: Kysely<Database>, key: string, now = new Date()): Promise<{ user: Account; keyId: number } | null> {
  if (!key.startsWith(KEY_PREFIX) || key.length > 100) return null;
  const keyHash = secretHash(key);
  const row = await db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select([
      'api_keys.id as key_id',
      'api_keys.key_hash',
      'api_keys.expires_at',
      'api_keys.revoked_at',
      'api_keys.last_used_at',
      'users.id',
      'users.name',
      'users.role',
      'users.created_at',
      'users.password_changed_at',
    ])
    .where('api_keys.key_hash', '=', keyHash)
    .executeTakeFirst();
  // The lookup is by hash; comparing again in constant time costs nothing and leaves no doubt.
  if (!row || !timingSafeEqual(Buffer.from(row.key_hash), Buffer.from(keyHash))) return null;
  if (row.revoked_at || (row.expires_at && row.expires_at.getTime() <= now.getTime())) return null;
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > 60_000)
    await db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', row.key_id).execute();
  return {
    user: { id: row.id, name: row.name, role: row.role, created_at: row.created_at, password_changed_at: row.password_changed_at },
    keyId: row.key_id,
  };
}
