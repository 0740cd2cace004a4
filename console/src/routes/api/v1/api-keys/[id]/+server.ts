import { json } from '@sveltejs/kit';
import { revokeApiKey, roleAtLeast } from '@vigil/db';
import { apiKeyView } from '$lib/server/accounts';
import { ApiError, api, audit, idOf, principalOf } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import type { RequestHandler } from './$types';

/** Revokes a key: the caller's own, or anyone's for an admin. 404 for another user's key (its existence is not told). */
export const DELETE: RequestHandler = api(async (event) => {
  const { user } = principalOf(event);
  const id = idOf(event.params.id, 'API key');
  const admin = roleAtLeast(user.role, 'admin');
  const r = await revokeApiKey(await getDb(), id, admin ? undefined : user.id);
  if (!r) throw new ApiError(404, 'not_found', `no API key with id ${id} of yours`);
  await audit(event, 'api_key.revoke', 'api_key', id, { before: apiKeyView(r.before), after: apiKeyView(r.after) });
  return json(apiKeyView(r.after));
});
