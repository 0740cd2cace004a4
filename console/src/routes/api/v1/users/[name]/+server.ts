import { json } from '@sveltejs/kit';
import { actorOf } from '$lib/server/actor';
import { api, jsonBody } from '$lib/server/api';
import { routeSpec } from '$lib/server/openapi';
import { changeUser, deleteUser, userPatch } from '$lib/server/users';
import type { RequestHandler } from './$types';

/**
 * Changes a user's role and/or password (admin). A new password ends their
 * sessions; the last admin cannot be demoted (409).
 */
export const PATCH: RequestHandler = api(async (event) => json(await changeUser(actorOf(event), event.params.name, await jsonBody(event))));

/** Removes a user with their sessions and API keys (admin) → 204; the last admin, or oneself, cannot be removed (409). */
export const DELETE: RequestHandler = api(async (event) => {
  await deleteUser(actorOf(event), event.params.name);
  return new Response(null, { status: 204 });
});

export const _spec = routeSpec({
  PATCH: { summary: 'Changes a user: role, password (ending their sessions), or resets their second factor', body: userPatch },
  DELETE: { summary: 'Removes a user with their sessions and keys' },
});
