import { actorOf } from '$lib/server/actor';
import { approveHost, rejectHost } from '$lib/server/enrolment';
import { formAction, formFields, optionalNumber, parseLabels } from '$lib/server/forms';
import { allTargetViews, changeTarget, createTarget, removeTarget, scrapeUrl } from '$lib/server/targets';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async () => ({
  targets: await allTargetViews(),
});

/** The new-target form as the API's body (empty fields left out). */
function candidate(f: Record<string, string>) {
  return {
    name: f.name?.trim(),
    url: f.url?.trim(),
    interval_seconds: optionalNumber(f.interval_seconds),
    timeout_seconds: optionalNumber(f.timeout_seconds),
    labels: parseLabels(f.labels ?? ''),
    ...(f.token ? { token: f.token } : {}),
  };
}

export const actions: Actions = {
  /** A test scrape of the form's URL (nothing written), shown before adding. */
  test: (event) =>
    formAction('test', async () => {
      const f = await formFields(event);
      const { url, token, timeout_seconds } = candidate(f);
      return { action: 'test', values: { ...f, token: '' }, scrape: await scrapeUrl({ url, token, timeout_seconds }) };
    }),
  add: (event) =>
    formAction('add', async () => {
      const added = await createTarget(actorOf(event), candidate(await formFields(event)));
      return { action: 'add', added: added.name };
    }),
  edit: (event) =>
    formAction('edit', async () => {
      const f = await formFields(event);
      const edited = await changeTarget(actorOf(event), Number(f.id), {
        url: f.url?.trim() || undefined,
        interval_seconds: optionalNumber(f.interval_seconds),
        timeout_seconds: optionalNumber(f.timeout_seconds),
        labels: parseLabels(f.labels ?? ''),
        ...(f.clear_token === 'on' ? { token: null } : f.token ? { token: f.token } : {}),
      });
      return { action: 'edit', edited: edited.name };
    }),
  approve: (event) =>
    formAction('approve', async () => {
      const t = await approveHost(actorOf(event), Number((await formFields(event)).id));
      return { action: 'approve', approved: t.name };
    }),
  reject: (event) =>
    formAction('reject', async () => {
      const t = await rejectHost(actorOf(event), Number((await formFields(event)).id));
      return { action: 'reject', rejected: t.name };
    }),
  remove: (event) =>
    formAction('remove', async () => {
      const removed = await removeTarget(actorOf(event), Number((await formFields(event)).id));
      return { action: 'remove', removed: removed.name };
    }),
};
