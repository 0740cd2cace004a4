/**
 * Accounts at an OpenID Connect provider linked to Vigil users
 * (`user_identities`): found by the provider's issuer and `sub` (never by a
 * name or an email, which a provider may let users change), made at the
 * first sign-in, their role set from the provider's groups at each.
 */
import type { Kysely } from 'kysely';
import type { Database, Role } from './database.js';
import { ACCOUNT_COLUMNS, type Account, generatePassword, hashPassword, isUserName } from './users.js';

/** What signing in through a provider did to the user. */
export interface LinkedUser {
  user: Account;
  /** The user was made now. */
  created: boolean;
  /** The role before, when the provider's groups changed it. */
  roleBefore: Role | null;
}

/**
 * A user name from what the provider calls its user (`preferred_username`,
 * else the part of `email` before the @, else "user"): lower case, characters
 * a Vigil name may not hold become `-`, at most 60 characters.
 */
export function userNameFrom(preferred: string | undefined, email: string | undefined): string {
  const raw = (preferred || email?.split('@')[0] || 'user').toLowerCase().slice(0, 60);
  let out = '';
  for (const ch of raw) out += (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch === '.' || ch === '_' || ch === '-' ? ch : '-';
  if (!/^[a-z0-9]/.test(out)) out = `u${out}`.slice(0, 60);
  return isUserName(out) ? out : 'user';
}

/**
 * The user an account at a provider signs in as: the one linked to
 * (`issuer`, `subject`), with its role set to `role`; or, at its first sign-in,
 * a new user named after `name` (with `-2`, `-3`… when that is taken: a local
 * account of the same name is never taken over) with an unusable password
 * (an admin may set one). One transaction.
 */
export async function linkIdentity(
  db: Kysely<Database>,
  identity: { issuer: string; subject: string; name: string; role: Role },
): Promise<LinkedUser> {
  const password_hash = await hashPassword(generatePassword());
  return db.transaction().execute(async (tx) => {
    const linked = await tx
      .selectFrom('user_identities')
      .innerJoin('users', 'users.id', 'user_identities.user_id')
      .select(ACCOUNT_COLUMNS.map((c) => `users.${c}` as const))
      .where('issuer', '=', identity.issuer)
      .where('subject', '=', identity.subject)
      .forUpdate()
      .executeTakeFirst();
    if (linked) {
      await tx
        .updateTable('user_identities')
        .set({ last_sign_in_at: new Date() })
        .where('issuer', '=', identity.issuer)
        .where('subject', '=', identity.subject)
        .execute();
      if (linked.role === identity.role) return { user: linked, created: false, roleBefore: null };
      const user = await tx
        .updateTable('users')
        .set({ role: identity.role })
        .where('id', '=', linked.id)
        .returning(ACCOUNT_COLUMNS)
        .executeTakeFirstOrThrow();
      return { user, created: false, roleBefore: linked.role };
    }
    for (let i = 1; i <= 100; i++) {
      const suffix = i === 1 ? '' : `-${i}`;
      const name = identity.name.slice(0, 64 - suffix.length) + suffix;
      const user = await tx
        .insertInto('users')
        .values({ name, role: identity.role, password_hash })
        .onConflict((oc) => oc.column('name').doNothing())
        .returning(ACCOUNT_COLUMNS)
        .executeTakeFirst();
      if (!user) continue;
      await tx.insertInto('user_identities').values({ issuer: identity.issuer, subject: identity.subject, user_id: user.id }).execute();
      return { user, created: true, roleBefore: null };
    }
    throw new Error(`no free user name after ${identity.name}-100`);
  });
}

/** Whether a user signs in through a provider (who then asks for the second factor, not Vigil). */
export async function hasIdentity(db: Kysely<Database>, userId: number): Promise<boolean> {
  return (await db.selectFrom('user_identities').select('user_id').where('user_id', '=', userId).executeTakeFirst()) !== undefined;
}
