import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { ApiKey, Database, Role, Session, User } from './database.js';

/** The roles, most powerful first. */
export const ROLES: readonly Role[] = ['admin', 'operator', 'developer', 'viewer'];

/** Whether `role` is `least` or above it (admin ⊃ operator ⊃ developer ⊃ viewer). */
export function roleAtLeast(role: Role, least: Role): boolean {
  return ROLES.indexOf(role) <= ROLES.indexOf(least);
}

/** A user as everything outside this module sees it: never the password hash. */
export type Account = Omit<User, 'password_hash'>;

/** Thrown for a request about accounts that cannot be done as asked; the message says why and what to do. */
export class AccountError extends Error {
  override name = 'AccountError';
  constructor(
    /** `exists`, `not_found`, `invalid`, `last_admin`. */
    readonly code: 'exists' | 'not_found' | 'invalid' | 'last_admin',
    message: string,
  ) {
    super(message);
  }
}

/** The shortest password accepted, in characters. */
export const MIN_PASSWORD_LENGTH = 10;
/** The longest, in bytes: argon2 would take more, but a megabyte "password" is an attack on CPU. */
const MAX_PASSWORD_BYTES = 1024;
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

// OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): about 30 ms here, so a
// Raspberry Pi signs in within a second and a stolen table costs a GPU dearly.
// The variant is the library's default, argon2id (the tests check the PHC prefix).
const ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

// Loaded on first use: the scraper, which bundles this package, never hashes a
// password, and the native module stays out of its bundle and its memory.
let argon2: Promise<typeof import('@node-rs/argon2')> | null = null;
const hash = async (password: string, options: typeof ARGON2) => (await (argon2 ??= import('@node-rs/argon2'))).hash(password, options);
const verify = async (hashed: string, password: string) => (await (argon2 ??= import('@node-rs/argon2'))).verify(hashed, password);

/**
 * The argon2id hash (PHC string, `$argon2id$v=19$m=19456,t=2,p=1$…`) of a password.
 * @throws AccountError (invalid) for a password shorter than {@link MIN_PASSWORD_LENGTH} or over 1 KiB
 */
export async function hashPassword(password: string): Promise<string> {
  checkPassword(password);
  return hash(password, ARGON2);
}

function checkPassword(password: string): void {
  if ([...password].length < MIN_PASSWORD_LENGTH)
    throw new AccountError('invalid', `a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) throw new AccountError('invalid', 'a password may have at most 1024 bytes');
}

/** A random password for a generated account: 20 characters of base64url (120 bits). */
export function generatePassword(): string {
  return randomBytes(15).toString('base64url');
}

/** A user name is 1-64 of a-z, 0-9, `.`, `_`, `-`, starting with a letter or digit. @throws AccountError (invalid) */
export function checkUserName(name: string): string {
  if (!NAME.test(name))
    throw new AccountError(
      'invalid',
      `user name ${JSON.stringify(name.slice(0, 70))} is not valid: use 1 to 64 of a-z, 0-9, ".", "_", "-", starting with a letter or digit`,
    );
  return name;
}

/** @throws AccountError (invalid) naming the roles */
export function checkRole(role: string): Role {
  if (!(ROLES as readonly string[]).includes(role))
    throw new AccountError('invalid', `role ${JSON.stringify(role.slice(0, 40))} is not one of ${ROLES.join(', ')}`);
  return role as Role;
}

const ACCOUNT_COLUMNS = ['id', 'name', 'role', 'created_at', 'password_changed_at'] as const;

/**
 * Adds a user with an argon2id hash of `password`.
 * @throws AccountError: `invalid` (name, role or password), `exists` (name taken)
 */
export async function createUser(db: Kysely<Database>, input: { name: string; role: string; password: string }): Promise<Account> {
  const name = checkUserName(input.name);
  const role = checkRole(input.role);
  const password_hash = await hashPassword(input.password);
  const row = await db
    .insertInto('users')
    .values({ name, role, password_hash })
    .onConflict((oc) => oc.column('name').doNothing())
    .returning(ACCOUNT_COLUMNS)
    .executeTakeFirst();
  if (!row) throw new AccountError('exists', `a user named "${name}" exists already`);
  return row;
}

/** Every user, by name. */
export async function listUsers(db: Kysely<Database>): Promise<Account[]> {
  return db.selectFrom('users').select(ACCOUNT_COLUMNS).orderBy('name').execute();
}

/** How many users there are (0 on a fresh install: `vigil start` then creates the first admin). */
export async function countUsers(db: Kysely<Database>): Promise<number> {
  const { n } = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** The user `name`, or null. */
export async function getUser(db: Kysely<Database>, name: string): Promise<Account | null> {
  return (await db.selectFrom('users').select(ACCOUNT_COLUMNS).where('name', '=', name).executeTakeFirst()) ?? null;
}

/** The user `id`, or null. */
export async function getUserById(db: Kysely<Database>, id: number): Promise<Account | null> {
  return (await db.selectFrom('users').select(ACCOUNT_COLUMNS).where('id', '=', id).executeTakeFirst()) ?? null;
}

async function requireUser(db: Kysely<Database>, name: string): Promise<Account> {
  const user = await getUser(db, name);
  if (!user) throw new AccountError('not_found', `no user named "${name}"; \`vigil users list\` shows them`);
  return user;
}

