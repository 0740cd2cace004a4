import { json } from '@sveltejs/kit';
import { actorOf } from '$lib/server/actor';
import { api, jsonBody } from '$lib/server/api';
import { listApiKeyViews, makeApiKey } from '$lib/server/api-keys';
import type { RequestHandler } from './$types';

/** The caller's API keys; `?all=1` everyone's (admin). */
export const GET: RequestHandler = api(async (event) =>
  json({ items: await listApiKeyViews(actorOf(event), { all: event.url.searchParams.get('all') === '1' }) }),
);

/** Makes a key for the caller, acting with their role: `{name, expires_at?}` → 201 with the key, shown this once. */
export const POST: RequestHandler = api(async (event) =>
  json(await makeApiKey(actorOf(event), await jsonBody(event)), { status: 201, headers: { 'cache-control': 'no-store' } }),
);
