import { json } from '@sveltejs/kit';
import { actorOf } from '$lib/server/actor';
import { api, idOf, jsonBody } from '$lib/server/api';
import { changeChannel, channelPatch, deleteChannel, showChannel } from '$lib/server/channels';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/** One channel (URL masked). */
export const GET: RequestHandler = api(async ({ params }) => json(await showChannel(idOf(params.id, 'channel'))));

/** Changes a channel's alert routing and grouping (`matchers`, `min_severity`, `group_by`, the three intervals) or turns it off (`enabled`). */
export const PATCH: RequestHandler = api(async (event) =>
  json(await changeChannel(actorOf(event), idOf(event.params.id, 'channel'), await jsonBody(event))),
);

/** Removes a channel and its pending deliveries → 204. */
export const DELETE: RequestHandler = api(async (event) => {
  await deleteChannel(actorOf(event), idOf(event.params.id, 'channel'));
  return new Response(null, { status: 204 });
});

export const _spec = routeSpec({
  GET: { summary: 'One notification channel, its URL masked' },
  PATCH: { summary: "Changes a channel's alert routing and grouping, or turns it off and on", body: channelPatch },
  DELETE: { summary: 'Removes a notification channel' },
});
