import { addTarget, listTargets, removeTargetById, updateTarget } from '@vigil/db';
import { audit, targetView } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { checkForm, formAction, formFields, optionalNumber, parseLabels } from '$lib/server/forms';
import { testScrape } from '$lib/server/scrape';
import { newTarget, targetPatch } from '$lib/server/targets';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async () => ({
  targets: (await listTargets(await getDb())).map((t) => targetView(t)),
});

/** The new-target form as the API's body (empty fields left out). */
function candidate(f: Record<string, string>) {
  return checkForm(newTarget, {
    name: f.name?.trim(),
    url: f.url?.trim(),
    interval_seconds: optionalNumber(f.interval_seconds),
    timeout_seconds: optionalNumber(f.timeout_seconds),
    labels: parseLabels(f.labels ?? ''),
    ...(f.token ? { token: f.token } : {}),
  });
}

export const actions: Actions = {
  /** A test scrape of the form's URL (nothing written), shown before adding. */
  test: (event) =>
    formAction('test', async () => {
      const f = await formFields(event);
      const t = candidate(f);
      const result = await testScrape(t.url, { token: t.token, timeoutSeconds: t.timeout_seconds });
      return { action: 'test', values: { ...f, token: '' }, scrape: result };
    }),
  add: (event) =>
    formAction('add', async () => {
      const t = candidate(await formFields(event));
      const added = await addTarget(await getDb(), { ...t, labels: t.labels, source: 'console' });
      await audit(event, 'target.create', 'target', added.id, { after: targetView(added) });
      return { action: 'add', added: added.name };
    }),
  edit: (event) =>
    formAction('edit', async () => {
      const f = await formFields(event);
      const id = Number(f.id);
      const patch = checkForm(targetPatch, {
        url: f.url?.trim() || undefined,
        interval_seconds: optionalNumber(f.interval_seconds),
        timeout_seconds: optionalNumber(f.timeout_seconds),
        labels: parseLabels(f.labels ?? ''),
        ...(f.clear_token === 'on' ? { token: null } : f.token ? { token: f.token } : {}),
      });
      const r = await updateTarget(await getDb(), id, patch);
      if (!r) return { action: 'edit', message: 'that target is gone' };
      await audit(event, 'target.update', 'target', id, { before: targetView(r.before), after: targetView(r.after) });
      return { action: 'edit', edited: r.after.name };
    }),
  remove: (event) =>
    formAction('remove', async () => {
      const id = Number((await formFields(event)).id);
      const removed = await removeTargetById(await getDb(), id);
      if (removed) await audit(event, 'target.remove', 'target', id, { before: targetView(removed) });
      return { action: 'remove', removed: removed?.name ?? null };
    }),
};
