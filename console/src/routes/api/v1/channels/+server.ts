import { json } from '@sveltejs/kit';
import { addChannel, listChannels } from '@vigil/db';
import { api, audit, body, channelView } from '$lib/server/api';
import { newChannel } from '$lib/server/channels';
import { getDb } from '$lib/server/db';
import type { RequestHandler } from './$types';

/** Every notification channel, by name (URLs masked). */
export const GET: RequestHandler = api(async () => json({ items: (await listChannels(await getDb())).map(channelView) }));

/** Adds a channel `{name, kind: webhook|slack|alertmanager, url}` → 201; it gets every down and recovery event from now on. */
export const POST: RequestHandler = api(async (event) => {
  const input = await body(event, newChannel);
  const c = await addChannel(await getDb(), input);
  const view = channelView(c);
  await audit(event, 'channel.create', 'channel', c.id, { after: view });
  return json(view, { status: 201 });
});
