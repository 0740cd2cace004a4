import { json } from '@sveltejs/kit';
import { actorOf } from '$lib/server/actor';
import { ApiError, api, idOf } from '$lib/server/api';
import { testChannel } from '$lib/server/channels';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/**
 * Sends a test message to a channel now → `{sent: true}`, or 502 with what
 * went wrong (its URL masked). Audited either way.
 */
export const POST: RequestHandler = api(async (event) => {
  const { error } = await testChannel(actorOf(event), idOf(event.params.id, 'channel'));
  if (error !== null) throw new ApiError(502, 'channel_failed', `the channel did not take the test message: ${error}`);
  return json({ sent: true });
});

export const _spec = routeSpec({ POST: { summary: 'Sends a test message now: `{sent: true}`, or 502 saying why' } });
