/** Console sessions (`sessions`): random tokens kept as SHA-256, with absolute and idle limits. */
import { createHash, randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Database, Session } from './database.js';
import type { Account } from './users.js';

/** SHA-256 of a session token or API key, hex: these are 256-bit random secrets, so a fast hash is enough (no dictionary to try). */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Session lifetimes: an absolute limit and an idle limit, in seconds. */
export interface SessionLimits {
  /** From sign-in on (default 7 days). */
  maxAgeSeconds: number;
  /** Since the last request (default 12 hours). */
  idleSeconds: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { maxAgeSeconds: 7 * 86_400, idleSeconds: 12 * 3_600 };

/**
 * Starts a session for a user who just signed in: a fresh random token (the
 * cookie's value; 32 bytes, base64url) whose hash is stored.
 */
export async function createSession(
  db: Kysely<Database>,
  userId: number,
  meta: { clientAddress?: string | null; userAgent?: string | null; secondFactorPending?: boolean } = {},
  limits: SessionLimits = DEFAULT_SESSION_LIMITS,
): Promise<{ token: string; session: Session }> {
  const token = randomBytes(32).toString('base64url');
  const session = await db
    .insertInto('sessions')
    .values({
      id_hash: secretHash(token),
      user_id: userId,
      expires_at: new Date(Date.now() + limits.maxAgeSeconds * 1000),
      client_address: meta.clientAddress ?? null,
      user_agent: meta.userAgent?.slice(0, 200) ?? null,
      second_factor_pending: meta.secondFactorPending ?? false,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { token, session };
}

/**
 * The user a session token signs in, or null when it names no session, or one
 * past its expiry or idle limit (such a session is deleted). Records the
 * request time at most once a minute (not one write per request).
 */
export async function sessionUser(
  db: Kysely<Database>,
  token: string,
  limits: SessionLimits = DEFAULT_SESSION_LIMITS,
  now = new Date(),
): Promise<{ user: Account; session: Session } | null> {
  if (token.length > 100) return null;
  const idHash = secretHash(token);
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id_hash',
      'sessions.user_id',
      'sessions.created_at',
      'sessions.last_seen_at',
      'sessions.expires_at',
      'sessions.client_address',
      'sessions.user_agent',
      'sessions.second_factor_pending',
      'users.name',
      'users.role',
      'users.created_at as user_created_at',
      'users.password_changed_at',
    ])
    .where('sessions.id_hash', '=', idHash)
    .executeTakeFirst();
  if (!row) return null;
  const idleUntil = row.last_seen_at.getTime() + limits.idleSeconds * 1000;
  if (row.expires_at.getTime() <= now.getTime() || idleUntil <= now.getTime()) {
    await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
    return null;
  }
  let lastSeen = row.last_seen_at;
  if (now.getTime() - lastSeen.getTime() > 60_000) {
    lastSeen = now;
    await db.updateTable('sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute();
  }
  return {
    user: {
      id: row.user_id,
      name: row.name,
      role: row.role,
      created_at: row.user_created_at,
      password_changed_at: row.password_changed_at,
    },
    session: {
      id_hash: row.id_hash,
      user_id: row.user_id,
      created_at: row.created_at,
      last_seen_at: lastSeen,
      expires_at: row.expires_at,
      client_address: row.client_address,
      user_agent: row.user_agent,
      second_factor_pending: row.second_factor_pending,
    },
  };
}

/**
 * Marks a session's second factor as given: from now on it signs its user
 * in. @returns false when the token names no session waiting for one
 */
export async function completeSecondFactor(db: Kysely<Database>, token: string): Promise<boolean> {
  const r = await db
    .updateTable('sessions')
    .set({ second_factor_pending: false, last_seen_at: new Date() })
    .where('id_hash', '=', secretHash(token))
    .where('second_factor_pending', '=', true)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Ends a session (sign-out); nothing when the token names none. */
export async function deleteSession(db: Kysely<Database>, token: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', secretHash(token)).execute();
}

/** Deletes sessions past their absolute expiry or idle limit; returns how many. */
export async function pruneSessions(db: Kysely<Database>, limits: SessionLimits = DEFAULT_SESSION_LIMITS): Promise<number> {
  const r = await db
    .deleteFrom('sessions')
    .where((eb) =>
      eb.or([
        eb('expires_at', '<=', sql<Date>`now()`),
        eb('last_seen_at', '<=', sql<Date>`now() - make_interval(secs => ${limits.idleSeconds})`),
      ]),
    )
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
