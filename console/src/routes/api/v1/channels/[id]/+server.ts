import { json } from '@sveltejs/kit';
import { actorOf } from '$lib/server/actor';
import { api, idOf } from '$lib/server/api';
import { deleteChannel, showChannel } from '$lib/server/channels';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/** One channel (URL masked). */
export const GET: RequestHandler = api(async ({ params }) => json(await showChannel(idOf(params.id, 'channel'))));

/** Removes a channel and its pending deliveries → 204. */
export const DELETE: RequestHandler = api(async (event) => {
  await deleteChannel(actorOf(event), idOf(event.params.id, 'channel'));
  return new Response(null, { status: 204 });
});

export const _spec = routeSpec({
  GET: { summary: 'One notification channel, its URL masked' },
  DELETE: { summary: 'Removes a notification channel' },
});
