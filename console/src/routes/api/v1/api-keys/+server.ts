import { json } from '@sveltejs/kit';
import { createApiKey, listApiKeys, roleAtLeast } from '@vigil/db';
import * as z from 'zod/mini';
import type { NewApiKeyView } from '$lib/api';
import { apiKeyView } from '$lib/server/accounts';
import { ApiError, api, audit, body, principalOf } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import type { RequestHandler } from './$types';

/** The caller's API keys; `?all=1` everyone's (admin). */
export const GET: RequestHandler = api(async (event) => {
  const { user } = principalOf(event);
  const all = event.url.searchParams.get('all') === '1';
  if (all && !roleAtLeast(user.role, 'admin')) throw new ApiError(403, 'forbidden', 'only an admin may list other users’ keys');
  const keys = await listApiKeys(await getDb(), all ? {} : { userId: user.id });
  return json({ items: keys.map(apiKeyView) });
});

const newKey = z.strictObject({ name: z.string(), expires_at: z.optional(z.nullable(z.iso.datetime({ offset: true }))) });

/** Makes a key for the caller, acting with their role: `{name, expires_at?}` → 201 with the key, shown this once. */
export const POST: RequestHandler = api(async (event) => {
  const { user } = principalOf(event);
  const input = await body(event, newKey);
  const { key, info } = await createApiKey(await getDb(), user.id, input.name, input.expires_at ? new Date(input.expires_at) : null);
  await audit(event, 'api_key.create', 'api_key', info.id, { after: apiKeyView(info) });
  return json({ ...apiKeyView(info), key } satisfies NewApiKeyView, { status: 201, headers: { 'cache-control': 'no-store' } });
});
