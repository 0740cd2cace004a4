import { json } from '@sveltejs/kit';
import { postToChannel, testMessage } from '@vigil/core/channels';
import { getChannel } from '@vigil/db';
import { ApiError, api, audit, idOf, principalOf } from '$lib/server/api';
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
  let error: string | null = null;
  try {
    await postToChannel(c, testMessage(c.kind, principalOf(event).user.name), { timeoutMs: 10_000, userAgent: 'vigil-console' });
  } catch (err) {
    error = (err as Error).message;
  }
  await audit(event, 'channel.test', 'channel', id, { after: { sent: error === null, error } });
  if (error !== null) throw new ApiError(502, 'channel_failed', `the channel did not take the test message: ${error}`);
  return json({ sent: true });
});
