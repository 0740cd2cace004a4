import { actorOf } from '$lib/server/actor';
import { listApiKeyViews, revokeKey } from '$lib/server/api-keys';
import { formAction, formFields } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => ({ keys: await listApiKeyViews(actorOf(event), { all: true }) });

export const actions: Actions = {
  revoke: (event) =>
    formAction('revoke', async () => {
      const r = await revokeKey(actorOf(event), Number((await formFields(event)).id));
      return { action: 'revoke', revoked: r.name };
    }),
};
