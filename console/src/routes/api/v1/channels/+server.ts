import { json } from '@sveltejs/kit';
import { addChannel, listChannels } from '@vigil/db';
import * as z from 'zod/mini';
import { api, audit, body, channelView } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import type { RequestHandler } from './$types';

/** Every notification channel, by name (URLs masked). */
export const GET: RequestHandler = api(async () => json({ items: (await listChannels(await getDb())).map(channelView) }));

const newChannel = z.strictObject({
  name: z.string().check(z.maxLength(100)),
  kind: z.enum(['webhook', 'slack', 'alertmanager']),
  url: z.string().check(z.maxLength(2000)),
});

/** Adds a channel `{name, kind: webhook|slack|alertmanager, url}` → 201; it gets every down and recovery event from now on. */
export const POST: RequestHandler = api(async (event) => {
  const input = await body(event, newChannel);
  const c = await addChannel(await getDb(), input);
  const view = channelView(c);
  await audit(event, 'channel.create', 'channel', c.id, { after: view });
  return json(view, { status: 201 });
});
