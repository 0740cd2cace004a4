import { CHANNEL_URL_HINTS } from '@vigil/core/channels';
import { actorOf } from '$lib/server/actor';
import { changeChannel, createChannel, deleteChannel, listChannelViews, testChannel } from '$lib/server/channels';
import { formAction, formFields, optionalNumber } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => ({
  channels: await listChannelViews(),
  hints: CHANNEL_URL_HINTS,
  canEdit: locals.principal?.user.role === 'admin',
});

export const actions: Actions = {
  add: (event) =>
    formAction('add', async () => {
      const f = await formFields(event);
      const c = await createChannel(actorOf(event), {
        name: f.name?.trim(),
        kind: f.kind,
        url: f.url?.trim(),
        matchers: f.matchers?.trim() || undefined,
        min_severity: f.min_severity || undefined,
        group_by: f.group_by?.trim() || undefined,
      });
      return { action: 'add', added: c.name };
    }),
  test: (event) =>
    formAction('test', async () => {
      const { channel, error } = await testChannel(actorOf(event), Number((await formFields(event)).id));
      return { action: 'test', tested: channel.name, error };
    }),
  route: (event) =>
    formAction('route', async () => {
      const f = await formFields(event);
      const c = await changeChannel(actorOf(event), Number(f.id), {
        enabled: f.enabled === 'on',
        matchers: f.matchers ?? '',
        min_severity: f.min_severity || undefined,
        group_by: f.group_by ?? '',
        group_wait_seconds: optionalNumber(f.group_wait_seconds),
        group_interval_seconds: optionalNumber(f.group_interval_seconds),
        repeat_interval_seconds: optionalNumber(f.repeat_interval_seconds),
      });
      return { action: 'route', routed: c.name };
    }),
  remove: (event) =>
    formAction('remove', async () => {
      const c = await deleteChannel(actorOf(event), Number((await formFields(event)).id));
      return { action: 'remove', removed: c.name };
    }),
};