/**
 * Refuses a change that would leave no admin (in the same transaction as the
 * change, with the admins' rows locked, so two concurrent demotions cannot both pass).
 */
async function keepAnAdmin(trx: Kysely<Database>, user: Account, what: string): Promise<void> {
  if (user.role !== 'admin') return;
  const admins = await trx.selectFrom('users').select('id').where('role', '=', 'admin').forUpdate().execute();
  if (admins.length <= 1)
    throw new AccountError(
      'last_admin',
      `${user.name} is the only admin: ${what} would leave nobody to manage users; make another admin first`,
    );
}

/**
 * Gives a user another role; their sessions stay, and act with the new role from their next request.
 * @returns the user before and after
 * @throws AccountError: `not_found`, `invalid` role, `last_admin` (demoting the only admin)
 */
export async function setRole(db: Kysely<Database>, name: string, role: string): Promise<{ before: Account; after: Account }> {
  const r = checkRole(role);
  return db.transaction().execute(async (trx) => {
    const before = await requireUser(trx, name);
    if (r !== 'admin') await keepAnAdmin(trx, before, `making them ${r}`);
    const after = await trx
      .updateTable('users')
      .set({ role: r })
      .where('id', '=', before.id)
      .returning(ACCOUNT_COLUMNS)
      .executeTakeFirstOrThrow();
    return { before, after };
  });
}

/**
 * Sets a user's password and ends all their sessions (whoever knew the old one is signed out).
 * @throws AccountError: `not_found`, `invalid` password
 */
export async function setPassword(db: Kysely<Database>, name: string, password: string): Promise<Account> {
  const password_hash = await hashPassword(password);
  return db.transaction().execute(async (trx) => {
    const user = await requireUser(trx, name);
    await trx.deleteFrom('sessions').where('user_id', '=', user.id).execute();
    return trx
      .updateTable('users')
      .set({ password_hash, password_changed_at: new Date() })
      .where('id', '=', user.id)
      .returning(ACCOUNT_COLUMNS)
      .executeTakeFirstOrThrow();
  });
}

/**
 * Removes a user, their sessions and API keys (audit rows keep their name).
 * @returns the removed user
 * @throws AccountError: `not_found`, `last_admin`
 */
export async function removeUser(db: Kysely<Database>, name: string): Promise<Account> {
  return db.transaction().execute(async (trx) => {
    const user = await requireUser(trx, name);
    await keepAnAdmin(trx, user, 'removing them');
    await trx.deleteFrom('users').where('id', '=', user.id).execute();
    return user;
  });
}

// Verified when the name is unknown, so an unknown name takes as long as a wrong password.
let dummyHash: Promise<string> | null = null;

/**
 * The user whose name and password these are, or null (unknown name or wrong
 * password, told apart by neither the answer nor the time it takes).
 */
export async function verifyLogin(db: Kysely<Database>, name: string, password: string): Promise<Account | null> {
  const row = await db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) return null;
  if (!row) {
    dummyHash ??= hash(generatePassword(), ARGON2);
    await verify(await dummyHash, password).catch(() => false);
    return null;
  }
  if (!(await verify(row.password_hash, password).catch(() => false))) return null;
  const { password_hash: _, ...account } = row;
  return account;
}

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
  meta: { clientAddress?: string | null; userAgent?: string | null } = {},
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
    },
  };
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

/** One audit row to write: who acted (null user for the CLI run by root on the host), on what, from where, before and after. */
export interface AuditInput {
  user: { id: number; name: string } | null;
  action: string;
  objectType: string;
  objectId?: string | number | null;
  clientAddress?: string | null;
  before?: unknown;
  after?: unknown;
}

/** Writes an audit row. The CLI acts as `cli (<os user>)`. */
export async function writeAudit(db: Kysely<Database>, entry: AuditInput): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      user_id: entry.user?.id ?? null,
      user_name: entry.user?.name ?? `cli (${process.env.USER ?? process.getuid?.() ?? 'unknown'})`,
      action: entry.action,
      object_type: entry.objectType,
      object_id: entry.objectId === undefined || entry.objectId === null ? null : String(entry.objectId),
      client_address: entry.clientAddress ?? null,
      before: entry.before === undefined ? null : JSON.stringify(entry.before),
      after: entry.after === undefined ? null : JSON.stringify(entry.after),
    })
    .execute();
}

/** Audit rows, newest first, `limit` from `offset`, with the total. */
export async function listAudit(
  db: Kysely<Database>,
  page: { limit: number; offset: number } = { limit: 50, offset: 0 },
): Promise<{ rows: Awaited<ReturnType<typeof auditPage>>; total: number }> {
  const [rows, total] = await Promise.all([
    auditPage(db, page),
    db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

function auditPage(db: Kysely<Database>, page: { limit: number; offset: number }) {
  return db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute();
}
