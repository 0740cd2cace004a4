import { json } from '@sveltejs/kit';
import { actorOf } from '$lib/server/actor';
import { api, idOf } from '$lib/server/api';
import { revokeKey } from '$lib/server/api-keys';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/** Revokes a key: the caller's own, or anyone's for an admin. 404 for another user's key (its existence is not told). */
export const DELETE: RequestHandler = api(async (event) => json(await revokeKey(actorOf(event), idOf(event.params.id, 'API key'))));

export const _spec = routeSpec({ DELETE: { summary: "Revokes an API key (yours; an admin: anyone's)" } });
