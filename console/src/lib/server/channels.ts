/**
 * Notification channels: the use cases the channels API and the admin page both
 * call — validate, write, audit, answer. URLs are masked in every answer (a
 * webhook's path is its secret).
 */
import { CHANNEL_KINDS, type ChannelKind, sendTestMessage } from '@vigil/core/channels';
import { addChannel, getChannel, listChannels, type NotificationChannel, removeChannelById, updateChannel } from '@vigil/db';
import * as z from 'zod/mini';
import type { ChannelView } from '$lib/api';
import { type Actor, recordAudit } from './actor';
import { getDb } from './db';
import { notFound, validate } from './errors';
import { channelView } from './views';

/** A new notification channel, as the API's body and the admin page's form give it. */
export const newChannel = z.strictObject({
  name: z.string().check(z.maxLength(100)),
  kind: z.enum(CHANNEL_KINDS as [ChannelKind, ...ChannelKind[]]),
  url: z.string().check(z.maxLength(2000)),
  matchers: z.optional(z.string().check(z.maxLength(1000))),
  min_severity: z.optional(z.enum(['info', 'warning', 'critical'])),
  group_by: z.optional(z.string().check(z.maxLength(300))),
  group_wait_seconds: z.optional(z.number()),
  group_interval_seconds: z.optional(z.number()),
  repeat_interval_seconds: z.optional(z.number()),
});

/** Every channel, by name. */
export async function listChannelViews(): Promise<ChannelView[]> {
  return (await listChannels(await getDb())).map(channelView);
}

async function existing(id: number): Promise<NotificationChannel> {
  return (await getChannel(await getDb(), id)) ?? notFound('channel', id);
}

/** One channel. @throws ApiError 404 */
export async function showChannel(id: number): Promise<ChannelView> {
  return channelView(await existing(id));
}

/** Adds a channel, audited as `channel.create`; it gets every down and recovery event from now on. @throws ApiError 422; ChannelError */
export async function createChannel(actor: Actor, input: unknown): Promise<ChannelView> {
  const c = await addChannel(await getDb(), validate(newChannel, input));
  const view = channelView(c);
  await recordAudit(actor, 'channel.create', 'channel', c.id, { after: view });
  return view;
}

/** What may change of a channel (`PATCH`): on or off, and its alert routing and grouping. */
export const channelPatch = z.strictObject({
  enabled: z.optional(z.boolean()),
  matchers: z.optional(z.string().check(z.maxLength(1000))),
  min_severity: z.optional(z.enum(['info', 'warning', 'critical'])),
  group_by: z.optional(z.string().check(z.maxLength(300))),
  group_wait_seconds: z.optional(z.number()),
  group_interval_seconds: z.optional(z.number()),
  repeat_interval_seconds: z.optional(z.number()),
});

/** Changes a channel's routing and grouping or turns it off and on, audited as `channel.update`. @throws ApiError 404, 422; ChannelError */
export async function changeChannel(actor: Actor, id: number, input: unknown): Promise<ChannelView> {
  const patch = validate(channelPatch, input);
  const before = channelView(await existing(id));
  const view = channelView((await updateChannel(await getDb(), id, patch)) ?? notFound('channel', id));
  await recordAudit(actor, 'channel.update', 'channel', id, { before, after: view });
  return view;
}

/** Removes a channel and its pending deliveries, audited as `channel.remove`. @throws ApiError 404 */
export async function deleteChannel(actor: Actor, id: number): Promise<ChannelView> {
  const c = (await removeChannelById(await getDb(), id)) ?? notFound('channel', id);
  const view = channelView(c);
  await recordAudit(actor, 'channel.remove', 'channel', id, { before: view });
  return view;
}

/**
 * Sends a channel a test message now, in the actor's name, and audits the
 * attempt (`channel.test`) either way.
 * @returns the channel, and null when it took the message, else what went wrong (its URL masked)
 * @throws ApiError 404
 */
export async function testChannel(actor: Actor, id: number): Promise<{ channel: ChannelView; error: string | null }> {
  const channel = await existing(id);
  let error: string | null = null;
  try {
    await sendTestMessage(channel, actor.user.name, { timeoutMs: 10_000, userAgent: 'vigil-console' });
  } catch (err) {
    error = (err as Error).message;
  }
  await recordAudit(actor, 'channel.test', 'channel', channel.id, { after: { sent: error === null, error } });
  return { channel: channelView(channel), error };
}
