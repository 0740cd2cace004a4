import { json } from '@sveltejs/kit';
import { actorOf } from '$lib/server/actor';
import { api, jsonBody } from '$lib/server/api';
import { routeSpec } from '$lib/server/openapi';
import { addUser, listUserViews, newUser } from '$lib/server/users';
import type { RequestHandler } from './$types';

/** Every user (admin). */
export const GET: RequestHandler = api(async () => json({ items: await listUserViews() }));

/** Adds a user (admin): `{name, role, password}` → 201; 409 when the name is taken, 422 for a bad name, role or password. */
export const POST: RequestHandler = api(async (event) => json(await addUser(actorOf(event), await jsonBody(event)), { status: 201 }));

export const _spec = routeSpec({
  GET: { summary: 'Every user, with whether they sign in with two factors' },
  POST: { summary: 'Adds a user', body: newUser, status: 201 },
});
