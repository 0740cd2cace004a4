import { actorOf } from '$lib/server/actor';
import { endSilence } from '$lib/server/alerts';
import { api, idOf } from '$lib/server/api';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/** Ends a silence now (kept in the history) → 204. */
export const DELETE: RequestHandler = api(async (event) => {
  await endSilence(actorOf(event), idOf(event.params.id, 'silence'));
  return new Response(null, { status: 204 });
});

export const _spec = routeSpec({ DELETE: { summary: 'Ends a silence now' } });
