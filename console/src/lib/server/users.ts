/**
 * Users: the use cases the users API and the admin page both call — validate,
 * write, audit, answer. The rules themselves (names, roles, passwords, the last
 * admin) are the database package's, refused with an AccountError.
 */
import { createUser, disableTotp, getUser, isUserName, listUsers, removeUser, setPassword, setRole, totpEnabled } from '@vigil/db';
import * as z from 'zod/mini';
import type { UserView } from '$lib/api';
import { type Actor, recordAudit } from './actor';
import { getDb } from './db';
import { ApiError, validate } from './errors';
import { userView } from './views';

/** A new user: `{name, role, password}`. */
export const newUser = z.strictObject({ name: z.string(), role: z.string(), password: z.string() });

/** A change to a user: `{role?, password?}`. */
export const userPatch = z.strictObject({
  role: z.optional(z.string()),
  password: z.optional(z.string()),
  /** `false` resets their two-factor sign-in (a lost phone); they set it up again at their next sign-in if their role needs it. */
  two_factor: z.optional(z.literal(false)),
});

/** Every user, by name. */
export async function listUserViews(): Promise<UserView[]> {
  const db = await getDb();
  const users = await listUsers(db);
  const on = await totpEnabled(
    db,
    users.map((u) => u.id),
  );
  return users.map((u) => userView(u, on.has(u.id)));
}

/** Adds a user, audited as `user.create`. @throws AccountError (409 taken, 422 bad name, role or password) */
export async function addUser(actor: Actor, input: unknown): Promise<UserView> {
  const u = await createUser(await getDb(), validate(newUser, input));
  const view = userView(u);
  await recordAudit(actor, 'user.create', 'user', u.id, { after: view });
  return view;
}

/**
 * Changes a user's role and/or password, audited as `user.set_role` and
 * `user.reset_password`. A new password ends their sessions; the last admin
 * cannot be demoted.
 * @throws ApiError 404; AccountError (409 last admin, 422 bad role or password)
 */
export async function changeUser(actor: Actor, name: string, input: unknown): Promise<UserView> {
  const change = validate(userPatch, input);
  const db = await getDb();
  const before = isUserName(name) ? await getUser(db, name) : null;
  if (!before) throw new ApiError(404, 'not_found', `no user named "${name.slice(0, 64)}"`);
  if (change.role !== undefined) {
    const r = await setRole(db, name, change.role);
    await recordAudit(actor, 'user.set_role', 'user', before.id, { before: userView(r.before), after: userView(r.after) });
  }
  if (change.password !== undefined) {
    await setPassword(db, name, change.password);
    await recordAudit(actor, 'user.reset_password', 'user', before.id);
  }
  if (change.two_factor === false && (await disableTotp(db, before.id)))
    await recordAudit(actor, 'user.reset_two_factor', 'user', before.id);
  const after = (await getUser(db, name)) ?? before;
  return userView(after, (await totpEnabled(db, [after.id])).has(after.id));
}

/**
 * Removes a user with their sessions and API keys, audited as `user.remove`.
 * Nobody removes themselves (another admin can), and the last admin stays.
 * @throws ApiError 404, 409 (oneself); AccountError 409 (the last admin)
 */
export async function deleteUser(actor: Actor, name: string): Promise<UserView> {
  if (name === actor.user.name) throw new ApiError(409, 'conflict', 'you cannot remove yourself; another admin can');
  const db = await getDb();
  if (!isUserName(name) || !(await getUser(db, name))) throw new ApiError(404, 'not_found', `no user named "${name.slice(0, 64)}"`);
  const view = userView(await removeUser(db, name));
  await recordAudit(actor, 'user.remove', 'user', view.id, { before: view });
  return view;
}
