import type { RequestEvent } from '@sveltejs/kit';
import { postToChannel, testMessage } from '@vigil/core/channels';
import type { NotificationChannel } from '@vigil/db';
import * as z from 'zod/mini';
import { audit, principalOf } from './api';

/** A new notification channel, as the API's body and the admin page's form give it. */
export const newChannel = z.strictObject({
  name: z.string().check(z.maxLength(100)),
  kind: z.enum(['webhook', 'slack', 'alertmanager']),
  url: z.string().check(z.maxLength(2000)),
});

/**
 * Sends a channel a test message now, in the requester's name, and audits
 * the attempt either way.
 * @returns null when the channel took it, else what went wrong (its URL masked)
 */
export async function sendTestMessage(event: RequestEvent, channel: NotificationChannel): Promise<string | null> {
  let error: string | null = null;
  try {
    await postToChannel(channel, testMessage(channel.kind, principalOf(event).user.name), {
      timeoutMs: 10_000,
      userAgent: 'vigil-console',
    });
  } catch (err) {
    error = (err as Error).message;
  }
  await audit(event, 'channel.test', 'channel', channel.id, { after: { sent: error === null, error } });
  return error;
}
