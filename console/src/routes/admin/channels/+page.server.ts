import { postToChannel, testMessage } from '@vigil/core/channels';
import { addChannel, getChannel, listChannels, removeChannelById } from '@vigil/db';
import * as z from 'zod/mini';
import { ApiError, audit, channelView, principalOf } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { checkForm, formAction, formFields } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => ({
  channels: (await listChannels(await getDb())).map(channelView),
  canEdit: locals.principal?.user.role === 'admin',
});

const newChannel = z.object({
  name: z.string().check(z.maxLength(100)),
  kind: z.enum(['webhook', 'slack', 'alertmanager']),
  url: z.string(),
});

async function channel(f: Record<string, string>) {
  const c = await getChannel(await getDb(), Number(f.id));
  if (!c) throw new ApiError(404, 'not_found', 'that channel is gone');
  return c;
}

export const actions: Actions = {
  add: (event) =>
    formAction('add', async () => {
      const f = await formFields(event);
      const c = await addChannel(await getDb(), checkForm(newChannel, { name: f.name?.trim(), kind: f.kind, url: f.url?.trim() }));
      await audit(event, 'channel.create', 'channel', c.id, { after: channelView(c) });
      return { action: 'add', added: c.name };
    }),
  test: (event) =>
    formAction('test', async () => {
      const c = await channel(await formFields(event));
      let error: string | null = null;
      try {
        await postToChannel(c, testMessage(c.kind, principalOf(event).user.name), { userAgent: 'vigil-console' });
      } catch (err) {
        error = (err as Error).message;
      }
      await audit(event, 'channel.test', 'channel', c.id, { after: { sent: error === null, error } });
      return { action: 'test', tested: c.name, error };
    }),
  remove: (event) =>
    formAction('remove', async () => {
      const c = await channel(await formFields(event));
      await removeChannelById(await getDb(), c.id);
      await audit(event, 'channel.remove', 'channel', c.id, { before: channelView(c) });
      return { action: 'remove', removed: c.name };
    }),
};
