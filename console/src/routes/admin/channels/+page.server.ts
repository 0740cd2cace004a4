import { addChannel, getChannel, listChannels, removeChannelById } from '@vigil/db';
import { ApiError, audit, channelView } from '$lib/server/api';
import { newChannel, sendTestMessage } from '$lib/server/channels';
import { getDb } from '$lib/server/db';
import { checkForm, formAction, formFields } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => ({
  channels: (await listChannels(await getDb())).map(channelView),
  canEdit: locals.principal?.user.role === 'admin',
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
      return { action: 'test', tested: c.name, error: await sendTestMessage(event, c) };
    }),
  remove: (event) =>
    formAction('remove', async () => {
      const c = await channel(await formFields(event));
      await removeChannelById(await getDb(), c.id);
      await audit(event, 'channel.remove', 'channel', c.id, { before: channelView(c) });
      return { action: 'remove', removed: c.name };
    }),
};
