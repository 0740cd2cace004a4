import { json } from '@sveltejs/kit';
import * as z from 'zod/mini';
import { actorOf } from '$lib/server/actor';
import { api, jsonBody } from '$lib/server/api';
import { listApiKeyViews, makeApiKey, newApiKey } from '$lib/server/api-keys';
import { queryOf, routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

const listQuery = z.object({ all: z.optional(z.literal('1')) });

/** The caller's API keys; `?all=1` everyone's (admin). */
export const GET: RequestHandler = api(async (event) =>
  json({ items: await listApiKeyViews(actorOf(event), { all: queryOf(event.url, listQuery).all === '1' }) }),
);

/** Makes a key for the caller, acting with their role: `{name, expires_at?}` → 201 with the key, shown this once. */
export const POST: RequestHandler = api(async (event) =>
  json(await makeApiKey(actorOf(event), await jsonBody(event)), { status: 201, headers: { 'cache-control': 'no-store' } }),
);

export const _spec = routeSpec({
  GET: { summary: "Your API keys (`all=1`: everyone's, for an admin)", query: listQuery },
  POST: { summary: 'Makes an API key of yours, shown once in `key`', body: newApiKey, status: 201 },
});
