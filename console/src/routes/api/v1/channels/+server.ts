import { json } from '@sveltejs/kit';
import { actorOf } from '$lib/server/actor';
import { api, jsonBody } from '$lib/server/api';
import { createChannel, listChannelViews, newChannel } from '$lib/server/channels';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/** Every notification channel, by name (URLs masked). */
export const GET: RequestHandler = api(async () => json({ items: await listChannelViews() }));

/** Adds a channel `{name, kind: webhook|slack|alertmanager, url}` → 201; it gets every down and recovery event from now on. */
export const POST: RequestHandler = api(async (event) => json(await createChannel(actorOf(event), await jsonBody(event)), { status: 201 }));

export const _spec = routeSpec({
  GET: { summary: 'Notification channels, URLs masked' },
  POST: { summary: 'Adds a notification channel', body: newChannel, status: 201 },
});
