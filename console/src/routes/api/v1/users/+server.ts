import { json } from '@sveltejs/kit';
import { createUser, listUsers } from '@vigil/db';
import * as z from 'zod/mini';
import { userView } from '$lib/server/accounts';
import { api, audit, body } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import type { RequestHandler } from './$types';

/** Every user (admin). */
export const GET: RequestHandler = api(async () => json({ items: (await listUsers(await getDb())).map(userView) }));

const newUser = z.strictObject({ name: z.string(), role: z.string(), password: z.string() });

/** Adds a user (admin): `{name, role, password}` → 201; 409 when the name is taken, 422 for a bad name, role or password. */
export const POST: RequestHandler = api(async (event) => {
  const input = await body(event, newUser);
  const user = await createUser(await getDb(), input);
  await audit(event, 'user.create', 'user', user.id, { after: { name: user.name, role: user.role } });
  return json(userView(user), { status: 201 });
});
