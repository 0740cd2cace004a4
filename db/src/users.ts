/**
 * Users: names, roles and argon2id passwords (`users`), and signing in.
 * Sessions, API keys and the audit log have modules of their own.
 */
import { randomBytes } from 'node:crypto';
import { isRole, ROLES } from '@vigil/core/states';
import type { Kysely } from 'kysely';
import { writeAudit } from './audit.js';
import type { Database, Role, User } from './database.js';

export { ROLES, roleAtLeast } from '@vigil/core/states';

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

/** Whether `name` could be a user's name (see {@link checkUserName}); anything else names nobody and must not reach a query. */
export function isUserName(name: string): boolean {
  return NAME.test(name);
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
  if (!isRole(role)) throw new AccountError('invalid', `role ${JSON.stringify(role.slice(0, 40))} is not one of ${ROLES.join(', ')}`);
  return role;
}

/** The columns of an {@link Account}: every column of `users` but the password hash. */
export const ACCOUNT_COLUMNS = ['id', 'name', 'role', 'created_at', 'password_changed_at'] as const;

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

/** The first admin's text, printed once where the first start's output goes (`vigil start`, `docker compose logs console`). */
export function firstAdminMessage(password: string, resetHint: string): string {
  return (
    `\nfirst start: created the console user "admin" with the password\n\n    ${password}\n\n` +
    `(shown this once; change it on the console's account page, or set one with \`${resetHint}\`)\n\n`
  );
}

/**
 * On a fresh install, when there is no user at all, creates the user `admin`
 * (role admin, audited as made by nobody) so that someone can sign in. The
 * password is `password` when given (VIGIL_ADMIN_PASSWORD), else generated.
 * Safe to race: of several processes starting at once, one creates it.
 * @returns the password when this call created the admin (to be shown once), else null
 * @throws AccountError (invalid) when the password given is too short or too long
 */
export async function createFirstAdmin(db: Kysely<Database>, password?: string): Promise<{ password: string; generated: boolean } | null> {
  if ((await countUsers(db)) > 0) return null;
  const chosen = password ?? generatePassword();
  let admin: Account;
  try {
    admin = await createUser(db, { name: 'admin', role: 'admin', password: chosen });
  } catch (e) {
    if (e instanceof AccountError && e.code === 'exists') return null; // another process made it a moment ago
    throw e;
  }
  await writeAudit(db, {
    user: null,
    action: 'user.create',
    objectType: 'user',
    objectId: admin.id,
    after: { name: 'admin', role: 'admin' },
  });
  return { password: chosen, generated: password === undefined };
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
  // A name no user can have (a NUL byte, which PostgreSQL refuses in text) is nobody's, without asking.
  const row = NAME.test(name) ? await db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst() : undefined;
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
