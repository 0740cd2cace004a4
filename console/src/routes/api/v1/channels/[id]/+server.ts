import { json } from '@sveltejs/kit';
import { getChannel, removeChannelById } from '@vigil/db';
import { ApiError, api, audit, channelView, idOf } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import type { RequestHandler } from './$types';

/** One channel (URL masked). */
export const GET: RequestHandler = api(async ({ params }) => {
  const id = idOf(params.id, 'channel');
  const c = await getChannel(await getDb(), id);
  if (!c) throw new ApiError(404, 'not_found', `no channel with id ${id}`);
  return json(channelView(c));
});

/** Removes a channel and its pending deliveries → 204. */
export const DELETE: RequestHandler = api(async (event) => {
  const id = idOf(event.params.id, 'channel');
  const c = await removeChannelById(await getDb(), id);
  if (!c) throw new ApiError(404, 'not_found', `no channel with id ${id}`);
  await audit(event, 'channel.remove', 'channel', id, { before: channelView(c) });
  return new Response(null, { status: 204 });
});
