import { listApiKeys, revokeApiKey } from '@vigil/db';
import { apiKeyView } from '$lib/server/accounts';
import { ApiError, audit } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { formAction, formFields } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async () => ({ keys: (await listApiKeys(await getDb())).map(apiKeyView) });

export const actions: Actions = {
  revoke: (event) =>
    formAction('revoke', async () => {
      const id = Number((await formFields(event)).id);
      const r = await revokeApiKey(await getDb(), id);
      if (!r) throw new ApiError(404, 'not_found', 'that key is gone');
      await audit(event, 'api_key.revoke', 'api_key', id, { before: apiKeyView(r.before), after: apiKeyView(r.after) });
      return { action: 'revoke', revoked: r.after.name };
    }),
};
