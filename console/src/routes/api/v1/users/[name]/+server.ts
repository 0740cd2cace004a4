import { json } from '@sveltejs/kit';
import { getUser, removeUser, setPassword, setRole } from '@vigil/db';
import * as z from 'zod/mini';
import { userView } from '$lib/server/accounts';
import { ApiError, api, audit, body } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import type { RequestHandler } from './$types';

const patch = z.strictObject({ role: z.optional(z.string()), password: z.optional(z.string()) });

/**
 * Changes a user's role and/or password (admin). A new password ends their
 * sessions; the last admin cannot be demoted (409).
 */
export const PATCH: RequestHandler = api(async (event) => {
  const { name } = event.params;
  const change = await body(event, patch);
  const db = await getDb();
  const before = await getUser(db, name);
  if (!before) throw new ApiError(404, 'not_found', `no user named "${name.slice(0, 64)}"`);
  if (change.role !== undefined) {
    const r = await setRole(db, name, change.role);
    await audit(event, 'user.set_role', 'user', before.id, { before: { role: r.before.role }, after: { role: r.after.role } });
  }
  if (change.password !== undefined) {
    await setPassword(db, name, change.password);
    await audit(event, 'user.reset_password', 'user', before.id);
  }
  return json(userView((await getUser(db, name))!));
});

/** Removes a user with their sessions and API keys (admin) → 204; the last admin cannot be removed (409). */
export const DELETE: RequestHandler = api(async (event) => {
  const user = await removeUser(await getDb(), event.params.name);
  await audit(event, 'user.remove', 'user', user.id, { before: { name: user.name, role: user.role } });
  return new Response(null, { status: 204 });
});
