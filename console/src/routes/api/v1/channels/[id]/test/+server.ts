import { json } from '@sveltejs/kit';
import { getChannel } from '@vigil/db';
import { ApiError, api, idOf } from '$lib/server/api';
import { sendTestMessage } from '$lib/server/channels';
import { getDb } from '$lib/server/db';
import type { RequestHandler } from './$types';

/**
 * Sends a test message to a channel now → `{sent: true}`, or 502 with what
 * went wrong (its URL masked). Audited either way.
 */
export const POST: RequestHandler = api(async (event) => {
  const id = idOf(event.params.id, 'channel');
  const c = await getChannel(await getDb(), id);
  if (!c) throw new ApiError(404, 'not_found', `no channel with id ${id}`);
  const error = await sendTestMessage(event, c);
  if (error !== null) throw new ApiError(502, 'channel_failed', `the channel did not take the test message: ${error}`);
  return json({ sent: true });
});
